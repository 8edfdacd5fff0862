/**
 * THE PAYMENT GATEWAY SIMULATOR: a stand-in for a card gateway's REST API (modelled on Stripe's charges
 * and idempotency rules), for local runs and tests. No money moves; every response says
 * `X-Simulator: payment-gateway`, and `GET /` lists the scenarios.
 *
 * API (JSON; paths relative to where the simulator is mounted, e.g. http://127.0.0.1:4100/gateway):
 * - `POST /v1/charges`, header `Idempotency-Key` (required, 1–255 characters), body
 *   `{ amountPence, currency: 'GBP', paymentToken, reference }` → 200 charge | 402 decline | 4xx | 5xx.
 * - `GET /v1/charges/{id}` → 200 charge (succeeded or failed) | 404.
 * - `GET /v1/charges?reference=` → 200 list of the charges made for a reference, newest first.
 * - `GET /v1/charges?created_after=&created_before=&limit=&starting_after=` → 200 a page of the charges created
 *   in a window, newest first, as Stripe lists them (`hasMore`; the next page starts after the last charge's id).
 *   Every filter is optional and they combine (`reference` too).
 * - `POST /v1/refunds`, header `Idempotency-Key`, body `{ charge, amountPence?, reason? }` → 200 refund | 4xx |
 *   5xx. Without `amountPence` the whole amount not yet refunded is refunded; a charge may be refunded in parts.
 * - `GET /v1/refunds/{id}` → 200 refund | 404; `GET /v1/refunds?charge=` → 200 list of a charge's refunds.
 *
 * Idempotency, as Stripe's, for charges and refunds alike (one key space: a key used for a charge cannot be
 * used for a refund): the first completed answer for a key (a charge, a decline, a refund) is kept and
 * replayed byte for byte to a retry with the same endpoint and body, with `Idempotent-Replayed: true` and
 * `Original-Request: <first request id>`. The same key with another endpoint or body → 422
 * `idempotency_key_reused`.
 * A retry that arrives while the first request is still being processed → 409
 * `idempotency_request_in_progress` (retry later, nothing is charged or refunded). Requests refused (400,
 * 404) and outages (503) are not kept: nothing was done, so a retry with the same key runs afresh.
 *
 * Errors are `{ error: { type, code, declineCode?, message, param?, charge? } }`, with `Should-Retry`
 * (modelled on Stripe-Should-Retry) saying whether the same request may succeed later:
 * | status | error.type / code | retry? |
 * | 400 | invalid_request_error / parameter_missing, parameter_invalid, parameter_unknown, amount_too_small, amount_too_large, resource_missing, idempotency_key_missing, idempotency_key_invalid, card_data_refused, body_not_json | no |
 * | 400 | invalid_request_error / charge_not_refundable (a declined charge), charge_already_refunded, amount_too_large (more than is left to refund) | no |
 * | 402 | card_error / card_declined (declineCode generic_decline, insufficient_funds, lost_card, stolen_card) or expired_card | no |
 * | 404 | invalid_request_error / resource_missing (an unknown charge or refund), route_not_found | no |
 * | 409 | idempotency_error / idempotency_request_in_progress | yes, same key |
 * | 422 | idempotency_error / idempotency_key_reused | no |
 * | 503 | api_error / gateway_unavailable | yes, same key |
 *
 * State (charges, refunds, the answers kept per key, the per-key request and outage counters) is kept in a
 * journal (packages/embedded-aws/durable/journal.ts) when the simulator is opened on a folder, and no answer leaves before the
 * journal holds what it tells: after a kill -9, a charge acknowledged before the crash is replayed to a retry
 * with its key and never made again, and `tok_gatewayOutage` carries on counting where it was.
 * A charge (or refund) and the answer kept for its key are one journal record, so a crash finds both or
 * neither. A request still in progress at the crash (a `tok_slow` charge) therefore left nothing in the
 * journal: it was not charged, and after the restart its key is free (no 409) and a retry charges once. "In
 * progress" is deliberately never journaled: a real gateway either finished a charge or did not, and does not
 * keep a key locked for a request that died with its server.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  type ChargeRequest,
  carriesCardData,
  DEFAULT_LIST_LIMIT,
  invalidRequest,
  LIST_CHARGES_PARAMETERS,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_LIST_LIMIT,
  parseChargeRequest,
  parseRefundRequest,
  REFUND_REASONS,
  type RefundReason,
  refundRefusal,
  timeOf,
} from './gateway-requests.ts';
import { PAYMENT_TEST_TOKENS, type TokenBehaviour } from './gateway-test-tokens.ts';
import { JournaledSimulator } from './journaled-simulator.ts';
import {
  jsonResponse,
  type KeptResponse,
  keepResponse,
  keptResponse,
  type SimulatorRequest,
  type SimulatorResponse,
  withHeaders,
} from './server.ts';

export { REFUND_REASONS, type RefundReason } from './gateway-requests.ts';
export { PAYMENT_TEST_TOKENS } from './gateway-test-tokens.ts';

/** A charge as the gateway returns it. */
export interface GatewayCharge {
  readonly id: string;
  readonly object: 'charge';
  readonly status: 'succeeded' | 'failed';
  readonly amountPence: number;
  /** How much of the charge has been refunded so far; 0 for a declined charge. */
  readonly amountRefundedPence: number;
  /** Whether the whole amount has been refunded. */
  readonly refunded: boolean;
  readonly currency: 'GBP';
  readonly reference: string;
  readonly paymentToken: string;
  /** Set when status is failed: 'card_declined' or 'expired_card'. */
  readonly failureCode: string | null;
  /** Set when the issuer gave a reason: generic_decline, insufficient_funds, lost_card, stolen_card, ... */
  readonly declineCode: string | null;
  readonly failureMessage: string | null;
  readonly createdAt: string;
  readonly livemode: false;
}

