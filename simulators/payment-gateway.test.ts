/**
 * The payment gateway simulator over HTTP, as the charge Lambda, the operators' refunds and the reconciliation
 * task reach it.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RunningSimulators, startSimulators } from './start-simulators.ts';
import { getJson, type HttpAnswer, postJson } from './testing.ts';

let simulators: RunningSimulators;
let chargesUrl: string;
let refundsUrl: string;

beforeAll(async () => {
  simulators = await startSimulators({ port: 0, gateway: { slowDelayMs: 300 } });
  chargesUrl = `${simulators.gatewayUrl}/v1/charges`;
  refundsUrl = `${simulators.gatewayUrl}/v1/refunds`;
});

afterAll(async () => {
  await simulators.close();
});

beforeEach(() => {
  simulators.reset();
});

function chargeRequest(paymentToken: string, overrides: Record<string, unknown> = {}) {
  return { amountPence: 2000, currency: 'GBP', paymentToken, reference: 'pay_ref', ...overrides };
}

function charge(paymentToken: string, key: string = randomUUID(), overrides: Record<string, unknown> = {}) {
  return postJson(chargesUrl, chargeRequest(paymentToken, overrides), { 'Idempotency-Key': key });
}

function refund(body: Record<string, unknown>, key: string = randomUUID()) {
  return postJson(refundsUrl, body, { 'Idempotency-Key': key });
}

/** A succeeded charge of 2000 pence (or, with a decline token, a failed one): its id. */
async function chargedId(paymentToken = 'tok_visa'): Promise<string> {
  const answer = await charge(paymentToken);
  return answer.status === 200 ? answer.json.id : answer.json.error.charge;
}

describe('charging', () => {
  it('charges tok_visa and says it is a simulator', async () => {
    // Prepare
    const key = randomUUID();

    // Act
    const answer = await charge('tok_visa', key);

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-simulator')).toBe('payment-gateway');
    expect(answer.headers.get('idempotency-key')).toBe(key);
    expect(answer.json).toMatchObject({
      object: 'charge',
      status: 'succeeded',
      amountPence: 2000,
      currency: 'GBP',
      reference: 'pay_ref',
      livemode: false,
    });
    expect(answer.json.id).toMatch(/^ch_sim_/);
    expect(simulators.gateway.chargeCount(key)).toBe(1);
  });

  it.each([
    ['tok_chargeDeclined', 'card_declined', 'generic_decline'],
    ['tok_insufficientFunds', 'card_declined', 'insufficient_funds'],
    ['tok_lostCard', 'card_declined', 'lost_card'],
    ['tok_stolenCard', 'card_declined', 'stolen_card'],
    ['tok_expiredCard', 'expired_card', 'expired_card'],
  ])('declines %s with 402 %s / %s, not to be retried', async (token, code, declineCode) => {
    // Act
    const answer = await charge(token);

    // Assess
    expect(answer.status).toBe(402);
    expect(answer.headers.get('should-retry')).toBe('false');
    expect(answer.json.error).toMatchObject({ type: 'card_error', code, declineCode });
    const failed = await getJson(`${chargesUrl}/${answer.json.error.charge}`);
    expect(failed.json).toMatchObject({ status: 'failed', failureCode: code, declineCode });
  });

  it('does not tell the customer a card was reported lost or stolen', async () => {
    // Act
    const lost = await charge('tok_lostCard');
    const generic = await charge('tok_chargeDeclined');

    // Assess
    expect(lost.json.error.message).toBe(generic.json.error.message);
  });

  it('returns a charge by id, and 404 for an unknown id', async () => {
    // Prepare
    const created = await charge('tok_visa');

    // Act
    const found = await getJson(`${chargesUrl}/${created.json.id}`);
    const missing = await getJson(`${chargesUrl}/ch_sim_nope`);

    // Assess
    expect(found.status).toBe(200);
    expect(found.json).toEqual(created.json);
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatchObject({ type: 'invalid_request_error', code: 'resource_missing' });
  });

  it('describes its tokens at its root', async () => {
    // Act
    const answer = await getJson(`${simulators.gatewayUrl}/`);

    // Assess
    expect(answer.json.notice).toMatch(/SIMULATOR/);
    expect(Object.keys(answer.json.tokens)).toEqual(
      expect.arrayContaining([
        'tok_visa',
        'tok_chargeDeclined',
        'tok_insufficientFunds',
        'tok_gatewayOutage',
      ]),
    );
  });
});

