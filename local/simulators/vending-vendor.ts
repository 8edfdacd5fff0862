/**
 * THE VENDING VENDOR SIMULATOR: a stand-in for the third-party service that turns a payment into credit
 * on a prepayment smart meter, for local runs and tests. No meter is credited; every response says
 * `X-Simulator: vending-vendor`, and `GET /` lists the scenarios.
 *
 * API (JSON; paths relative to where the simulator is mounted, e.g. http://127.0.0.1:4100/vendor):
 * - `POST /v1/vends` `{ transactionId, meterId, amountPence }` → 200
 *   `{ transactionId, utrn, creditPence, meterId, vendedAt }`.
 *
 * The transaction id is the idempotency key: asking again with the same id and the same meter and amount
 * answers the first final outcome again (the same UTRN, or the same rejection) with
 * `Idempotent-Replayed: true`, and never vends twice, even when the requests overlap (a request that
 * arrives while the first is in progress waits for it). The same id with another meter or amount → 409.
 * Transient failures (503) are not final: the next attempt runs afresh.
 *
 * Meters (`meterId` is a 13-digit MPAN core with a valid check digit; anything else → 400):
 * any valid core vends at the first attempt, except test cores starting `99`, whose next two digits choose:
 * | core | answer |
 * | 9901… | 503 VENDOR_UNAVAILABLE for the first 2 attempts per transaction id, then vends |
 * | 9902… | 503 VENDOR_UNAVAILABLE always (the vendor stays down) |
 * | 9903… | 422 VEND_REJECTED, rejectionCode NOT_FOR_THIS_DEVICE |
 * | 9904… | 422 VEND_REJECTED, rejectionCode DUPLICATE_UTRN |
 * | 9905… | 422 VEND_REJECTED, rejectionCode NOT_AUTHENTIC |
 * | 9906… | 422 VEND_REJECTED, rejectionCode EXCEEDS_MAX_CREDIT_THRESHOLD |
 * | 9907… | 422 VEND_REJECTED, rejectionCode EXCEEDS_MAX_METER_BALANCE |
 * | 9908… | 422 VEND_REJECTED, rejectionCode METER_LOCKED_OUT |
 * | 9909… | vends, answering after a delay (default 2 s) |
 * | other 99… | vends at the first attempt |
 *
 * Errors are `{ errorCode, message, retryable, ... }`; the status and `retryable` agree:
 * | status | errorCode | retryable |
 * | 400 | INVALID_REQUEST (with `field`), INVALID_METER_ID | false |
 * | 409 | TRANSACTION_ID_CONFLICT | false |
 * | 422 | VEND_REJECTED (with `rejectionCode`) | false: a meter's rejection is final |
 * | 503 | VENDOR_UNAVAILABLE (with `Retry-After`) | true, with the same transaction id |
 */
import { z } from 'zod';
import { isValidMpanCore } from './mpan.ts';
import {
  delay,
  jsonResponse,
  type Simulator,
  type SimulatorRequest,
  type SimulatorResponse,
} from './server.ts';
import { utrnFor } from './utrn.ts';

/** A meter's reasons to refuse a UTRN. None is worth retrying. */
export type VendRejectionCode =
  | 'NOT_FOR_THIS_DEVICE'
  | 'DUPLICATE_UTRN'
  | 'NOT_AUTHENTIC'
  | 'EXCEEDS_MAX_CREDIT_THRESHOLD'
  | 'EXCEEDS_MAX_METER_BALANCE'
  | 'METER_LOCKED_OUT';

/** A vend that put credit on a meter. */
export interface VendRecord {
  readonly transactionId: string;
  readonly meterId: string;
  readonly amountPence: number;
  readonly creditPence: number;
  readonly utrn: string;
  readonly vendedAt: string;
}

export interface VendingVendorOptions {
  /** How long `9909…` meters take to answer; default 2000 ms. */
  readonly slowDelayMs?: number;
  /** How many attempts per transaction id `9901…` meters answer 503 before vending; default 2. */
  readonly transientFailures?: number;
}

