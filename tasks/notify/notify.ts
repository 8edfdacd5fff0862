/**
 * The NotifyCustomer steps (and the meter-vending task's `vend_retrying`): appends the event to the payment's
 * `payment_events` log, which every front-end instance tails and pushes to the customer, and moves
 * `payments.status` on. A retried step sends the same event again; it is kept once per (paymentId, type), per
 * (paymentId, type, attempt) for `vend_retrying`.
 *
 * @example
 * const notify = createNotify({ store, logger });
 * await notify({ paymentId: 'pay_1', type: 'vended', utrn: '12345678901234567890', creditPence: 2000 });
 * // { paymentId: 'pay_1', type: 'vended', seq: 5, recorded: true }
 */
import { type NotificationType, NotifyCustomerRequestSchema } from '../../workflow/contracts.ts';
import type { PaymentsStore } from '../shared/database/payments-store.ts';
import type { TaskLogger } from '../shared/logger.ts';

export interface NotifyDependencies {
  readonly store: Pick<PaymentsStore, 'appendNotification'>;
  readonly logger: TaskLogger;
}

export interface NotifyResult {
  readonly paymentId: string;
  readonly type: NotificationType;
  readonly seq: number;
  /** False when the customer had already been told this. */
  readonly recorded: boolean;
}

export function createNotify({ store, logger }: NotifyDependencies) {
  return async function notify(event: unknown): Promise<NotifyResult> {
    const request = NotifyCustomerRequestSchema.parse(event);
    const { recorded, seq } = await store.appendNotification(request);
    logger.info(recorded ? 'customer event appended' : 'customer event already appended', {
      paymentId: request.paymentId,
      type: request.type,
      seq,
    });
    return { paymentId: request.paymentId, type: request.type, seq, recorded };
  };
}
