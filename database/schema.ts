/**
 * The values the schema's CHECK constraints allow, for code that validates before it writes (the front-end's
 * request schema, the tasks' row types). The migrations hold the same lists (0006_follow_ups.sql the latest); schema.test.ts
 * checks that the two agree.
 */
import { NOTIFICATION_TYPES } from '../workflow/contracts.ts';

/** What a single top-up may be, in pence (£10 to £175, the usual online range). */
export const TOP_UP_LIMITS_PENCE = { min: 1000, max: 17500 } as const;

/**
 * payments.status, in the order a payment can reach them. Each is a fact, moved by the task that learns it in
 * the same statement that records it: the charge task (charged, charge_declined, charge_unconfirmed, and
 * refunded on an operator's decision) and the meter-vending task (vended, vend_failed; vended also for a UTRN
 * an operator recorded by hand). `charge_unconfirmed` may later become `charged` or `charge_declined`
 * when the gateway is reconciled.
 */
export const PAYMENT_STATUSES = [
  'accepted',
  'charged',
  'charge_declined',
  'charge_unconfirmed',
  'vended',
  'vend_failed',
  'refunded',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** payment_events.type: the event types of the WebSocket contract — `accepted`, then what the machine tells. */
export const PAYMENT_EVENT_TYPES = ['accepted', ...NOTIFICATION_TYPES] as const;
export type PaymentEventType = (typeof PAYMENT_EVENT_TYPES)[number];

/**
 * vends.outcome: `vended` (a UTRN was issued), `rejected` (the meter refused it; not retryable, with a
 * rejection_code), `vendor_unavailable` (the vendor could not be reached; retryable).
 */
export const VEND_OUTCOMES = ['vended', 'rejected', 'vendor_unavailable'] as const;
export type VendOutcome = (typeof VEND_OUTCOMES)[number];
