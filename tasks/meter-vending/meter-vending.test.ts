import { beforeEach, describe, expect, it } from 'vitest';
import { PaymentNotOpenError } from '../../database/payments-errors.ts';
import { InMemoryPaymentsRepository } from '../../database/testing/in-memory-payments-repository.ts';
import type { VendMessage } from '../../workflow/contracts.ts';
import { RecordingLogger, RecordingTaskTokens, ScriptedVendor } from '../shared/testing/fakes.ts';
import type { VendReceipt, VendRequest } from '../shared/vending-vendor/client.ts';
import { VendorUnavailableError, VendRejectedError } from '../shared/vending-vendor/errors.ts';
import {
  createConfirmVend,
  createMeterVending,
  createRecordUtrnByHand,
  createRecordVendFailed,
} from './meter-vending.ts';

const UTRN = '12345678901234567890';

function vendMessage(overrides: Partial<VendMessage> = {}): VendMessage {
  return {
    vendRound: 1,
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

let payments: InMemoryPaymentsRepository;
let tokens: RecordingTaskTokens;

beforeEach(() => {
  payments = new InMemoryPaymentsRepository();
  for (const paymentId of ['pay_1', 'pay_2']) {
    payments.addPayment({ paymentId, status: 'charged', gatewayChargeId: `ch_${paymentId}` });
  }
  tokens = new RecordingTaskTokens();
});

function consumerWith(answer: (request: VendRequest, call: number) => VendReceipt) {
  const vendor = new ScriptedVendor(answer);
  return { vendor, consume: createMeterVending({ vendor, payments, tokens, logger: new RecordingLogger() }) };
}

const statusOf = (paymentId: string) => payments.payments.get(paymentId)?.status;

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
    expect(payments.vends).toEqual([
      { paymentId: 'pay_1', attempt: 1, transactionId: 'pay_1', outcome: 'vended', utrn: UTRN },
    ]);
    expect(statusOf('pay_1')).toBe('vended');
    expect(payments.told('pay_1')).toEqual([]);
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
    expect(payments.told('pay_1')).toEqual([{ type: 'vend_retrying', attempt: 2, maxAttempts: 4, seq: 1 }]);
    expect(payments.vends.filter((vend) => vend.outcome === 'vended')).toHaveLength(1);
    expect(tokens.answers).toHaveLength(1);
  });

  it('fails the task with VendorUnavailable when the vendor is down, recording the attempt; the payment waits for the retry', async () => {
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
    expect(payments.vends.map((vend) => vend.outcome)).toEqual(['vendor_unavailable']);
    expect(statusOf('pay_1')).toBe('charged');
  });

  it('records the vend as failed when the vendor is still down at the last attempt', async () => {
    // Prepare
    const { consume } = consumerWith(() => {
      throw new VendorUnavailableError('the vending vendor answered 503 VENDOR_UNAVAILABLE');
    });

    // Act
    await consume(batch(vendMessage({ attempt: 4, maxAttempts: 4 })));

    // Assess
    expect(tokens.answers).toMatchObject([{ kind: 'failure', error: 'VendorUnavailable' }]);
    expect(statusOf('pay_1')).toBe('vend_failed');
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
    expect(payments.vends).toMatchObject([{ outcome: 'rejected', rejectionCode: 'NOT_FOR_THIS_DEVICE' }]);
    expect(statusOf('pay_1')).toBe('vend_failed');
  });

  it('proves the token open before it calls the vendor', async () => {
    // Prepare
    const heartbeatsAtVendorCall: string[][] = [];
    const { consume } = consumerWith(() => {
      heartbeatsAtVendorCall.push([...tokens.heartbeats]);
      return { utrn: UTRN, creditPence: 2000 };
    });

    // Act
    await consume(batch(vendMessage()));

    // Assess
    expect(heartbeatsAtVendorCall).toEqual([['token-1']]);
  });

  it('drops a stale message (its attempt already ended) without calling the vendor or telling the customer', async () => {
    // Prepare
    const { vendor, consume } = consumerWith(() => ({ utrn: UTRN, creditPence: 2000 }));
    tokens.closed.add('token-2');

    // Act
    const response = await consume(batch(vendMessage({ attempt: 2, taskToken: 'token-2' })));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(vendor.requests).toEqual([]);
    expect(tokens.answers).toEqual([]);
    expect(payments.told('pay_1')).toEqual([]);
    expect(payments.vends).toEqual([]);
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

/** A vendor that has vended nothing yet. */
function quietVendor(): ScriptedVendor {
  return new ScriptedVendor(() => {
    throw new VendorUnavailableError('not asked to vend in this test');
  });
}

describe('recording a vend that failed after the retries', () => {
  it('moves a charged payment to vend_failed, once, after asking the vendor', async () => {
    // Prepare
    const vendor = quietVendor();
    const recordVendFailed = createRecordVendFailed({ vendor, payments, logger: new RecordingLogger() });
    const request = {
      action: 'recordVendFailed',
      paymentId: 'pay_1',
      failure: { Error: 'States.HeartbeatTimeout' },
    };

    // Act
    const first = await recordVendFailed(request);
    const again = await recordVendFailed(request);

    // Assess
    const failed = { status: 'vend_failed', utrn: null, creditPence: null };
    expect([first, again]).toEqual([failed, failed]);
    expect(statusOf('pay_1')).toBe('vend_failed');
    expect(vendor.lookUps).toEqual(['pay_1', 'pay_1']);
  });

  it('records a vend the vendor made whose answer was lost, and answers it: the vend stands', async () => {
    // Prepare
    const vendor = quietVendor();
    vendor.vendedUnanswered('pay_1', { utrn: UTRN, creditPence: 2000 });
    const recordVendFailed = createRecordVendFailed({ vendor, payments, logger: new RecordingLogger() });

    // Act
    const result = await recordVendFailed({
      action: 'recordVendFailed',
      paymentId: 'pay_1',
      amountPence: 2000,
      failure: { Error: 'States.Timeout' },
    });

    // Assess
    expect(result).toEqual({ status: 'vended', utrn: UTRN, creditPence: 2000 });
    expect(statusOf('pay_1')).toBe('vended');
    expect(payments.vends.filter((vend) => vend.paymentId === 'pay_1')).toEqual([
      { paymentId: 'pay_1', attempt: 1, transactionId: 'pay_1', outcome: 'vended', utrn: UTRN },
    ]);
  });

  it('records the failure all the same when the vendor cannot be asked', async () => {
    // Prepare
    const vendor = quietVendor();
    vendor.lookUpError = new VendorUnavailableError('the vending vendor answered 503');
    const logger = new RecordingLogger();
    const recordVendFailed = createRecordVendFailed({ vendor, payments, logger });

    // Act
    const result = await recordVendFailed({
      action: 'recordVendFailed',
      paymentId: 'pay_1',
      failure: { Error: 'VendorUnavailable' },
    });

    // Assess
    expect(result).toEqual({ status: 'vend_failed', utrn: null, creditPence: null });
    expect(statusOf('pay_1')).toBe('vend_failed');
  });

  it('leaves a payment that vended as it is, and answers its UTRN (an attempt whose answer was lost)', async () => {
    // Prepare
    payments.addPayment({ paymentId: 'pay_3', status: 'charged', gatewayChargeId: 'ch_3' });
    await payments.recordVendAttempt({
      paymentId: 'pay_3',
      attempt: 1,
      transactionId: 'pay_3',
      outcome: 'vended',
      utrn: UTRN,
    });
    const recordVendFailed = createRecordVendFailed({
      vendor: quietVendor(),
      payments,
      logger: new RecordingLogger(),
    });

    // Act
    const result = await recordVendFailed({
      action: 'recordVendFailed',
      paymentId: 'pay_3',
      amountPence: 2000,
      failure: { Error: 'States.Timeout' },
    });

    // Assess
    expect(result).toEqual({ status: 'vended', utrn: UTRN, creditPence: 2000 });
    expect(statusOf('pay_3')).toBe('vended');
  });
});

describe('confirming with the vendor before a refund', () => {
  const request = { action: 'confirmVend', paymentId: 'pay_1' } as const;

  it('finds a vend made at the vendor and records it, so no refund is made', async () => {
    // Prepare
    payments.addPayment({ paymentId: 'pay_1', status: 'vend_failed', gatewayChargeId: 'ch_1' });
    const vendor = quietVendor();
    vendor.vendedUnanswered('pay_1', { utrn: UTRN, creditPence: 2000 });
    const confirm = createConfirmVend({ vendor, payments, logger: new RecordingLogger() });

    // Act
    const answer = await confirm(request);

    // Assess
    expect(answer).toEqual({ status: 'vended', utrn: UTRN, creditPence: 2000 });
    expect(statusOf('pay_1')).toBe('vended');
  });

  it('answers vend_failed when the vendor made no vend, changing nothing', async () => {
    // Prepare
    payments.addPayment({ paymentId: 'pay_1', status: 'vend_failed', gatewayChargeId: 'ch_1' });
    const confirm = createConfirmVend({ vendor: quietVendor(), payments, logger: new RecordingLogger() });

    // Act
    const answer = await confirm(request);

    // Assess
    expect(answer).toEqual({ status: 'vend_failed', utrn: null, creditPence: null });
    expect(statusOf('pay_1')).toBe('vend_failed');
  });

  it('is VendorUnavailable when the vendor cannot tell now: the refund waits', async () => {
    // Prepare
    payments.addPayment({ paymentId: 'pay_1', status: 'vend_failed', gatewayChargeId: 'ch_1' });
    const vendor = quietVendor();
    vendor.lookUpError = new VendorUnavailableError('the vending vendor is still working on this vend');
    const confirm = createConfirmVend({ vendor, payments, logger: new RecordingLogger() });

    // Act
    const failure = await confirm(request).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(VendorUnavailableError);
    expect((failure as Error).name).toBe('VendorUnavailable');
    expect(statusOf('pay_1')).toBe('vend_failed');
  });
});

describe('a UTRN recorded by hand (an operator decision)', () => {
  const request = { action: 'recordUtrn', paymentId: 'pay_1', amountPence: 2000, utrn: UTRN } as const;

  it("ends a failed vend as vended, under the payment's transaction id, and answers as a vend does", async () => {
    // Prepare
    payments.addPayment({ paymentId: 'pay_1', status: 'vend_failed', gatewayChargeId: 'ch_1' });
    const record = createRecordUtrnByHand({ payments, logger: new RecordingLogger() });

    // Act
    const answer = await record(request);
    const again = await record(request);

    // Assess
    expect(answer).toEqual({ utrn: UTRN, creditPence: 2000 });
    expect(again).toEqual(answer);
    expect(statusOf('pay_1')).toBe('vended');
    expect(payments.vends.filter((vend) => vend.paymentId === 'pay_1')).toEqual([
      { paymentId: 'pay_1', attempt: 1, transactionId: 'pay_1', outcome: 'vended', utrn: UTRN },
    ]);
  });

  it('refuses a payment whose vend did not fail', async () => {
    // Prepare
    const record = createRecordUtrnByHand({ payments, logger: new RecordingLogger() });

    // Act
    const failure = await record(request).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(PaymentNotOpenError);
    expect(statusOf('pay_1')).toBe('charged');
  });
});
