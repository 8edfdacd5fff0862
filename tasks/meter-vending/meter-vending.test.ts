import { beforeEach, describe, expect, it } from 'vitest';
import type { VendMessage } from '../../workflow/contracts.ts';
import {
  InMemoryPaymentsStore,
  RecordingLogger,
  RecordingTaskTokens,
  ScriptedVendor,
} from '../shared/testing/fakes.ts';
import type { VendReceipt, VendRequest } from '../shared/vending-vendor/client.ts';
import { VendorUnavailableError, VendRejectedError } from '../shared/vending-vendor/errors.ts';
import { createMeterVending } from './meter-vending.ts';

const UTRN = '12345678901234567890';

function vendMessage(overrides: Partial<VendMessage> = {}): VendMessage {
  return {
    taskToken: 'token-1',
    paymentId: 'pay_1',
    meterId: '1200000000011',
    amountPence: 2000,
    chargeId: 'ch_1',
    attempt: 1,
    maxAttempts: 4,
    ...overrides,
  };
}

function batch(...messages: (VendMessage | string)[]) {
  return {
    Records: messages.map((message, index) => ({
      messageId: `m${index + 1}`,
      body: typeof message === 'string' ? message : JSON.stringify(message),
    })),
  };
}

let store: InMemoryPaymentsStore;
let tokens: RecordingTaskTokens;

beforeEach(() => {
  store = new InMemoryPaymentsStore();
  tokens = new RecordingTaskTokens();
});

function consumerWith(answer: (request: VendRequest, call: number) => VendReceipt) {
  const vendor = new ScriptedVendor(answer);
  return { vendor, consume: createMeterVending({ vendor, store, tokens, logger: new RecordingLogger() }) };
}

describe('meter vending', () => {
  it('vends under the payment id as transaction id, records it and answers the token with the UTRN', async () => {
    // Prepare
    const { vendor, consume } = consumerWith(() => ({ utrn: UTRN, creditPence: 2000 }));

    // Act
    const response = await consume(batch(vendMessage()));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(vendor.requests).toEqual([
      { transactionId: 'pay_1', meterId: '1200000000011', amountPence: 2000 },
    ]);
    expect(tokens.answers).toEqual([
      { kind: 'success', taskToken: 'token-1', output: { utrn: UTRN, creditPence: 2000 } },
    ]);
    expect(store.vends).toEqual([
      { paymentId: 'pay_1', attempt: 1, transactionId: 'pay_1', outcome: 'vended', utrn: UTRN },
    ]);
    expect(store.events).toEqual([]);
  });

  it('tells the customer vend_retrying once for an attempt after the first, even when delivered twice', async () => {
    // Prepare
    const { consume } = consumerWith(() => ({ utrn: UTRN, creditPence: 2000 }));
    const retry = vendMessage({ attempt: 2, taskToken: 'token-2' });

    // Act
    await consume(batch(retry));
    tokens.closed.add('token-2');
    const redelivered = await consume(batch(retry));

    // Assess
    expect(redelivered).toEqual({ batchItemFailures: [] });
    expect(store.events).toEqual([
      { paymentId: 'pay_1', type: 'vend_retrying', attempt: 2, maxAttempts: 4, seq: 1 },
    ]);
    expect(store.vends.filter((vend) => vend.outcome === 'vended')).toHaveLength(1);
    expect(tokens.answers).toHaveLength(1);
  });

  it('fails the task with VendorUnavailable when the vendor is down, recording the attempt', async () => {
    // Prepare
    const { consume } = consumerWith(() => {
      throw new VendorUnavailableError('the vending vendor answered 503 VENDOR_UNAVAILABLE');
    });

    // Act
    const response = await consume(batch(vendMessage()));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(tokens.answers).toEqual([
      {
        kind: 'failure',
        taskToken: 'token-1',
        error: 'VendorUnavailable',
        cause: 'the vending vendor answered 503 VENDOR_UNAVAILABLE',
      },
    ]);
    expect(store.vends.map((vend) => vend.outcome)).toEqual(['vendor_unavailable']);
  });

  it('fails the task with VendRejected and the rejection code as cause', async () => {
    // Prepare
    const { consume } = consumerWith(() => {
      throw new VendRejectedError(
        'NOT_FOR_THIS_DEVICE',
        'The meter rejected the UTRN: it is not for this device.',
      );
    });

    // Act
    await consume(batch(vendMessage()));

    // Assess
    expect(tokens.answers).toEqual([
      { kind: 'failure', taskToken: 'token-1', error: 'VendRejected', cause: 'NOT_FOR_THIS_DEVICE' },
    ]);
    expect(store.vends).toMatchObject([{ outcome: 'rejected', rejectionCode: 'NOT_FOR_THIS_DEVICE' }]);
  });

  it('acknowledges a message whose task is already closed', async () => {
    // Prepare
    const { consume } = consumerWith(() => ({ utrn: UTRN, creditPence: 2000 }));
    tokens.closed.add('token-1');

    // Act
    const response = await consume(batch(vendMessage()));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(tokens.answers).toEqual([]);
  });

  it('reports only the message it could not settle, so SQS delivers that one again', async () => {
    // Prepare
    const { consume } = consumerWith(() => ({ utrn: UTRN, creditPence: 2000 }));
    tokens.failNext = Object.assign(new Error('connect ECONNREFUSED'), { name: 'SdkError' });

    // Act
    const response = await consume(
      batch(vendMessage(), 'not json', vendMessage({ paymentId: 'pay_2', taskToken: 'token-3' })),
    );

    // Assess
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(['m1', 'm2']);
    expect(tokens.answers.map((answer) => answer.taskToken)).toEqual(['token-3']);
  });
});
