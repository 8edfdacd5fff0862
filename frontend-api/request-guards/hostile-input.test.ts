import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FrontEndForTests, startFrontEndForTests } from '../testing/embedded-front-end.ts';
import { MAX_JSON_DEPTH } from './json-body.ts';

let env: FrontEndForTests;
let keys = 0;
const VALID = { meterId: '1600123456785', amountPence: 2000, paymentToken: 'tok_visa' };

beforeAll(async () => {
  env = await startFrontEndForTests();
});

afterAll(async () => {
  await env.close();
});

function post(payload: string | Buffer, headers: Record<string, string> = {}) {
  return env.app.inject({
    method: 'POST',
    url: '/api/payments',
    headers: { 'content-type': 'application/json', 'idempotency-key': `hostile-${++keys}`, ...headers },
    payload,
  });
}

/** Sends raw headers as they are, repeats included (inject and fetch would join them). */
async function postOverHttp(app: FastifyInstance, rawHeaders: string[], body: string) {
  const { port } = app.server.address() as AddressInfo;
  // Given as a list, headers are sent exactly so: Host and Content-Length too.
  const headers = [
    'Host',
    `127.0.0.1:${port}`,
    'Content-Length',
    String(Buffer.byteLength(body)),
    ...rawHeaders,
  ];
  return new Promise<{ statusCode: number; body: string }>((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, method: 'POST', path: '/api/payments', headers },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => resolve({ statusCode: response.statusCode ?? 0, body: text }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

describe('hostile bodies', () => {
  it.each([
    ['arrays 4,000 deep (8 KB)', '['.repeat(4_000) + ']'.repeat(4_000)],
    ['objects 2,000 deep', '{"a":'.repeat(2_000) + '1' + '}'.repeat(2_000)],
    [`arrays ${MAX_JSON_DEPTH + 1} deep`, '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1)],
    ['unclosed arrays 4,000 deep', '['.repeat(4_000)],
  ])('refuses JSON nested too deep, %s: 400 naming the body', async (_case, payload) => {
    // Act
    const response = await post(payload);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'json_too_deep', field: 'body' });
  });

  it(`reads JSON nested ${MAX_JSON_DEPTH} deep, brackets in strings aside, as JSON (then validates it)`, async () => {
    // Prepare
    const nested = '['.repeat(MAX_JSON_DEPTH - 1) + ']'.repeat(MAX_JSON_DEPTH - 1);
    const payload = `{"meterId":"[[[[{{{{","x":${nested}}`;

    // Act
    const response = await post(payload);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'invalid_request' });
  });

  it.each([
    ['charset=utf-16', 'application/json; charset=utf-16', 415, 'charset_not_supported'],
    ['charset=ISO-8859-1', 'application/json;charset=ISO-8859-1', 415, 'charset_not_supported'],
    ['an empty charset', 'application/json; charset=', 415, 'charset_not_supported'],
    ['text/plain', 'text/plain', 415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE'],
    [
      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded',
      415,
      'FST_ERR_CTP_INVALID_MEDIA_TYPE',
    ],
  ])('refuses a Content-Type with %s', async (_case, contentType, statusCode, code) => {
    // Prepare
    const before = await env.count('payments');

    // Act
    const response = await post(JSON.stringify(VALID), { 'content-type': contentType });

    // Assess
    expect(response.statusCode).toBe(statusCode);
    expect(response.json()).toMatchObject({ code });
    expect(await env.count('payments')).toBe(before);
  });

  it.each([['application/json; charset=utf-8'], ['application/json; charset="UTF-8"'], ['application/json']])(
    'takes %s',
    async (contentType) => {
      // Act
      const response = await post(JSON.stringify(VALID), { 'content-type': contentType });

      // Assess
      expect(response.statusCode).toBe(202);
    },
  );

  it.each([['gzip'], ['deflate'], ['br'], ['gzip, identity']])(
    'refuses Content-Encoding %s on a plain body: 415',
    async (encoding) => {
      // Act
      const response = await post(JSON.stringify(VALID), { 'content-encoding': encoding });

      // Assess
      expect(response.statusCode).toBe(415);
      expect(response.json()).toMatchObject({
        code: 'content_encoding_not_supported',
        field: 'Content-Encoding',
      });
    },
  );

  it('takes Content-Encoding identity', async () => {
    // Act
    const response = await post(JSON.stringify(VALID), { 'content-encoding': 'identity' });

    // Assess
    expect(response.statusCode).toBe(202);
  });

  it('refuses a body that starts with a byte-order mark: 400', async () => {
    // Prepare
    const payload = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(VALID))]);

    // Act
    const response = await post(payload);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'byte_order_mark_refused', field: 'body' });
  });

  it('refuses invalid JSON without quoting it', async () => {
    // Act
    const response = await post('{"paymentToken": 40000566 oops');

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.body).not.toContain('oops');
    expect(response.body).not.toContain('40000566');
  });
});

