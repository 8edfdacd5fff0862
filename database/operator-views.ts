/**
 * What the operator console reads of the payments database, as its own read-only role (`payments_console`,
 * migration 0006: SELECT on payments, vends, payment_events, follow_ups and decisions, nothing else): payments
 * searched by id, meter or status, one payment in full (its customer events, its vend attempts, its follow-up
 * and the decisions taken on it) and the payments open for an operator's decision, oldest first.
 *
 * The console writes nothing here: a decision is handed to the waiting execution (SendTaskSuccess with the
 * follow-up's task token), which records it in `decisions` itself. Every statement is below, each with its
 * parameters and columns; `OperatorViews` runs them through the Data API (rows formatted as JSON, checked by a
 * schema, times turned into ISO 8601).
 *
 * @example
 * const views = new OperatorViews(new DataApi(new RDSDataClient({}), consoleTarget));
 * await views.searchPayments({ meterId: '9902000000019', limit: 25 });
 * // [{ paymentId: 'pay_…', status: 'vend_failed', openFor: 'vend_failed', ... }]
 * await views.openFollowUps({ limit: 100 }); // oldest first
 */
import { z } from 'zod';
import { type DataApi, isoTimestampOf } from './data-api.ts';
import { PAYMENT_STATUSES, type PaymentStatus, VEND_OUTCOMES, type VendOutcome } from './schema.ts';

/**
 * Payments, newest first, filtered by any of: the payment id (whole or in part, case-insensitive), the meter
 * (exactly), the status (exactly). A filter given as null is not applied.
 * Parameters: paymentId, meterId, status (stringValue or isNull), limit (longValue).
 * Columns: payment_id, meter_id, amount_pence, status, created_at, updated_at, open_for (the follow-up's
 * reason while it is open, else null).
 */
export const SEARCH_PAYMENTS_SQL = `SELECT p.payment_id, p.meter_id, p.amount_pence, p.status, p.created_at, p.updated_at,
  CASE WHEN f.closed_at IS NULL THEN f.reason END AS open_for
FROM payments p
LEFT JOIN follow_ups f ON f.payment_id = p.payment_id
WHERE (CAST(:paymentId AS text) IS NULL OR strpos(lower(p.payment_id), lower(CAST(:paymentId AS text))) > 0)
  AND (CAST(:meterId AS text) IS NULL OR p.meter_id = CAST(:meterId AS text))
  AND (CAST(:status AS text) IS NULL OR p.status = CAST(:status AS text))
ORDER BY p.created_at DESC, p.payment_id DESC
LIMIT :limit`;

/**
 * One payment: its charge (the gateway's charge id, the decline reason, the error that left it unconfirmed),
 * its refund and the UTRN it was vended with (from its successful vend, if any). Never the status token hash.
 * Parameters: paymentId. Columns: payment_id, meter_id, amount_pence, status, gateway_charge_id,
 * decline_reason, charge_error, refund_id, utrn, created_at, updated_at.
 */
export const OPERATOR_PAYMENT_SQL = `SELECT p.payment_id, p.meter_id, p.amount_pence, p.status, p.gateway_charge_id,
  p.decline_reason, p.charge_error, p.refund_id,
  (SELECT v.utrn FROM vends v WHERE v.payment_id = p.payment_id AND v.outcome = 'vended') AS utrn,
  p.created_at, p.updated_at
FROM payments p
WHERE p.payment_id = :paymentId`;

/**
 * A payment's customer events, in order: what the customer was told.
 * Parameters: paymentId. Columns: seq, type, body (the event's own fields, JSON text), at.
 */
export const OPERATOR_PAYMENT_EVENTS_SQL = `SELECT seq, type, body::text AS body, at
FROM payment_events
WHERE payment_id = :paymentId
ORDER BY seq`;

/**
 * A payment's vend attempts, in order, a UTRN recorded by hand among them.
 * Parameters: paymentId. Columns: attempt, transaction_id, outcome, utrn, rejection_code, recorded_by_hand,
 * created_at.
 */
export const OPERATOR_PAYMENT_VENDS_SQL = `SELECT attempt, transaction_id, outcome, utrn, rejection_code,
  recorded_by_hand, created_at
FROM vends
WHERE payment_id = :paymentId
ORDER BY attempt`;

