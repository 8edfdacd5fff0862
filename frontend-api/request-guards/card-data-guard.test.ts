import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPaymentId } from '../domain/payment-id.ts';
import { newStatusToken } from '../domain/status-token.ts';
import {
  ALLOWED_ORIGIN,
  type FrontEndForTests,
  startFrontEndForTests,
} from '../testing/embedded-front-end.ts';
import { TEST_CARD_DIGITS } from '../testing/test-card.ts';
import { findCardDataInRequest } from './card-data-guard.ts';

let env: FrontEndForTests;
let keys = 0;
const VALID = { meterId: '1600123456785', amountPence: 2000, paymentToken: 'tok_visa' };

beforeAll(async () => {
  env = await startFrontEndForTests();
});

afterAll(async () => {
  await env.close();
});

function stored() {
  return Promise.all([env.count('payments'), env.count('idempotency_records'), env.count('payment_events')]);
}

function post(body: unknown, headers: Record<string, string> = {}) {
  return env.app.inject({
    method: 'POST',
    url: '/api/payments',
    headers: { 'content-type': 'application/json', 'idempotency-key': `card-key-${++keys}`, ...headers },
    payload: JSON.stringify(body),
  });
}

/** A header value as Node reads the UTF-8 bytes a client sent: each byte a latin1 character. */
function utf8AsLatin1(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

describe('card data anywhere in a request', () => {
  it.each([
    ['dotted', '4000.0566.5566.5556'],
    ['slashed', '4000/0566/5566/5556'],
    ['underscored', '4000_0566_5566_5556'],
    ['double-spaced', '4000  0566 5566 5556'],
    ['no-break-spaced', '4000\u00a00566\u00a05566\u00a05556'],
    ['thin-spaced', '4000\u20090566\u20095566\u20095556'],
    ['full-width', '４０００ ０５６６ ５５６６ ５５５６'],
    ['full-width, no spaces', '４００００５６６５５６６５５５６'],
  ])(
    'refuses a %s card number as the paymentToken: 400, not echoed, nothing stored',
    async (_case, paymentToken) => {
      // Prepare
      const before = await stored();

      // Act
      const response = await post({ ...VALID, paymentToken });

      // Assess
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'card_data_refused', field: 'paymentToken' });
      expect(response.body).not.toMatch(TEST_CARD_DIGITS);
      expect(await stored()).toEqual(before);
    },
  );

  it.each([
    ['the Idempotency-Key', { 'idempotency-key': '4000056655665556' }, 'Idempotency-Key'],
    ['a spaced Idempotency-Key', { 'idempotency-key': '4000 0566 5566 5556' }, 'Idempotency-Key'],
    ['another header', { 'x-customer-note': 'card 4000-0566-5566-5556' }, 'X-Customer-Note'],
    ['a header name', { 'x-4000056655665556': 'x' }, 'headers'],
    // As Node hands over UTF-8 header bytes: read as latin1.
    [
      'full-width digits in UTF-8',
      { 'x-customer-note': utf8AsLatin1('４０００ ０５６６ ５５６６ ５５５６') },
      'X-Customer-Note',
    ],
    [
      'no-break spaces in UTF-8',
      { 'idempotency-key': utf8AsLatin1('4000\u00a00566\u00a05566\u00a05556') },
      'Idempotency-Key',
    ],
    [
      'en dashes in UTF-8',
      { 'x-customer-note': utf8AsLatin1('4000\u20130566\u20135566\u20135556') },
      'X-Customer-Note',
    ],
  ])('refuses a card number in %s: 400 naming it, nothing stored', async (_case, headers, field) => {
    // Prepare
    const before = await stored();

    // Act
    const response = await post(VALID, headers);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'card_data_refused', field });
    expect(response.body).not.toMatch(TEST_CARD_DIGITS);
    expect(await stored()).toEqual(before);
  });

  it.each([
    ['GET', '/api/payments/4000056655665556', 'path'],
    ['GET', '/api/payments/4000%200566%205566%205556', 'path'],
    ['GET', '/api/payments/%34%30%30%30%30%35%36%36%35%35%36%36%35%35%35%36', 'path'],
    ['GET', '/api/payments/4000/0566/5566/5556', 'path'],
    ['GET', '/4000056655665556', 'path'],
    ['GET', '/api/payments/4000056655665556%ZZ', 'path'],
    ['DELETE', '/api/payments/4000056655665556', 'path'],
    ['GET', '/api/payments/pay_x?card=4000056655665556', 'query'],
    ['GET', '/api/payments/pay_x?note=4000+0566+5566+5556', 'query'],
    ['GET', '/api/payments/pay_x?4000056655665556', 'query'],
    ['POST', '/api/payments?card=4000-0566-5566-5556', 'query'],
  ])('refuses %s %s: 400 naming where, not echoed', async (method, url, field) => {
    // Prepare
    const before = await stored();

    // Act
    const response = await env.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: 'Bearer x', 'idempotency-key': `card-key-${++keys}` },
      ...(method === 'POST' ? { payload: VALID } : {}),
    });

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'card_data_refused', field });
    expect(response.body).not.toMatch(TEST_CARD_DIGITS);
    expect(await stored()).toEqual(before);
  });

  it('refuses a card number in the query of the events socket before the upgrade', async () => {
    // Prepare
    const { paymentId, statusToken } = (await post(VALID)).json();

    // Act
    const attempt = env.app.injectWS(
      `/api/payments/${paymentId}/events?token=${encodeURIComponent(statusToken)}&note=4000056655665556`,
      { headers: { origin: ALLOWED_ORIGIN } },
    );

    // Assess
    await expect(attempt).rejects.toThrow('Unexpected server response: 400');
  });

  it('lets through what looks like digits but is not a card: real ids, tokens, keys and trace ids', async () => {
    // Prepare: hexadecimal ids hold a Luhn-passing run of 13+ digits about one time in 500
    const requests = Array.from({ length: 2_000 }, () => ({
      url: `/api/payments/${newPaymentId()}/events?token=${newStatusToken()}&after=1234567`,
      rawHeaders: [
        'Idempotency-Key',
        randomUUID(),
        'Authorization',
        `Bearer ${newStatusToken()}`,
        'traceparent',
        `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
        'X-Amzn-Trace-Id',
        `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`,
        'If-Modified-Since',
        'Tue, 24 Nov 2026 10:15:30 GMT',
      ],
    }));

    // Act
    const refused = requests.filter((request) => findCardDataInRequest(request) !== undefined);

    // Assess
    expect(refused).toEqual([]);
  });

  it('still takes as the meterId a 13-digit MPAN core that passes Luhn, as one in ten does', async () => {
    // Prepare
    const meters = ['1200000000146', '1200000000252', '1200000000369'];

    // Act
    const responses = await Promise.all(meters.map((meterId) => post({ ...VALID, meterId })));

    // Assess
    expect(responses.map((response) => response.statusCode)).toEqual([202, 202, 202]);
  });
});