describe('a repeated Idempotency-Key', () => {
  it.each([
    ['twice, same case', ['Idempotency-Key', 'key-a', 'Idempotency-Key', 'key-b']],
    ['twice, different case', ['Idempotency-Key', 'key-c', 'idempotency-key', 'key-d']],
    ['twice, same value', ['idempotency-key', 'key-e', 'IDEMPOTENCY-KEY', 'key-e']],
  ])('is refused, %s: 400 naming it, nothing stored', async (_case, keyHeaders) => {
    // Prepare
    const app = await env.buildAppOnIt();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const before = await Promise.all([env.count('payments'), env.count('idempotency_records')]);

    // Act
    const response = await postOverHttp(
      app,
      ['Content-Type', 'application/json', ...keyHeaders],
      JSON.stringify(VALID),
    );

    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({
      code: 'idempotency_key_repeated',
      field: 'Idempotency-Key',
    });
    expect(await Promise.all([env.count('payments'), env.count('idempotency_records')])).toEqual(before);
  });

  it('is not confused with one key sent once over HTTP', async () => {
    // Prepare
    const app = await env.buildAppOnIt();
    await app.listen({ port: 0, host: '127.0.0.1' });

    // Act
    const response = await postOverHttp(
      app,
      ['Content-Type', 'application/json', 'Idempotency-Key', 'key-once'],
      JSON.stringify(VALID),
    );

    // Assess
    expect(response.statusCode).toBe(202);
  });
});

describe('wrong methods and unknown paths', () => {
  it.each([
    ['DELETE', '/api/payments', 'POST'],
    ['GET', '/api/payments', 'POST'],
    ['PUT', '/api/payments', 'POST'],
    ['POST', '/api/payments/pay_x', 'GET, HEAD'],
    ['DELETE', '/api/payments/pay_x', 'GET, HEAD'],
    ['POST', '/api/payments/pay_x/events', 'GET, HEAD'],
    ['DELETE', '/health', 'GET, HEAD'],
  ])('answers %s %s with 405, Allow: %s', async (method, url, allow) => {
    // Act
    const response = await env.app.inject({ method: method as 'GET', url });

    // Assess
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe(allow);
    expect(response.json()).toEqual({
      statusCode: 405,
      error: 'Method Not Allowed',
      code: 'method_not_allowed',
      message: `This path is served with ${allow} only`,
    });
  });

  it('answers a wrong method before reading the body', async () => {
    // Act
    const response = await env.app.inject({
      method: 'POST',
      url: '/api/payments/pay_x',
      headers: { 'content-type': 'application/json' },
      payload: '{not json',
    });

    // Assess
    expect(response.statusCode).toBe(405);
  });

  it.each([
    ['GET', '/api/nothing-here?token=secret-token'],
    ['DELETE', '/nothing-here'],
    ['POST', '/api/payments/pay_x/elsewhere'],
  ])('answers %s %s with 404, quoting nothing of the URL', async (method, url) => {
    // Act
    const response = await env.app.inject({ method: method as 'GET', url });

    // Assess
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ statusCode: 404, error: 'Not Found', code: 'route_not_found' });
    expect(response.body).not.toMatch(/nothing-here|secret-token|elsewhere/);
  });

  it('refuses a URL the router cannot read without quoting it', async () => {
    // Act
    const response = await env.app.inject({ method: 'GET', url: '/api/payments/%E0%A4%A' });

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'invalid_url', field: 'path' });
    expect(response.body).not.toContain('%E0');
  });

  it('answers an over-long path parameter with a 404 that does not quote it', async () => {
    // Act
    const response = await env.app.inject({ method: 'GET', url: `/api/payments/pay_${'x'.repeat(200)}` });

    // Assess
    expect(response.statusCode).toBe(404);
    expect(response.body).not.toContain('xxxx');
  });
});

