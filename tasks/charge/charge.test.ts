import { beforeEach, describe, expect, it } from 'vitest';
import { PaymentNotFoundError } from '../shared/database/errors.ts';
import { PaymentGatewayUnavailableError } from '../shared/payment-gateway/errors.ts';
import { InMemoryPaymentsStore, RecordingLogger, ScriptedGateway } from '../shared/testing/fakes.ts';
import { createCharge } from './charge.ts';

const request = { paymentId: 'pay_1', meterId: '1200000000011', amountPence: 2000, paymentToken: 'tok_visa' };

let store: InMemoryPaymentsStore;
let logger: RecordingLogger;

beforeEach(() => {
  store = new InMemoryPaymentsStore();
  store.addPayment({ paymentId: 'pay_1' });
  logger = new RecordingLogger();
});

describe('charge', () => {
  it('charges under the payment id as idempotency key and records the charge on the payment', async () => {
    // Prepare
    const gateway = new ScriptedGateway(() => ({ status: 'succeeded', chargeId: 'ch_1' }));
    const charge = createCharge({ gateway, store, logger });

    // Act
    const result = await charge(request);

    // Assess
    expect(result).toEqual({ outcome: 'charged', chargeId: 'ch_1', declineReason: null });
    expect(gateway.requests).toEqual([
      { idempotencyKey: 'pay_1', amountPence: 2000, paymentToken: 'tok_visa', reference: 'pay_1' },
    ]);
    expect(store.payments.get('pay_1')?.gatewayChargeId).toBe('ch_1');
  });

  it('answers a replayed call with the same charge, recorded once', async () => {
    // Prepare
    const gateway = new ScriptedGateway(() => ({ status: 'succeeded', chargeId: 'ch_1' }));
    const charge = createCharge({ gateway, store, logger });

    // Act
    const first = await charge(request);
    const second = await charge(request);

    // Assess
    expect(second).toEqual(first);
    expect(new Set(gateway.requests.map((sent) => sent.idempotencyKey))).toEqual(new Set(['pay_1']));
    expect(store.payments.get('pay_1')?.gatewayChargeId).toBe('ch_1');
  });

  it.each(['generic_decline', 'insufficient_funds'])('returns a %s decline as the outcome', async (code) => {
    // Prepare
    const gateway = new ScriptedGateway(() => ({ status: 'declined', chargeId: 'ch_2', declineCode: code }));
    const charge = createCharge({ gateway, store, logger });

    // Act
    const result = await charge({ ...request, paymentToken: 'tok_chargeDeclined' });

    // Assess
    expect(result).toEqual({ outcome: 'declined', chargeId: null, declineReason: code });
    expect(store.payments.get('pay_1')?.gatewayChargeId).toBeNull();
  });

  it('throws PaymentGatewayUnavailable (the name the Charge step retries) when the gateway is down', async () => {
    // Prepare
    const gateway = new ScriptedGateway(() => {
      throw new PaymentGatewayUnavailableError('the payment gateway answered 503 gateway_unavailable');
    });
    const charge = createCharge({ gateway, store, logger });

    // Act
    const failure = await charge(request).catch((error: unknown) => error);

    // Assess
    expect((failure as Error).name).toBe('PaymentGatewayUnavailable');
    expect(store.payments.get('pay_1')?.gatewayChargeId).toBeNull();
  });

  it('never charges a payment the database does not know', async () => {
    // Prepare
    const gateway = new ScriptedGateway(() => ({ status: 'succeeded', chargeId: 'ch_1' }));
    const charge = createCharge({ gateway, store, logger });

    // Act
    const failure = await charge({ ...request, paymentId: 'pay_unknown' }).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(PaymentNotFoundError);
    expect(gateway.requests).toEqual([]);
  });

  it('refuses an input that breaks the contract before calling the gateway', async () => {
    // Prepare
    const gateway = new ScriptedGateway(() => ({ status: 'succeeded', chargeId: 'ch_1' }));
    const charge = createCharge({ gateway, store, logger });

    // Act
    const failure = await charge({ ...request, amountPence: 'twenty' }).catch((error: unknown) => error);

    // Assess
    expect((failure as Error).name).toBe('ZodError');
    expect(gateway.requests).toEqual([]);
  });

  it('never logs the payment token', async () => {
    // Prepare
    const gateway = new ScriptedGateway(({ paymentToken }) =>
      paymentToken === 'tok_visa'
        ? { status: 'succeeded', chargeId: 'ch_1' }
        : { status: 'declined', chargeId: null, declineCode: 'generic_decline' },
    );
    const charge = createCharge({ gateway, store, logger });

    // Act
    await charge(request);
    await charge({ ...request, paymentToken: 'tok_chargeDeclined' });

    // Assess
    expect(logger.lines.length).toBeGreaterThan(0);
    expect(logger.lines.join('\n')).not.toMatch(/tok_/);
  });
});
