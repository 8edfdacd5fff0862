import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FrontEndForTests, startFrontEndForTests } from '../../testing/embedded-front-end.ts';

let env: FrontEndForTests;
let keys = 0;
const METER = '1600123456785';
const VALID = { meterId: METER, amountPence: 2000, paymentToken: 'tok_visa' };

beforeAll(async () => {
  env = await startFrontEndForTests();
});

afterAll(async () => {
  await env.close();
});

function post(body: unknown, key: string | null = `key-${++keys}`) {
  return env.app.inject({
    method: 'POST',
    url: '/api/payments',
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { 'idempotency-key': key }) },
    payload: JSON.stringify(body),
  });
}

function get(paymentId: string, token: string | undefined) {
  return env.app.inject({
    method: 'GET',
    url: `/api/payments/${paymentId}`,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

describe('POST /api/payments', () => {
  it('accepts a top-up: 202, the payment and its accepted event stored, the execution started', async () => {
    // Act
    const response = await post(VALID);

    // Assess
    expect(response.statusCode).toBe(202);
    const { paymentId, statusToken, eventsUrl } = response.json();
    expect(paymentId).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(statusToken).toEqual(expect.any(String));
    expect(eventsUrl).toBe(`/api/payments/${paymentId}/events?token=${encodeURIComponent(statusToken)}`);
    const status = await get(paymentId, statusToken);
    expect(status.json()).toMatchObject({
      paymentId,
      status: 'accepted',
      meterId: METER,
      amountPence: 2000,
      events: [{ seq: 1, type: 'accepted', at: expect.any(String) }],
    });
    const execution = await env.sfn.send(
      new DescribeExecutionCommand({
        executionArn: `${env.stateMachineArn.replace(':stateMachine:', ':execution:')}:${paymentId}`,
      }),
    );
    expect(JSON.parse(execution.input ?? '{}')).toEqual({ paymentId, ...VALID });
    const { records } = await env.db.sql('SELECT status_token_hash FROM payments WHERE payment_id = :id', {
      id: paymentId,
    });
    expect(records?.[0]?.[0]?.stringValue).not.toBe(statusToken);
  });

  it('replays the first response for the same key and body, with one payment only', async () => {
    // Prepare
    const first = await post(VALID, 'replay-key');
    const paymentsBefore = await env.count('payments');

    // Act
    const second = await post({ paymentToken: 'tok_visa', amountPence: 2000, meterId: METER }, 'replay-key');

    // Assess
    expect(second.statusCode).toBe(202);
    expect(second.json()).toEqual(first.json());
    expect(await env.count('payments')).toBe(paymentsBefore);
  });

  it('keeps neither the status token nor the Idempotency-Key in the record it replays from', async () => {
    // Act
    const accepted = (await post(VALID, 'kept-secret-key')).json();

    // Assess
    const { records } = await env.db.sql(
      "SELECT key, response::text FROM idempotency_records WHERE response->>'paymentId' = :paymentId",
      { paymentId: accepted.paymentId },
    );
    const kept = JSON.stringify(records);
    expect(records).toHaveLength(1);
    expect(kept).not.toContain(accepted.statusToken);
    expect(kept).not.toContain('kept-secret-key');
  });

  it('answers concurrent posts with one key with one payment', async () => {
    // Prepare
    const paymentsBefore = await env.count('payments');

    // Act
    const responses = await Promise.all([1, 2, 3, 4].map(() => post(VALID, 'concurrent-key')));

    // Assess
    expect(responses.map((response) => response.statusCode)).toEqual([202, 202, 202, 202]);
    expect(new Set(responses.map((response) => response.json().paymentId)).size).toBe(1);
    expect(await env.count('payments')).toBe(paymentsBefore + 1);
  });

  it('refuses a field the API does not take without quoting its name back', async () => {
    // Act
    const response = await post({ ...VALID, 'someone-elses-status-token': 'x' }, 'k-unknown-field');

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'invalid_request', field: 'body' });
    expect(response.body).not.toContain('someone-elses-status-token');
  });

  it('refuses the same key with another body: 422', async () => {
    // Prepare
    await post(VALID, 'reused-key');

    // Act
    const response = await post({ ...VALID, amountPence: 3000 }, 'reused-key');

    // Assess
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ code: 'idempotency_key_reused' });
  });

  it.each([
    ['no Idempotency-Key', VALID, null, 'Idempotency-Key'],
    ['an Idempotency-Key over 255 characters', VALID, 'k'.repeat(256), 'Idempotency-Key'],
    ['no meterId', { amountPence: 2000, paymentToken: 'tok_visa' }, 'k-a', 'meterId'],
    ['a meterId with a wrong check digit', { ...VALID, meterId: '1600123456786' }, 'k-b', 'meterId'],
    ['an amount below £10', { ...VALID, amountPence: 999 }, 'k-c', 'amountPence'],
    ['an amount above £175', { ...VALID, amountPence: 17501 }, 'k-d', 'amountPence'],
    ['an amount that is not whole pence', { ...VALID, amountPence: 2000.5 }, 'k-e', 'amountPence'],
    ['an amount given as text', { ...VALID, amountPence: '2000' }, 'k-f', 'amountPence'],
    ['no paymentToken', { meterId: METER, amountPence: 2000 }, 'k-g', 'paymentToken'],
  ])('refuses %s with 400 naming the field', async (_case, body, key, field) => {
    // Prepare
    const paymentsBefore = await env.count('payments');

    // Act
    const response = await post(body, key);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ field });
    expect(response.json().message).toContain(field);
    expect(await env.count('payments')).toBe(paymentsBefore);
  });

  it.each([
    ['a card number as the token', { ...VALID, paymentToken: '4242424242424242' }],
    ['a spaced card number', { ...VALID, paymentToken: '4000 0566 5566 5556' }],
    ['a cvv field', { ...VALID, cvv: '123' }],
    ['a nested card number', { ...VALID, card: { number: '5555555555554444', expiry: '12/30' } }],
  ])('refuses %s with 400, and writes nothing', async (_case, body) => {
    // Prepare
    const before = await Promise.all([
      env.count('payments'),
      env.count('payment_events'),
      env.count('idempotency_records'),
    ]);

    // Act
    const response = await post(body);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'card_data_refused' });
    expect(response.body).not.toMatch(/4242424242424242|4000 0566|5555555555554444|"123"/);
    const after = await Promise.all([
      env.count('payments'),
      env.count('payment_events'),
      env.count('idempotency_records'),
    ]);
    expect(after).toEqual(before);
  });
});

