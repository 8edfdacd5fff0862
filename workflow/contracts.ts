/**
 * What the PaymentToVend state machine sends and expects: the execution input, the charge function's
 * request and answer, the NotifyCustomer payloads, the Vend message and its SendTaskSuccess output, and the
 * follow-up messages. The tasks validate their input with these at their edge; the workflow's tests check
 * that the machine sends exactly these shapes.
 *
 * @example
 * const message = VendMessageSchema.parse(JSON.parse(record.body));
 * // { taskToken, paymentId, meterId, amountPence, chargeId, attempt: 1, maxAttempts: 4 }
 */
import { z } from 'zod';

const paymentId = z.string().min(1);
const meterId = z.string().min(1);
const amountPence = z.number().int().positive();

/**
 * StartExecution's input (the front-end starts one execution per payment, named by its paymentId). The
 * `paymentToken` stands for the customer's card: the machine hands it to the Charge step alone (from
 * `$$.Execution.Input`) and drops it from the state before Charge, so no later state, queue message or
 * history event after Charge carries it.
 */
export const PaymentToVendInputSchema = z.object({
  paymentId,
  meterId,
  amountPence,
  paymentToken: z.string().min(1),
});
export type PaymentToVendInput = z.infer<typeof PaymentToVendInputSchema>;

/** The Charge step's payload to the charge function. */
export const ChargeRequestSchema = PaymentToVendInputSchema.extend({ action: z.literal('charge') });
export type ChargeRequest = z.infer<typeof ChargeRequestSchema>;

/**
 * The ConfirmCharge step's payload to the charge function: the Charge step failed after its retries
 * (`chargeError` is the error it ended with), so the outcome is unknown unless the payment already records one
 * or the gateway, asked by the payment's reference, has a definite answer.
 */
export const ConfirmChargeRequestSchema = z.object({
  action: z.literal('confirm'),
  paymentId,
  chargeError: z.string().min(1),
});
export type ConfirmChargeRequest = z.infer<typeof ConfirmChargeRequestSchema>;

/**
 * The RecheckCharge step's payload, on an operator's decision: confirm again, long after every attempt ended, so
 * a gateway holding no charge under the payment's reference means it was never charged.
 */
export const RecheckChargeRequestSchema = ConfirmChargeRequestSchema.extend({ action: z.literal('recheck') });
export type RecheckChargeRequest = z.infer<typeof RecheckChargeRequestSchema>;

/**
 * The Refund step's payload to the charge function: an operator decided to refund a payment whose vend failed;
 * the whole charge goes back (the gateway's idempotency key is `refund_<paymentId>`).
 */
export const RefundRequestSchema = z.object({ action: z.literal('refund'), paymentId });
export type RefundRequest = z.infer<typeof RefundRequestSchema>;

/** What the charge function is asked: to charge, to confirm (or recheck) a charge whose outcome is unknown, or to refund. */
export const ChargeTaskRequestSchema = z.discriminatedUnion('action', [
  ChargeRequestSchema,
  ConfirmChargeRequestSchema,
  RecheckChargeRequestSchema,
  RefundRequestSchema,
]);

/**
 * The charge function's answer, the charge as the payment records it. Every field is always present (the
 * machine selects them by path): `chargeId` only when charged, `declineReason` only when declined.
 * - charged: the gateway took the money;
 * - declined: definitely not charged (a card decline, or the gateway refused the request before taking money:
 *   an unknown token, an invalid request), with the reason;
 * - unconfirmed: the outcome is still unknown after the retries and after asking the gateway (only ever
 *   answered to ConfirmCharge); it is reconciled by an operator and pages on-call.
 * A decline is an answer, never an error; an unreachable gateway is the error `PaymentGatewayUnavailable`.
 */
export const ChargeResultSchema = z.discriminatedUnion('outcome', [
  z.object({ outcome: z.literal('charged'), chargeId: z.string().min(1), declineReason: z.null() }),
  z.object({ outcome: z.literal('declined'), chargeId: z.null(), declineReason: z.string().min(1) }),
  z.object({ outcome: z.literal('unconfirmed'), chargeId: z.null(), declineReason: z.null() }),
]);
export type ChargeResult = z.infer<typeof ChargeResultSchema>;