describe('idempotency', () => {
  it('replays the first answer byte for byte to a retry with the same key and body', async () => {
    // Prepare
    const key = randomUUID();
    const first = await charge('tok_visa', key);

    // Act
    const retry = await charge('tok_visa', key);

    // Assess
    expect(retry.status).toBe(200);
    expect(retry.text).toBe(first.text);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.headers.get('original-request')).toBe(first.headers.get('request-id'));
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(simulators.gateway.chargeCount(key)).toBe(1);
    expect(simulators.gateway.requestCount(key)).toBe(2);
  });

  it('treats the same parameters in another order as the same request', async () => {
    // Prepare
    const key = randomUUID();
    const first = await charge('tok_visa', key);
    const reordered = `{"reference":"pay_ref","paymentToken":"tok_visa","currency":"GBP","amountPence":2000}`;

    // Act
    const retry = await postJson(chargesUrl, reordered, { 'Idempotency-Key': key });

    // Assess
    expect(retry.text).toBe(first.text);
    expect(simulators.gateway.chargeCount(key)).toBe(1);
  });

  it('replays a decline too', async () => {
    // Prepare
    const key = randomUUID();
    const first = await charge('tok_insufficientFunds', key);

    // Act
    const retry = await charge('tok_insufficientFunds', key);

    // Assess
    expect(retry.status).toBe(402);
    expect(retry.text).toBe(first.text);
    expect(simulators.gateway.chargeCount(key)).toBe(1);
  });

  it('refuses the same key with a different body with 422, charging nothing more', async () => {
    // Prepare
    const key = randomUUID();
    await charge('tok_visa', key);

    // Act
    const answer = await charge('tok_visa', key, { amountPence: 5000 });

    // Assess
    expect(answer.status).toBe(422);
    expect(answer.json.error).toMatchObject({ type: 'idempotency_error', code: 'idempotency_key_reused' });
    expect(answer.headers.get('should-retry')).toBe('false');
    expect(simulators.gateway.charges()).toHaveLength(1);
  });

  it('charges once when requests with one key overlap: the others get 409, to retry later', async () => {
    // Prepare
    const key = randomUUID();

    // Act
    const answers = await Promise.all(Array.from({ length: 5 }, () => charge('tok_slow', key)));

    // Assess
    const statuses = answers.map((answer) => answer.status);
    expect(statuses).toContain(200);
    expect(statuses.every((status) => status === 200 || status === 409)).toBe(true);
    const conflict = answers.find((answer) => answer.status === 409);
    if (conflict) {
      expect(conflict.json.error.code).toBe('idempotency_request_in_progress');
      expect(conflict.headers.get('should-retry')).toBe('true');
    }
    expect(new Set(answers.filter((a) => a.status === 200).map((a) => a.json.id)).size).toBe(1);
    expect(simulators.gateway.chargeCount(key)).toBe(1);
  });

  it('completes a charge whose caller gave up waiting, and replays it to the retry', async () => {
    // Prepare
    const key = randomUUID();
    const impatient = new AbortController();
    const firstTry = postJson(
      chargesUrl,
      chargeRequest('tok_slow'),
      { 'Idempotency-Key': key },
      impatient.signal,
    );
    await vi.waitFor(() => expect(simulators.gateway.requestCount(key)).toBe(1));
    impatient.abort();
    await expect(firstTry).rejects.toThrow();

    // Act
    await vi.waitFor(() => expect(simulators.gateway.chargeCount(key)).toBe(1));
    const retry = await charge('tok_slow', key);

    // Assess
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(simulators.gateway.chargeCount(key)).toBe(1);
  });

  it('keeps keys apart: another key is another charge', async () => {
    // Act
    await charge('tok_visa', 'key-a');
    await charge('tok_visa', 'key-b');

    // Assess
    expect(simulators.gateway.chargeCount('key-a')).toBe(1);
    expect(simulators.gateway.chargeCount('key-b')).toBe(1);
    expect(simulators.gateway.charges()).toHaveLength(2);
  });
});

