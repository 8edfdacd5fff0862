/**
 * The payments repository: every read and write of `payments`, `vends`, `payment_events` and
 * `idempotency_records`, through the RDS Data API, for the front-end and the task Lambdas alike. Each user
 * takes the narrow part it needs (`FrontEndPayments`, `ChargeRecords`, `VendRecords`, `CustomerEvents`), so a
 * reader sees at once what a piece of code may change; `InMemoryPaymentsRepository`
 * (testing/in-memory-payments-repository.ts) is the same contract in memory for unit tests, and
 * payments-repository.contract.test.ts holds both to it.
 *
 * A payment's status moves only with the fact that moves it, in the same statement, written by the task that
 * learned it: the charge task records charged / declined / unconfirmed, the meter-vending task vended / vend
 * failed. Customer events only tell. Every write tolerates being made again: Step Functions calls a task at
 * least once, and SQS delivers at least once.
 *
 * @example
 * const payments = new DataApiPaymentsRepository(new DataApi(new RDSDataClient({}), target));
 * await payments.recordCharged('pay_1', 'ch_1'); // the same call again changes nothing
 * await payments.appendEvent({ paymentId: 'pay_1', type: 'charged', body: { amountPence: 2000 } });
 * // { recorded: true, seq: 2 }
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ChargeResult, Decision, FollowUpReason } from '../workflow/contracts.ts';
import { type DataApi, isoTimestampOf } from './data-api.ts';
import {
  PaymentChargeConflictError,
  PaymentNotFoundError,
  PaymentNotOpenError,
  PaymentsDatabaseError,
} from './payments-errors.ts';
import { PAYMENT_STATUSES, type PaymentEventType, type PaymentStatus, type VendOutcome } from './schema.ts';
import {
  ACCEPT_PAYMENT_SQL,
  APPEND_PAYMENT_EVENT_SQL,
  EVENT_SEQ_SQL,
  FIND_PAYMENT_SQL,
  IDEMPOTENCY_RECORD_SQL,
  LAST_EVENT_ID_SQL,
  OPEN_FOLLOW_UP_SQL,
  PAYMENT_EVENTS_AFTER_ID_SQL,
  PAYMENT_EVENTS_AFTER_SEQ_SQL,
  RECORD_CHARGE_DECLINED_SQL,
  RECORD_CHARGE_UNCONFIRMED_SQL,
  RECORD_CHARGED_SQL,
  RECORD_DECISION_SQL,
  RECORD_REFUNDED_SQL,
  RECORD_VEND_AFTER_THE_FACT_SQL,
  RECORD_VEND_ATTEMPT_SQL,
  RECORD_VEND_FAILED_SQL,
  VENDED_UTRN_SQL,
} from './statements.ts';

/** How long a key's first response is replayed. */
export const IDEMPOTENCY_TTL_HOURS = 24;

export interface Payment {
  readonly paymentId: string;
  readonly meterId: string;
  readonly amountPence: number;
  readonly status: PaymentStatus;
  readonly statusTokenHash: string;
  readonly gatewayChargeId: string | null;
  readonly declineReason: string | null;
  /** The error that left the charge unconfirmed. */
  readonly chargeError: string | null;
  /** The gateway's refund, once an operator's decision refunded the payment. */
  readonly refundId: string | null;
}

/** The AwaitDecision step opening a payment's follow-up. */
export interface OpenFollowUpRequest {
  readonly paymentId: string;
  readonly taskToken: string;
  readonly executionArn: string;
  readonly deadlineSeconds: number;
}

/** What a payment records once its vend was called failed: `vended` (with its UTRN) when an attempt did vend. */
export interface RecordedVendFailure {
  readonly status: PaymentStatus;
  readonly utrn: string | null;
}

/** A decision as RECORD_DECISION_SQL left it. */
export interface RecordedDecision {
  /** `refused`: a refund was decided for the payment before, and only a refund can end it now. */
  readonly recorded: 'recorded' | 'already-recorded' | 'refused';
  /** The payment's re-vend decisions, this one included. */
  readonly revends: number;
}

/** A payment's follow-up as OPEN_FOLLOW_UP_SQL left it. */
export interface OpenedFollowUp {
  readonly reason: FollowUpReason;
  /** Deadlines missed so far in this round of waiting. */
  readonly escalations: number;
  readonly deadlineAt: string;
}

/** One event as the customer sees it: `{ seq, type, at, ...body }`. */
export interface PaymentEvent {
  readonly seq: number;
  readonly type: string;
  readonly at: string;
  readonly [field: string]: unknown;
}