type MeterBehaviour =
  | { readonly kind: 'vend' }
  | { readonly kind: 'transient' }
  | { readonly kind: 'down' }
  | { readonly kind: 'slow' }
  | { readonly kind: 'reject'; readonly rejectionCode: VendRejectionCode; readonly message: string };

/** The test meter scenarios, by the two digits after `99` in the MPAN core. */
export const VENDOR_TEST_SCENARIOS: Readonly<
  Record<string, MeterBehaviour & { readonly description: string }>
> = {
  '01': {
    kind: 'transient',
    description: '503 for the first attempts per transaction id (default 2), then vends',
  },
  '02': { kind: 'down', description: '503 always: the vendor stays down' },
  '03': {
    kind: 'reject',
    rejectionCode: 'NOT_FOR_THIS_DEVICE',
    message: 'The meter rejected the UTRN: it is not for this device.',
    description: '422 NOT_FOR_THIS_DEVICE',
  },
  '04': {
    kind: 'reject',
    rejectionCode: 'DUPLICATE_UTRN',
    message: 'The meter rejected the UTRN: it has already been applied.',
    description: '422 DUPLICATE_UTRN',
  },
  '05': {
    kind: 'reject',
    rejectionCode: 'NOT_AUTHENTIC',
    message: 'The meter rejected the UTRN: it is not authentic.',
    description: '422 NOT_AUTHENTIC',
  },
  '06': {
    kind: 'reject',
    rejectionCode: 'EXCEEDS_MAX_CREDIT_THRESHOLD',
    message: 'The meter rejected the UTRN: the amount exceeds its maximum credit threshold.',
    description: '422 EXCEEDS_MAX_CREDIT_THRESHOLD',
  },
  '07': {
    kind: 'reject',
    rejectionCode: 'EXCEEDS_MAX_METER_BALANCE',
    message: 'The meter rejected the UTRN: the credit would exceed its maximum meter balance.',
    description: '422 EXCEEDS_MAX_METER_BALANCE',
  },
  '08': {
    kind: 'reject',
    rejectionCode: 'METER_LOCKED_OUT',
    message: 'The meter rejected the UTRN: it is locked out after too many invalid UTRNs.',
    description: '422 METER_LOCKED_OUT',
  },
  '09': { kind: 'slow', description: 'vends, answering after a delay (default 2 s)' },
};

const VendRequestSchema = z.strictObject({
  transactionId: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
  meterId: z.string(),
  amountPence: z.number().int().positive(),
});

type VendRequest = z.infer<typeof VendRequestSchema>;

/** A final outcome (vended or rejected): kept per transaction id and answered again on a retry. */
interface Outcome {
  readonly final: boolean;
  readonly response: SimulatorResponse;
}

interface TransactionEntry {
  readonly fingerprint: string;
  /** The attempt in progress, or the final outcome once there is one. */
  readonly outcome: Promise<Outcome>;
}

/**
 * The vending vendor simulator: serve it with `startSimulators` (or `startSimulatorServer`), and use
 * `vends()`, `vendCount(transactionId)` and `reset()` from tests.
 *
 * @example
 * const vendor = new VendingVendorSimulator({ slowDelayMs: 50 });
 * // POST {url}/vendor/v1/vends { transactionId: paymentId, meterId: testMpan('01'), amountPence: 2000 } ...
 * expect(vendor.vendCount(paymentId)).toBe(1);
 */
export class VendingVendorSimulator implements Simulator {
  readonly name = 'vending-vendor';
  private readonly slowDelayMs: number;
  private readonly transientFailures: number;
  private readonly closing = new AbortController();
  private readonly transactions = new Map<string, TransactionEntry>();
  private readonly vendsByTransaction = new Map<string, VendRecord>();
  private readonly attemptsByTransaction = new Map<string, number>();
  private readonly transientAttemptsByTransaction = new Map<string, number>();

