/**
 * THE VENDING VENDOR SIMULATOR: a stand-in for the third-party service that turns a payment into credit
 * on a prepayment smart meter, for local runs and tests. No meter is credited; every response says
 * `X-Simulator: vending-vendor`, and `GET /` lists the scenarios.
 *
 * API (JSON; paths relative to where the simulator is mounted, e.g. http://127.0.0.1:4100/vendor):
 * - `POST /v1/vends` `{ transactionId, meterId, amountPence }` → 200
 *   `{ transactionId, utrn, creditPence, meterId, vendedAt }`.
 * - `GET /v1/vends/{transactionId}` → 200 `{ transactionId, status, ... }`: what became of a transaction, without
 *   vending: `vended` (with `utrn`, `creditPence`, `meterId`, `vendedAt`), `rejected` (with `rejectionCode`) or
 *   `in_progress` (a vend under way, which may still credit the meter); 404 `TRANSACTION_NOT_FOUND` when nothing
 *   final happened under it (never asked, or only transient failures). A meter's outage does not stop it.
 * - `POST /simulator/outages/{meterId}/end` → 200 `{ meterId, outage: 'ended' }`: the simulator's own control
 *   (no real vendor has it), ending a `9902…` meter's outage so that its next vend goes through, as a real
 *   vendor's outage ends. It is kept across restarts like the rest of the state.
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
 * | 9902… | 503 VENDOR_UNAVAILABLE always (the vendor stays down), until the outage is ended for that meter |
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
 * | 404 | TRANSACTION_NOT_FOUND (a lookup), ROUTE_NOT_FOUND | false |
 * | 409 | TRANSACTION_ID_CONFLICT | false |
 * | 422 | VEND_REJECTED (with `rejectionCode`) | false: a meter's rejection is final |
 * | 503 | VENDOR_UNAVAILABLE (with `Retry-After`) | true, with the same transaction id |
 *
 * State (vends, the final outcome per transaction id, the per-transaction attempt and failure counters) is kept
 * in a journal (packages/embedded-aws/durable/journal.ts) when the simulator is opened on a folder, and no answer leaves
 * before the journal holds what it tells: after a kill -9 a transaction id vended before the crash gets the
 * same UTRN replayed and is never vended again, and a `9901…` meter's failures carry on counting where they
 * were instead of starting again with every crash. A vend and its kept outcome are one journal record. A
 * vend still in progress at the crash (a `9909…` meter) left nothing: nothing was vended, and a retry vends
 * once.
 */

