/**
 * Hostile values wherever a request can carry them: card numbers (refused everywhere, by contract, in any
 * formatting), injection strings (SQL, script, template, path traversal, CRLF, log forging) and prototype keys.
 */
import { formatCardNumber, luhnValidNumber, TOKEN_SEPARATORS } from './card-numbers.ts';
import { type CaseDraft, headerFieldName, type RequestKit } from './fuzz-case.ts';
import { escapedJson, membersText, objectText, VALID_JSON, validMembers } from './json-text.ts';

/** Strings that have broken parsers, queries, templates, file paths and logs elsewhere. */
export const INJECTIONS = [
  "' OR '1'='1",
  "'; DROP TABLE payments; --",
  '" OR ""="',
  '1; SELECT pg_sleep(5) --',
  "' UNION SELECT status_token_hash FROM payments --",
  '$1',
  ':paymentId',
  "\\'; --",
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  '{{7*7}}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template injection, meant as plain text
  '${7*7}',
  '#{7*7}',
  '<%= 7*7 %>',
  '../../../../etc/passwd',
  '..%2f..%2f..%2fetc%2fpasswd',
  '....//....//etc/passwd',
  '..\\..\\..\\windows\\win.ini',
  '/etc/passwd%00.json',
  '\r\nSet-Cookie: fz=1',
  '%0d%0aSet-Cookie:%20fz=1',
  'line\nbreak',
  '\u0000',
  '\u2028\u2029',
  '%s%s%s%n',
  '\n{"level":60,"msg":"forged log line"}',
  '\u202eevil',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a JNDI lookup injection, meant as plain text
  '${jndi:ldap://127.0.0.1/a}',
] as const;

/** Injections that are words, not numbers or whitespace, wherever a number is read. */
const NOT_NUMBERS = INJECTIONS.filter((text) => Number.isNaN(Number(text)));

/** Paths outside the API that have led to files elsewhere. */
const TRAVERSALS = [
  '/../../../../etc/passwd',
  '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
  '/..%2f..%2f..%2fetc%2fpasswd',
  '/static/../../package.json',
  '/%2e%2e%2f%2e%2e%2fpackage.json',
  '/..;/..;/etc/passwd',
  '/api/payments/../../../etc/passwd',
  '/.env',
  '/..%5c..%5cpackage.json',
] as const;

/** What a header value looks like to Node: its bytes read as latin1, spaces and tabs at either end dropped. */
function asNodeReadsIt(value: string): string {
  return Buffer.from(value, 'utf8')
    .toString('latin1')
    .replace(/^[ \t]+|[ \t]+$/g, '');
}