/** A charge with the idempotency key it was created under: what the in-process API shows tests. */
export interface GatewayChargeRecord extends GatewayCharge {
  readonly idempotencyKey: string;
}

/** A refund as the gateway returns it. The simulator's refunds succeed at once, or are refused. */
export interface GatewayRefund {
  readonly id: string;
  readonly object: 'refund';
  readonly status: 'succeeded';
  /** The id of the charge refunded. */
  readonly charge: string;
  readonly amountPence: number;
  readonly currency: 'GBP';
  readonly reason: RefundReason | null;
  readonly createdAt: string;
}

/** A refund with the idempotency key it was made under: what the in-process API shows tests. */
export interface GatewayRefundRecord extends GatewayRefund {
  readonly idempotencyKey: string;
}

export interface PaymentGatewayOptions {
  /** How long `tok_slow` takes to answer; default 2000 ms. */
  readonly slowDelayMs?: number;
  /** How many attempts per idempotency key `tok_gatewayOutage` answers 503 before charging; default 2. */
  readonly outageFailures?: number;
}

/** The first completed answer for an idempotency key, replayed to every retry. */
interface KeptAnswer {
  readonly fingerprint: string;
  readonly requestId: string;
  readonly response: SimulatorResponse;
}

/**
 * One change to the gateway's state, as the journal keeps it. A `commit` carries a charge or refund together
 * with the answer kept for its key: one line of the journal, so a crash keeps both or neither (two records,
 * torn between them, would leave a charge whose key a retry could charge again).
 */
type GatewayRecord =
  | {
      readonly kind: 'commit';
      readonly charge?: GatewayChargeRecord;
      readonly refund?: GatewayRefundRecord;
      readonly answer?: {
        readonly key: string;
        readonly fingerprint: string;
        readonly requestId: string;
        readonly response: KeptResponse;
      };
    }
  | { readonly kind: 'requests'; readonly key: string; readonly count: number }
  | { readonly kind: 'outage'; readonly key: string; readonly attempts: number }
  | { readonly kind: 'reset' };