  constructor(options: VendingVendorOptions = {}) {
    this.slowDelayMs = options.slowDelayMs ?? 2000;
    this.transientFailures = options.transientFailures ?? 2;
  }

  /** Every vend since the last reset, oldest first. Rejected and failed attempts are not vends. */
  vends(): readonly VendRecord[] {
    return [...this.vendsByTransaction.values()];
  }

  /** How many times a transaction id put credit on a meter: 0 or 1, never more. */
  vendCount(transactionId: string): number {
    return this.vendsByTransaction.has(transactionId) ? 1 : 0;
  }

  /** How many valid `POST /v1/vends` requests named a transaction id, whatever their outcome. */
  attemptCount(transactionId: string): number {
    return this.attemptsByTransaction.get(transactionId) ?? 0;
  }

  /** Forgets every vend, transaction id and attempt counter. */
  reset(): void {
    this.transactions.clear();
    this.vendsByTransaction.clear();
    this.attemptsByTransaction.clear();
    this.transientAttemptsByTransaction.clear();
  }

  close(): void {
    this.closing.abort();
  }

  errorResponse(status: number, code: string, message: string): SimulatorResponse {
    return vendorError(status, { errorCode: code.toUpperCase(), message, retryable: status >= 500 });
  }

  async handle(request: SimulatorRequest): Promise<SimulatorResponse> {
    if (request.method === 'GET' && (request.path === '/' || request.path === ''))
      return jsonResponse(200, this.describe());
    if (request.method === 'POST' && request.path === '/v1/vends') return this.vend(request);
    return vendorError(404, {
      errorCode: 'ROUTE_NOT_FOUND',
      message: `Unrecognized request URL (${request.method} ${request.path}).`,
      retryable: false,
    });
  }

  private async vend(request: SimulatorRequest): Promise<SimulatorResponse> {
    const parsed = parseVendRequest(request.body);
    if ('refusal' in parsed) return parsed.refusal;
    const vend = parsed.vend;
    const { transactionId } = vend;
    this.attemptsByTransaction.set(transactionId, this.attemptCount(transactionId) + 1);
    return this.answer(vend);
  }

  private async answer(vend: VendRequest): Promise<SimulatorResponse> {
    const { transactionId } = vend;
    const fingerprint = `${vend.meterId}|${vend.amountPence}`;
    const earlier = this.transactions.get(transactionId);
    if (earlier && earlier.fingerprint !== fingerprint)
      return vendorError(409, {
        errorCode: 'TRANSACTION_ID_CONFLICT',
        message: 'This transactionId was already used for another meter or amount.',
        retryable: false,
        transactionId,
      });
    if (earlier) {
      const outcome = await earlier.outcome;
      if (outcome.final) return withHeaders(outcome.response, { 'Idempotent-Replayed': 'true' });
      // The attempt we waited for failed transiently; the first request's caller was told so. Try afresh.
      return this.answer(vend);
    }

    const outcome = this.attempt(vend);
    this.transactions.set(transactionId, { fingerprint, outcome });
    let settled: Outcome;
    try {
      settled = await outcome;
    } catch (error) {
      this.transactions.delete(transactionId);
      throw error;
    }
    if (!settled.final && this.transactions.get(transactionId)?.outcome === outcome)
      this.transactions.delete(transactionId);
    return settled.response;
  }

  private async attempt(vend: VendRequest): Promise<Outcome> {
    const scenario = vend.meterId.startsWith('99')
      ? VENDOR_TEST_SCENARIOS[vend.meterId.slice(2, 4)]
      : undefined;
    switch (scenario?.kind) {
      case 'down':
        return { final: false, response: unavailable(vend.transactionId) };
      case 'transient': {
        const failures = (this.transientAttemptsByTransaction.get(vend.transactionId) ?? 0) + 1;
        this.transientAttemptsByTransaction.set(vend.transactionId, failures);
        if (failures <= this.transientFailures)
          return { final: false, response: unavailable(vend.transactionId) };
        return { final: true, response: this.credit(vend) };
      }
      case 'reject':
        return {
          final: true,
          response: vendorError(422, {
            errorCode: 'VEND_REJECTED',
            rejectionCode: scenario.rejectionCode,
            message: scenario.message,
            retryable: false,
            transactionId: vend.transactionId,
            meterId: vend.meterId,
          }),
        };
      case 'slow':
        await delay(this.slowDelayMs, this.closing.signal);
        return { final: true, response: this.credit(vend) };
      default:
        return { final: true, response: this.credit(vend) };
    }
  }

