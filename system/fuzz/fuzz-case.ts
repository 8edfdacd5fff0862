/**
 * One request of the fuzzer (a fuzz case): what it sends, and what the front-end's contract says the answer
 * must be. Cases are plain data made by the generators from the seed, so a failing one can be made again
 * from its seed and number alone.
 */
import type { HeaderValue, RawRequest } from './raw-http.ts';
import type { SeededRandom } from './seeded-random.ts';

/** The kinds of hostile input, each with a share of the requests (`KIND_WEIGHTS`, case-generator.ts). */
export const FUZZ_KINDS = [
  'malformed-json',
  'deep-json',
  'wrong-types',
  'encoding',
  'oversized-body',
  'oversized-headers',
  'card-number',
  'injection',
  'prototype-keys',
  'duplicate-headers',
  'wrong-method',
  'ws-handshake',
  'ws-origin',
  'ws-messages',
  'cross-payment',
  'valid-control',
] as const;
export type FuzzKind = (typeof FUZZ_KINDS)[number];

/** A payment made for real before the fuzzing starts, so probes have real ids and tokens to misuse. */
export interface RealPayment {
  /** `payment A`, `payment B`, ... */
  readonly label: string;
  readonly paymentId: string;
  readonly statusToken: string;
  readonly meterId: string;
}

/** What the generators need to know of the system under fuzz. */
export interface ProbeTargets {
  /** The Host header: `127.0.0.1:<port>`. */
  readonly host: string;
  /** An Origin the events socket allows. */
  readonly allowedOrigin: string;
  /** At least two. */
  readonly payments: readonly RealPayment[];
}

/** What the answer must be. Unset fields ask nothing. */
export interface Expectation {
  /** The statuses the contract allows; any 4xx when unset. */
  readonly statuses?: readonly number[];
  /** The error body's `code`, when the status is a refusal. */
  readonly code?: string;
  /** The field a refusal names. */
  readonly field?: string;
  /** A refusal may name no field (Fastify's own refusals name none); if it names one, it is `field`. */
  readonly fieldMayBeAbsent?: boolean;
  /** Answered exactly as the reference request for an unknown payment is: same status and body. */
  readonly asUnknown?: 'http' | 'socket';
  /** Node may hang up without an answer (it does on CONNECT). */
  readonly mayClose?: boolean;
  /** The answer must be the `before` request's 202 again, marked as a replay. */
  readonly replaysBefore?: boolean;
  /** The real payment (label) whose data this answer may show: a control's own. */
  readonly ownPayment?: string;
  /** A 405 must say what is allowed. */
  readonly allowHeader?: boolean;
  /** Socket cases: the close codes the server may end with (1000: it answered our normal close). */
  readonly closeCodes?: readonly number[];
  /** Socket cases: the server may also drop the connection without a close frame. */
  readonly mayDropSocket?: boolean;
  /** Socket cases: at least this many events arrive. */
  readonly minMessages?: number;
  /** Hostile strings the answer should not repeat back: noted, not failed. */
  readonly noEcho?: readonly string[];
}

interface CaseBase {
  /** Its number in the run: with the seed, all it takes to make it again. */
  readonly index: number;
  readonly kind: FuzzKind;
  /** A few words on what it tries. */
  readonly variant: string;
  readonly expect: Expectation;
  /** Card numbers (ASCII digits) the request carries. */
  readonly cards: readonly string[];
  /** Tokens the request carries that belong to no payment. */
  readonly forgedTokens: readonly string[];
}

export interface HttpCase extends CaseBase {
  readonly type: 'http';
  readonly request: RawRequest;
  /** Sent first, on its own connection: the request this one replays or contradicts. */
  readonly before?: RawRequest;
}

export interface SocketCase extends CaseBase {
  readonly type: 'socket';
  /** The handshake. */
  readonly request: RawRequest;
  /** Sent once the socket is open. */
  readonly frames: readonly Buffer[];
  /** `close`: then a normal close; `await-close`: then wait for the server to close. */
  readonly finish: 'close' | 'await-close';
  readonly maskKey: Buffer;
}

export type FuzzCase = HttpCase | SocketCase;

/** A case as the generators hand it over, before it is numbered. */
export type CaseDraft =
  | (Omit<HttpCase, 'index' | 'kind' | 'cards' | 'forgedTokens'> &
      Partial<Pick<CaseBase, 'cards' | 'forgedTokens'>>)
  | (Omit<SocketCase, 'index' | 'kind' | 'cards' | 'forgedTokens'> &
      Partial<Pick<CaseBase, 'cards' | 'forgedTokens'>>);