import { z } from 'zod';
import { JournaledSimulator } from './journaled-simulator.ts';
import { isValidMpanCore } from './mpan.ts';
import {
  jsonResponse,
  type KeptResponse,
  keepResponse,
  keptResponse,
  type SimulatorRequest,
  type SimulatorResponse,
  withHeaders,
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
  '02': {
    kind: 'down',
    description: '503 always: the vendor stays down, until POST /simulator/outages/{meterId}/end',
  },
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

interface AttemptInProgress {
  readonly fingerprint: string;
  readonly outcome: Promise<Outcome>;
}

interface FinalOutcome {
  readonly fingerprint: string;
  readonly response: SimulatorResponse;
}

/**
 * One change to the vendor's state, as the journal keeps it. An `outcome` carries the vend it made (when it
 * vended) with the answer kept for its transaction id: one journal line, so a crash keeps both or neither.
 */
type VendorRecord =
  | {
      readonly kind: 'outcome';
      readonly transactionId: string;
      readonly fingerprint: string;
      readonly response: KeptResponse;
      readonly vend?: VendRecord;
    }
  | { readonly kind: 'attempts'; readonly transactionId: string; readonly count: number }
  | { readonly kind: 'transient'; readonly transactionId: string; readonly failures: number }
  | { readonly kind: 'outageEnded'; readonly meterId: string }
  | { readonly kind: 'reset' };

/**
 * The vending vendor simulator: serve it with `startSimulators` (or `startSimulatorServer`), and use
 * `vends()`, `vendCount(transactionId)` and `reset()` from tests.
 *
 * @example
 * const vendor = await VendingVendorSimulator.open({ slowDelayMs: 50 }); // journalDir: '.data/simulators' to keep it
 * // POST {url}/vendor/v1/vends { transactionId: paymentId, meterId: testMpan('01'), amountPence: 2000 } ...
 * expect(vendor.vendCount(paymentId)).toBe(1);
 */
export class VendingVendorSimulator extends JournaledSimulator<VendorRecord> {
  readonly name = 'vending-vendor';
  private readonly transientFailures: number;
  /** Never journaled: an attempt cut short by a crash vended nothing, and a retry runs afresh. */
  private readonly inProgress = new Map<string, AttemptInProgress>();
  private readonly finalOutcomes = new Map<string, FinalOutcome>();
  private readonly vendsByTransaction = new Map<string, VendRecord>();
  private readonly attemptsByTransaction = new Map<string, number>();
  private readonly transientAttemptsByTransaction = new Map<string, number>();
  /** `9902…` meters whose outage has ended: they vend. */
  private readonly outagesEnded = new Set<string>();

  private constructor(options: VendingVendorOptions) {
    super(options.slowDelayMs);
    this.transientFailures = options.transientFailures ?? 2;
  }

  /**
   * Opens the vendor on the journal `vending-vendor` in `journalDir`, rebuilding what an earlier process
   * kept there, or (without a folder) with everything in memory.
   */
  static async open(
    options: VendingVendorOptions & { readonly journalDir?: string | null } = {},
  ): Promise<VendingVendorSimulator> {
    const vendor = new VendingVendorSimulator(options);
    await vendor.openJournal(options.journalDir ?? null);
    return vendor;
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

  /** Ends the vendor's outage for a `9902…` meter: its next vend goes through. */
  endOutage(meterId: string): void {
    this.record({ kind: 'outageEnded', meterId });
  }

  /** Forgets every vend, transaction id and attempt counter, in the journal too. */
  reset(): void {
    this.inProgress.clear();
    this.record({ kind: 'reset' });
  }

  errorResponse(status: number, code: string, message: string): SimulatorResponse {
    return vendorError(status, { errorCode: code.toUpperCase(), message, retryable: status >= 500 });
  }

  unavailable(status: number): SimulatorResponse {
    return vendorError(
      status,
      {
        errorCode: 'VENDOR_UNAVAILABLE',
        message: 'The vending service is temporarily unavailable. Retry with the same transactionId.',
        retryable: true,
      },
      { 'Retry-After': '1' },
    );
  }

  protected async route(request: SimulatorRequest): Promise<SimulatorResponse> {
    if (request.method === 'GET' && (request.path === '/' || request.path === ''))
      return jsonResponse(200, this.describe());
    if (request.method === 'POST' && request.path === '/v1/vends') return this.vend(request);
    const lookup = /^\/v1\/vends\/([^/]+)$/.exec(request.path);
    if (request.method === 'GET' && lookup !== null) return this.lookUp(decodeURIComponent(lookup[1]!));
    const outage = /^\/simulator\/outages\/([^/]+)\/end$/.exec(request.path);
    if (request.method === 'POST' && outage !== null) return this.endOutageOf(decodeURIComponent(outage[1]!));
    return vendorError(404, {
      errorCode: 'ROUTE_NOT_FOUND',
      message: `Unrecognized request URL (${request.method} ${request.path}).`,
      retryable: false,
    });
  }

  /**
   * What became of a transaction id, without vending: the caller's way to learn the outcome of a vend whose
   * answer it lost. A meter's outage does not stop it (the vendor's records answer, not the meter network).
   */
  private lookUp(transactionId: string): SimulatorResponse {
    const vend = this.vendsByTransaction.get(transactionId);
    if (vend !== undefined) {
      return jsonResponse(200, {
        transactionId,
        status: 'vended',
        utrn: vend.utrn,
        creditPence: vend.creditPence,
        meterId: vend.meterId,
        vendedAt: vend.vendedAt,
      });
    }
    const final = this.finalOutcomes.get(transactionId);
    if (final !== undefined) {
      const rejection = JSON.parse(final.response.body.toString('utf8')) as { rejectionCode?: string };
      return jsonResponse(200, { transactionId, status: 'rejected', rejectionCode: rejection.rejectionCode });
    }
    // Not final yet: the vend may still credit the meter, so nobody may act as if it never will.
    if (this.inProgress.has(transactionId))
      return jsonResponse(200, { transactionId, status: 'in_progress' });
    return vendorError(404, {
      errorCode: 'TRANSACTION_NOT_FOUND',
      message: 'No vend was made under this transactionId.',
      retryable: false,
      transactionId,
    });
  }

  private endOutageOf(meterId: string): SimulatorResponse {
    if (!isValidMpanCore(meterId))
      return vendorError(400, {
        errorCode: 'INVALID_METER_ID',
        message: 'meterId must be a 13-digit MPAN core with a valid check digit.',
        retryable: false,
      });
    this.endOutage(meterId);
    return jsonResponse(200, { meterId, outage: 'ended' });
  }

  private async vend(request: SimulatorRequest): Promise<SimulatorResponse> {
    const parsed = parseVendRequest(request.body);
    if ('refusal' in parsed) return parsed.refusal;
    const vend = parsed.vend;
    const { transactionId } = vend;
    this.record({ kind: 'attempts', transactionId, count: this.attemptCount(transactionId) + 1 });
    return this.answer(vend);
  }

  private async answer(vend: VendRequest): Promise<SimulatorResponse> {
    const { transactionId } = vend;
    const fingerprint = fingerprintOf(vend);
    const final = this.finalOutcomes.get(transactionId);
    const running = this.inProgress.get(transactionId);
    const earlier = final ?? running;
    if (earlier && earlier.fingerprint !== fingerprint)
      return vendorError(409, {
        errorCode: 'TRANSACTION_ID_CONFLICT',
        message: 'This transactionId was already used for another meter or amount.',
        retryable: false,
        transactionId,
      });
    if (final) return withHeaders(final.response, { 'Idempotent-Replayed': 'true' });
    if (running) {
      // Replayed if it ended final; if it failed transiently (its caller was told so), this one tries afresh.
      await running.outcome;
      return this.answer(vend);
    }

    const outcome = this.attempt(vend);
    this.inProgress.set(transactionId, { fingerprint, outcome });
    try {
      return (await outcome).response;
    } finally {
      if (this.inProgress.get(transactionId)?.outcome === outcome) this.inProgress.delete(transactionId);
    }
  }

  /** A final outcome, with the vend it made if any, kept for replay in the turn it happened. */
  private final(vend: VendRequest, response: SimulatorResponse, made?: VendRecord): Outcome {
    this.record({
      kind: 'outcome',
      transactionId: vend.transactionId,
      fingerprint: fingerprintOf(vend),
      response: keepResponse(response),
      ...(made === undefined ? {} : { vend: made }),
    });
    return { final: true, response };
  }

  protected apply(record: VendorRecord): void {
    switch (record.kind) {
      case 'outcome':
        this.finalOutcomes.set(record.transactionId, {
          fingerprint: record.fingerprint,
          response: keptResponse(record.response),
        });
        if (record.vend) this.vendsByTransaction.set(record.transactionId, record.vend);
        return;
      case 'attempts':
        this.attemptsByTransaction.set(record.transactionId, record.count);
        return;
      case 'transient':
        this.transientAttemptsByTransaction.set(record.transactionId, record.failures);
        return;
      case 'outageEnded':
        this.outagesEnded.add(record.meterId);
        return;
      case 'reset':
        this.outagesEnded.clear();
        this.finalOutcomes.clear();
        this.vendsByTransaction.clear();
        this.attemptsByTransaction.clear();
        this.transientAttemptsByTransaction.clear();
        return;
    }
  }

  protected *snapshot(): Iterable<VendorRecord> {
    for (const [transactionId, { fingerprint, response }] of this.finalOutcomes) {
      const vend = this.vendsByTransaction.get(transactionId);
      yield {
        kind: 'outcome',
        transactionId,
        fingerprint,
        response: keepResponse(response),
        ...(vend === undefined ? {} : { vend }),
      };
    }
    for (const [transactionId, count] of this.attemptsByTransaction)
      yield { kind: 'attempts', transactionId, count };
    for (const [transactionId, failures] of this.transientAttemptsByTransaction)
      yield { kind: 'transient', transactionId, failures };
    for (const meterId of this.outagesEnded) yield { kind: 'outageEnded', meterId };
  }

  private async attempt(vend: VendRequest): Promise<Outcome> {
    const scenario = vend.meterId.startsWith('99')
      ? VENDOR_TEST_SCENARIOS[vend.meterId.slice(2, 4)]
      : undefined;
    switch (scenario?.kind) {
      case 'down':
        if (this.outagesEnded.has(vend.meterId)) return this.credit(vend);
        return { final: false, response: unavailable(vend.transactionId) };
      case 'transient': {
        const failures = (this.transientAttemptsByTransaction.get(vend.transactionId) ?? 0) + 1;
        this.record({ kind: 'transient', transactionId: vend.transactionId, failures });
        if (failures <= this.transientFailures)
          return { final: false, response: unavailable(vend.transactionId) };
        return this.credit(vend);
      }
      case 'reject':
        return this.final(
          vend,
          vendorError(422, {
            errorCode: 'VEND_REJECTED',
            rejectionCode: scenario.rejectionCode,
            message: scenario.message,
            retryable: false,
            transactionId: vend.transactionId,
            meterId: vend.meterId,
          }),
        );
      case 'slow':
        await this.slowAnswer();
        return this.credit(vend);
      default:
        return this.credit(vend);
    }
  }

  private credit(vend: VendRequest): Outcome {
    const record: VendRecord = {
      transactionId: vend.transactionId,
      meterId: vend.meterId,
      amountPence: vend.amountPence,
      creditPence: vend.amountPence,
      utrn: utrnFor(vend.transactionId, vend.meterId),
      vendedAt: new Date().toISOString(),
    };
    const response = jsonResponse(200, {
      transactionId: record.transactionId,
      utrn: record.utrn,
      creditPence: record.creditPence,
      meterId: record.meterId,
      vendedAt: record.vendedAt,
    });
    return this.final(vend, response, record);
  }

  private describe() {
    return {
      simulator: 'vending-vendor',
      notice: 'A SIMULATOR for local runs and tests. No meter is credited.',
      endpoints: {
        'POST /v1/vends':
          'body { transactionId, meterId (13-digit MPAN core), amountPence } → { transactionId, utrn, creditPence, meterId, vendedAt }',
        'GET /v1/vends/{transactionId}':
          'what became of a transaction, without vending: { status: vended (with utrn, creditPence) | rejected (with rejectionCode) | in_progress }, or 404 TRANSACTION_NOT_FOUND',
        'POST /simulator/outages/{meterId}/end':
          "the simulator's own control: ends a 9902… meter's outage, so its next vend goes through",
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
      state: this.durable
        ? 'kept in the data directory: vends, UTRNs and attempt counters survive a restart'
        : 'in memory: forgotten when the process ends',
    };
  }
}

/** Same meter and amount: what "the same vend" means for a transaction id asked again. */
function fingerprintOf(vend: VendRequest): string {
  return `${vend.meterId}|${vend.amountPence}`;
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
