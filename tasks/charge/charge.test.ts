import { beforeEach, describe, expect, it } from 'vitest';
import { PaymentNotFoundError, PaymentNotOpenError } from '../../database/payments-errors.ts';
import { InMemoryPaymentsRepository } from '../../database/testing/in-memory-payments-repository.ts';
import {
  PaymentGatewayRefundRefusedError,
  PaymentGatewayRequestRefusedError,
  PaymentGatewayUnavailableError,
} from '../shared/payment-gateway/errors.ts';
import { RecordingLogger, ScriptedGateway } from '../shared/testing/fakes.ts';
import { createCharge } from './charge.ts';

const request = {
  action: 'charge',
  paymentId: 'pay_1',
  meterId: '1200000000011',
  amountPence: 2000,
  paymentToken: 'tok_visa',
} as const;

let payments: InMemoryPaymentsRepository;
let logger: RecordingLogger;

beforeEach(() => {
  payments = new InMemoryPaymentsRepository();
  payments.addPayment({ paymentId: 'pay_1' });
  logger = new RecordingLogger();
});

const charged = () => new ScriptedGateway(() => ({ status: 'succeeded', chargeId: 'ch_1' }));

describe('charge', () => {
  it('charges under the payment id as idempotency key and records the charge and the status together', async () => {
    // Prepare
    const gateway = charged();
    const charge = createCharge({ gateway, payments, logger });

    // Act
    const result = await charge(request);

    // Assess
    expect(result).toEqual({ outcome: 'charged', chargeId: 'ch_1', declineReason: null });
    expect(gateway.requests).toEqual([
      { idempotencyKey: 'pay_1', amountPence: 2000, paymentToken: 'tok_visa', reference: 'pay_1' },
    ]);
    expect(payments.payments.get('pay_1')).toMatchObject({ status: 'charged', gatewayChargeId: 'ch_1' });
  });

  it('answers a replayed call with the same charge, recorded once', async () => {
    // Prepare
    const gateway = charged();
    const charge = createCharge({ gateway, payments, logger });

    // Act
    const first = await charge(request);
    const second = await charge(request);

    // Assess
    expect(second).toEqual(first);
    expect(new Set(gateway.requests.map((sent) => sent.idempotencyKey))).toEqual(new Set(['pay_1']));
    expect(payments.payments.get('pay_1')).toMatchObject({ status: 'charged', gatewayChargeId: 'ch_1' });
  });

  it.each(['generic_decline', 'insufficient_funds'])(
    'records a %s decline with its reason and answers it as the outcome',
    async (code) => {
      // Prepare
      const gateway = new ScriptedGateway(() => ({
        status: 'declined',
        chargeId: 'ch_2',
        declineCode: code,
      }));
      const charge = createCharge({ gateway, payments, logger });

      // Act
      const result = await charge({ ...request, paymentToken: 'tok_chargeDeclined' });

      // Assess
      expect(result).toEqual({ outcome: 'declined', chargeId: null, declineReason: code });
      expect(payments.payments.get('pay_1')).toMatchObject({
        status: 'charge_declined',
        declineReason: code,
        gatewayChargeId: null,
      });
    },
  );

  it.each([
    [400, 'resource_missing', 'invalid_payment_token'],
    [400, 'parameter_invalid', 'charge_request_refused'],
    [401, 'unauthorized', 'charge_request_refused'],
  ])(
    'declines (no money moved, nothing to page about) when the gateway refuses the request: %i %s',
    async (status, code, reason) => {
      // Prepare
      const gateway = new ScriptedGateway(() => {
        throw new PaymentGatewayRequestRefusedError(status, code);
      });
      const charge = createCharge({ gateway, payments, logger });

      // Act
      const result = await charge({ ...request, paymentToken: 'tok_bogus' });

      // Assess
      expect(result).toEqual({ outcome: 'declined', chargeId: null, declineReason: reason });
      expect(payments.payments.get('pay_1')).toMatchObject({
        status: 'charge_declined',
        declineReason: reason,
      });
    },
  );

  it('throws PaymentGatewayUnavailable (the name the Charge step retries) when the gateway is down', async () => {
    // Prepare
    const gateway = new ScriptedGateway(() => {
      throw new PaymentGatewayUnavailableError('the payment gateway answered 503 gateway_unavailable');
    });
    const charge = createCharge({ gateway, payments, logger });

    // Act
    const failure = await charge(request).catch((error: unknown) => error);

    // Assess
    expect((failure as Error).name).toBe('PaymentGatewayUnavailable');
    expect(payments.payments.get('pay_1')).toMatchObject({ status: 'accepted', gatewayChargeId: null });
  });

  it('never charges a payment the database does not know', async () => {
    // Prepare
    const gateway = charged();
    const charge = createCharge({ gateway, payments, logger });

    // Act
    const failure = await charge({ ...request, paymentId: 'pay_unknown' }).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(PaymentNotFoundError);
    expect(gateway.requests).toEqual([]);
  });

  it('refuses an input that breaks the contract before calling the gateway', async () => {
    // Prepare
    const gateway = charged();
    const charge = createCharge({ gateway, payments, logger });

    // Act
    const failure = await charge({ ...request, amountPence: 'twenty' }).catch((error: unknown) => error);

    // Assess
    expect((failure as Error).name).toBe('ZodError');
    expect(gateway.requests).toEqual([]);
  });

  it('never logs the payment token', async () => {
    // Prepare
    payments.addPayment({ paymentId: 'pay_2' });
    const gateway = new ScriptedGateway(({ paymentToken }) =>
      paymentToken === 'tok_visa'
        ? { status: 'succeeded', chargeId: 'ch_1' }
        : { status: 'declined', chargeId: null, declineCode: 'generic_decline' },
    );
    const charge = createCharge({ gateway, payments, logger });

    // Act
    await charge(request);
    await charge({ ...request, paymentId: 'pay_2', paymentToken: 'tok_chargeDeclined' });

    // Assess
    expect(logger.lines.length).toBeGreaterThan(0);
    expect(logger.lines.join('\n')).not.toMatch(/tok_/);
  });
});