/** Records a claimed request's answer for replay, with what it changed, and returns the answer. */
type Commit = (
  response: SimulatorResponse,
  changes: { readonly charge?: GatewayChargeRecord; readonly refund?: GatewayRefundRecord },
) => SimulatorResponse;

/** A POST that may run under its idempotency key: nothing was kept for the key, and nothing is running. */
interface ClaimedKey {
  readonly key: string;
  readonly fingerprint: string;
  readonly keyHeaders: Readonly<Record<string, string>>;
}

/**
 * The payment gateway simulator: serve it with `startSimulators` (or `startSimulatorServer`), and use
 * `charges()`, `chargeCount(key)`, `refunds()`, `refundCount(chargeId)` and `reset()` from tests.
 *
 * @example
 * const gateway = await PaymentGatewaySimulator.open({ slowDelayMs: 50 }); // journalDir: '.data/simulators' to keep it
 * // POST {url}/gateway/v1/charges ... then:
 * expect(gateway.chargeCount(paymentId)).toBe(1);
 * // POST {url}/gateway/v1/refunds ... then:
 * expect(gateway.refundCount(chargeId)).toBe(1);
 */
export class PaymentGatewaySimulator extends JournaledSimulator<GatewayRecord> {
  readonly name = 'payment-gateway';
  private readonly outageFailures: number;
  private readonly chargesById = new Map<string, GatewayChargeRecord>();
  private readonly refundsById = new Map<string, GatewayRefundRecord>();
  private readonly answers = new Map<string, KeptAnswer>();
  /** Fingerprints of the requests running now, by key. Never journaled: see the file's comment. */
  private readonly inFlight = new Map<string, string>();
  private readonly requestsByKey = new Map<string, number>();
  private readonly outageAttemptsByKey = new Map<string, number>();

  private constructor(options: PaymentGatewayOptions) {
    super(options.slowDelayMs);
    this.outageFailures = options.outageFailures ?? 2;
  }

  /**
   * Opens the gateway on the journal `payment-gateway` in `journalDir`, rebuilding what an earlier process
   * kept there, or (without a folder) with everything in memory.
   */
  static async open(
    options: PaymentGatewayOptions & { readonly journalDir?: string | null } = {},
  ): Promise<PaymentGatewaySimulator> {
    const gateway = new PaymentGatewaySimulator(options);
    await gateway.openJournal(options.journalDir ?? null);
    return gateway;
  }

  /** Every charge created since the last reset, succeeded and failed, oldest first. */
  charges(): readonly GatewayChargeRecord[] {
    return [...this.chargesById.values()];
  }

  /** How many charges (succeeded or failed) were created under an idempotency key: 0 or 1, never more. */
  chargeCount(idempotencyKey: string): number {
    return this.charges().filter((charge) => charge.idempotencyKey === idempotencyKey).length;
  }

  /** Every refund made since the last reset, oldest first. */
  refunds(): readonly GatewayRefundRecord[] {
    return [...this.refundsById.values()];
  }

  /** How many refunds were made of a charge (by the charge's id), whatever their idempotency keys. */
  refundCount(chargeId: string): number {
    return this.refunds().filter((refund) => refund.charge === chargeId).length;
  }

  /** How many `POST /v1/charges` and `POST /v1/refunds` requests carried an idempotency key, whatever their outcome. */
  requestCount(idempotencyKey: string): number {
    return this.requestsByKey.get(idempotencyKey) ?? 0;
  }

  /** Forgets every charge, refund, idempotency key and outage counter, in the journal too. */
  reset(): void {
    this.inFlight.clear();
    this.record({ kind: 'reset' });
  }

  errorResponse(status: number, code: string, message: string): SimulatorResponse {
    return status >= 500
      ? jsonResponse(status, { error: { type: 'api_error', code, message } }, { 'Should-Retry': 'true' })
      : invalidRequest(status, code, message);
  }