/** An event from the global tail, with its position and payment. */
export interface TailedEvent {
  readonly id: number;
  readonly paymentId: string;
  readonly event: PaymentEvent;
}

export interface AcceptPaymentRequest {
  readonly idempotencyKey: string;
  readonly requestHash: string;
  readonly payment: Pick<Payment, 'paymentId' | 'meterId' | 'amountPence' | 'statusTokenHash'>;
  /** The 202 body to record for replays. */
  readonly response: object;
}

export type AcceptPaymentOutcome =
  | { readonly kind: 'accepted' }
  | { readonly kind: 'replay'; readonly statusCode: number; readonly response: unknown }
  | { readonly kind: 'key_reused' };

export interface VendAttempt {
  readonly paymentId: string;
  readonly attempt: number;
  readonly transactionId: string;
  readonly outcome: VendOutcome;
  readonly utrn?: string;
  readonly rejectionCode?: string;
  /** A failed attempt that ends the vend (a rejection, or the last attempt): the payment's vend failed. */
  readonly endsVend?: boolean;
}

/** A customer event to append: its type and its own fields. */
export interface CustomerEvent {
  readonly paymentId: string;
  readonly type: Exclude<PaymentEventType, 'accepted'>;
  readonly body: Readonly<Record<string, unknown>>;
}

export interface AppendedEvent {
  /** False when the event was already there (a retried step or a redelivered message). */
  readonly recorded: boolean;
  /** The event's per-payment sequence number. */
  readonly seq: number;
}

export interface PaymentsRepository {
  /** Claims the idempotency key and creates the payment with its `accepted` event, in one statement. */
  acceptPayment(request: AcceptPaymentRequest): Promise<AcceptPaymentOutcome>;
  findPayment(paymentId: string): Promise<Payment | undefined>;
  eventsAfterSeq(paymentId: string, afterSeq: number): Promise<PaymentEvent[]>;
  eventsAfterId(afterId: number, limit: number): Promise<TailedEvent[]>;
  lastEventId(): Promise<number>;
  /** The gateway took the money; the same charge id again is a no-op, a contradiction PaymentChargeConflict. */
  recordCharged(paymentId: string, chargeId: string): Promise<void>;
  /** Definitely not charged, with the reason; after a recorded charge it is PaymentChargeConflict. */
  recordChargeDeclined(paymentId: string, reason: string): Promise<void>;
  /** The outcome is unknown after the retries; answers the charge as the payment now records it. */
  recordChargeUnconfirmed(paymentId: string, chargeError: string): Promise<ChargeResult>;
  /** One row per (payment, attempt), at most one success per payment; a repeat records nothing. */
  recordVendAttempt(attempt: VendAttempt): Promise<'recorded' | 'already-recorded'>;
  /**
   * A charged payment's vend failed after the retries; answers the payment's status, and its UTRN when an attempt
   * did vend (its answer to Step Functions lost, and the attempts after it failed).
   */
  recordVendFailed(paymentId: string): Promise<RecordedVendFailure>;
  /** Appends a customer event once per (paymentId, type), per attempt for `vend_retrying`. */
  appendEvent(event: CustomerEvent): Promise<AppendedEvent>;
  /** Opens (or re-opens) the follow-up of a payment waiting for a decision; PaymentNotOpen if it is not. */
  openFollowUp(request: OpenFollowUpRequest): Promise<OpenedFollowUp>;
  /**
   * Records a decision in the audit trail and closes the follow-up; the same decision again records nothing.
   * Answers whether it recorded, and how many re-vends the payment has had with this one.
   */
  recordDecision(paymentId: string, decision: Decision): Promise<RecordedDecision>;
  /** A vend_failed payment was refunded; the same refund again is a no-op, anything else PaymentNotOpen. */
  recordRefunded(paymentId: string, refundId: string): Promise<void>;
  /** A UTRN given out of band ends a vend_failed payment as vended; the same UTRN again is a no-op. */
  recordUtrnByHand(paymentId: string, transactionId: string, utrn: string): Promise<void>;
  /**
   * A vend the vendor made but no attempt recorded (its answer was lost), found by asking the vendor: a charged
   * or vend_failed payment becomes vended with it. Answers the payment's status and UTRN; a payment already
   * vended keeps its own. Anything else (refunded, not charged) is PaymentNotOpen.
   */
  recordVendFound(paymentId: string, transactionId: string, utrn: string): Promise<RecordedVendFailure>;
}

/** What the front-end reads and writes. */
export type FrontEndPayments = Pick<
  PaymentsRepository,
  'acceptPayment' | 'findPayment' | 'eventsAfterSeq' | 'eventsAfterId' | 'lastEventId'
