/**
 * Hostile request lines and headers: headers past Node's 16 KiB, sent twice, and methods and paths no route
 * serves. Each says what the contract (DESIGN.md), the front-end's guards or Node's own parser answer.
 */
import type { CaseDraft, RequestKit } from './fuzz-case.ts';
import { VALID_JSON } from './json-text.ts';
import type { HeaderValue } from './raw-http.ts';

/** find-my-way's default `maxParamLength`. */
const MAX_PARAMETER_LENGTH = 100;

/** Headers past Node's 16 KiB, keys past 255 characters, long tokens, ids and cookies. */
export function oversizedHeaders(kit: RequestKit): CaseDraft {
  const { random } = kit;
  const variants: Array<() => CaseDraft> = [
    () => {
      const size = random.int(16_500, 65_536);
      return {
        type: 'http',
        variant: `a header of ${size} bytes`,
        request: kit.post(VALID_JSON, { headers: [['X-Padding', 'a'.repeat(size)]] }),
        expect: { statuses: [431] },
      };
    },
    () => {
      const count = random.int(1_100, 4_000);
      const headers = Array.from({ length: count }, (_, i) => [`X-Fz-${i}`, random.letters(10)] as const);
      return {
        type: 'http',
        variant: `${count} headers`,
        request: kit.post(VALID_JSON, { headers }),
        expect: { statuses: [431] },
      };
    },
    () => {
      const size = random.int(16_500, 40_000);
      return {
        type: 'http',
        variant: `a URL of ${size} characters`,
        request: kit.getPayment(`pay_${'a'.repeat(size)}`, undefined),
        expect: { statuses: [431] },
      };
    },
    () => {
      const size = random.int(256, 8_000);
      return {
        type: 'http',
        variant: `an Idempotency-Key of ${size} characters`,
        request: kit.post(VALID_JSON, { headers: [['Idempotency-Key', random.letters(size)]] }),
        expect: { statuses: [400], field: 'Idempotency-Key' },
      };
    },
    () => {
      const size = random.int(1_000, 12_000);
      const payment = kit.payment();
      return {
        type: 'http',
        variant: `an Authorization of ${size} characters`,
        request: kit.getPayment(payment.paymentId, `Bearer ${random.letters(size)}`),
        expect: { asUnknown: 'http' },
      };
    },
    () => {
      // The router matches no parameter over 100 characters: such an id is not a payment's, and a 404 says so.
      const routed = random.chance(0.3);
      const size = routed
        ? random.int(77, MAX_PARAMETER_LENGTH - 4)
        : random.int(MAX_PARAMETER_LENGTH - 3, 8_000);
      return {
        type: 'http',
        variant: `a payment id of ${size + 4} characters`,
        request: kit.getPayment(`pay_${random.letters(size)}`, `Bearer ${kit.payment().statusToken}`),
        expect: routed ? { asUnknown: 'http' } : { statuses: [404] },
      };
    },
    () => {
      const size = random.int(4_000, 14_000);
      return {
        type: 'http',
        variant: `a cookie of ${size} bytes`,
        request: kit.getPayment(kit.unknownPaymentId(), undefined, [
          ['Cookie', `session=${random.letters(size)}`],
        ]),
        expect: { asUnknown: 'http' },
      };
    },
  ];
  return random.pick(variants)();
}