  unavailable(status: number): SimulatorResponse {
    return jsonResponse(
      status,
      {
        error: {
          type: 'api_error',
          code: 'gateway_unavailable',
          message: 'The payment gateway is temporarily unavailable. Retry with the same Idempotency-Key.',
        },
      },
      { 'Should-Retry': 'true', 'Retry-After': '1' },
    );
  }

  protected async route(request: SimulatorRequest): Promise<SimulatorResponse> {
    if (request.method === 'GET' && (request.path === '/' || request.path === ''))
      return jsonResponse(200, this.describe());
    if (request.method === 'POST' && request.path === '/v1/charges') return this.createCharge(request);
    if (request.method === 'GET' && request.path === '/v1/charges') return this.listCharges(request.query);
    if (request.method === 'POST' && request.path === '/v1/refunds') return this.createRefund(request);
    if (request.method === 'GET' && request.path === '/v1/refunds') return this.listRefunds(request.query);
    const charge = /^\/v1\/charges\/([^/]+)$/.exec(request.path);
    if (request.method === 'GET' && charge) return this.retrieveCharge(decodeURIComponent(charge[1]!));
    const refund = /^\/v1\/refunds\/([^/]+)$/.exec(request.path);
    if (request.method === 'GET' && refund) return this.retrieveRefund(decodeURIComponent(refund[1]!));
    return invalidRequest(
      404,
      'route_not_found',
      `Unrecognized request URL (${request.method} ${request.path}).`,
    );
  }

  private retrieveCharge(id: string): SimulatorResponse {
    const record = this.chargesById.get(id);
    if (!record) return invalidRequest(404, 'resource_missing', `No such charge: '${id}'`, 'id');
    const { idempotencyKey: _key, ...charge } = record;
    return jsonResponse(200, charge);
  }