>;
/** What the charge task records. */
export type ChargeRecords = Pick<
  PaymentsRepository,
  'findPayment' | 'recordCharged' | 'recordChargeDeclined' | 'recordChargeUnconfirmed' | 'recordRefunded'
>;
/** What the meter-vending task records. */
export type VendRecords = Pick<
  PaymentsRepository,
  'recordVendAttempt' | 'recordVendFailed' | 'appendEvent' | 'recordUtrnByHand' | 'recordVendFound'
>;
/** What the follow-up task records: a payment open for a decision, and the decision. */
export type FollowUpRecords = Pick<PaymentsRepository, 'findPayment' | 'openFollowUp' | 'recordDecision'>;
/** What the notify task writes. */
export type CustomerEvents = Pick<PaymentsRepository, 'appendEvent'>;

const PaymentRowSchema = z.object({
  payment_id: z.string(),
  meter_id: z.string(),
  amount_pence: z.number().int(),
  status: z.enum(PAYMENT_STATUSES),
  status_token_hash: z.string(),
  gateway_charge_id: z.string().nullable(),
  decline_reason: z.string().nullable(),
  charge_error: z.string().nullable(),
  refund_id: z.string().nullable(),
});
const StatusRowSchema = z.object({ status: z.enum(PAYMENT_STATUSES) });
const ChargeRowSchema = StatusRowSchema.extend({
  gateway_charge_id: z.string().nullable(),
  decline_reason: z.string().nullable(),
});
const EventRowSchema = z.object({
  seq: z.number().int(),
  type: z.string(),
  body: z.string(),
  at: z.string(),
});
const TailedEventRowSchema = EventRowSchema.extend({ id: z.number().int(), payment_id: z.string() });
const IdempotencyRowSchema = z.object({
  request_hash: z.string(),
  response: z.string(),
  status_code: z.number().int(),
});
// Built once: a zod schema costs far more to build (and compile on its first parse) than to run.
const LastEventIdRowSchema = z.object({ last_id: z.number().int() });
const VendAttemptRowSchema = z.object({ recorded: z.number().int(), status: z.string().nullable() });
const AppendedEventRowSchema = z.object({ seq: z.number().int() }).loose();
const EventSeqRowSchema = z.object({ exists: z.boolean(), seq: z.number().int().nullable() });
const FollowUpRowSchema = z.object({
  reason: z.enum(['vend_failed', 'charge_unconfirmed']),
  escalations: z.number().int(),
  deadline_at: z.string(),
});
const DecisionRowSchema = z.object({
  recorded: z.number().int(),
  closed: z.number().int(),
  refund_decided: z.boolean(),
  revends: z.number().int(),
});
const RecordedRowSchema = z.object({ recorded: z.number().int() });
const VendedUtrnRowSchema = z.object({ status: z.enum(PAYMENT_STATUSES), utrn: z.string().nullable() });

export class DataApiPaymentsRepository implements PaymentsRepository {
  readonly #db: DataApi;

  constructor(db: DataApi) {
    this.#db = db;
  }