describe('GET /api/payments/{paymentId}', () => {
  it('refuses a wrong token, a missing token and another payment token exactly as an unknown payment', async () => {
    // Prepare
    const mine = (await post(VALID)).json();
    const theirs = (await post(VALID)).json();

    // Act
    const right = await get(mine.paymentId, mine.statusToken);
    const refusals = await Promise.all([
      get(mine.paymentId, 'not-the-token'),
      get(mine.paymentId, undefined),
      get(mine.paymentId, theirs.statusToken),
      get('pay_unknown', mine.statusToken),
    ]);

    // Assess
    expect(right.statusCode).toBe(200);
    expect(right.json().paymentId).toBe(mine.paymentId);
    for (const refusal of refusals) {
      expect(refusal.statusCode).toBe(404);
      expect(refusal.body).toBe(refusals[3]!.body);
    }
  });
});

describe('rate limits', () => {
  it('answers 429 once a client has posted its share of payments for the minute', async () => {
    // Prepare: a front-end allowing 8 requests a minute, so 2 POSTs (a quarter of them)
    const limited = await env.buildAppOnIt({ rateLimitMax: 8 });
    const post = (key: string) =>
      limited.inject({
        method: 'POST',
        url: '/api/payments',
        headers: { 'idempotency-key': key },
        payload: { meterId: 'bad', amountPence: 1500, paymentToken: 'tok_visa' },
      });

    // Act
    const answers = [await post('rate-1'), await post('rate-2'), await post('rate-3')];

    // Assess
    expect(answers.map((answer) => answer.statusCode)).toEqual([400, 400, 429]);
    await limited.close();
  });
});