  /**
   * `GET /v1/charges`: charges, newest first, a page at a time, as Stripe lists them. Every filter is optional,
   * and they combine:
   * - `reference=<reference>`: the charges made for a reference (the merchant's payment id). How a merchant
   *   finds out what happened to a charge whose answer it never got.
   * - `created_after=<time>` (created at or after it) and `created_before=<time>` (created strictly before it),
   *   each Unix seconds or ISO 8601 with a zone: a half-open window, so consecutive windows neither overlap nor
   *   leave a gap. How a merchant reconciles what the gateway took with what it recorded.
   * - `limit` (1–100, default 10) and `starting_after=<charge id>`: the last charge of the previous page; the
   *   answer's `hasMore` says whether another page follows. Charges created meanwhile are newer, so they never
   *   shift a page being read.
   * Declined charges are listed too (`status: failed`), refunds show on their charge. Nothing is recorded: a
   * listing changes nothing.
   */
  private listCharges(query: URLSearchParams): SimulatorResponse {
    const unknown = [...query.keys()].find((name) => !LIST_CHARGES_PARAMETERS.has(name));
    if (unknown !== undefined)
      return invalidRequest(400, 'parameter_unknown', `Received unknown parameter: ${unknown}`, unknown);
    const reference = query.get('reference');
    if (reference === '') {
      return invalidRequest(400, 'parameter_missing', 'Missing required param: reference.', 'reference');
    }
    const created: { created_after: number; created_before: number } = {
      created_after: Number.NEGATIVE_INFINITY,
      created_before: Number.POSITIVE_INFINITY,
    };
    for (const param of ['created_after', 'created_before'] as const) {
      const value = query.get(param);
      if (value === null) continue;
      const at = timeOf(value);
      if (Number.isNaN(at))
        return invalidRequest(
          400,
          'parameter_invalid',
          `Invalid ${param}: give Unix seconds or an ISO 8601 time with its zone, such as 2026-01-01T00:00:00Z.`,
          param,
        );
      created[param] = at;
    }
    const limitParam = query.get('limit') ?? String(DEFAULT_LIST_LIMIT);
    const limit = /^\d{1,3}$/.test(limitParam) ? Number(limitParam) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_LIST_LIMIT))
      return invalidRequest(
        400,
        'parameter_invalid',
        `Invalid limit: must be an integer from 1 to ${MAX_LIST_LIMIT}.`,
        'limit',
      );

    // Newest first; charges made in the same millisecond, the one made later first.
    const newestFirst = [...this.chargesById.values()]
      .map((charge, made) => ({ charge, made, at: Date.parse(charge.createdAt) }))
      .sort((a, b) => b.at - a.at || b.made - a.made);
    let from = 0;
    const startingAfter = query.get('starting_after');
    if (startingAfter !== null) {
      const position = newestFirst.findIndex(({ charge }) => charge.id === startingAfter);
      if (position < 0)
        return invalidRequest(
          400,
          'resource_missing',
          `No such charge: '${startingAfter}'`,
          'starting_after',
        );
      from = position + 1;
    }
    const listed = newestFirst
      .slice(from)
      .filter(
        ({ charge, at }) =>
          (reference === null || charge.reference === reference) &&
          at >= created.created_after &&
          at < created.created_before,
      );
    const data = listed.slice(0, limit).map(({ charge: { idempotencyKey: _key, ...charge } }) => charge);
    return jsonResponse(200, { object: 'list', data, hasMore: listed.length > limit });
  }

  private retrieveRefund(id: string): SimulatorResponse {
    const record = this.refundsById.get(id);
    if (!record) return invalidRequest(404, 'resource_missing', `No such refund: '${id}'`, 'id');
    const { idempotencyKey: _key, ...refund } = record;
    return jsonResponse(200, refund);
  }

  /** `GET /v1/refunds?charge=<charge id>`: a charge's refunds, newest first, as a list. */
  private listRefunds(query: URLSearchParams): SimulatorResponse {
    const chargeId = query.get('charge');
    if (chargeId === null || chargeId === '') {
      return invalidRequest(400, 'parameter_missing', 'Missing required param: charge.', 'charge');
    }
    if (!this.chargesById.has(chargeId))
      return invalidRequest(404, 'resource_missing', `No such charge: '${chargeId}'`, 'charge');
    const data = [...this.refundsById.values()]
      .filter((refund) => refund.charge === chargeId)
      .reverse()
      .map(({ idempotencyKey: _key, ...refund }) => refund);
    return jsonResponse(200, { object: 'list', data, hasMore: false });
  }

  private async createCharge(request: SimulatorRequest): Promise<SimulatorResponse> {
    const claimed = this.claimKey(request, 'POST /v1/charges');
    if ('answer' in claimed) return claimed.answer;
    const { key, keyHeaders } = claimed;

    const parsed = parseChargeRequest(claimed.body);
    if ('refusal' in parsed) return withHeaders(parsed.refusal, keyHeaders);
    const charge = parsed.charge;
    const behaviour = PAYMENT_TEST_TOKENS[charge.paymentToken];
    if (!behaviour)
      return withHeaders(
        invalidRequest(400, 'resource_missing', `No such token: '${charge.paymentToken}'`, 'paymentToken'),
        keyHeaders,
      );

    if (behaviour.kind === 'outage' || behaviour.kind === 'down') {
      const outage = this.outage(key, behaviour.kind === 'down', keyHeaders);
      if (outage) return outage;
    }

    return this.runOnce(claimed, request.requestId, async (commit) => {
      // The charge completes even if the caller gave up waiting: a retry then gets it replayed.
      if (behaviour.kind === 'slow') await this.slowAnswer();
      const { record, response: charged } = newCharge(key, charge, behaviour, keyHeaders);
      // The charge is made; what the caller gets (then and on every retry) is the gateway's front door timing out.
      const response =
        behaviour.kind === 'answerLost'
          ? jsonResponse(
              503,
              {
                error: {
                  type: 'api_error',
                  code: 'gateway_timeout',
                  message: 'The payment gateway did not answer in time. Retry with the same Idempotency-Key.',
                },
              },
              { ...keyHeaders, 'Should-Retry': 'true' },
            )
          : charged;
      return commit(response, { charge: record });
    });
  }

  /**
   * `POST /v1/refunds`: gives back some or all of a succeeded charge. Refunds of a `tok_slow` charge answer
   * after the same delay, and those of a `tok_gatewayOutage` charge meet the same outage per refund key, so a
   * client's retries can be tried on refunds too.
   */
  private async createRefund(request: SimulatorRequest): Promise<SimulatorResponse> {
    const claimed = this.claimKey(request, 'POST /v1/refunds');
    if ('answer' in claimed) return claimed.answer;
    const { key, keyHeaders } = claimed;

    const parsed = parseRefundRequest(claimed.body);
    if ('refusal' in parsed) return withHeaders(parsed.refusal, keyHeaders);
    const wanted = parsed.refund;
    const charged = this.chargesById.get(wanted.charge);
    if (!charged)
      return withHeaders(
        invalidRequest(404, 'resource_missing', `No such charge: '${wanted.charge}'`, 'charge'),
        keyHeaders,
      );
    const behaviour = PAYMENT_TEST_TOKENS[charged.paymentToken];
    if (behaviour?.kind === 'outage') {
      const outage = this.outage(key, false, keyHeaders);
      if (outage) return outage;
    }

    return this.runOnce(claimed, request.requestId, async (commit) => {
      if (behaviour?.kind === 'slow') await this.slowAnswer();
      // Checked only now, after any delay, and committed in the same turn: two refunds of one charge under
      // different keys must not both take its last pence.
      const charge = this.chargesById.get(wanted.charge)!;
      const refusal = refundRefusal(charge, wanted.amountPence);
      if (refusal) return withHeaders(refusal, keyHeaders);
      const refund: GatewayRefund = {
        id: `re_sim_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
        object: 'refund',
        status: 'succeeded',
        charge: charge.id,
        amountPence: wanted.amountPence ?? charge.amountPence - charge.amountRefundedPence,
        currency: 'GBP',
        reason: wanted.reason ?? null,
        createdAt: new Date().toISOString(),
      };
      const amountRefundedPence = charge.amountRefundedPence + refund.amountPence;
      return commit(jsonResponse(200, refund, keyHeaders), {
        charge: { ...charge, amountRefundedPence, refunded: amountRefundedPence === charge.amountPence },
        refund: { ...refund, idempotencyKey: key },
      });
    });
  }

  /**
   * The idempotency rules every POST shares: reads the body, refuses card data and a missing or malformed
   * key, replays a kept answer, and refuses a key reused for another request or still in progress.
   */
  private claimKey(
    request: SimulatorRequest,
    endpoint: string,
  ): { readonly answer: SimulatorResponse } | (ClaimedKey & { readonly body: unknown }) {
    let body: unknown;
    try {
      body = JSON.parse(request.body.toString('utf8'));
    } catch {
      return { answer: invalidRequest(400, 'body_not_json', 'The request body must be a JSON object.') };
    }
    // Card data is refused before anything else looks at the request, and is never kept or echoed.
    if (carriesCardData(body))
      return {
        answer: invalidRequest(
          400,
          'card_data_refused',
          'Card numbers and security codes must not be sent to this API: send a payment token from the card form.',
          'paymentToken',
        ),
      };

    const key = headerValue(request, 'idempotency-key');
    if (key === undefined)
      return {
        answer: invalidRequest(400, 'idempotency_key_missing', 'An Idempotency-Key header is required.'),
      };
    if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)
      return {
        answer: invalidRequest(
          400,
          'idempotency_key_invalid',
          `An Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters long.`,
        ),
      };
    this.record({ kind: 'requests', key, count: this.requestCount(key) + 1 });
    const keyHeaders = { 'Idempotency-Key': key };

    // The endpoint is part of the request: a charge's key sent with a refund is a reused key, not a replay.
    const fingerprint = fingerprintOf({ endpoint, body });
    const kept = this.answers.get(key);
    const running = this.inFlight.get(key);
    const earlierFingerprint = kept?.fingerprint ?? running;
    if (earlierFingerprint !== undefined && earlierFingerprint !== fingerprint)
      return {
        answer: idempotencyError(
          422,
          'idempotency_key_reused',
          'Keys for idempotent requests can only be used with the same parameters they were first used with.',
          keyHeaders,
          false,
        ),
      };
    if (kept)
      return {
        answer: {
          ...kept.response,
          headers: {
            ...kept.response.headers,
            'Idempotent-Replayed': 'true',
            'Original-Request': kept.requestId,
          },
        },
      };
    if (running !== undefined)
      return {
        answer: idempotencyError(
          409,
          'idempotency_request_in_progress',
          'There is currently another in-progress request using this Idempotency-Key. Retry it later.',
          keyHeaders,
          true,
        ),
      };
    return { key, fingerprint, keyHeaders, body };
  }

  /**
   * Runs a claimed request with its key marked in progress (a retry meanwhile gets 409). `work` calls `commit`
   * to make its change and keep its answer for replay, in the same turn as the checks it made; an answer it
   * returns without committing (a refusal) is not kept, and the key is free again.
   */
  private async runOnce(
    claimed: ClaimedKey,
    requestId: string,
    work: (commit: Commit) => Promise<SimulatorResponse>,
  ): Promise<SimulatorResponse> {
    const { key, fingerprint } = claimed;
    this.inFlight.set(key, fingerprint);
    const commit: Commit = (response, changes) => {
      this.record({
        kind: 'commit',
        ...changes,
        answer: { key, fingerprint, requestId, response: keepResponse(response) },
      });
      return response;
    };
    try {
      return await work(commit);
    } finally {
      this.inFlight.delete(key);
    }
  }

  protected apply(record: GatewayRecord): void {
    switch (record.kind) {
      case 'commit':
        if (record.charge) this.chargesById.set(record.charge.id, record.charge);
        if (record.refund) this.refundsById.set(record.refund.id, record.refund);
        if (record.answer) {
          const { key, fingerprint, requestId, response } = record.answer;
          this.answers.set(key, { fingerprint, requestId, response: keptResponse(response) });
        }
        return;
      case 'requests':
        this.requestsByKey.set(record.key, record.count);
        return;
      case 'outage':
        this.outageAttemptsByKey.set(record.key, record.attempts);
        return;
      case 'reset':
        this.chargesById.clear();
        this.refundsById.clear();
        this.answers.clear();
        this.requestsByKey.clear();
        this.outageAttemptsByKey.clear();
        return;
    }
  }

  protected *snapshot(): Iterable<GatewayRecord> {
    for (const charge of this.chargesById.values()) yield { kind: 'commit', charge };
    for (const refund of this.refundsById.values()) yield { kind: 'commit', refund };
    for (const [key, { fingerprint, requestId, response }] of this.answers)
      yield { kind: 'commit', answer: { key, fingerprint, requestId, response: keepResponse(response) } };
    for (const [key, count] of this.requestsByKey) yield { kind: 'requests', key, count };
    for (const [key, attempts] of this.outageAttemptsByKey) yield { kind: 'outage', key, attempts };
  }

  /** The 503 of an outage while it lasts for this key (always, when `down`), else undefined. */
  private outage(
    key: string,
    down: boolean,
    keyHeaders: Readonly<Record<string, string>>,
  ): SimulatorResponse | undefined {
    const attempts = (this.outageAttemptsByKey.get(key) ?? 0) + 1;
    this.record({ kind: 'outage', key, attempts });
    if (!down && attempts > this.outageFailures) return undefined;
    return jsonResponse(
      503,
      {
        error: {
          type: 'api_error',
          code: 'gateway_unavailable',
          message: 'The payment gateway is temporarily unavailable. Retry with the same Idempotency-Key.',
        },
      },
      { ...keyHeaders, 'Should-Retry': 'true', 'Retry-After': '1' },
    );
  }

  private describe() {
    return {
      simulator: 'payment-gateway',
      notice: 'A SIMULATOR for local runs and tests. No card is charged and no money moves.',
      endpoints: {
        'POST /v1/charges':
          'header Idempotency-Key; body { amountPence, currency: "GBP", paymentToken, reference }',
        'GET /v1/charges/{id}': 'a charge, succeeded or failed, with amountRefundedPence and refunded',
        'GET /v1/charges?reference=': 'the charges made for a reference, newest first',
        'GET /v1/charges?created_after=&created_before=&limit=&starting_after=':
          'a page of the charges created at or after created_after and before created_before (Unix seconds or ISO 8601 with a zone), newest first; limit 1-100 (default 10); starting_after: the last charge id of the previous page; hasMore says whether another page follows',
        'POST /v1/refunds': `header Idempotency-Key; body { charge, amountPence? (default: all not yet refunded), reason?: ${REFUND_REASONS.join(' | ')} }`,
        'GET /v1/refunds/{id}': 'a refund',
        'GET /v1/refunds?charge=': "a charge's refunds, newest first",
      },
      tokens: Object.fromEntries(
        Object.entries(PAYMENT_TEST_TOKENS).map(([token, behaviour]) => [token, behaviour.description]),
      ),
      refunds: {
        'a succeeded charge': 'refunded, in whole or in parts, up to its amount',
        'a declined charge': '400 charge_not_refundable',
        'more than is left to refund':
          '400 amount_too_large, or charge_already_refunded when nothing is left',
        tok_slow: 'refunds of its charges answer after the same delay',
        tok_gatewayOutage:
          'refunds of its charges answer 503 gateway_unavailable for the first attempts per idempotency key, then are refunded',
      },
      settings: { slowDelayMs: this.slowDelayMs, outageFailures: this.outageFailures },
      state: this.durable
        ? 'kept in the data directory: charges, refunds and idempotency keys survive a restart'
        : 'in memory: forgotten when the process ends',
    };
  }
}

/** A new charge (succeeded, or failed for a decline token) and the gateway's answer to it; nothing is kept yet. */
function newCharge(
  key: string,
  request: ChargeRequest,
  behaviour: TokenBehaviour,
  keyHeaders: Readonly<Record<string, string>>,
): { readonly record: GatewayChargeRecord; readonly response: SimulatorResponse } {
  const declined = behaviour.kind === 'decline' ? behaviour : undefined;
  const charge: GatewayCharge = {
    id: `ch_sim_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
    object: 'charge',
    status: declined ? 'failed' : 'succeeded',
    amountPence: request.amountPence,
    amountRefundedPence: 0,
    refunded: false,
    currency: 'GBP',
    reference: request.reference,
    paymentToken: request.paymentToken,
    failureCode: declined?.failureCode ?? null,
    declineCode: declined?.declineCode ?? null,
    failureMessage: declined?.message ?? null,
    createdAt: new Date().toISOString(),
    livemode: false,
  };
  const record = { ...charge, idempotencyKey: key };
  if (!declined) return { record, response: jsonResponse(200, charge, keyHeaders) };
  const response = jsonResponse(
    402,
    {
      error: {
        type: 'card_error',
        code: declined.failureCode,
        declineCode: declined.declineCode,
        message: declined.message,
        charge: charge.id,
      },
    },
    { ...keyHeaders, 'Should-Retry': 'false' },
  );
  return { record, response };
}

/** Same parameters, whatever the key order or whitespace: what "the same request" means for a retry. */
function fingerprintOf(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null)
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

function headerValue(request: SimulatorRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function idempotencyError(
  status: number,
  code: string,
  message: string,
  keyHeaders: Readonly<Record<string, string>>,
  retry: boolean,
): SimulatorResponse {
  return jsonResponse(
    status,
    { error: { type: 'idempotency_error', code, message } },
    { ...keyHeaders, 'Should-Retry': String(retry), ...(retry ? { 'Retry-After': '1' } : {}) },
  );
}