describe('outages', () => {
  it('answers tok_gatewayOutage with 503 twice per key, then charges on the retry', async () => {
    // Prepare
    const key = randomUUID();

    // Act
    const first = await charge('tok_gatewayOutage', key);
    const second = await charge('tok_gatewayOutage', key);
    const third = await charge('tok_gatewayOutage', key);

    // Assess
    expect([first.status, second.status, third.status]).toEqual([503, 503, 200]);
    expect(first.json.error).toMatchObject({ type: 'api_error', code: 'gateway_unavailable' });
    expect(first.headers.get('should-retry')).toBe('true');
    expect(third.json.status).toBe('succeeded');
    expect(third.headers.get('idempotent-replayed')).toBeNull();
    expect(simulators.gateway.chargeCount(key)).toBe(1);
  });

  it('answers tok_gatewayDown with 503 on every attempt and never charges', async () => {
    // Prepare
    const key = randomUUID();

    // Act
    const answers = [];
    for (let attempt = 0; attempt < 5; attempt += 1) answers.push(await charge('tok_gatewayDown', key));

    // Assess
    expect(answers.map((answer) => answer.status)).toEqual([503, 503, 503, 503, 503]);
    expect(simulators.gateway.chargeCount(key)).toBe(0);
  });

  it('counts outage attempts per key', async () => {
    // Prepare
    await charge('tok_gatewayOutage', 'outage-a');
    await charge('tok_gatewayOutage', 'outage-a');

    // Act
    const otherKey = await charge('tok_gatewayOutage', 'outage-b');

    // Assess
    expect(otherKey.status).toBe(503);
  });
});

describe('refusals', () => {
  it.each([['4242424242424242'], ['4242 4242 4242 4242'], ['4000-0566-5566-5556']])(
    'refuses the PAN-looking token %j with 400, without echoing or keeping it',
    async (pan) => {
      // Prepare
      const key = randomUUID();

      // Act
      const answer = await charge(pan, key);

      // Assess
      expect(answer.status).toBe(400);
      expect(answer.json.error).toMatchObject({ type: 'invalid_request_error', code: 'card_data_refused' });
      expect(answer.text).not.toContain(pan);
      expect(simulators.gateway.charges()).toHaveLength(0);
      expect(JSON.stringify(await getJson(`${simulators.gatewayUrl}/`))).not.toContain(pan);
    },
  );

  it('refuses card fields such as a CVV, whatever their value', async () => {
    // Act
    const answer = await charge('tok_visa', randomUUID(), { cvv: '123' });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe('card_data_refused');
    expect(answer.text).not.toContain('123');
  });

  it('requires an Idempotency-Key', async () => {
    // Act
    const answer = await postJson(chargesUrl, chargeRequest('tok_visa'));

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe('idempotency_key_missing');
    expect(simulators.gateway.charges()).toHaveLength(0);
  });

  it('refuses a key longer than 255 characters', async () => {
    // Act
    const answer = await charge('tok_visa', 'k'.repeat(256));

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe('idempotency_key_invalid');
  });

  it.each([
    [{ amountPence: undefined }, 'parameter_missing', 'amountPence'],
    [{ amountPence: 20.5 }, 'parameter_invalid', 'amountPence'],
    [{ amountPence: 29 }, 'amount_too_small', 'amountPence'],
    [{ amountPence: 100_000_000 }, 'amount_too_large', 'amountPence'],
    [{ currency: 'EUR' }, 'parameter_invalid', 'currency'],
    [{ reference: '' }, 'parameter_invalid', 'reference'],
    [{ paymentToken: 'tok_unknown' }, 'resource_missing', 'paymentToken'],
    [{ colour: 'blue' }, 'parameter_unknown', 'colour'],
  ])('refuses %j with 400 %s naming %s', async (overrides, code, param) => {
    // Act
    const answer = await charge('tok_visa', randomUUID(), overrides);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.json.error).toMatchObject({ type: 'invalid_request_error', code, param });
    expect(simulators.gateway.charges()).toHaveLength(0);
  });

  it('refuses a body that is not JSON', async () => {
    // Act
    const answer = await postJson(chargesUrl, 'amount=2000', { 'Idempotency-Key': randomUUID() });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe('body_not_json');
  });

  it('does not keep a refused request: the same key charges once the request is fixed', async () => {
    // Prepare
    const key = randomUUID();
    await charge('tok_visa', key, { amountPence: 10 });

    // Act
    const fixed = await charge('tok_visa', key);

    // Assess
    expect(fixed.status).toBe(200);
    expect(simulators.gateway.chargeCount(key)).toBe(1);
  });

  it('answers unknown routes with 404', async () => {
    // Act
    const answer = await getJson(`${simulators.gatewayUrl}/v1/payouts`);

    // Assess
    expect(answer.status).toBe(404);
    expect(answer.headers.get('x-simulator')).toBe('payment-gateway');
  });
});

