import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryPaymentsRepository } from '../../database/testing/in-memory-payments-repository.ts';
import { RecordingLogger } from '../shared/testing/fakes.ts';
import { createNotify } from './notify.ts';

let payments: InMemoryPaymentsRepository;
let notify: ReturnType<typeof createNotify>;

beforeEach(() => {
  payments = new InMemoryPaymentsRepository();
  payments.addPayment({ paymentId: 'pay_1', status: 'charged', gatewayChargeId: 'ch_1' });
  notify = createNotify({ events: payments, logger: new RecordingLogger() });
});

describe('notify', () => {
  it('appends each event with the next sequence number', async () => {
    // Act
    const charged = await notify({ paymentId: 'pay_1', type: 'charged', amountPence: 2000 });
    const requested = await notify({
      paymentId: 'pay_1',
      type: 'vend_requested',
      meterId: '1200000000011',
      maxAttempts: 4,
    });

    // Assess
    expect(charged).toEqual({ paymentId: 'pay_1', type: 'charged', seq: 1, recorded: true });
    expect(requested).toMatchObject({ seq: 2, recorded: true });
  });

  it('keeps a repeated event once, and vend_retrying once per attempt', async () => {
    // Act
    await notify({ paymentId: 'pay_1', type: 'charged', amountPence: 2000 });
    const repeated = await notify({ paymentId: 'pay_1', type: 'charged', amountPence: 2000 });
    await notify({ paymentId: 'pay_1', type: 'vend_retrying', attempt: 2, maxAttempts: 4 });
    await notify({ paymentId: 'pay_1', type: 'vend_retrying', attempt: 2, maxAttempts: 4 });
    await notify({ paymentId: 'pay_1', type: 'vend_retrying', attempt: 3, maxAttempts: 4 });

    // Assess
    expect(repeated).toMatchObject({ seq: 1, recorded: false });
    expect(payments.told('pay_1').map((event) => [event.type, event.seq])).toEqual([
      ['charged', 1],
      ['vend_retrying', 2],
      ['vend_retrying', 3],
    ]);
  });

  it.each([
    { paymentId: 'pay_1', type: 'vended', utrn: '1234', creditPence: 2000 },
    { paymentId: 'pay_1', type: 'vend_retrying', attempt: 1, maxAttempts: 4 },
    { paymentId: 'pay_1', type: 'accepted' },
  ])('refuses $type that breaks the contract', async (event) => {
    // Act
    const failure = await notify(event).catch((error: unknown) => error);

    // Assess
    expect((failure as Error).name).toBe('ZodError');
    expect(payments.told('pay_1')).toEqual([]);
  });

  it("tells without moving the payment's status: the task that learned the fact did that", async () => {
    // Act
    await notify({ paymentId: 'pay_1', type: 'vend_failed', failure: { Error: 'States.Timeout' } });

    // Assess
    expect(payments.payments.get('pay_1')?.status).toBe('charged');
  });

  it.each([
    [
      { Error: 'VendRejected', Cause: 'NOT_FOR_THIS_DEVICE' },
      { reason: 'VendRejected', rejectionCode: 'NOT_FOR_THIS_DEVICE' },
    ],
    [{ Error: 'VendRejected', Cause: 'something the vendor said' }, { reason: 'VendRejected' }],
    [
      { Error: 'VendorUnavailable', Cause: 'the vending vendor answered 503' },
      { reason: 'VendorUnavailable' },
    ],
    [{ Error: 'States.HeartbeatTimeout' }, { reason: 'States.HeartbeatTimeout' }],
  ])("tells a failed vend (%o) as its reason and the meter's rejection code only", async (failure, told) => {
    // Act
    await notify({ paymentId: 'pay_1', type: 'vend_failed', failure });

    // Assess
    expect(payments.told('pay_1')).toEqual([{ type: 'vend_failed', seq: 1, ...told }]);
  });

  it('tells a charge that could not be confirmed as its own event', async () => {
    // Act
    await notify({ paymentId: 'pay_1', type: 'charge_unconfirmed' });

    // Assess
    expect(payments.told('pay_1')).toEqual([{ type: 'charge_unconfirmed', seq: 1 }]);
  });
});