  private credit(vend: VendRequest): SimulatorResponse {
    const record: VendRecord = {
      transactionId: vend.transactionId,
      meterId: vend.meterId,
      amountPence: vend.amountPence,
      creditPence: vend.amountPence,
      utrn: utrnFor(vend.transactionId, vend.meterId),
      vendedAt: new Date().toISOString(),
    };
    this.vendsByTransaction.set(vend.transactionId, record);
    return jsonResponse(200, {
      transactionId: record.transactionId,
      utrn: record.utrn,
      creditPence: record.creditPence,
      meterId: record.meterId,
      vendedAt: record.vendedAt,
    });
  }

  private describe() {
    return {
      simulator: 'vending-vendor',
      notice: 'A SIMULATOR for local runs and tests. No meter is credited.',
      endpoints: {
        'POST /v1/vends':
          'body { transactionId, meterId (13-digit MPAN core), amountPence } → { transactionId, utrn, creditPence, meterId, vendedAt }',
      },
      meters: {
        'any valid MPAN core': 'vends at the first attempt',
        ...Object.fromEntries(
          Object.entries(VENDOR_TEST_SCENARIOS).map(([digits, behaviour]) => [
            `99${digits}…`,
            behaviour.description,
          ]),
        ),
      },
      settings: { slowDelayMs: this.slowDelayMs, transientFailures: this.transientFailures },
    };
  }
}

function parseVendRequest(raw: Buffer): { vend: VendRequest } | { refusal: SimulatorResponse } {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return { refusal: invalidRequest('The request body must be a JSON object.') };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { refusal: invalidRequest('The request body must be a JSON object.') };
  const result = VendRequestSchema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.code === 'unrecognized_keys' ? (issue.keys[0] ?? '') : String(issue.path[0] ?? '');
    const reason = issue.code === 'unrecognized_keys' ? 'is not a field of a vend request' : issue.message;
    return { refusal: invalidRequest(`${field} ${reason}.`, field) };
  }
  if (!isValidMpanCore(result.data.meterId))
    return {
      refusal: vendorError(400, {
        errorCode: 'INVALID_METER_ID',
        message: 'meterId must be a 13-digit MPAN core with a valid check digit.',
        retryable: false,
        field: 'meterId',
      }),
    };
  return { vend: result.data };
}

function invalidRequest(message: string, field?: string): SimulatorResponse {
  return vendorError(400, {
    errorCode: 'INVALID_REQUEST',
    message,
    retryable: false,
    ...(field === undefined ? {} : { field }),
  });
}

function unavailable(transactionId: string): SimulatorResponse {
  return vendorError(
    503,
    {
      errorCode: 'VENDOR_UNAVAILABLE',
      message: 'The vending service is temporarily unavailable. Retry with the same transactionId.',
      retryable: true,
      transactionId,
    },
    { 'Retry-After': '1' },
  );
}

function vendorError(
  status: number,
  body: { readonly errorCode: string; readonly message: string; readonly retryable: boolean } & Record<
    string,
    unknown
  >,
  headers: Readonly<Record<string, string>> = {},
): SimulatorResponse {
  return jsonResponse(status, body, headers);
}

function withHeaders(
  response: SimulatorResponse,
  headers: Readonly<Record<string, string>>,
): SimulatorResponse {
  return { ...response, headers: { ...response.headers, ...headers } };
}