describe('refunds', () => {
  it('refunds the whole unrefunded amount by default, and the charge shows it', async () => {
    // Prepare
    const chargeId = await chargedId();

    // Act
    const answer = await refund({ charge: chargeId, reason: 'vend_failed' });
    const found = await getJson(`${refundsUrl}/${answer.json.id}`);
    const refundedCharge = await getJson(`${chargesUrl}/${chargeId}`);

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-simulator')).toBe('payment-gateway');
    expect(answer.json).toEqual({
      id: expect.stringMatching(/^re_sim_/),
      object: 'refund',
      status: 'succeeded',
      charge: chargeId,
      amountPence: 2000,
      currency: 'GBP',
      reason: 'vend_failed',
      createdAt: expect.any(String),
    });
    expect(found.json).toEqual(answer.json);
    expect(refundedCharge.json).toMatchObject({
      amountPence: 2000,
      amountRefundedPence: 2000,
      refunded: true,
    });
    expect(simulators.gateway.refundCount(chargeId)).toBe(1);
  });

  it('shows a charge not yet refunded as such', async () => {
    // Act
    const created = await charge('tok_visa');

    // Assess
    expect(created.json).toMatchObject({ amountRefundedPence: 0, refunded: false });
  });

  it('refunds in parts, lists them newest first, then refuses a charge with nothing left', async () => {
    // Prepare
    const chargeId = await chargedId();

    // Act
    const first = await refund({ charge: chargeId, amountPence: 500 });
    const rest = await refund({ charge: chargeId });
    const listed = await getJson(`${refundsUrl}?charge=${chargeId}`);
    const again = await refund({ charge: chargeId, amountPence: 1 });

    // Assess
    expect([first.json.amountPence, rest.json.amountPence]).toEqual([500, 1500]);
    expect(first.json.reason).toBeNull();
    expect(listed.json).toEqual({ object: 'list', data: [rest.json, first.json], hasMore: false });
    expect(again.status).toBe(400);
    expect(again.json.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'charge_already_refunded',
      param: 'charge',
    });
    expect(again.headers.get('should-retry')).toBe('false');
    expect(simulators.gateway.refundCount(chargeId)).toBe(2);
  });

  it('refuses more than the unrefunded amount with amount_too_large', async () => {
    // Prepare
    const chargeId = await chargedId();
    await refund({ charge: chargeId, amountPence: 1500 });

    // Act
    const answer = await refund({ charge: chargeId, amountPence: 501 });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.json.error).toMatchObject({ code: 'amount_too_large', param: 'amountPence' });
    expect(simulators.gateway.refundCount(chargeId)).toBe(1);
  });

  it('refuses to refund a declined charge', async () => {
    // Prepare
    const chargeId = await chargedId('tok_chargeDeclined');

    // Act
    const answer = await refund({ charge: chargeId });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.json.error).toMatchObject({ code: 'charge_not_refundable', param: 'charge' });
    expect(simulators.gateway.refunds()).toHaveLength(0);
  });

  it('answers 404 resource_missing for an unknown charge or refund', async () => {
    // Act
    const unknownCharge = await refund({ charge: 'ch_sim_nope' });
    const unknownRefund = await getJson(`${refundsUrl}/re_sim_nope`);
    const unknownList = await getJson(`${refundsUrl}?charge=ch_sim_nope`);
    const noCharge = await getJson(refundsUrl);

    // Assess
    expect(unknownCharge.status).toBe(404);
    expect(unknownCharge.json.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'resource_missing',
      param: 'charge',
    });
    expect(unknownCharge.headers.get('should-retry')).toBe('false');
    expect(unknownRefund.status).toBe(404);
    expect(unknownRefund.json.error).toMatchObject({ code: 'resource_missing', param: 'id' });
    expect(unknownList.status).toBe(404);
    expect(noCharge.status).toBe(400);
    expect(noCharge.json.error).toMatchObject({ code: 'parameter_missing', param: 'charge' });
  });

  it.each([
    [{ charge: undefined }, 'parameter_missing', 'charge'],
    [{ amountPence: 0 }, 'parameter_invalid', 'amountPence'],
    [{ amountPence: 12.5 }, 'parameter_invalid', 'amountPence'],
    [{ reason: 'changed_my_mind' }, 'parameter_invalid', 'reason'],
    [{ currency: 'GBP' }, 'parameter_unknown', 'currency'],
  ])('refuses %j with 400 %s naming %s', async (overrides, code, param) => {
    // Prepare
    const chargeId = await chargedId();

    // Act
    const answer = await refund({ charge: chargeId, ...overrides });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.json.error).toMatchObject({ type: 'invalid_request_error', code, param });
    expect(simulators.gateway.refunds()).toHaveLength(0);
  });

  it('requires an Idempotency-Key', async () => {
    // Prepare
    const chargeId = await chargedId();

    // Act
    const answer = await postJson(refundsUrl, { charge: chargeId });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe('idempotency_key_missing');
    expect(simulators.gateway.refundCount(chargeId)).toBe(0);
  });

  it('describes the refund endpoints at its root', async () => {
    // Act
    const answer = await getJson(`${simulators.gatewayUrl}/`);

    // Assess
    expect(Object.keys(answer.json.endpoints)).toEqual(
      expect.arrayContaining(['POST /v1/refunds', 'GET /v1/refunds/{id}', 'GET /v1/refunds?charge=']),
    );
  });
});

