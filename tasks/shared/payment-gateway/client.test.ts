/**
 * The gateway client against the gateway simulator: every answer the charge task, an operator's refund and the
 * reconciliation task's charge listing must tell apart.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningSimulators, startSimulators } from '../../../simulators/start-simulators.ts';
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

describe('HttpPaymentGateway charge listing', () => {
  it('lists the charges made in a window, page by page, newest first, with nothing of the card', async () => {
    // Prepare
    const createdAfter = new Date();
    const succeeded = await chargeWith('tok_visa');
    const declined = await chargeWith('tok_chargeDeclined');
    const refunded = await chargeWith('tok_mastercard');
    await gateway.refund({ idempotencyKey: 'refund_gw_listed', chargeId: refunded.chargeId! });
    const createdBefore = new Date(Date.now() + 1);

    // Act
    const first = await gateway.listCharges({ createdAfter, createdBefore, limit: 2 });
    const second = await gateway.listCharges({
      createdAfter,
      createdBefore,
      limit: 2,
      startingAfter: first.charges.at(-1)!.chargeId,
    });

    // Assess
    expect(first.hasMore).toBe(true);
    expect(second.hasMore).toBe(false);
    expect([...first.charges, ...second.charges]).toEqual([
      {
        chargeId: refunded.chargeId,
        status: 'succeeded',
        reference: expect.stringMatching(/^pay_gw_/),
        amountPence: 2000,
        amountRefundedPence: 2000,
        refunded: true,
        createdAt: expect.any(String),
      },
      expect.objectContaining({ chargeId: declined.chargeId, status: 'failed', refunded: false }),
      expect.objectContaining({ chargeId: succeeded.chargeId, status: 'succeeded', amountRefundedPence: 0 }),
    ]);
    expect(JSON.stringify([first, second])).not.toMatch(/tok_|paymentToken/);
  });

  it('lists nothing for a window in which nothing was charged', async () => {
    // Act
    const page = await gateway.listCharges({
      createdAfter: new Date('2020-01-01T00:00:00Z'),
      createdBefore: new Date('2020-01-02T00:00:00Z'),
    });

    // Assess
    expect(page).toEqual({ charges: [], hasMore: false });
  });

  it('throws PaymentGatewayRequestRefused, with the code, for a query the gateway refuses', async () => {
    // Act
    const failure = await gateway
      .listCharges({ limit: 0, startingAfter: 'ch_sim_unknown' })
      .catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(PaymentGatewayRequestRefusedError);
    expect(failure).toMatchObject({ status: 400, code: 'parameter_invalid' });
  });

  it.each([
    [503, { error: { type: 'api_error', code: 'gateway_unavailable' } }],
    [429, { error: { type: 'rate_limit_error', code: 'rate_limit' } }],
  ])('throws PaymentGatewayUnavailable when the gateway answers %s', async (status, body) => {
    // Prepare
    const busy = new HttpPaymentGateway({
      baseUrl: 'http://gateway.invalid',
      timeoutMs: 1_000,
      fetch: async () => Response.json(body, { status }),
    });

    // Act
    const failure = await busy.listCharges({}).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(PaymentGatewayUnavailableError);
    expect(failure).toMatchObject({ status });
  });

  it('throws PaymentGatewayUnavailable when the gateway cannot be reached', async () => {
    // Prepare
    const unreachable = new HttpPaymentGateway({ baseUrl: 'http://127.0.0.1:1/gateway', timeoutMs: 2_000 });

    // Act
    const failure = await unreachable.listCharges({}).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(PaymentGatewayUnavailableError);
  });

  it('sends the window as ISO 8601 and the page as the gateway names them', async () => {
    // Prepare
    const urls: string[] = [];
    const recording = new HttpPaymentGateway({
      baseUrl: 'http://gateway.invalid/gateway/',
      timeoutMs: 1_000,
      fetch: async (url) => {
        urls.push(String(url));
        return Response.json({ object: 'list', data: [], hasMore: false });
      },
    });

    // Act
    await recording.listCharges({
      createdAfter: new Date('2026-03-01T10:00:00Z'),
      createdBefore: new Date('2026-03-01T11:00:00Z'),
      limit: 100,
      startingAfter: 'ch_sim_1',
    });

    // Assess
    expect(urls).toEqual([
      'http://gateway.invalid/gateway/v1/charges?created_after=2026-03-01T10%3A00%3A00.000Z&created_before=2026-03-01T11%3A00%3A00.000Z&limit=100&starting_after=ch_sim_1',
    ]);
  });
});
