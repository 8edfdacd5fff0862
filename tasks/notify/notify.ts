/**
 * The NotifyCustomer steps: appends the event to the payment's `payment_events` log, which every front-end
 * instance tails and pushes to the customer. Telling is all it does: a payment's status is moved by the task
 * that learned the fact (charge, meter-vending). A retried step sends the same event again; it is kept once per
 * (paymentId, type), per (paymentId, type, attempt) for `vend_retrying`.
 *
 * @example
 * const notify = createNotify({ events, logger });
 * await notify({ paymentId: 'pay_1', type: 'vended', utrn: '12345678901234567890', creditPence: 2000 });
 * // { paymentId: 'pay_1', type: 'vended', seq: 5, recorded: true }
 */
import type { CustomerEvent, CustomerEvents } from '../../database/payments-repository.ts';
import {
  METER_REJECTION_CODES,
  type NotificationType,
  type NotifyCustomerRequest,
  NotifyCustomerRequestSchema,
} from '../../workflow/contracts.ts';
import type { TaskLogger } from '../shared/logger.ts';

export interface NotifyDependencies {
  readonly events: CustomerEvents;
  readonly logger: TaskLogger;
}

export interface NotifyResult {
  readonly paymentId: string;
  readonly type: NotificationType;
  readonly seq: number;
  /** False when the customer had already been told this. */
  readonly recorded: boolean;
}

export function createNotify({ events, logger }: NotifyDependencies) {
  return async function notify(event: unknown): Promise<NotifyResult> {
    const request = NotifyCustomerRequestSchema.parse(event);
    const { recorded, seq } = await events.appendEvent(customerEventOf(request));
    logger.info(recorded ? 'customer event appended' : 'customer event already appended', {
      paymentId: request.paymentId,
      type: request.type,
      seq,
    });
    return { paymentId: request.paymentId, type: request.type, seq, recorded };
  };
}

/**
 * The event as the customer sees it. A failed vend says the error that ended it and, for a rejection, the
 * meter's reason, so the page can say what to do; any other cause stays with the operators.
 */
export function customerEventOf(request: NotifyCustomerRequest): CustomerEvent {
  if (request.type === 'vend_failed') {
    const { Error: reason, Cause: cause } = request.failure;
    const rejectionCode = METER_REJECTION_CODES.find((code) => reason === 'VendRejected' && code === cause);
    return {
      paymentId: request.paymentId,
      type: request.type,
      body: { reason, ...(rejectionCode === undefined ? {} : { rejectionCode }) },
    };
  }
  const { paymentId, type, ...body } = request;
  return { paymentId, type, body };
}