describe('refund idempotency', () => {
  it('replays the first refund byte for byte to a retry with the same key and body, refunding once', async () => {
    // Prepare
    const chargeId = await chargedId();
    const key = randomUUID();
    const first = await refund({ charge: chargeId, reason: 'vend_failed' }, key);

    // Act
    const retry = await refund({ reason: 'vend_failed', charge: chargeId }, key);

    // Assess
    expect(retry.status).toBe(200);
    expect(retry.text).toBe(first.text);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.headers.get('original-request')).toBe(first.headers.get('request-id'));
    expect(simulators.gateway.refundCount(chargeId)).toBe(1);
    expect(simulators.gateway.requestCount(key)).toBe(2);
  });

  it('refuses the same key with another body, or a charge key reused for a refund, with 422', async () => {
    // Prepare
    const chargeKey = randomUUID();
    const charged = await charge('tok_visa', chargeKey);
    const refundKey = randomUUID();
    await refund({ charge: charged.json.id, amountPence: 100 }, refundKey);

    // Act
    const otherBody = await refund({ charge: charged.json.id, amountPence: 200 }, refundKey);
    const chargeKeyReused = await refund({ charge: charged.json.id }, chargeKey);

    // Assess
    for (const answer of [otherBody, chargeKeyReused]) {
      expect(answer.status).toBe(422);
      expect(answer.json.error).toMatchObject({ type: 'idempotency_error', code: 'idempotency_key_reused' });
      expect(answer.headers.get('should-retry')).toBe('false');
    }
    expect(simulators.gateway.refundCount(charged.json.id)).toBe(1);
  });

  it('does not keep a refusal: the same key refunds once the request is fixed', async () => {
    // Prepare
    const chargeId = await chargedId();
    const key = randomUUID();
    const refused = await refund({ charge: chargeId, amountPence: 5000 }, key);

    // Act
    const fixed = await refund({ charge: chargeId, amountPence: 2000 }, key);

    // Assess
    expect(refused.status).toBe(400);
    expect(fixed.status).toBe(200);
    expect(simulators.gateway.refundCount(chargeId)).toBe(1);
  });

  it('refunds once when requests with one key overlap: the others get 409, to retry later', async () => {
    // Prepare: refunds of a tok_slow charge take as long as its charge did
    const chargeId = await chargedId('tok_slow');
    const key = randomUUID();

    // Act
    const answers = await Promise.all(Array.from({ length: 4 }, () => refund({ charge: chargeId }, key)));

    // Assess
    const statuses = answers.map((answer) => answer.status);
    expect(statuses).toContain(200);
    expect(statuses.every((status) => status === 200 || status === 409)).toBe(true);
    const conflict = answers.find((answer) => answer.status === 409);
    if (conflict) {
      expect(conflict.json.error.code).toBe('idempotency_request_in_progress');
      expect(conflict.headers.get('should-retry')).toBe('true');
    }
    expect(simulators.gateway.refundCount(chargeId)).toBe(1);
  });

  it('never refunds more than was charged when refunds under different keys overlap', async () => {
    // Prepare
    const chargeId = await chargedId('tok_slow');

    // Act
    const answers = await Promise.all([refund({ charge: chargeId }), refund({ charge: chargeId })]);

    // Assess
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 400]);
    expect(answers.find((answer) => answer.status === 400)!.json.error.code).toBe('charge_already_refunded');
    expect(simulators.gateway.refundCount(chargeId)).toBe(1);
  });

  it('answers refunds of a tok_gatewayOutage charge with 503 twice per key, then refunds', async () => {
    // Prepare
    const chargeKey = randomUUID();
    for (let attempt = 0; attempt < 3; attempt += 1) await charge('tok_gatewayOutage', chargeKey);
    const chargeId = simulators.gateway.charges()[0]!.id;
    const key = randomUUID();

    // Act
    const answers = [];
    for (let attempt = 0; attempt < 3; attempt += 1) answers.push(await refund({ charge: chargeId }, key));

    // Assess
    expect(answers.map((answer) => answer.status)).toEqual([503, 503, 200]);
    expect(answers[0]!.json.error).toMatchObject({ type: 'api_error', code: 'gateway_unavailable' });
    expect(answers[0]!.headers.get('should-retry')).toBe('true');
    expect(simulators.gateway.refundCount(chargeId)).toBe(1);
  });
});

