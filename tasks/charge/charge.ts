/**
 * The Charge step: charges the customer's card through the payment gateway, once per payment however often
 * Step Functions calls it (the gateway's idempotency key is the payment id), and records the charge on the
 * payment. A decline is the answer `{ outcome: 'declined' }`, never an error; a gateway that cannot answer
 * now is PaymentGatewayUnavailable, which the state machine retries. The customer is told by the machine's
 * NotifyCustomer steps, not here.
 *
 * @example
 * const charge = createCharge({ gateway, store, logger });
 * await charge({ paymentId: 'pay_1', meterId: '1200000000011', amountPence: 2000, paymentToken: 'tok_visa' });
 * // { outcome: 'charged', chargeId: 'ch_sim_…', declineReason: null }
 */
import { ChargeRequestSchema, type ChargeResult } from '../../workflow/contracts.ts';
import { PaymentNotFoundError } from '../shared/database/errors.ts';
import type { PaymentsStore } from '../shared/database/payments-store.ts';
import type { TaskLogger } from '../shared/logger.ts';
import type { PaymentGateway } from '../shared/payment-gateway/client.ts';
import { PaymentGatewayError } from '../shared/payment-gateway/errors.ts';

export interface ChargeDependencies {
  readonly gateway: PaymentGateway;
  readonly store: Pick<PaymentsStore, 'findPayment' | 'recordCharge'>;
  readonly logger: TaskLogger;
}

/** The gateway's idempotency key for a payment: the same for every attempt, so a retry is replayed. */
export function chargeIdempotencyKeyFor(paymentId: string): string {
  return paymentId;
}

export function createCharge({ gateway, store, logger }: ChargeDependencies) {
  return async function charge(event: unknown): Promise<ChargeResult> {
    // The token is validated here but never logged: it stands for a card.
    const request = ChargeRequestSchema.parse(event);
    const { paymentId, amountPence } = request;

    const payment = await store.findPayment(paymentId);
    if (payment === undefined) throw new PaymentNotFoundError(paymentId);

    const outcome = await gateway
      .charge({
        idempotencyKey: chargeIdempotencyKeyFor(paymentId),
        amountPence,
        paymentToken: request.paymentToken,
        reference: paymentId,
      })
      .catch((error: unknown) => {
        if (error instanceof PaymentGatewayError) {
          logger.warn('the payment gateway did not charge', {
            paymentId,
            error: error.name,
            reason: error.message,
          });
        }
        throw error;
      });

    if (outcome.status === 'declined') {
      logger.info('card declined', { paymentId, declineCode: outcome.declineCode });
      return { outcome: 'declined', chargeId: null, declineReason: outcome.declineCode };
    }
    await store.recordCharge(paymentId, outcome.chargeId);
    logger.info('charged', { paymentId, chargeId: outcome.chargeId, amountPence });
    return { outcome: 'charged', chargeId: outcome.chargeId, declineReason: null };
  };
}