/** The decline reasons the charge task gives when the gateway refuses the request itself (no money taken). */
export const REFUSED_CHARGE_REASONS = {
  /** The gateway does not know the payment token. */
  invalidPaymentToken: 'invalid_payment_token',
  /** Any other request the gateway refused as invalid. */
  chargeRequestRefused: 'charge_request_refused',
} as const;

/**
 * The decline reason of an unconfirmed charge rechecked on an operator's decision and found nowhere at the
 * gateway: none of the payment's charge requests took the money.
 */
export const NO_CHARGE_AT_GATEWAY = 'no_charge_at_gateway';

/** The customer event types, in the order they can occur (DESIGN.md); `accepted` is written by the front-end. */
export const NOTIFICATION_TYPES = [
  'charged',
  'charge_declined',
  'charge_unconfirmed',
  'vend_requested',
  'vend_retrying',
  'vended',
  'vend_failed',
  'refunded',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** Why a meter refuses a UTRN: never retryable (the vendor's codes, passed on as VendRejected's cause). */
export const METER_REJECTION_CODES = [
  'DUPLICATE_UTRN',
  'NOT_AUTHENTIC',
  'NOT_FOR_THIS_DEVICE',
  'EXCEEDS_MAX_CREDIT_THRESHOLD',
  'EXCEEDS_MAX_METER_BALANCE',
  'METER_LOCKED_OUT',
] as const;

/** Step Functions' error output of a failed step: `Cause` is absent when the failure gave none. */
export const StepFailureSchema = z.object({ Error: z.string(), Cause: z.string().optional() });
export type StepFailure = z.infer<typeof StepFailureSchema>;

/**
 * A NotifyCustomer payload: one event for one payment. The machine sends all but `vend_retrying`, which the
 * meter-vending task sends when it starts an attempt after the first (Step Functions runs no state between
 * the attempts of a Retry). A retried step may send the same event twice: notify keeps one per
 * (paymentId, type) — per (paymentId, type, attempt) for `vend_retrying`.
 */
export const NotifyCustomerRequestSchema = z.discriminatedUnion('type', [
  z.object({ paymentId, type: z.literal('charged'), amountPence }),
  /** `reason`: the gateway's decline code, or one of REFUSED_CHARGE_REASONS. */
  z.object({ paymentId, type: z.literal('charge_declined'), reason: z.string().min(1) }),
  z.object({ paymentId, type: z.literal('charge_unconfirmed') }),
  z.object({
    paymentId,
    type: z.literal('vend_requested'),
    meterId,
    maxAttempts: z.number().int().positive(),
  }),
  z.object({
    paymentId,
    type: z.literal('vend_retrying'),
    attempt: z.number().int().min(2),
    maxAttempts: z.number().int().positive(),
  }),
  z.object({
    paymentId,
    type: z.literal('vended'),
    utrn: z.string().regex(/^\d{20}$/),
    creditPence: z.number().int().nonnegative(),
  }),
  /**
   * `failure`: the error that ended the vend (VendorUnavailable, VendRejected, States.Timeout, ...). The
   * customer's event says `reason` (the error) and, for VendRejected, `rejectionCode` (one of
   * METER_REJECTION_CODES), so the page can say what to do.
   */
  z.object({ paymentId, type: z.literal('vend_failed'), failure: StepFailureSchema }),
  /** An operator's refund ended the payment: the gateway's refund id and the amount given back. */
  z.object({ paymentId, type: z.literal('refunded'), refundId: z.string().min(1), amountPence }),
]);
export type NotifyCustomerRequest = z.infer<typeof NotifyCustomerRequestSchema>;

/**
 * The body of a PaymentSuccess message, read by the meter-vending task. Answer with SendTaskSuccess
 * (output: `VendResultSchema`) or SendTaskFailure (error `VendorUnavailable`: retried; `VendRejected`:
 * not), and SendTaskHeartbeat while the vendor call takes long. `attempt` counts from 1; when it is above 1
 * the task tells the customer `vend_retrying` with `attempt` and `maxAttempts`.
 */
export const VendMessageSchema = z.object({
  taskToken: z.string().min(1),
  paymentId,
  meterId,
  amountPence,
  chargeId: z.string().min(1),
  attempt: z.number().int().positive(),
  maxAttempts: z.number().int().positive(),
  /**
   * Which round of attempts this is: 1, then one more for each re-vend an operator decided. `attempt` counts
   * within the round. (Absent from messages sent before rounds existed: 1.)
   */
  vendRound: z.number().int().positive().default(1),
});
export type VendMessage = z.infer<typeof VendMessageSchema>;

/** SendTaskSuccess's output for the Vend step. */
export const VendResultSchema = z.object({
  utrn: z.string().regex(/^\d{20}$/),
  creditPence: z.number().int().nonnegative(),
});
export type VendResult = z.infer<typeof VendResultSchema>;

/** The PaymentFailure reason of a charge whose outcome is unknown after every retry: it may have been taken. */
export const CHARGE_UNCONFIRMED = 'charge_unconfirmed';

/**
 * A PaymentFailure message: a payment that was not charged (`reason` is the decline reason), or whose charge
 * was not confirmed (`reason` is CHARGE_UNCONFIRMED, with the error that stopped it in `failure`): that one
 * must be reconciled with the gateway, by its idempotency key (the paymentId).
 */
export const PaymentFailureMessageSchema = z.object({
  paymentId,
  meterId,
  amountPence,
  reason: z.string().min(1),
  failure: StepFailureSchema.optional(),
  executionArn: z.string().min(1).optional(),
});
export type PaymentFailureMessage = z.infer<typeof PaymentFailureMessageSchema>;

/** A VendingFailure message: a charged payment whose meter could not be credited. */
export const VendingFailureMessageSchema = z.object({
  paymentId,
  meterId,
  amountPence,
  chargeId: z.string().min(1),
  /**
   * Which round of vend attempts failed: 1, then one more per re-vend an operator decided. A consumer dedupes by
   * (paymentId, vendRound): the same pair again is a repeat of one message (a step run again), a new round a new
   * failure.
   */
  vendRound: z.number().int().positive(),
  failure: StepFailureSchema,
  executionArn: z.string().min(1),
});
export type VendingFailureMessage = z.infer<typeof VendingFailureMessageSchema>;

/**
 * The RecordVendFailed step's payload to the meter-vending function: the Vend step failed after its retries,
 * with this error, and the payment is recorded as vend_failed (unless the meter-vending task already did so).
 */
export const RecordVendFailedRequestSchema = z.object({
  action: z.literal('recordVendFailed'),
  /** What the payment is credited when an attempt did vend after all (the vendor credits the amount paid). */
  amountPence: amountPence.optional(),
  paymentId,
  failure: StepFailureSchema,
});
export type RecordVendFailedRequest = z.infer<typeof RecordVendFailedRequestSchema>;

/**
 * The ConfirmVend step's payload to the meter-vending function: before a refund is made, ask the vendor whether
 * it vended after all (a vend whose answer was lost); it answers as RecordVendFailed does.
 */
export const ConfirmVendRequestSchema = z.object({ action: z.literal('confirmVend'), paymentId });
export type ConfirmVendRequest = z.infer<typeof ConfirmVendRequestSchema>;

// ─── Decisions: a payment open for an operator ──────────────────────────────────────────────────

/** A 20-digit UTRN. */
const utrn = z.string().regex(/^\d{20}$/, 'a UTRN is 20 digits');

/**
 * What an operator may decide about an open payment:
 * - `revend`: ask the vendor again under the same transaction id (it never vends one transaction twice);
 * - `record_utrn`: the vendor gave a UTRN out of band (by phone, from its portal); record it as the vend;
 * - `refund`: give the money back through the gateway (its own idempotency key, `refund_<paymentId>`);
 * - `recheck_charge`: ask the gateway again about a charge whose outcome is unknown.
 * The first three end a failed vend; the last an unconfirmed charge (`DECISIONS_BY_REASON`).
 */
export const DECISION_ACTIONS = ['revend', 'record_utrn', 'refund', 'recheck_charge'] as const;
export type DecisionAction = (typeof DECISION_ACTIONS)[number];

/** Why a payment is open, and the decisions that can end it. */
export const DECISIONS_BY_REASON = {
  vend_failed: ['revend', 'record_utrn', 'refund'],
  charge_unconfirmed: ['recheck_charge'],
} as const satisfies Record<string, readonly DecisionAction[]>;
export type FollowUpReason = keyof typeof DECISIONS_BY_REASON;

/**
 * The decisions that can end a payment open for `reason`, given the actions already decided for it. Once a
 * refund was decided, only a refund can end it: a refund whose answer was lost may have been made at the gateway
 * (which replays it for the same key), and a re-vend or a UTRN then would give the customer both.
 */
export function decisionsOpenTo(
  reason: FollowUpReason,
  earlierActions: readonly string[],
): readonly DecisionAction[] {
  return earlierActions.includes('refund') ? ['refund'] : DECISIONS_BY_REASON[reason];
}

/**
 * An operator's decision: the output the console sends with SendTaskSuccess to the AwaitDecision step's token.
 * `decisionId` is the console's (one per click), so the same decision handed over twice is recorded once;
 * `operator` is who decided (their name, or their AWS identity's ARN), `reason` why, in their words.
 */
export const DecisionSchema = z
  .object({
    decisionId: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
    action: z.enum(DECISION_ACTIONS),
    operator: z.string().trim().min(1).max(200),
    reason: z.string().trim().min(1).max(1000),
    decidedAt: z.iso.datetime({ offset: true }),
    utrn: utrn.optional(),
  })
  .refine((decision) => (decision.action === 'record_utrn') === (decision.utrn !== undefined), {
    message: 'a UTRN is given with record_utrn, and only then',
    path: ['utrn'],
  });
export type Decision = z.infer<typeof DecisionSchema>;

/**
 * The AwaitDecision step's payload to the follow-up function (lambda:invoke.waitForTaskToken): open the
 * payment's follow-up with this token, paging again after `deadlineSeconds` if nobody decides.
 */
export const OpenFollowUpRequestSchema = z.object({
  action: z.literal('open'),
  paymentId,
  taskToken: z.string().min(1),
  executionArn: z.string().min(1),
  deadlineSeconds: z.number().int().positive(),
});
export type OpenFollowUpRequest = z.infer<typeof OpenFollowUpRequestSchema>;

/**
 * The RecordDecision step's payload: the decision the execution was given, to record in the audit trail
 * (closing the follow-up) before it is carried out. A decision the payment cannot take (a refund of an
 * unconfirmed charge) is refused with `DecisionRefused`, and the payment waits again.
 */
export const RecordDecisionRequestSchema = z.object({
  action: z.literal('recordDecision'),
  paymentId,
  decision: z.unknown(),
});
export type RecordDecisionRequest = z.infer<typeof RecordDecisionRequestSchema>;

/** The follow-up function's requests. */
export const FollowUpTaskRequestSchema = z.discriminatedUnion('action', [
  OpenFollowUpRequestSchema,
  RecordDecisionRequestSchema,
]);

/** The charge function's answer to a refund. */
export const RefundResultSchema = z.object({ refundId: z.string().min(1), amountPence });
export type RefundResult = z.infer<typeof RefundResultSchema>;

/**
 * The RecordUtrnByHand step's payload to the meter-vending function: a UTRN the vendor gave out of band. It
 * answers as a vend does (`VendResultSchema`), crediting the amount paid.
 */
export const RecordUtrnRequestSchema = z.object({
  action: z.literal('recordUtrn'),
  paymentId,
  amountPence,
  utrn,
});
export type RecordUtrnRequest = z.infer<typeof RecordUtrnRequestSchema>;