describe('confirming a charge whose answer never came', () => {
  const confirm = {
    action: 'confirm',
    paymentId: 'pay_1',
    chargeError: 'PaymentGatewayUnavailable',
  } as const;

  it('records the payment as unconfirmed, with the error, when the gateway has no charge for it', async () => {
    // Prepare
    const charge = createCharge({ gateway: charged(), payments, logger });

    // Act
    const result = await charge(confirm);

    // Assess
    expect(result).toEqual({ outcome: 'unconfirmed', chargeId: null, declineReason: null });
    expect(payments.payments.get('pay_1')).toMatchObject({
      status: 'charge_unconfirmed',
      chargeError: 'PaymentGatewayUnavailable',
    });
  });

  it.each([
    [
      { status: 'succeeded', chargeId: 'ch_lost' } as const,
      { outcome: 'charged', chargeId: 'ch_lost', declineReason: null },
      'charged',
    ],
    [
      { status: 'declined', chargeId: 'ch_no', declineCode: 'insufficient_funds' } as const,
      { outcome: 'declined', chargeId: null, declineReason: 'insufficient_funds' },
      'charge_declined',
    ],
  ])(
    'records what the gateway did (%o) when it has a charge for the payment',
    async (made, answer, status) => {
      // Prepare
      const gateway = charged();
      gateway.made.set('pay_1', made);
      const charge = createCharge({ gateway, payments, logger });

      // Act
      const result = await charge(confirm);

      // Assess
      expect(result).toEqual(answer);
      expect(payments.payments.get('pay_1')?.status).toBe(status);
    },
  );

  it('records the payment as unconfirmed when the gateway cannot be asked either', async () => {
    // Prepare
    const gateway = charged();
    gateway.findCharge = async () => {
      throw new PaymentGatewayUnavailableError('the payment gateway could not be reached: timed out');
    };
    const charge = createCharge({ gateway, payments, logger });

    // Act
    const result = await charge(confirm);

    // Assess
    expect(result).toMatchObject({ outcome: 'unconfirmed' });
    expect(payments.payments.get('pay_1')?.status).toBe('charge_unconfirmed');
  });

  it('answers the charge a crashed attempt had already recorded, so the payment goes on', async () => {
    // Prepare
    const gateway = charged();
    const charge = createCharge({ gateway, payments, logger });
    await charge(request);

    // Act
    const result = await charge(confirm);

    // Assess
    expect(result).toEqual({ outcome: 'charged', chargeId: 'ch_1', declineReason: null });
    expect(payments.payments.get('pay_1')?.status).toBe('charged');
    expect(gateway.requests).toHaveLength(1);
  });
});