  async acceptPayment({
    idempotencyKey,
    requestHash,
    payment,
    response,
  }: AcceptPaymentRequest): Promise<AcceptPaymentOutcome> {
    // Kept hashed: the key is the client's, and it opens what the record keeps sealed for the replay.
    const key = idempotencyRecordKeyOf(idempotencyKey);
    // A key's record is gone only once it expired (and a sweep removed it): then the key is free again.
    for (let attempt = 1; ; attempt += 1) {
      const accepted = await this.#db.execute(ACCEPT_PAYMENT_SQL, {
        key,
        requestHash,
        response: JSON.stringify(response),
        ttlHours: IDEMPOTENCY_TTL_HOURS,
        ...payment,
      });
      if (accepted.length > 0) return { kind: 'accepted' };
      const [record] = await this.#db.query(IDEMPOTENCY_RECORD_SQL, { key }, IdempotencyRowSchema);
      if (record !== undefined) {
        if (record.request_hash !== requestHash) return { kind: 'key_reused' };
        return { kind: 'replay', statusCode: record.status_code, response: JSON.parse(record.response) };
      }
      if (attempt === 3) {
        throw new PaymentsDatabaseError(`idempotency record for ${key} neither claimed nor found`);
      }
    }
  }

  async findPayment(paymentId: string): Promise<Payment | undefined> {
    const [row] = await this.#db.query(FIND_PAYMENT_SQL, { paymentId }, PaymentRowSchema);
    if (row === undefined) return undefined;
    return {
      paymentId: row.payment_id,
      meterId: row.meter_id,
      amountPence: row.amount_pence,
      status: row.status,
      statusTokenHash: row.status_token_hash,
      gatewayChargeId: row.gateway_charge_id,
      declineReason: row.decline_reason,
      chargeError: row.charge_error,
      refundId: row.refund_id,
    };
  }

  async eventsAfterSeq(paymentId: string, afterSeq: number): Promise<PaymentEvent[]> {
    const rows = await this.#db.query(PAYMENT_EVENTS_AFTER_SEQ_SQL, { paymentId, afterSeq }, EventRowSchema);
    return rows.map(eventOf);
  }

  async eventsAfterId(afterId: number, limit: number): Promise<TailedEvent[]> {
    const rows = await this.#db.query(PAYMENT_EVENTS_AFTER_ID_SQL, { afterId, limit }, TailedEventRowSchema);
    return rows.map((row) => ({ id: row.id, paymentId: row.payment_id, event: eventOf(row) }));
  }

  async lastEventId(): Promise<number> {
    const [row] = await this.#db.query(LAST_EVENT_ID_SQL, {}, LastEventIdRowSchema);
    return row?.last_id ?? 0;
  }

  async recordCharged(paymentId: string, chargeId: string): Promise<void> {
    const updated = await this.#db.query(RECORD_CHARGED_SQL, { paymentId, chargeId }, StatusRowSchema);
    if (updated.length > 0) return;
    const payment = await this.#existing(paymentId);
    throw new PaymentChargeConflictError(
      paymentId,
      payment.status === 'charge_declined'
        ? 'is recorded as declined'
        : 'already records a different gateway charge',
    );
  }

  async recordChargeDeclined(paymentId: string, reason: string): Promise<void> {
    const updated = await this.#db.query(RECORD_CHARGE_DECLINED_SQL, { paymentId, reason }, StatusRowSchema);
    if (updated.length > 0) return;
    await this.#existing(paymentId);
    throw new PaymentChargeConflictError(paymentId, 'is recorded as charged');
  }

  async recordChargeUnconfirmed(paymentId: string, chargeError: string): Promise<ChargeResult> {
    const [row] = await this.#db.query(
      RECORD_CHARGE_UNCONFIRMED_SQL,
      { paymentId, chargeError },
      ChargeRowSchema,
    );
    if (row === undefined) throw new PaymentNotFoundError(paymentId);
    return chargeResultOf(row.status, row.gateway_charge_id, row.decline_reason);
  }

  async recordVendAttempt(attempt: VendAttempt): Promise<'recorded' | 'already-recorded'> {
    const [row] = await this.#db.query(
      RECORD_VEND_ATTEMPT_SQL,
      {
        paymentId: attempt.paymentId,
        attempt: attempt.attempt,
        transactionId: attempt.transactionId,
        outcome: attempt.outcome,
        utrn: attempt.utrn ?? null,
        rejectionCode: attempt.rejectionCode ?? null,
        endsVend: attempt.endsVend ?? false,
      },
      VendAttemptRowSchema,
    );
    return row !== undefined && row.recorded > 0 ? 'recorded' : 'already-recorded';
  }

  async recordVendFailed(paymentId: string): Promise<RecordedVendFailure> {
    const [row] = await this.#db.query(RECORD_VEND_FAILED_SQL, { paymentId }, StatusRowSchema);
    if (row !== undefined) return { status: row.status, utrn: null };
    const payment = await this.#vendedUtrn(paymentId);
    return { status: payment.status, utrn: payment.status === 'vended' ? payment.utrn : null };
  }

  async appendEvent({ paymentId, type, body }: CustomerEvent): Promise<AppendedEvent> {
    const [appended] = await this.#db.query(
      APPEND_PAYMENT_EVENT_SQL,
      { paymentId, type, body: { json: body } },
      AppendedEventRowSchema,
    );
    if (appended !== undefined) return { recorded: true, seq: appended.seq };

    // Rare: a retried step or a redelivered message. Find the event it appended the first time.
    const [found] = await this.#db.query(
      EVENT_SEQ_SQL,
      { paymentId, type, attempt: type === 'vend_retrying' ? String(body.attempt ?? '') : '' },
      EventSeqRowSchema,
    );
    if (found?.exists !== true) throw new PaymentNotFoundError(paymentId);
    if (found.seq === null) throw new PaymentsDatabaseError(`appending ${type} to ${paymentId} wrote no row`);
    return { recorded: false, seq: found.seq };
  }

  async openFollowUp({
    paymentId,
    taskToken,
    executionArn,
    deadlineSeconds,
  }: OpenFollowUpRequest): Promise<OpenedFollowUp> {
    const [row] = await this.#db.query(
      OPEN_FOLLOW_UP_SQL,
      { paymentId, taskToken, executionArn, deadlineSeconds },
      FollowUpRowSchema,
    );
    if (row !== undefined) {
      return {
        reason: row.reason,
        escalations: row.escalations,
        deadlineAt: isoTimestampOf(row.deadline_at),
      };
    }
    const payment = await this.#existing(paymentId);
    throw new PaymentNotOpenError(paymentId, payment.status);
  }

  async recordDecision(paymentId: string, decision: Decision): Promise<RecordedDecision> {
    const [row] = await this.#db.query(
      RECORD_DECISION_SQL,
      {
        paymentId,
        decisionId: decision.decisionId,
        action: decision.action,
        operator: decision.operator,
        reason: decision.reason,
        utrn: decision.utrn ?? null,
        decidedAt: decision.decidedAt,
      },
      DecisionRowSchema,
    );
    const refused = row?.refund_decided === true && decision.action !== 'refund';
    return {
      recorded: refused ? 'refused' : row !== undefined && row.recorded > 0 ? 'recorded' : 'already-recorded',
      revends: row?.revends ?? 0,
    };
  }

  async recordRefunded(paymentId: string, refundId: string): Promise<void> {
    const updated = await this.#db.query(RECORD_REFUNDED_SQL, { paymentId, refundId }, StatusRowSchema);
    if (updated.length > 0) return;
    const payment = await this.#existing(paymentId);
    throw new PaymentNotOpenError(paymentId, payment.status);
  }

  async recordUtrnByHand(paymentId: string, transactionId: string, utrn: string): Promise<void> {
    if (await this.#recordVendAfterTheFact(paymentId, transactionId, utrn, true)) return;
    const payment = await this.#vendedUtrn(paymentId);
    // Recorded already by this same decision (a retried step).
    if (payment.status === 'vended' && payment.utrn === utrn) return;
    throw new PaymentNotOpenError(paymentId, payment.status);
  }

  async recordVendFound(
    paymentId: string,
    transactionId: string,
    utrn: string,
  ): Promise<RecordedVendFailure> {
    await this.#recordVendAfterTheFact(paymentId, transactionId, utrn, false);
    const payment = await this.#vendedUtrn(paymentId);
    if (payment.status !== 'vended') throw new PaymentNotOpenError(paymentId, payment.status);
    return payment;
  }

  async #recordVendAfterTheFact(
    paymentId: string,
    transactionId: string,
    utrn: string,
    byHand: boolean,
  ): Promise<boolean> {
    const [row] = await this.#db.query(
      RECORD_VEND_AFTER_THE_FACT_SQL,
      { paymentId, transactionId, utrn, byHand },
      RecordedRowSchema,
    );
    return row !== undefined && row.recorded > 0;
  }

  /** The payment's status and the UTRN of its vend, if any. */
  async #vendedUtrn(paymentId: string): Promise<RecordedVendFailure> {
    const [payment] = await this.#db.query(VENDED_UTRN_SQL, { paymentId }, VendedUtrnRowSchema);
    if (payment === undefined) throw new PaymentNotFoundError(paymentId);
    return payment;
  }

  async #existing(paymentId: string): Promise<Payment> {
    const payment = await this.findPayment(paymentId);
    if (payment === undefined) throw new PaymentNotFoundError(paymentId);
    return payment;
  }
}

/** What idempotency_records.key holds for a POST /api/payments Idempotency-Key: its scope and key, hashed. */
export function idempotencyRecordKeyOf(idempotencyKey: string): string {
  return createHash('sha256').update(`POST /api/payments:${idempotencyKey}`, 'utf8').digest('hex');
}

/** The charge as a payment with this status records it. */
export function chargeResultOf(
  status: PaymentStatus,
  chargeId: string | null,
  declineReason: string | null,
): ChargeResult {
  if (status === 'charge_declined' && declineReason !== null) {
    return { outcome: 'declined', chargeId: null, declineReason };
  }
  if (status !== 'accepted' && status !== 'charge_unconfirmed' && chargeId !== null) {
    return { outcome: 'charged', chargeId, declineReason: null };
  }
  return { outcome: 'unconfirmed', chargeId: null, declineReason: null };
}

function eventOf(row: z.infer<typeof EventRowSchema>): PaymentEvent {
  // The log's own seq, type and time win over anything a writer put in the body.
  const { seq: _seq, type: _type, at: _at, ...fields } = JSON.parse(row.body) as Record<string, unknown>;
  return { seq: row.seq, type: row.type, at: isoTimestampOf(row.at), ...fields };
}