describe('listing charges by when they were made', () => {
  /** Charges made at the given times (Date only is faked, so the server's timers run as usual): their ids. */
  async function chargesMadeAt(times: readonly string[], token = 'tok_visa'): Promise<string[]> {
    const ids: string[] = [];
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      for (const [index, time] of times.entries()) {
        vi.setSystemTime(new Date(time));
        const answer = await charge(token, randomUUID(), { reference: `pay_listed_${index}` });
        ids.push(answer.status === 200 ? answer.json.id : answer.json.error.charge);
      }
    } finally {
      vi.useRealTimers();
    }
    return ids;
  }

  const list = (query: string) => getJson(`${chargesUrl}?${query}`);

  it('lists the charges made in a window, newest first: at or after created_after, before created_before', async () => {
    // Prepare
    const [before, atStart, inside, atEnd] = await chargesMadeAt([
      '2026-03-01T09:59:59.999Z',
      '2026-03-01T10:00:00.000Z',
      '2026-03-01T10:30:00.000Z',
      '2026-03-01T11:00:00.000Z',
    ]);

    // Act
    const iso = await list('created_after=2026-03-01T10:00:00Z&created_before=2026-03-01T11:00:00Z');
    const unix = await list(
      `created_after=${Date.parse('2026-03-01T10:00:00Z') / 1000}&created_before=${Date.parse('2026-03-01T11:00:00Z') / 1000}`,
    );
    const open = await list('created_after=2026-03-01T10:00:00%2B00:00');

    // Assess
    expect(iso.status).toBe(200);
    expect(iso.headers.get('x-simulator')).toBe('payment-gateway');
    expect(iso.json).toMatchObject({ object: 'list', hasMore: false });
    expect(iso.json.data.map((listed: { id: string }) => listed.id)).toEqual([inside, atStart]);
    expect(unix.json).toEqual(iso.json);
    expect(open.json.data.map((listed: { id: string }) => listed.id)).toEqual([atEnd, inside, atStart]);
    expect(open.json.data.map((listed: { id: string }) => listed.id)).not.toContain(before);
  });

  it('shows each charge as GET /v1/charges/{id} does, declined and refunded ones too, without its idempotency key', async () => {
    // Prepare
    const [charged, another] = await chargesMadeAt(['2026-03-02T10:00:00Z', '2026-03-02T10:01:00Z']);
    const [failed] = await chargesMadeAt(['2026-03-02T10:02:00Z'], 'tok_chargeDeclined');
    await refund({ charge: charged!, amountPence: 500 });

    // Act
    const listed = await list('created_after=2026-03-02T00:00:00Z&created_before=2026-03-03T00:00:00Z');

    // Assess
    const shown = await Promise.all(
      [failed, another, charged].map(async (id) => (await getJson(`${chargesUrl}/${id}`)).json),
    );
    expect(listed.json.data).toEqual(shown);
    expect(listed.json.data.map((listed: { status: string }) => listed.status)).toEqual([
      'failed',
      'succeeded',
      'succeeded',
    ]);
    expect(listed.json.data[2]).toMatchObject({ amountRefundedPence: 500, refunded: false });
    expect(listed.text).not.toContain('idempotencyKey');
  });

  it('pages with limit and starting_after until hasMore is false, each charge once, even while charges are made', async () => {
    // Prepare
    const made = await chargesMadeAt(
      Array.from({ length: 7 }, (_, minute) => `2026-03-03T10:0${minute}:00Z`),
    );
    const window = 'created_after=2026-03-03T10:00:00Z&created_before=2026-03-03T11:00:00Z';

    // Act
    const pages = [];
    let startingAfter: string | undefined;
    for (let page = 0; page < 5; page += 1) {
      const answer = await list(
        `${window}&limit=3${startingAfter === undefined ? '' : `&starting_after=${startingAfter}`}`,
      );
      pages.push(answer.json);
      if (!answer.json.hasMore) break;
      startingAfter = answer.json.data.at(-1).id;
      // A charge made between pages is newer than every listed one: it never shifts the pages still to come.
      await chargesMadeAt([`2026-03-03T10:5${page}:00Z`]);
    }

    // Assess
    expect(pages.map((page) => [page.data.length, page.hasMore])).toEqual([
      [3, true],
      [3, true],
      [1, false],
    ]);
    expect(pages.flatMap((page) => page.data.map((listed: { id: string }) => listed.id))).toEqual(
      [...made].reverse(),
    );
  });

  it('takes 10 by default, and combines the window with a reference', async () => {
    // Prepare
    await chargesMadeAt(Array.from({ length: 12 }, (_, minute) => `2026-03-04T10:${10 + minute}:00Z`));

    // Act
    const firstPage = await list('created_after=2026-03-04T00:00:00Z');
    const byReference = await list('reference=pay_listed_3&created_before=2026-03-04T10:14:00Z');
    const outsideWindow = await list('reference=pay_listed_3&created_after=2026-03-04T10:14:00Z');

    // Assess
    expect([firstPage.json.data.length, firstPage.json.hasMore]).toEqual([10, true]);
    expect(byReference.json.data).toEqual([expect.objectContaining({ reference: 'pay_listed_3' })]);
    expect(outsideWindow.json).toEqual({ object: 'list', data: [], hasMore: false });
  });

  it.each([
    ['created_after=yesterday', 'parameter_invalid', 'created_after'],
    ['created_before=2026-03-01T10:00:00', 'parameter_invalid', 'created_before'],
    ['limit=0', 'parameter_invalid', 'limit'],
    ['limit=101', 'parameter_invalid', 'limit'],
    ['limit=2.5', 'parameter_invalid', 'limit'],
    ['starting_after=ch_sim_nope', 'resource_missing', 'starting_after'],
    ['reference=', 'parameter_missing', 'reference'],
    ['created[gte]=1', 'parameter_unknown', 'created[gte]'],
  ])('refuses %s with 400 %s, naming %s, not to be retried', async (query, code, param) => {
    // Act
    const answer = await list(query);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.json.error).toMatchObject({ type: 'invalid_request_error', code, param });
    expect(answer.headers.get('should-retry')).toBe('false');
  });

  it('lists the same charges after a restart on its data directory', async () => {
    // Prepare
    const dataDir = mkdtempSync(join(tmpdir(), 'gateway-listing-'));
    const window = 'created_after=2026-03-05T00:00:00Z&created_before=2026-03-06T00:00:00Z';
    try {
      const first = await startSimulators({ port: 0, dataDir });
      let before: HttpAnswer;
      try {
        vi.useFakeTimers({ toFake: ['Date'] });
        for (const time of ['2026-03-05T10:00:00Z', '2026-03-05T10:00:00Z', '2026-03-05T11:00:00Z']) {
          vi.setSystemTime(new Date(time));
          await postJson(`${first.gatewayUrl}/v1/charges`, chargeRequest('tok_visa'), {
            'Idempotency-Key': randomUUID(),
          });
        }
        vi.useRealTimers();
        before = await getJson(`${first.gatewayUrl}/v1/charges?${window}`);
      } finally {
        vi.useRealTimers();
        await first.close();
      }

      // Act
      const second = await startSimulators({ port: 0, dataDir });
      const after = await getJson(`${second.gatewayUrl}/v1/charges?${window}`).finally(() => second.close());

      // Assess
      expect(before.json.data).toHaveLength(3);
      expect(after.text).toBe(before.text);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
