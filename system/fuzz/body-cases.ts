/**
 * Hostile request bodies: JSON that does not parse, that nests past the guard's limit, that has the wrong
 * types or fields, that comes in another charset, encoding or media type, or that is too large. Each says what
 * DESIGN.md's contract and the front-end's body guards (request-guards/json-body.ts) promise: a refusal, with
 * its status, code and field where they are named, or the documented 202 when the request is in fact valid.
 */
import { gzipSync } from 'node:zlib';
import { type CaseDraft, FUZZ_METER_ID, type RequestKit } from './fuzz-case.ts';
import { objectText, VALID_JSON, validMembers } from './json-text.ts';
import type { SeededRandom } from './seeded-random.ts';

/** The front-end's body limit (BODY_LIMIT_BYTES, frontend-api/app.ts). */
export const BODY_LIMIT_BYTES = 16 * 1024;

function printable(random: SeededRandom, length: number): string {
  return String.fromCharCode(...Array.from({ length }, () => random.int(32, 126)));
}

/** Unparseable bodies: Fastify's parser refuses them (400), naming no field or `body`. */
export function malformedJson(kit: RequestKit): CaseDraft {
  const { random } = kit;
  const variants: Array<[string, () => Buffer | string]> = [
    ['truncated', () => VALID_JSON.slice(0, random.int(1, VALID_JSON.length - 1))],
    ['printable garbage', () => printable(random, random.int(1, 200))],
    ['random bytes', () => random.bytes(random.int(1, 300))],
    ['empty', () => ''],
    ['whitespace only', () => ' \t\r\n'.repeat(random.int(1, 20))],
    ['single quotes', () => VALID_JSON.replaceAll('"', "'")],
    ['trailing comma', () => VALID_JSON.replace(/}$/, ',}')],
    ['comment', () => `/* top-up */${VALID_JSON}`],
    ['unquoted keys', () => VALID_JSON.replace(/"(\w+)":/g, '$1:')],
    [
      'a number JSON has not',
      () =>
        VALID_JSON.replace(
          '2000',
          random.pick([
            'NaN',
            'Infinity',
            '-Infinity',
            'undefined',
            '0x7D0',
            '02000',
            '+2000',
            '.5',
            '2000.',
          ]),
        ),
    ],
    ['two documents', () => VALID_JSON + VALID_JSON],
    ['leading garbage', () => `)]}',\n${VALID_JSON}`],
    ['unterminated string', () => VALID_JSON.replace('"tok_chargeDeclined"', '"tok_chargeDeclined')],
    ['bad escape', () => VALID_JSON.replace('tok_', 'tok\\x41_')],
    ['raw control character in a string', () => VALID_JSON.replace('tok_', 'tok\n_')],
  ];
  if (random.chance(0.1)) {
    // JSON.parse keeps the last of a repeated name: the invalid one.
    const body = VALID_JSON.replace(/}$/, `,"meterId":${random.pick(['null', '1', '"x"', '[]'])}}`);
    return {
      type: 'http',
      variant: 'repeated name, the last invalid',
      request: kit.post(body),
      expect: { statuses: [400], field: 'meterId' },
    };
  }
  const [variant, body] = random.pick(variants);
  return {
    type: 'http',
    variant,
    request: kit.post(body()),
    expect: { statuses: [400], field: 'body', fieldMayBeAbsent: true },
  };
}