/**
 * A payment's follow-up, open or closed; no row when it was never open for a decision. `task_token` is the
 * waiting AwaitDecision step's (null once decided): whoever holds it can end the payment, so it goes no further
 * than the console's own SendTaskSuccess.
 * Parameters: paymentId. Columns: payment_id, reason, task_token, execution_arn, opened_at, deadline_at,
 * escalations, closed_at.
 */
export const OPERATOR_FOLLOW_UP_SQL = `SELECT payment_id, reason, task_token, execution_arn, opened_at, deadline_at,
  escalations, closed_at
FROM follow_ups
WHERE payment_id = :paymentId`;

/**
 * The audit trail of a payment: every decision taken on it, in the order they were taken.
 * Parameters: paymentId. Columns: decision_id, action, operator, reason, utrn, decided_at, recorded_at.
 */
export const OPERATOR_DECISIONS_SQL = `SELECT decision_id, action, operator, reason, utrn, decided_at, recorded_at
FROM decisions
WHERE payment_id = :paymentId
ORDER BY decided_at, recorded_at, decision_id`;

/**
 * The payments open for an operator's decision, oldest first (follow_ups_open_by_age), with what the list shows
 * of each payment. No task tokens: the list only links to each payment.
 * Parameters: limit (longValue). Columns: payment_id, meter_id, amount_pence, status, reason, execution_arn,
 * opened_at, deadline_at, escalations.
 */
export const OPEN_FOLLOW_UPS_SQL = `SELECT f.payment_id, p.meter_id, p.amount_pence, p.status, f.reason, f.execution_arn,
  f.opened_at, f.deadline_at, f.escalations
FROM follow_ups f
JOIN payments p ON p.payment_id = f.payment_id
WHERE f.closed_at IS NULL
ORDER BY f.opened_at, f.payment_id
LIMIT :limit`;

/** Every statement the console runs, by name (the grants test runs each as the console's role). */
export const OPERATOR_VIEW_STATEMENTS = {
  searchPayments: SEARCH_PAYMENTS_SQL,
  payment: OPERATOR_PAYMENT_SQL,
  events: OPERATOR_PAYMENT_EVENTS_SQL,
  vends: OPERATOR_PAYMENT_VENDS_SQL,
  followUp: OPERATOR_FOLLOW_UP_SQL,
  decisions: OPERATOR_DECISIONS_SQL,
  openFollowUps: OPEN_FOLLOW_UPS_SQL,
} as const;

/** Why a payment is open for a decision (follow_ups.reason). */
export const FOLLOW_UP_REASONS = ['vend_failed', 'charge_unconfirmed'] as const;
export type OpenReason = (typeof FOLLOW_UP_REASONS)[number];

/** The most rows a list statement returns, whatever is asked. */
export const MAX_ROWS = 500;

export interface PaymentSearch {
  /** The payment id, whole or in part. */
  readonly paymentId?: string | undefined;
  readonly meterId?: string | undefined;
  readonly status?: PaymentStatus | undefined;
  readonly limit?: number | undefined;
}

export interface PaymentListItem {
  readonly paymentId: string;
  readonly meterId: string;
  readonly amountPence: number;
  readonly status: PaymentStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Why it is open for a decision, while it is; else null. */
  readonly openFor: OpenReason | null;
}