describe('malformed input, generated', () => {
  it('never answers 5xx to a few hundred malformed requests from a fixed seed', async () => {
    // Prepare
    const random = seededRandom(20261124);
    const pick = <T>(choices: readonly T[]): T => choices[Math.floor(random() * choices.length)]!;
    const text = (length: number) =>
      Array.from({ length }, () => String.fromCharCode(32 + Math.floor(random() * 95))).join('');
    const bodies = [
      () => JSON.stringify(VALID).slice(0, Math.floor(random() * 60)),
      () => text(Math.floor(random() * 200)),
      () => Buffer.from(Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256))),
      () => {
        const depth = Math.floor(random() * 6_000);
        return '['.repeat(depth) + ']'.repeat(random() < 0.8 ? depth : Math.floor(random() * depth));
      },
      () => '{"a":'.repeat(Math.floor(random() * 40)) + '1' + '}'.repeat(Math.floor(random() * 40)),
      () => JSON.stringify({ ...VALID, [text(5)]: text(20) }),
      () =>
        JSON.stringify(VALID).replace(
          '2000',
          pick(['1e400', '-1', '0.5', '"2000"', 'null', '[]', '{}', '9007199254740993', '-0', '1E2']),
        ),
      () =>
        JSON.stringify({
          ...VALID,
          meterId: pick(['', '1'.repeat(300), '\u0000', '１６００１２３４５６７８５']),
        }),
      () => JSON.stringify(pick([null, true, 1, 'x', [], [VALID]])),
      () => '{"__proto__":{"polluted":true},"constructor":{"prototype":{}}}',
      () => `\uFEFF${JSON.stringify(VALID)}`,
      () => JSON.stringify(VALID).replace(/"/g, pick(["'", '', '\\"'])),
    ];
    const contentTypes = [
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=utf-16le',
      'application/json; charset',
      'application/json;;;',
      'application/jsonx',
      'text/plain',
      'multipart/form-data; boundary=x',
      '',
      ';',
    ];
    const urls = [
      '/api/payments',
      '/api/payments/',
      '/api/payments/pay_x',
      '/api/payments/pay_x/events?after=-1',
      '/api/payments/pay_x/events?after=1e400&after=2',
      '/api/payments/%',
      '/api/payments/%00',
      '/api/payments?x=%E0%A4',
      '//api//payments',
      '/docs/json',
      '/health?',
    ];
    const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'] as const;
    // Half of them where a body is read and stored, the rest anywhere.
    const requests = Array.from({ length: 300 }, () => ({
      ...(random() < 0.5
        ? { method: 'POST' as const, url: '/api/payments' }
        : { method: pick(methods), url: pick(urls) }),
      headers: {
        'content-type': random() < 0.5 ? 'application/json' : pick(contentTypes),
        ...(random() < 0.8 ? { 'idempotency-key': text(Math.floor(random() * 300)) } : {}),
        ...(random() < 0.2 ? { 'content-encoding': pick(['gzip', 'identity', 'x', '']) } : {}),
        ...(random() < 0.3 ? { authorization: `Bearer ${text(40)}` } : {}),
      },
      payload: pick(bodies)(),
    }));

    // Act
    const answers = [];
    for (const request of requests) answers.push(await env.app.inject(request));

    // Assess
    const failed = answers.flatMap((answer, index) =>
      answer.statusCode >= 500 ? [{ request: requests[index], statusCode: answer.statusCode }] : [],
    );
    expect(failed).toEqual([]);
    expect(new Set(answers.map((answer) => answer.statusCode)).size).toBeGreaterThan(4);
  });
});

/** mulberry32: the same numbers for the same seed, so a failure can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
