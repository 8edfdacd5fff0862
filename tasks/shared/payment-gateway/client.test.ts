/**
 * The gateway client against the gateway simulator: every answer the charge task, and an operator's refund,
 * must tell apart.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningSimulators, startSimulators } from '../../../local/simulators/start-simulators.ts';
import { HttpPaymentGateway } from './client.ts';
import {
  PaymentGatewayRefundRefusedError,
  PaymentGatewayRequestInProgressError,
  PaymentGatewayRequestRefusedError,
  PaymentGatewayUnavailableError,
} from './errors.ts';

let simulators: RunningSimulators;
let gateway: HttpPaymentGateway;
let keys = 0;

beforeAll(async () => {
  simulators = await startSimulators({ port: 0, gateway: { slowDelayMs: 500 } });
  gateway = new HttpPaymentGateway({ baseUrl: simulators.gatewayUrl, timeoutMs: 5_000 });
});

afterAll(async () => {
  await simulators.close();
});

function chargeWith(paymentToken: string, key?: string) {
  keys += 1;
  const idempotencyKey = key ?? `pay_gw_${keys}`;
  return gateway.charge({ idempotencyKey, amountPence: 2000, paymentToken, reference: idempotencyKey });
}

describe('HttpPaymentGateway', () => {
  it('returns a succeeded charge, and the same charge for the same key', async () => {
    // Act
    const first = await chargeWith('tok_visa', 'pay_gw_same');
    const again = await chargeWith('tok_visa', 'pay_gw_same');

    // Assess
    expect(first).toEqual({ status: 'succeeded', chargeId: expect.stringMatching(/^ch_/) });
    expect(again).toEqual(first);
    expect(simulators.gateway.chargeCount('pay_gw_same')).toBe(1);
  });

  it.each([
    ['tok_chargeDeclined', 'generic_decline'],
    ['tok_insufficientFunds', 'insufficient_funds'],
    ['tok_expiredCard', 'expired_card'],
  ])('returns %s as a decline with code %s', async (token, declineCode) => {
    // Act
    const outcome = await chargeWith(token);

    // Assess
    expect(outcome).toMatchObject({ status: 'declined', declineCode });
  });

  it('throws PaymentGatewayUnavailable on an outage, then charges with the same key', async () => {
    // Act
    const first = await chargeWith('tok_gatewayOutage', 'pay_gw_outage').catch((error: unknown) => error);
    const second = await chargeWith('tok_gatewayOutage', 'pay_gw_outage').catch((error: unknown) => error);
    const third = await chargeWith('tok_gatewayOutage', 'pay_gw_outage');

    // Assess
    expect(first).toBeInstanceOf(PaymentGatewayUnavailableError);
    expect((second as Error).name).toBe('PaymentGatewayUnavailable');
    expect(third.status).toBe('succeeded');
  });

  it('throws PaymentGatewayUnavailable when the gateway cannot be reached', async () => {
    // Prepare
    const unreachable = new HttpPaymentGateway({ baseUrl: 'http://127.0.0.1:1/gateway', timeoutMs: 2_000 });

    // Act
    const failure = await unreachable
      .charge({ idempotencyKey: 'pay_x', amountPence: 2000, paymentToken: 'tok_visa', reference: 'pay_x' })
      .catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(PaymentGatewayUnavailableError);
  });

  it('throws PaymentGatewayRequestInProgress while an earlier request with the key is still at the gateway', async () => {
    // Prepare: the first attempt is slow (tok_slow), as one whose task died would be
    const first = chargeWith('tok_slow', 'pay_gw_in_progress');
    await vi.waitFor(() => expect(simulators.gateway.requestCount('pay_gw_in_progress')).toBe(1));

    // Act
    const retry = await chargeWith('tok_slow', 'pay_gw_in_progress').catch((error: unknown) => error);
    const answered = await first;
    const afterwards = await chargeWith('tok_slow', 'pay_gw_in_progress');

    // Assess
    expect(retry).toBeInstanceOf(PaymentGatewayRequestInProgressError);
    expect((retry as Error).name).toBe('PaymentGatewayRequestInProgress');
    expect(afterwards).toEqual(answered);
    expect(simulators.gateway.chargeCount('pay_gw_in_progress')).toBe(1);
  });

  it('finds by its reference a charge whose every answer was lost, and nothing for a reference never charged', async () => {
    // Prepare: the gateway takes the money, but the answer never arrives
    const lost = await chargeWith('tok_answerLost', 'pay_gw_answer_lost').catch((error: unknown) => error);
    const declined = await chargeWith('tok_insufficientFunds', 'pay_gw_found_declined');

    // Act
    const found = await gateway.findCharge('pay_gw_answer_lost');
    const foundDeclined = await gateway.findCharge('pay_gw_found_declined');
    const nothing = await gateway.findCharge('pay_gw_never_charged');

    // Assess
    expect(lost).toBeInstanceOf(PaymentGatewayUnavailableError);
    expect(found).toEqual({ status: 'succeeded', chargeId: expect.stringMatching(/^ch_/) });
    expect(foundDeclined).toEqual({ ...declined, chargeId: expect.stringMatching(/^ch_/) });
    expect(nothing).toBeUndefined();
  });

  it('throws a refusal, not naming the card, for a PAN sent as a token', async () => {
    // Act
    const failure = await chargeWith('4242424242424242').catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(PaymentGatewayRequestRefusedError);
    expect((failure as Error).message).toContain('card_data_refused');
    expect((failure as Error).message).not.toContain('4242');
  });
});

describe('HttpPaymentGateway refunds', () => {
  /** A charge of 2000 pence made with `paymentToken`, by its gateway id. */
  async function chargeIdFor(paymentToken: string): Promise<string> {
    keys += 1;
    const key = `pay_gw_refund_${paymentToken}_${keys}`;
    // tok_gatewayOutage charges only on its third attempt with a key.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const outcome = await chargeWith(paymentToken, key).catch(() => undefined);
      if (outcome?.chargeId) return outcome.chargeId;
    }
    throw new Error(`no charge was made with ${paymentToken}`);
  }

  it('refunds the whole charge by default, and replays the refund for the same key', async () => {
    // Prepare
    const chargeId = await chargeIdFor('tok_visa');

    // Act
    const refunded = await gateway.refund({
      idempotencyKey: 'refund_gw_whole',
      chargeId,
      reason: 'vend_failed',
    });
    const again = await gateway.refund({
      idempotencyKey: 'refund_gw_whole',
      chargeId,
      reason: 'vend_failed',
    });

    // Assess
    expect(refunded).toEqual({ refundId: expect.stringMatching(/^re_/), amountPence: 2000 });
    expect(again).toEqual(refunded);
    expect(simulators.gateway.refundCount(chargeId)).toBe(1);
    expect(simulators.gateway.refunds().find((refund) => refund.charge === chargeId)).toMatchObject({
      reason: 'vend_failed',
      idempotencyKey: 'refund_gw_whole',
    });
  });

  it('refunds part of a charge', async () => {
    // Prepare
    const chargeId = await chargeIdFor('tok_visa');

    // Act
    const part = await gateway.refund({ idempotencyKey: 'refund_gw_part', chargeId, amountPence: 750 });

    // Assess
    expect(part.amountPence).toBe(750);
    expect(simulators.gateway.charges().find((charge) => charge.id === chargeId)).toMatchObject({
      amountRefundedPence: 750,
      refunded: false,
    });
  });

  it.each([
    ['a declined charge', 'tok_chargeDeclined', {}, 400, 'charge_not_refundable'],
    ['more than was charged', 'tok_visa', { amountPence: 2001 }, 400, 'amount_too_large'],
  ])('throws PaymentGatewayRefundRefused for %s', async (_case, token, extra, status, code) => {
    // Prepare
    const chargeId = await chargeIdFor(token);

    // Act
    const failure = await gateway
      .refund({ idempotencyKey: `refund_gw_${code}`, chargeId, ...extra })
      .catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(PaymentGatewayRefundRefusedError);
    expect(failure).toMatchObject({ name: 'PaymentGatewayRefundRefused', status, code });
  });

  it('throws PaymentGatewayRefundRefused for an unknown charge and for one already refunded', async () => {
    // Prepare
    const chargeId = await chargeIdFor('tok_visa');
    await gateway.refund({ idempotencyKey: 'refund_gw_first', chargeId });

    // Act
    const unknown = await gateway
      .refund({ idempotencyKey: 'refund_gw_unknown', chargeId: 'ch_sim_unknown' })
      .catch((error: unknown) => error);
    const twice = await gateway
      .refund({ idempotencyKey: 'refund_gw_second', chargeId })
      .catch((error: unknown) => error);

    // Assess
    expect(unknown).toMatchObject({
      name: 'PaymentGatewayRefundRefused',
      status: 404,
      code: 'resource_missing',
    });
    expect(twice).toMatchObject({ name: 'PaymentGatewayRefundRefused', code: 'charge_already_refunded' });
  });

  it('throws PaymentGatewayUnavailable on an outage, then refunds once with the same key', async () => {
    // Prepare
    const chargeId = await chargeIdFor('tok_gatewayOutage');
    const refund = () => gateway.refund({ idempotencyKey: 'refund_gw_outage', chargeId });

    // Act
    const first = await refund().catch((error: unknown) => error);
    const second = await refund().catch((error: unknown) => error);
    const third = await refund();

    // Assess
    expect(first).toBeInstanceOf(PaymentGatewayUnavailableError);
    expect(second).toMatchObject({ name: 'PaymentGatewayUnavailable', status: 503 });
    expect(third.amountPence).toBe(2000);
    expect(simulators.gateway.refundCount(chargeId)).toBe(1);
  });

  it('throws PaymentGatewayUnavailable while an earlier refund with the key is still at the gateway', async () => {
    // Prepare: refunds of a tok_slow charge are slow too
    const chargeId = await chargeIdFor('tok_slow');
    const refund = () => gateway.refund({ idempotencyKey: 'refund_gw_in_progress', chargeId });
    const first = refund();
    await vi.waitFor(() => expect(simulators.gateway.requestCount('refund_gw_in_progress')).toBe(1));

    // Act
    const retry = await refund().catch((error: unknown) => error);
    const answered = await first;
    const afterwards = await refund();

    // Assess
    expect(retry).toBeInstanceOf(PaymentGatewayUnavailableError);
    expect(retry).toMatchObject({ status: 409 });
    expect(afterwards).toEqual(answered);
    expect(simulators.gateway.refundCount(chargeId)).toBe(1);
  });

  it('throws PaymentGatewayUnavailable when the gateway cannot be reached', async () => {
    // Prepare
    const unreachable = new HttpPaymentGateway({ baseUrl: 'http://127.0.0.1:1/gateway', timeoutMs: 2_000 });

    // Act
    const failure = await unreachable
      .refund({ idempotencyKey: 'refund_x', chargeId: 'ch_x' })
      .catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(PaymentGatewayUnavailableError);
  });
});
