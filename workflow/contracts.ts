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

/** StartExecution's input (the front-end starts one execution per payment, named by its paymentId). */
export const PaymentToVendInputSchema = z.object({
  paymentId,
  meterId,
  amountPence,
  paymentToken: z.string().min(1),
});
export type PaymentToVendInput = z.infer<typeof PaymentToVendInputSchema>;

/** The Charge step's payload to the charge function. */
export const ChargeRequestSchema = PaymentToVendInputSchema;
export type ChargeRequest = z.infer<typeof ChargeRequestSchema>;

/**
 * The charge function's answer. Every field is always present (the machine selects them by path):
 * `chargeId` is null when declined, `declineReason` null when charged. A decline is an answer, never an
 * error; an unreachable gateway is the error `PaymentGatewayUnavailable`.
 */
export const ChargeResultSchema = z.discriminatedUnion('outcome', [
  z.object({ outcome: z.literal('charged'), chargeId: z.string().min(1), declineReason: z.null() }),
  z.object({ outcome: z.literal('declined'), chargeId: z.null(), declineReason: z.string().min(1) }),
]);
export type ChargeResult = z.infer<typeof ChargeResultSchema>;

/** The customer event types, in the order they can occur (DESIGN.md); `accepted` is written by the front-end. */
export const NOTIFICATION_TYPES = [
  'charged',
  'charge_declined',
  'vend_requested',
  'vend_retrying',
  'vended',
  'vend_failed',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/**
 * A NotifyCustomer payload: one event for one payment. The machine sends all but `vend_retrying`, which the
 * meter-vending task sends when it starts an attempt after the first (Step Functions runs no state between
 * the attempts of a Retry). A retried step may send the same event twice: notify keeps one per
 * (paymentId, type) — per (paymentId, type, attempt) for `vend_retrying`.
 */
export const NotifyCustomerRequestSchema = z.discriminatedUnion('type', [
  z.object({ paymentId, type: z.literal('charged'), amountPence }),
  /** `reason`: the gateway's decline reason, or CHARGE_NOT_CONFIRMED when the charge's outcome is unknown. */
  z.object({ paymentId, type: z.literal('charge_declined'), reason: z.string().min(1) }),
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
  /** `reason`: the error that ended the vend (VendorUnavailable, VendRejected, States.Timeout, ...). */
  z.object({ paymentId, type: z.literal('vend_failed'), reason: z.string().min(1) }),
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
});
export type VendMessage = z.infer<typeof VendMessageSchema>;

/** SendTaskSuccess's output for the Vend step. */
export const VendResultSchema = z.object({
  utrn: z.string().regex(/^\d{20}$/),
  creditPence: z.number().int().nonnegative(),
});
export type VendResult = z.infer<typeof VendResultSchema>;

/**
 * The reason given when the charge's outcome is unknown after every retry (the gateway never answered, or the
 * charge task kept failing): the card may or may not have been charged, so it is not a decline.
 */
export const CHARGE_NOT_CONFIRMED = 'charge_not_confirmed';

/**
 * A PaymentFailure message: a payment that was not charged (`reason` is the gateway's decline reason), or
 * whose charge was not confirmed (`reason` is CHARGE_NOT_CONFIRMED, with the error that stopped it in
 * `failure`): that one must be reconciled with the gateway, by its idempotency key (the paymentId).
 */
export const PaymentFailureMessageSchema = z.object({
  paymentId,
  meterId,
  amountPence,
  reason: z.string().min(1),
  failure: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
  executionArn: z.string().min(1).optional(),
});
export type PaymentFailureMessage = z.infer<typeof PaymentFailureMessageSchema>;

/** A VendingFailure message: a charged payment whose meter could not be credited. */
export const VendingFailureMessageSchema = z.object({
  paymentId,
  meterId,
  amountPence,
  chargeId: z.string().min(1),
  /** Step Functions' error output: `Cause` is absent when the failure gave none. */
  failure: z.object({ Error: z.string(), Cause: z.string().optional() }),
  executionArn: z.string().min(1),
});
export type VendingFailureMessage = z.infer<typeof VendingFailureMessageSchema>;