/** Headers sent twice: the Idempotency-Key (refused, by contract), lengths, types, encodings, credentials. */
export function duplicateHeaders(kit: RequestKit): CaseDraft {
  const { random } = kit;
  const variants: Array<() => CaseDraft> = [
    () => {
      const first = kit.key();
      const second = random.chance(0.5) ? first : kit.key();
      const name = random.pick(['Idempotency-Key', 'idempotency-key', 'IDEMPOTENCY-KEY']);
      return {
        type: 'http',
        variant: `Idempotency-Key twice${first === second ? ', same value' : ''}`,
        request: kit.post(VALID_JSON, {
          omit: ['idempotency-key'],
          headers: [
            ['Idempotency-Key', first],
            [name, second],
          ],
        }),
        expect: { statuses: [400], code: 'idempotency_key_repeated', field: 'Idempotency-Key' },
      };
    },
    () => {
      const length = String(Buffer.byteLength(VALID_JSON));
      const other = random.pick([length, String(Number(length) - 1), '0']);
      return {
        type: 'http',
        variant: 'Content-Length twice',
        request: kit.post(VALID_JSON, {
          headers: [
            ['Content-Length', length],
            ['Content-Length', other],
          ],
        }),
        expect: { statuses: [400] },
      };
    },
    () => {
      const request = kit.post(undefined, {
        headers: [
          ['Content-Length', String(VALID_JSON.length)],
          ['Transfer-Encoding', 'chunked'],
        ],
      });
      return {
        type: 'http',
        variant: 'Content-Length and Transfer-Encoding',
        request: { ...request, chunks: [Buffer.from(VALID_JSON)] },
        expect: { statuses: [400] },
      };
    },
    () => {
      const [first, second] = random.pick([
        ['text/plain', 'application/json'],
        ['application/json; charset=utf-16', 'application/json'],
      ] as const);
      return {
        type: 'http',
        variant: `Content-Type twice (${first} first)`,
        request: kit.post(VALID_JSON, {
          headers: [
            ['Content-Type', first],
            ['Content-Type', second],
          ],
        }),
        expect: { statuses: [415] },
      };
    },
    () => {
      const pair = random.pick([
        ['identity', 'gzip'],
        ['gzip', 'identity'],
      ] as const);
      return {
        type: 'http',
        variant: `Content-Encoding twice (${pair.join(', ')})`,
        request: kit.post(VALID_JSON, { headers: pair.map((value) => ['Content-Encoding', value] as const) }),
        expect: { statuses: [415], code: 'content_encoding_not_supported', field: 'Content-Encoding' },
      };
    },
    () => {
      // Node keeps the first Authorization: a wrong one first, the right one second, is a wrong token.
      const payment = kit.payment();
      const forged = kit.forgedToken();
      const wrong = random.chance(0.5) ? forged : kit.payment(payment).statusToken;
      return {
        type: 'http',
        variant: 'Authorization twice, the wrong token first',
        request: kit.getPayment(payment.paymentId, `Bearer ${wrong}`, [
          ['Authorization', `Bearer ${payment.statusToken}`],
        ]),
        expect: { asUnknown: 'http' },
        forgedTokens: wrong === forged ? [forged] : [],
      };
    },
    () => {
      const name = random.pick(['Cookie', 'Accept', 'X-Forwarded-For', 'X-Request-Id', 'Accept-Language']);
      const values: HeaderValue[] = [random.letters(8), random.letters(8)];
      return {
        type: 'http',
        variant: `${name} twice`,
        request: kit.getPayment(
          kit.unknownPaymentId(),
          undefined,
          values.map((value) => [name, value] as const),
        ),
        expect: { asUnknown: 'http' },
      };
    },
  ];
  return random.pick(variants)();
}

/** The methods Fastify routes (its `supportedMethods`): the ones a path that lacks them answers with 405. */
const FRAMEWORK_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'TRACE',
  'QUERY',
] as const;

/** Methods a path does not serve (405 with Allow), methods nobody serves, and paths that are not there. */
export function wrongMethods(kit: RequestKit): CaseDraft {
  const { random } = kit;
  const variants: Array<() => CaseDraft> = [
    () => {
      const path = random.pick([
        { target: '/api/payments', allow: ['POST'] },
        { target: `/api/payments/${kit.unknownPaymentId()}`, allow: ['GET', 'HEAD'] },
        { target: `/api/payments/${kit.unknownPaymentId()}/events`, allow: ['GET', 'HEAD'] },
        { target: '/health', allow: ['GET', 'HEAD'] },
      ]);
      const method = random.pick(FRAMEWORK_METHODS.filter((each) => !path.allow.includes(each)));
      const withBody = random.chance(0.3);
      return {
        type: 'http',
        variant: `${method} ${path.target.replace(/pay_[0-9a-f]+/, '{paymentId}')}`,
        request: withBody
          ? kit.post('{not json', { method, target: path.target })
          : { method, target: path.target, headers: [] },
        expect: {
          statuses: [405],
          allowHeader: true,
          ...(method === 'HEAD' ? {} : { code: 'method_not_allowed' }),
        },
      };
    },
    () => {
      const method = random.pick([
        'PROPFIND',
        'PROPPATCH',
        'MKCOL',
        'COPY',
        'MOVE',
        'LOCK',
        'UNLOCK',
        'SEARCH',
        'REPORT',
        'MKCALENDAR',
        'PURGE',
        'LINK',
        'UNLINK',
        'BIND',
        'ACL',
        'SUBSCRIBE',
        'NOTIFY',
        'MERGE',
        'M-SEARCH',
        'CHECKOUT',
        'SOURCE',
      ]);
      return {
        type: 'http',
        variant: `${method}, a method Node parses and no route serves`,
        request: { method, target: '/api/payments', headers: [] },
        expect: {},
      };
    },
    () => {
      const method = random.pick(['FOO', 'get', 'GETS', 'G E T', 'POST\tX', '', 'ÄÖÜ']);
      return {
        type: 'http',
        variant: `method ${JSON.stringify(method)}`,
        request: { method, target: '/api/payments', headers: [] },
        expect: {},
      };
    },
    () => ({
      type: 'http',
      variant: 'CONNECT',
      request: { method: 'CONNECT', target: '127.0.0.1:80', headers: [] },
      expect: { mayClose: true },
    }),
    () => {
      const target = random.pick([
        '/api/nothing',
        '/api/payments/x/y/z',
        '/admin',
        '/api',
        '//api//payments',
        '/api/payments/pay_x/events/more',
        '/docs/../health',
      ]);
      const method = random.pick(['GET', 'POST', 'DELETE']);
      return {
        type: 'http',
        variant: `${method} ${target}`,
        request: { method, target, headers: [] },
        expect: { statuses: [400, 403, 404, 405] },
      };
    },
  ];
  return random.pick(variants)();
}