export interface OperatorPayment {
  readonly paymentId: string;
  readonly meterId: string;
  readonly amountPence: number;
  readonly status: PaymentStatus;
  readonly gatewayChargeId: string | null;
  readonly declineReason: string | null;
  /** The error that left the charge unconfirmed. */
  readonly chargeError: string | null;
  readonly refundId: string | null;
  /** The UTRN of its successful vend (the vendor's, or one recorded by hand). */
  readonly utrn: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A customer event: `{ seq, type, at, ...its own fields }`, as the customer's page has it. */
export interface OperatorPaymentEvent {
  readonly seq: number;
  readonly type: string;
  readonly at: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface OperatorVendAttempt {
  readonly attempt: number;
  readonly transactionId: string;
  readonly outcome: VendOutcome;
  readonly utrn: string | null;
  readonly rejectionCode: string | null;
  /** A UTRN an operator recorded (the vendor gave it out of band). */
  readonly recordedByHand: boolean;
  readonly createdAt: string;
}

export interface OperatorFollowUp {
  readonly paymentId: string;
  readonly reason: OpenReason;
  /** The waiting step's token; null once decided. Never shown. */
  readonly taskToken: string | null;
  readonly executionArn: string | null;
  readonly openedAt: string;
  readonly deadlineAt: string;
  readonly escalations: number;
  readonly closedAt: string | null;
}

export interface OperatorDecision {
  readonly decisionId: string;
  readonly action: string;
  readonly operator: string;
  readonly reason: string;
  readonly utrn: string | null;
  readonly decidedAt: string;
  readonly recordedAt: string;
}

export interface OpenFollowUpItem {
  readonly paymentId: string;
  readonly meterId: string;
  readonly amountPence: number;
  readonly status: PaymentStatus;
  readonly reason: OpenReason;
  readonly executionArn: string | null;
  readonly openedAt: string;
  readonly deadlineAt: string;
  readonly escalations: number;
}

const SearchRowSchema = z.object({
  payment_id: z.string(),
  meter_id: z.string(),
  amount_pence: z.number().int(),
  status: z.enum(PAYMENT_STATUSES),
  created_at: z.string(),
  updated_at: z.string(),
  open_for: z.enum(FOLLOW_UP_REASONS).nullable(),
});
const PaymentRowSchema = z.object({
  payment_id: z.string(),
  meter_id: z.string(),
  amount_pence: z.number().int(),
  status: z.enum(PAYMENT_STATUSES),
  gateway_charge_id: z.string().nullable(),
  decline_reason: z.string().nullable(),
  charge_error: z.string().nullable(),
  refund_id: z.string().nullable(),
  utrn: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
const EventRowSchema = z.object({
  seq: z.number().int(),
  type: z.string(),
  body: z.string(),
  at: z.string(),
});
const VendRowSchema = z.object({
  attempt: z.number().int(),
  transaction_id: z.string(),
  outcome: z.enum(VEND_OUTCOMES),
  utrn: z.string().nullable(),
  rejection_code: z.string().nullable(),
  recorded_by_hand: z.boolean(),
  created_at: z.string(),
});
const FollowUpRowSchema = z.object({
  payment_id: z.string(),
  reason: z.enum(FOLLOW_UP_REASONS),
  task_token: z.string().nullable(),
  execution_arn: z.string().nullable(),
  opened_at: z.string(),
  deadline_at: z.string(),
  escalations: z.number().int(),
  closed_at: z.string().nullable(),
});
const DecisionRowSchema = z.object({
  decision_id: z.string(),
  action: z.string(),
  operator: z.string(),
  reason: z.string(),
  utrn: z.string().nullable(),
  decided_at: z.string(),
  recorded_at: z.string(),
});
const OpenFollowUpRowSchema = z.object({
  payment_id: z.string(),
  meter_id: z.string(),
  amount_pence: z.number().int(),
  status: z.enum(PAYMENT_STATUSES),
  reason: z.enum(FOLLOW_UP_REASONS),
  execution_arn: z.string().nullable(),
  opened_at: z.string(),
  deadline_at: z.string(),
  escalations: z.number().int(),
});

export class OperatorViews {
  readonly #db: DataApi;

  constructor(db: DataApi) {
    this.#db = db;
  }

  /** Newest first; `limit` defaults to 25 and is at most MAX_ROWS. */
  async searchPayments({
    paymentId,
    meterId,
    status,
    limit,
  }: PaymentSearch = {}): Promise<PaymentListItem[]> {
    const rows = await this.#db.query(
      SEARCH_PAYMENTS_SQL,
      {
        paymentId: blankToNull(paymentId),
        meterId: blankToNull(meterId),
        status: status ?? null,
        limit: boundedLimit(limit, 25),
      },
      SearchRowSchema,
    );
    return rows.map((row) => ({
      paymentId: row.payment_id,
      meterId: row.meter_id,
      amountPence: row.amount_pence,
      status: row.status,
      createdAt: isoTimestampOf(row.created_at),
      updatedAt: isoTimestampOf(row.updated_at),
      openFor: row.open_for,
    }));
  }

  async payment(paymentId: string): Promise<OperatorPayment | undefined> {
    const [row] = await this.#db.query(OPERATOR_PAYMENT_SQL, { paymentId }, PaymentRowSchema);
    if (row === undefined) return undefined;
    return {
      paymentId: row.payment_id,
      meterId: row.meter_id,
      amountPence: row.amount_pence,
      status: row.status,
      gatewayChargeId: row.gateway_charge_id,
      declineReason: row.decline_reason,
      chargeError: row.charge_error,
      refundId: row.refund_id,
      utrn: row.utrn,
      createdAt: isoTimestampOf(row.created_at),
      updatedAt: isoTimestampOf(row.updated_at),
    };
  }

  async events(paymentId: string): Promise<OperatorPaymentEvent[]> {
    const rows = await this.#db.query(OPERATOR_PAYMENT_EVENTS_SQL, { paymentId }, EventRowSchema);
    return rows.map((row) => {
      // The log's own seq, type and time win over anything a writer put in the body.
      const { seq: _seq, type: _type, at: _at, ...fields } = JSON.parse(row.body) as Record<string, unknown>;
      return { seq: row.seq, type: row.type, at: isoTimestampOf(row.at), fields };
    });
  }

  async vends(paymentId: string): Promise<OperatorVendAttempt[]> {
    const rows = await this.#db.query(OPERATOR_PAYMENT_VENDS_SQL, { paymentId }, VendRowSchema);
    return rows.map((row) => ({
      attempt: row.attempt,
      transactionId: row.transaction_id,
      outcome: row.outcome,
      utrn: row.utrn,
      rejectionCode: row.rejection_code,
      recordedByHand: row.recorded_by_hand,
      createdAt: isoTimestampOf(row.created_at),
    }));
  }

  async followUp(paymentId: string): Promise<OperatorFollowUp | undefined> {
    const [row] = await this.#db.query(OPERATOR_FOLLOW_UP_SQL, { paymentId }, FollowUpRowSchema);
    if (row === undefined) return undefined;
    return {
      paymentId: row.payment_id,
      reason: row.reason,
      taskToken: row.task_token,
      executionArn: row.execution_arn,
      openedAt: isoTimestampOf(row.opened_at),
      deadlineAt: isoTimestampOf(row.deadline_at),
      escalations: row.escalations,
      closedAt: row.closed_at === null ? null : isoTimestampOf(row.closed_at),
    };
  }

  async decisions(paymentId: string): Promise<OperatorDecision[]> {
    const rows = await this.#db.query(OPERATOR_DECISIONS_SQL, { paymentId }, DecisionRowSchema);
    return rows.map((row) => ({
      decisionId: row.decision_id,
      action: row.action,
      operator: row.operator,
      reason: row.reason,
      utrn: row.utrn,
      decidedAt: isoTimestampOf(row.decided_at),
      recordedAt: isoTimestampOf(row.recorded_at),
    }));
  }

  /** Oldest first; `limit` defaults to 100 and is at most MAX_ROWS. */
  async openFollowUps({ limit }: { limit?: number | undefined } = {}): Promise<OpenFollowUpItem[]> {
    const rows = await this.#db.query(
      OPEN_FOLLOW_UPS_SQL,
      { limit: boundedLimit(limit, 100) },
      OpenFollowUpRowSchema,
    );
    return rows.map((row) => ({
      paymentId: row.payment_id,
      meterId: row.meter_id,
      amountPence: row.amount_pence,
      status: row.status,
      reason: row.reason,
      executionArn: row.execution_arn,
      openedAt: isoTimestampOf(row.opened_at),
      deadlineAt: isoTimestampOf(row.deadline_at),
      escalations: row.escalations,
    }));
  }
}

function blankToNull(value: string | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? null : trimmed;
}

function boundedLimit(limit: number | undefined, fallback: number): number {
  if (limit === undefined || !Number.isInteger(limit) || limit < 1) return fallback;
  return Math.min(limit, MAX_ROWS);
}