/** Whether `text` holds a control character other than a tab: Node refuses those in a header. */
function hasControlCharacter(text: string): boolean {
  for (const character of text) {
    const code = character.charCodeAt(0);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}

/** Card numbers in every body field and field name, in headers and header names, in the path and the query. */
export function cardNumbers(kit: RequestKit): CaseDraft {
  const { random } = kit;
  const digits = luhnValidNumber(random);
  const refused = (field: string) => ({ statuses: [400], code: 'card_data_refused', field }) as const;
  const anyForm = () => formatCardNumber(random, digits);
  const asciiForm = (separators: readonly string[] = TOKEN_SEPARATORS) =>
    formatCardNumber(random, digits, { scripts: ['ascii'], separators });
  const members = validMembers();
  const inBody = (field: string, body: string, form: string, variant = `in ${field}`): CaseDraft => ({
    type: 'http',
    variant: `${variant} (${describeForm(form)})`,
    request: kit.post(body),
    expect: refused(field),
    cards: [digits],
  });
  const json = (value: unknown) => (random.chance(0.3) ? escapedJson(value) : JSON.stringify(value));
  const name = () => random.pick(['note', 'memo', 'reference', 'comment', `x_${random.letters(4)}`]);
  const variants: Array<() => CaseDraft> = [
    () => {
      let form = anyForm();
      // Thirteen plain digits in meterId are an MPAN core, not a card: the guard lets those through by design.
      if (/^[0-9]{13}$/.test(form)) form = asciiForm([' ']);
      if (/^[0-9]{13}$/.test(form)) form = `${digits.slice(0, 4)} ${digits.slice(4)}`;
      return inBody('meterId', objectText(random, { ...members, meterId: json(form) }), form);
    },
    () => {
      // As a JSON number: at most 15 digits, so it reads back exactly.
      const number = luhnValidNumber(random, random.int(13, 15));
      return {
        type: 'http',
        variant: 'in amountPence, as a number',
        request: kit.post(objectText(random, { ...members, amountPence: number })),
        expect: refused('amountPence'),
        cards: [number],
      };
    },
    () => {
      const form = anyForm();
      const text = `${random.pick(['', 'card ', 'pan=', 'number: '])}${form}`;
      return inBody('paymentToken', objectText(random, { ...members, paymentToken: json(text) }), form);
    },
    () => {
      const field = name();
      const form = anyForm();
      return inBody(field, objectText(random, { ...members, [field]: json(form) }), form);
    },
    () => {
      const outer = name();
      const inner = random.pick(['inner', 'value', 'details']);
      const form = anyForm();
      return inBody(
        `${outer}.${inner}`,
        objectText(random, { ...members, [outer]: json({ [inner]: form }) }),
        form,
      );
    },
    () => {
      const field = name();
      const form = anyForm();
      return inBody(`${field}.1`, objectText(random, { ...members, [field]: json(['x', form]) }), form);
    },
    () => {
      // Named in a field name: the refusal names where it sits (the body), never the name itself.
      const form = anyForm();
      return inBody('body', objectText(random, { ...members, [form]: '"x"' }), form, 'as a field name');
    },
    () => {
      const field = random.pick([
        'cvv',
        'CVC',
        'card_number',
        'cardNumber',
        'PAN',
        'cvv2',
        'security-code',
        'Card Number',
        'csc',
      ]);
      return {
        type: 'http',
        variant: `a field named ${field}`,
        request: kit.post(
          objectText(random, { ...members, [field]: random.pick(['"123"', '"x"', '""', '737']) }),
        ),
        expect: refused(field),
      };
    },
    () => {
      const form = anyForm();
      return {
        type: 'http',
        variant: `in the Idempotency-Key (${describeForm(form)})`,
        request: kit.post(VALID_JSON, { headers: [['Idempotency-Key', form]] }),
        expect: refused('Idempotency-Key'),
        cards: [digits],
      };
    },
    () => {
      const header = random.pick([
        'X-Customer-Note',
        'User-Agent',
        'Referer',
        'X-Forwarded-For',
        'Cookie',
        'X-Request-Id',
        'From',
        'Accept-Language',
      ]);
      const form = anyForm();
      return {
        type: 'http',
        variant: `in ${header} (${describeForm(form)})`,
        request: kit.post(VALID_JSON, {
          headers: [[header, `${random.pick(['', 'card=', 'note '])}${form}`]],
        }),
        expect: refused(headerFieldName(header)),
        cards: [digits],
      };
    },
    () => ({
      type: 'http',
      variant: 'in a header name',
      request: kit.post(VALID_JSON, { headers: [[`X-${asciiForm()}`, 'x']] }),
      expect: refused('headers'),
      cards: [digits],
    }),
    () => {
      const form = anyForm();
      return {
        type: 'http',
        variant: `in the Authorization (${describeForm(form)})`,
        request: kit.getPayment(kit.payment().paymentId, `Bearer ${form}`),
        expect: refused('Authorization'),
        cards: [digits],
      };
    },
    () => {
      const form = anyForm();
      const encoded = random.chance(0.2) ? percentEncodeAll(form) : encodeURIComponent(form);
      const method = random.pick(['GET', 'GET', 'DELETE', 'POST', 'PUT']);
      const target = random.pick([
        `/api/payments/${encoded}`,
        `/${encoded}`,
        `/api/payments/${encoded}/events`,
        `/api/payments/${encoded.replaceAll('%20', '/')}`,
      ]);
      return {
        type: 'http',
        variant: `in the path (${describeForm(form)})`,
        request: { method, target, headers: [['Authorization', 'Bearer x'] as const] },
        expect: refused('path'),
        cards: [digits],
      };
    },
    () => {
      const form = anyForm();
      let encoded = encodeURIComponent(form);
      if (random.chance(0.3)) encoded = encoded.replaceAll('%20', '+');
      const query = random.pick([
        `card=${encoded}`,
        `note=${encoded}`,
        `token=${encoded}`,
        encoded,
        `after=1&q=${encoded}`,
      ]);
      const post = random.chance(0.3);
      return {
        type: 'http',
        variant: `in the query (${describeForm(form)})`,
        request: post
          ? kit.post(VALID_JSON, { target: `/api/payments?${query}` })
          : { method: 'GET', target: `/api/payments/${kit.unknownPaymentId()}?${query}`, headers: [] },
        expect: refused('query'),
        cards: [digits],
      };
    },
    () => {
      const payment = kit.payment();
      const form = anyForm();
      return {
        type: 'http',
        variant: `in the events socket's query (${describeForm(form)})`,
        request: kit.upgrade(
          kit.eventsTarget(payment.paymentId, payment.statusToken, `note=${encodeURIComponent(form)}`),
        ),
        expect: refused('query'),
        cards: [digits],
      };
    },
    () => {
      const payment = kit.payment();
      return {
        type: 'http',
        variant: 'in the events socket’s Sec-WebSocket-Protocol',
        request: kit.upgrade(kit.eventsTarget(payment.paymentId, payment.statusToken), {
          headers: [['Sec-WebSocket-Protocol', asciiForm()]],
        }),
        expect: refused('Sec-Websocket-Protocol'),
        cards: [digits],
      };
    },
  ];
  return random.pick(variants)();
}

/** How a card number is written, in a few words: `Unicode digits, U+00A0 separators`. */
function describeForm(form: string): string {
  const digits = /(?![0-9])\p{Nd}/u.test(form) ? 'Unicode digits' : 'ASCII digits';
  const separator = form.match(/[^\p{Nd}]/u)?.[0];
  if (separator === undefined) return `${digits}, no separator`;
  const code = separator.codePointAt(0) ?? 0;
  const shown =
    code > 0x20 && code < 0x7f ? `'${separator}'` : `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `${digits}, ${shown} separators`;
}

function percentEncodeAll(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)
    .join('');
}

/** SQL, script, template, path traversal, CRLF and log-forging strings in every place a request has. */
export function injections(kit: RequestKit): CaseDraft {
  const { random } = kit;
  const injection = random.pick(INJECTIONS);
  const noEcho = injection.trim().length >= 4 ? [injection] : [];
  const members = validMembers();
  const variants: Array<() => CaseDraft> = [
    () => ({
      // A paymentToken is the gateway's business: any string of 1 to 255 characters is a top-up to try.
      type: 'http',
      variant: 'in paymentToken',
      request: kit.post(objectText(random, { ...members, paymentToken: JSON.stringify(`tok_${injection}`) })),
      expect: { statuses: [202], noEcho },
    }),
    () => ({
      type: 'http',
      variant: 'in meterId',
      request: kit.post(objectText(random, { ...members, meterId: JSON.stringify(injection) })),
      expect: { statuses: [400], field: 'meterId', noEcho },
    }),
    () => ({
      type: 'http',
      variant: 'as a field name',
      request: kit.post(objectText(random, { ...members, [injection]: '1' })),
      expect: { statuses: [400], field: 'body', noEcho },
    }),
    () => {
      const header = random.pick([
        'Idempotency-Key',
        'User-Agent',
        'Referer',
        'X-Forwarded-For',
        'Cookie',
        'X-Request-Id',
      ]);
      const value = `${header === 'Idempotency-Key' ? kit.key() : 'fz'}${injection}`;
      const asRead = asNodeReadsIt(value);
      // A line break ends the header: Node refuses what follows unless it reads as a header of its own
      // (`\r\nSet-Cookie: fz=1`), and then the request is as valid as before.
      const expect = hasControlCharacter(asRead)
        ? { statuses: [202, 400], noEcho }
        : header === 'Idempotency-Key' && (asRead.length === 0 || asRead.length > 255)
          ? { statuses: [400], field: 'Idempotency-Key', noEcho }
          : { statuses: [202], noEcho };
      return {
        type: 'http',
        variant: `in ${header}`,
        request: kit.post(VALID_JSON, { headers: [[header, value]] }),
        expect,
      };
    },
    () => ({
      type: 'http',
      variant: 'in the payment id',
      request: kit.getPayment(encodeURIComponent(injection), `Bearer ${kit.payment().statusToken}`),
      expect: { asUnknown: 'http', noEcho },
    }),
    () => ({
      type: 'http',
      variant: 'in the query',
      request: {
        method: 'GET',
        target: `/api/payments/${kit.unknownPaymentId()}?q=${encodeURIComponent(injection)}`,
        headers: [],
      },
      expect: { asUnknown: 'http', noEcho },
    }),
    () => {
      const payment = kit.payment();
      const word = random.pick(NOT_NUMBERS);
      return {
        type: 'http',
        variant: 'as the events socket’s after',
        request: kit.upgrade(
          kit.eventsTarget(payment.paymentId, payment.statusToken, `after=${encodeURIComponent(word)}`),
        ),
        expect: { statuses: [400], field: 'after', noEcho: word.trim().length >= 4 ? [word] : [] },
      };
    },
    () => {
      const target = random.pick(TRAVERSALS);
      return {
        type: 'http',
        variant: `path traversal ${target}`,
        request: { method: 'GET', target, headers: [] },
        expect: {},
      };
    },
  ];
  return random.pick(variants)();
}

/** `__proto__`, `constructor` and `prototype` in the body, the query and header names. */
export function prototypeKeys(kit: RequestKit): CaseDraft {
  const { random } = kit;
  const members = validMembers();
  const poison = '{"polluted":"yes"}';
  const bodies = [
    () => objectText(random, members, [['__proto__', poison]]),
    () => objectText(random, { ...members, constructor: `{"prototype":${poison}}` }),
    () => objectText(random, { ...members, extra: `{"__proto__":${poison}}` }),
    () => objectText(random, { ...members, meterId: `{"__proto__":${poison}}` }),
    // The name escaped, as a parser that only looks for the plain word would miss it.
    () => `{"\\u005f_proto__":${poison},${membersText(Object.entries(members))}}`,
    () => objectText(random, { ...members, constructor: '"x"' }),
    () => objectText(random, { ...members, prototype: poison }),
    () => objectText(random, members, [['__proto__', 'null']]),
    () => `[{"__proto__":${poison}}]`,
  ];
  const variants: Array<() => CaseDraft> = [
    () => ({
      type: 'http',
      variant: 'in the body',
      request: kit.post(random.pick(bodies)()),
      expect: { statuses: [400], field: 'body', fieldMayBeAbsent: true },
    }),
    () => {
      const query = random.pick([
        '__proto__[polluted]=yes',
        'constructor[prototype][polluted]=yes',
        '__proto__.polluted=yes',
        '__proto__=x&__proto__=y',
        'constructor=x',
      ]);
      return {
        type: 'http',
        variant: `in the query: ${query}`,
        request: { method: 'GET', target: `/api/payments/${kit.unknownPaymentId()}?${query}`, headers: [] },
        expect: { asUnknown: 'http' },
      };
    },
    () => ({
      type: 'http',
      variant: 'in the events socket’s query',
      request: kit.upgrade(
        kit.eventsTarget(
          kit.unknownPaymentId(),
          kit.forgedToken(),
          '__proto__[polluted]=yes&constructor[prototype][x]=1',
        ),
      ),
      expect: { asUnknown: 'socket' },
    }),
    () => ({
      type: 'http',
      variant: 'as header names',
      request: kit.getPayment(kit.unknownPaymentId(), undefined, [
        ['__proto__', 'polluted'],
        ['constructor', 'x'],
        ['prototype', 'y'],
      ]),
      expect: { asUnknown: 'http' },
    }),
  ];
  return random.pick(variants)();
}