describe("rechecking an unconfirmed charge (an operator's decision)", () => {
  const recheck = {
    action: 'recheck',
    paymentId: 'pay_1',
    chargeError: 'PaymentGatewayUnavailable',
  } as const;

  beforeEach(() => {
    payments.addPayment({ paymentId: 'pay_1', status: 'charge_unconfirmed' });
  });

  it('declines a payment the gateway holds no charge for: it never took the money', async () => {
    // Prepare
    const charge = createCharge({ gateway: charged(), payments, logger });

    // Act
    const result = await charge(recheck);

    // Assess
    expect(result).toEqual({ outcome: 'declined', chargeId: null, declineReason: 'no_charge_at_gateway' });
    expect(payments.payments.get('pay_1')).toMatchObject({
      status: 'charge_declined',
      declineReason: 'no_charge_at_gateway',
    });
  });

  it('records a charge the gateway did make', async () => {
    // Prepare
    const gateway = charged();
    gateway.made.set('pay_1', { status: 'succeeded', chargeId: 'ch_late' });
    const charge = createCharge({ gateway, payments, logger });

    // Act
    const result = await charge(recheck);

    // Assess
    expect(result).toEqual({ outcome: 'charged', chargeId: 'ch_late', declineReason: null });
    expect(payments.payments.get('pay_1')?.status).toBe('charged');
  });

  it('leaves it unconfirmed when the gateway still cannot be asked: "no answer" is not "no charge"', async () => {
    // Prepare
    const gateway = charged();
    gateway.findCharge = async () => {
      throw new PaymentGatewayUnavailableError('the payment gateway answered 503 to a charge search');
    };
    const charge = createCharge({ gateway, payments, logger });

    // Act
    const result = await charge(recheck);

    // Assess
    expect(result).toEqual({ outcome: 'unconfirmed', chargeId: null, declineReason: null });
    expect(payments.payments.get('pay_1')?.status).toBe('charge_unconfirmed');
  });
});

describe('refund (an operator decided to give the money back)', () => {
  const refund = { action: 'refund', paymentId: 'pay_1' } as const;

  beforeEach(() => {
    payments.addPayment({ paymentId: 'pay_1', status: 'vend_failed', gatewayChargeId: 'ch_1' });
  });

  it('refunds the whole charge under a key of its own, and records the refund with the status', async () => {
    // Prepare
    const gateway = charged();
    const charge = createCharge({ gateway, payments, logger });

    // Act
    const result = await charge(refund);

    // Assess
    expect(result).toEqual({ refundId: 're_scripted_1', amountPence: 0 });
    expect(gateway.refundRequests).toEqual([
      { idempotencyKey: 'refund_pay_1', chargeId: 'ch_1', reason: 'vend_failed' },
    ]);
    expect(payments.payments.get('pay_1')).toMatchObject({ status: 'refunded', refundId: 're_scripted_1' });
  });

  it('asked again (a retried step), replays the same refund and records it once', async () => {
    // Prepare
    const gateway = charged();
    const charge = createCharge({ gateway, payments, logger });

    // Act
    const first = await charge(refund);
    const second = await charge(refund);

    // Assess
    expect(second).toEqual(first);
    expect(new Set(gateway.refundRequests.map((sent) => sent.idempotencyKey))).toEqual(
      new Set(['refund_pay_1']),
    );
  });

  it.each(['charged', 'vended', 'charge_unconfirmed'] as const)(
    'refuses a payment that is %s, without asking the gateway',
    async (status) => {
      // Prepare
      payments.addPayment({
        paymentId: 'pay_1',
        status,
        gatewayChargeId: status === 'charge_unconfirmed' ? null : 'ch_1',
      });
      const gateway = charged();
      const charge = createCharge({ gateway, payments, logger });

      // Act
      const failure = await charge(refund).catch((error: unknown) => error);

      // Assess
      expect(failure).toBeInstanceOf(PaymentNotOpenError);
      expect(gateway.refundRequests).toEqual([]);
    },
  );

  it('passes a refund the gateway refused on as PaymentGatewayRefundRefused, recording nothing', async () => {
    // Prepare
    const gateway = new ScriptedGateway(
      () => ({ status: 'succeeded', chargeId: 'ch_1' }),
      () => {
        throw new PaymentGatewayRefundRefusedError(400, 'charge_already_refunded');
      },
    );
    const charge = createCharge({ gateway, payments, logger });

    // Act
    const failure = await charge(refund).catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({ name: 'PaymentGatewayRefundRefused' });
    expect(payments.payments.get('pay_1')?.status).toBe('vend_failed');
  });
});