/** Nesting past the guard's limit (32), and nesting within it where a string belongs. */
export function deepJson(kit: RequestKit): CaseDraft {
  const { random } = kit;
  const tooDeep = { statuses: [400], code: 'json_too_deep', field: 'body' } as const;
  const members = validMembers();
  const variants: Array<() => CaseDraft> = [
    () => {
      const depth = random.int(33, BODY_LIMIT_BYTES / 2 - 8);
      return {
        type: 'http',
        variant: `arrays ${depth} deep`,
        request: kit.post('['.repeat(depth) + ']'.repeat(depth)),
        expect: tooDeep,
      };
    },
    () => {
      const depth = random.int(33, Math.floor(BODY_LIMIT_BYTES / 6) - 8);
      return {
        type: 'http',
        variant: `objects ${depth} deep`,
        request: kit.post('{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
        expect: tooDeep,
      };
    },
    () => {
      const depth = random.int(33, BODY_LIMIT_BYTES - 8);
      return {
        type: 'http',
        variant: `unclosed arrays ${depth} deep`,
        request: kit.post('['.repeat(depth)),
        expect: tooDeep,
      };
    },
    () => {
      const pairs = random.int(17, Math.floor(BODY_LIMIT_BYTES / 8) - 8);
      return {
        type: 'http',
        variant: `arrays and objects ${pairs * 2} deep`,
        request: kit.post('[{"a":'.repeat(pairs) + '1' + '}]'.repeat(pairs)),
        expect: tooDeep,
      };
    },
    () => {
      const depth = random.int(33, 4_000);
      const body = objectText(random, { ...members, paymentToken: '['.repeat(depth) + ']'.repeat(depth) });
      return {
        type: 'http',
        variant: `paymentToken ${depth} deep`,
        request: kit.post(body),
        expect: tooDeep,
      };
    },
    () => {
      // Within the limit with the object around it: read, then refused as not a string.
      const depth = random.int(1, 31);
      const body = objectText(random, { ...members, paymentToken: '['.repeat(depth) + ']'.repeat(depth) });
      return {
        type: 'http',
        variant: `paymentToken ${depth} deep, within the limit`,
        request: kit.post(body),
        expect: { statuses: [400], code: 'invalid_request', field: 'paymentToken' },
      };
    },
    () => {
      // Brackets inside a string are text, not nesting.
      const depth = random.int(33, 8_000);
      const opener = random.pick(['[', '{', '\\"[', '{[']);
      const body = objectText(random, {
        ...members,
        meterId: `"${opener.repeat(Math.ceil(depth / opener.length))}"`,
      });
      return {
        type: 'http',
        variant: 'brackets inside a string',
        request: kit.post(body),
        expect: { statuses: [400], field: 'meterId' },
      };
    },
  ];
  return random.pick(variants)();
}

/** Wrong types, missing and extra fields, values out of range, and a missing or empty Idempotency-Key. */
export function wrongTypes(kit: RequestKit): CaseDraft {
  const { random } = kit;
  const members = validMembers();
  const wrongValues: Record<string, readonly string[]> = {
    meterId: [
      '123',
      'null',
      'true',
      '[]',
      '{}',
      '""',
      '"1600123456786"',
      '"160012345678"',
      '"16001234567850"',
      '"１６００１２３４５６７８５"',
      '" 1600123456785"',
      '"1600123456785\\n"',
      '1600123456785',
      '"160O123456785"',
    ],
    amountPence: [
      '"2000"',
      '20.5',
      '-2000',
      '0',
      '999',
      '17501',
      '1e400',
      'null',
      'true',
      '[]',
      '{}',
      '""',
      '1e21',
      '-0',
      '9007199254740993',
      '1000.0001',
    ],
    paymentToken: [
      '123',
      'null',
      '""',
      JSON.stringify('t'.repeat(random.int(256, 2_000))),
      '[]',
      '{}',
      'true',
      '["tok_visa"]',
    ],
  };
  const what = random.pick(['value', 'value', 'value', 'missing', 'extra', 'not an object', 'key'] as const);
  if (what === 'value') {
    const field = random.pick(Object.keys(wrongValues));
    const value = random.pick(wrongValues[field]!);
    return {
      type: 'http',
      variant: `${field}: ${value.length > 40 ? `${value.slice(0, 20)}…` : value}`,
      request: kit.post(objectText(random, { ...members, [field]: value })),
      // A 14-digit meterId or amount may pass the Luhn check and be refused as a card: the field is the same.
      expect: { statuses: [400], field },
    };
  }
  if (what === 'missing') {
    const field = random.pick(Object.keys(members));
    const { [field]: _, ...rest } = members;
    return {
      type: 'http',
      variant: `${field} missing`,
      request: kit.post(objectText(random, rest)),
      expect: { statuses: [400], field },
    };
  }
  if (what === 'extra') {
    // `x_` first: a name such as `pan` or `cvv` would be refused as card data, another refusal.
    const name = `x_${random.letters(random.int(1, 12))}`;
    const value = random.pick(['1', '"x"', 'null', '{}', '[]', 'true']);
    return {
      type: 'http',
      variant: 'an extra field',
      request: kit.post(objectText(random, { ...members, [name]: value })),
      expect: { statuses: [400], code: 'invalid_request', field: 'body' },
    };
  }
  if (what === 'not an object') {
    const body = random.pick(['[]', `[${VALID_JSON}]`, '"tok_visa"', '42', 'null', 'true', '-1', '"{}"']);
    return {
      type: 'http',
      variant: `body ${body.slice(0, 20)}`,
      request: kit.post(body),
      expect: { statuses: [400], field: 'body' },
    };
  }
  const key = random.pick([undefined, '', ' ', '\t'] as const);
  return {
    type: 'http',
    variant: key === undefined ? 'no Idempotency-Key' : 'an empty Idempotency-Key',
    request: kit.post(
      VALID_JSON,
      key === undefined ? { omit: ['idempotency-key'] } : { headers: [['Idempotency-Key', key]] },
    ),
    expect: { statuses: [400], field: 'Idempotency-Key' },
  };
}

/** Charsets, Content-Encodings and media types the API does not take; bytes that are not UTF-8. */
export function encodings(kit: RequestKit): CaseDraft {
  const { random } = kit;
  const members = validMembers();
  const variants: Array<() => CaseDraft> = [
    () => {
      const charset = random.pick([
        'utf-16',
        'UTF-16LE',
        'iso-8859-1',
        'latin1',
        'us-ascii',
        'utf8',
        'windows-1252',
        'utf-7',
        '',
        '"utf-32"',
      ]);
      const body = charset.toLowerCase().includes('16')
        ? Buffer.from(VALID_JSON, 'utf16le')
        : Buffer.from(VALID_JSON);
      return {
        type: 'http',
        variant: `charset=${charset}`,
        request: kit.post(body, { headers: [['Content-Type', `application/json; charset=${charset}`]] }),
        expect: { statuses: [415], code: 'charset_not_supported', field: 'Content-Type' },
      };
    },
    () => {
      const encoding = random.pick([
        'gzip',
        'deflate',
        'br',
        'compress',
        'x-gzip',
        'gzip, identity',
        'identity, gzip',
        'zstd',
        'GZIP',
        '',
      ]);
      const body = encoding.toLowerCase().includes('gzip') ? gzipSync(VALID_JSON) : Buffer.from(VALID_JSON);
      return {
        type: 'http',
        variant: `Content-Encoding: ${encoding}`,
        request: kit.post(body, { headers: [['Content-Encoding', encoding]] }),
        expect: { statuses: [415], code: 'content_encoding_not_supported', field: 'Content-Encoding' },
      };
    },
    () => {
      const mediaType = random.pick([
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/xml',
        'text/json',
        'application/*',
        '*/*',
        ';',
        'json',
      ]);
      return {
        type: 'http',
        variant: `Content-Type: ${mediaType}`,
        request: kit.post(VALID_JSON, { headers: [['Content-Type', mediaType]] }),
        expect: { statuses: [415], field: 'Content-Type', fieldMayBeAbsent: true },
      };
    },
    () => ({
      type: 'http',
      variant: 'no Content-Type',
      request: kit.post(VALID_JSON, { omit: ['content-type'] }),
      expect: { statuses: [415], field: 'Content-Type', fieldMayBeAbsent: true },
    }),
    () => ({
      type: 'http',
      variant: 'a byte-order mark',
      request: kit.post(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(VALID_JSON)])),
      expect: { statuses: [400], code: 'byte_order_mark_refused', field: 'body' },
    }),
    () => {
      const bom = random.chance(0.5) ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0);
      return {
        type: 'http',
        variant: 'a UTF-16 body labelled as plain JSON',
        request: kit.post(Buffer.concat([bom, Buffer.from(VALID_JSON, 'utf16le')])),
        expect: { statuses: [400], field: 'body', fieldMayBeAbsent: true },
      };
    },
    () => {
      const bad = random.pick([
        [0xc3, 0x28],
        [0xff],
        [0xed, 0xa0, 0x80],
        [0xc0, 0xb1],
        [0xe9],
        [0xf8, 0x88, 0x80, 0x80, 0x80],
      ]);
      const [before, after] = objectText(random, { ...members, meterId: '"@"' }).split('@');
      return {
        type: 'http',
        variant: `bytes that are not UTF-8 in meterId (${bad.map((byte) => byte.toString(16)).join(' ')})`,
        request: kit.post(
          Buffer.concat([
            Buffer.from(before!),
            Buffer.from(bad),
            Buffer.from(FUZZ_METER_ID),
            Buffer.from(after!),
          ]),
        ),
        expect: { statuses: [400], field: 'meterId' },
      };
    },
    () => ({
      type: 'http',
      variant: 'a lone surrogate in meterId',
      request: kit.post(objectText(random, { ...members, meterId: `"\\ud800${FUZZ_METER_ID}"` })),
      expect: { statuses: [400], field: 'meterId' },
    }),
    () => {
      // Odd but a string: the contract takes any paymentToken of 1 to 255 characters.
      const token = random.pick([
        '"tok_\\ud800"',
        '"tok_\\udfff\\ud800"',
        '"tok_\\u0000"',
        '"tok_\\u202e"',
        '"tok_\\uffff"',
      ]);
      return {
        type: 'http',
        variant: `paymentToken ${token}`,
        request: kit.post(objectText(random, { ...members, paymentToken: token })),
        expect: { statuses: [202, 400], field: 'paymentToken' },
      };
    },
    () => {
      const bytes = random.pick([[0xe9], [0xff, 0xfe], [0xc3, 0x28]]);
      const [before, after] = objectText(random, { ...members, paymentToken: '"tok_@"' }).split('@');
      return {
        type: 'http',
        variant: 'bytes that are not UTF-8 in paymentToken',
        request: kit.post(Buffer.concat([Buffer.from(before!), Buffer.from(bytes), Buffer.from(after!)])),
        expect: { statuses: [202, 400], field: 'paymentToken' },
      };
    },
  ];
  return random.pick(variants)();
}