/** A meter (a valid MPAN core) that no real payment uses: the hostile bodies' own. */
export const FUZZ_METER_ID = '1600123456785';
/** A body the contract takes: a top-up whose card the gateway declines, so it ends quickly. */
export const VALID_BODY = {
  meterId: FUZZ_METER_ID,
  amountPence: 2000,
  paymentToken: 'tok_chargeDeclined',
} as const;

/** The request helpers every generator uses, drawing on the run's one random stream. */
export class RequestKit {
  constructor(
    readonly random: SeededRandom,
    readonly targets: ProbeTargets,
  ) {}

  /** A fresh Idempotency-Key: letters only, as a run of digits could pass the Luhn check and be refused. */
  key(): string {
    return `fz${this.random.letters(24)}`;
  }

  /** A real payment other than `except`. */
  payment(except?: RealPayment): RealPayment {
    const choices = this.targets.payments.filter((payment) => payment !== except);
    return this.random.pick(choices);
  }

  /** A token shaped like a status token (43 base64url characters) that belongs to nothing. */
  forgedToken(): string {
    return this.random.bytes(32).toString('base64url');
  }

  /** A payment id shaped like a real one that belongs to nothing. */
  unknownPaymentId(): string {
    return `pay_${this.random.bytes(16).toString('hex')}`;
  }

  /** POST /api/payments: JSON content type and a fresh key unless `headers` or `omit` say otherwise. */
  post(
    body: Buffer | string | undefined,
    options: {
      headers?: ReadonlyArray<readonly [string, HeaderValue]>;
      omit?: ReadonlyArray<'content-type' | 'idempotency-key'>;
      target?: string;
      method?: string;
    } = {},
  ): RawRequest {
    const headers: Array<readonly [string, HeaderValue]> = [];
    const given = new Set((options.headers ?? []).map(([name]) => name.toLowerCase()));
    if (!options.omit?.includes('content-type') && !given.has('content-type')) {
      headers.push(['Content-Type', 'application/json']);
    }
    if (!options.omit?.includes('idempotency-key') && !given.has('idempotency-key')) {
      headers.push(['Idempotency-Key', this.key()]);
    }
    headers.push(...(options.headers ?? []));
    return {
      method: options.method ?? 'POST',
      target: options.target ?? '/api/payments',
      headers,
      ...(body === undefined ? {} : { body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body }),
    };
  }

  /** GET of a payment, with `authorization` as the whole header value (none when undefined). */
  getPayment(
    paymentId: string,
    authorization: HeaderValue | undefined,
    headers: ReadonlyArray<readonly [string, HeaderValue]> = [],
  ): RawRequest {
    return {
      method: 'GET',
      target: `/api/payments/${paymentId}`,
      headers: [
        ...(authorization === undefined ? [] : [['Authorization', authorization] as const]),
        ...headers,
      ],
    };
  }

  /** `/api/payments/{paymentId}/events?token=…` (no token when undefined), plus `query` as given. */
  eventsTarget(paymentId: string, token: string | undefined, query = ''): string {
    const parts = [
      ...(token === undefined ? [] : [`token=${encodeURIComponent(token)}`]),
      ...(query ? [query] : []),
    ];
    return `/api/payments/${paymentId}/events${parts.length > 0 ? `?${parts.join('&')}` : ''}`;
  }

  /**
   * A WebSocket handshake for `target`: an allowed Origin, a fresh key, version 13, unless the options replace
   * a header (a string) or leave it out (null).
   */
  upgrade(
    target: string,
    options: {
      origin?: string | null;
      key?: string | null;
      version?: string | null;
      upgrade?: string | null;
      connection?: string | null;
      method?: string;
      headers?: ReadonlyArray<readonly [string, HeaderValue]>;
    } = {},
  ): RawRequest {
    const headers: Array<readonly [string, HeaderValue]> = [];
    const add = (name: string, value: string | null | undefined, fallback: string) => {
      if (value !== null) headers.push([name, value ?? fallback]);
    };
    add('Connection', options.connection, 'Upgrade');
    add('Upgrade', options.upgrade, 'websocket');
    add('Sec-WebSocket-Version', options.version, '13');
    add('Sec-WebSocket-Key', options.key, this.random.bytes(16).toString('base64'));
    add('Origin', options.origin, this.targets.allowedOrigin);
    headers.push(...(options.headers ?? []));
    return { method: options.method ?? 'GET', target, headers };
  }

  maskKey(): Buffer {
    return this.random.bytes(4);
  }
}

/** `x-customer-note` → `X-Customer-Note`: how the front-end names a header in a refusal. */
export function headerFieldName(name: string): string {
  return name
    .toLowerCase()
    .replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}