/** Bodies over the 16 KiB limit, by length, chunked or only declared; lengths that are not numbers. */
export function oversizedBodies(kit: RequestKit): CaseDraft {
  const { random } = kit;
  const tooLarge = { statuses: [413], code: 'FST_ERR_CTP_BODY_TOO_LARGE' } as const;
  const padded = (size: number) => {
    const padding = ' '.repeat(Math.max(0, size - VALID_JSON.length));
    return Buffer.from(VALID_JSON.replace('{', `{${padding}`));
  };
  const variants: Array<() => CaseDraft> = [
    () => {
      const size = random.int(BODY_LIMIT_BYTES + 1, 256 * 1024);
      return { type: 'http', variant: `${size} bytes`, request: kit.post(padded(size)), expect: tooLarge };
    },
    () => {
      const size = random.int(BODY_LIMIT_BYTES + 1, 256 * 1024);
      const body = padded(size);
      const chunks: Buffer[] = [];
      for (let at = 0; at < body.length; ) {
        const length = random.int(1, 8_192);
        chunks.push(body.subarray(at, at + length));
        at += length;
      }
      const request = kit.post(undefined);
      return {
        type: 'http',
        variant: `${size} bytes chunked`,
        request: { ...request, chunks },
        expect: tooLarge,
      };
    },
    () => {
      const declared = random.pick([String(BODY_LIMIT_BYTES + 1), '1048576', '99999999999']);
      return {
        type: 'http',
        variant: `Content-Length: ${declared}, a small body`,
        request: kit.post(VALID_JSON, { headers: [['Content-Length', declared]] }),
        expect: tooLarge,
      };
    },
    () => {
      const declared = random.pick(['-1', 'abc', '1e3', '0x10', '12 34', '+70', '9007199254740993999']);
      return {
        type: 'http',
        variant: `Content-Length: ${declared}`,
        request: kit.post(VALID_JSON, { headers: [['Content-Length', declared]] }),
        expect: { statuses: [400, 413] },
      };
    },
  ];
  return random.pick(variants)();
}
