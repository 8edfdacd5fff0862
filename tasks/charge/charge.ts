/**
 * The charge task: charges the customer's card through the payment gateway, once per payment however often
 * Step Functions calls it (the gateway's idempotency key is the payment id), and records what it learned on
 * the payment in the same statement as its status:
 * - charged: the gateway took the money (its charge id);
 * - declined: definitely not charged, with the reason: a card decline, or the gateway refusing the request
 *   before taking money (an unknown token, an invalid request) — an answer, never an error, so nothing a
 *   customer can send pages on-call;
 * - a gateway that cannot answer now is PaymentGatewayUnavailable, which the state machine retries.
 * When the retries run out, the machine asks this task to confirm the charge (`confirm`): a charge or decline
 * the payment already records stands; otherwise the gateway is asked what it did under the payment's reference,
 * and a definite answer (a succeeded or a failed charge) is recorded as charged or declined. Only an outcome
 * still unknown is recorded as unconfirmed, to be reconciled by an operator. It answers with the charge as the
 * payment then holds it. An operator's `recheck` asks again; then a gateway that holds no charge under the
 * reference is an answer too: declined (`no_charge_at_gateway`). The customer is told by the machine's
 * NotifyCustomer steps, not here.
 * When an operator decides to refund a payment whose vend failed, the machine asks this task to `refund`: the
 * whole charge goes back under its own idempotency key (`refund_<paymentId>`, never the charge's), and the
 * refund id is recorded with the status `refunded`.
 *
 * @example
 * const charge = createCharge({ gateway, payments, logger });
 * await charge({ action: 'charge', paymentId: 'pay_1', meterId: '1200000000011', amountPence: 2000, paymentToken: 'tok_visa' });
 * // { outcome: 'charged', chargeId: 'ch_sim_…', declineReason: null }
 */
import { PaymentNotFoundError, PaymentNotOpenError } from '../../database/payments-errors.ts';
import type { ChargeRecords } from '../../database/payments-repository.ts';
import {
  type ChargeRequest,
  type ChargeResult,
  ChargeTaskRequestSchema,
  type ConfirmChargeRequest,
  NO_CHARGE_AT_GATEWAY,
  REFUSED_CHARGE_REASONS,
  type RecheckChargeRequest,
  type RefundRequest,
  type RefundResult,
} from '../../workflow/contracts.ts';
import type { TaskLogger } from '../shared/logger.ts';
import type { PaymentGateway } from '../shared/payment-gateway/client.ts';
import { PaymentGatewayError, PaymentGatewayRequestRefusedError } from '../shared/payment-gateway/errors.ts';

export interface ChargeDependencies {
  readonly gateway: PaymentGateway;
  readonly payments: ChargeRecords;
  readonly logger: TaskLogger;
}

/** The gateway's idempotency key for a payment: the same for every attempt, so a retry is replayed. */
export function chargeIdempotencyKeyFor(paymentId: string): string {
  return paymentId;
}

/**
 * The gateway's idempotency key for a payment's refund: derived from the payment, so a retried refund is
 * replayed, and unlike the charge's, so the gateway never takes a refund for a replay of the charge.
 */
export function refundIdempotencyKeyFor(paymentId: string): string {
  return `refund_${paymentId}`;
}

export function createCharge(dependencies: ChargeDependencies) {
  return async function chargeTask(event: unknown): Promise<ChargeResult | RefundResult> {
    // The token is validated here but never logged: it stands for a card.
    const request = ChargeTaskRequestSchema.parse(event);
    switch (request.action) {
      case 'charge':
        return charge(dependencies, request);
      case 'confirm':
      case 'recheck':
        return confirm(dependencies, request);
      case 'refund':
        return refund(dependencies, request);
    }
  };
}

async function charge(
  { gateway, payments, logger }: ChargeDependencies,
  request: ChargeRequest,
): Promise<ChargeResult> {
  const { paymentId, amountPence } = request;
  const payment = await payments.findPayment(paymentId);
  if (payment === undefined) throw new PaymentNotFoundError(paymentId);

  let outcome: Awaited<ReturnType<PaymentGateway['charge']>>;
  try {
    outcome = await gateway.charge({
      idempotencyKey: chargeIdempotencyKeyFor(paymentId),
      amountPence,
      paymentToken: request.paymentToken,
      reference: paymentId,
    });
  } catch (error) {
    if (error instanceof PaymentGatewayRequestRefusedError) {
      // Refused before any money moved: the customer's token or request is wrong, not our gateway.
      const reason = refusalReasonOf(error);
      await payments.recordChargeDeclined(paymentId, reason);
      logger.info('charge request refused by the gateway', { paymentId, status: error.status, reason });
      return { outcome: 'declined', chargeId: null, declineReason: reason };
    }
    if (error instanceof PaymentGatewayError) {
      logger.warn('the payment gateway did not charge', {
        paymentId,
        error: error.name,
        reason: error.message,
      });
    }
    throw error;
  }

  if (outcome.status === 'declined') {
    await payments.recordChargeDeclined(paymentId, outcome.declineCode);
    logger.info('card declined', { paymentId, declineCode: outcome.declineCode });
    return { outcome: 'declined', chargeId: null, declineReason: outcome.declineCode };
  }
  await payments.recordCharged(paymentId, outcome.chargeId);
  logger.info('charged', { paymentId, chargeId: outcome.chargeId, amountPence });
  return { outcome: 'charged', chargeId: outcome.chargeId, declineReason: null };
}

async function confirm(
  { gateway, payments, logger }: ChargeDependencies,
  { action, paymentId, chargeError }: ConfirmChargeRequest | RecheckChargeRequest,
): Promise<ChargeResult> {
  const payment = await payments.findPayment(paymentId);
  if (payment === undefined) throw new PaymentNotFoundError(paymentId);
  if (payment.status === 'accepted' || payment.status === 'charge_unconfirmed') {
    const asked = await gateway.findCharge(paymentId).then(
      (found) => ({ answered: true, found }) as const,
      (error: unknown) => {
        // Still unknown: recorded as unconfirmed below, for an operator to reconcile.
        logger.warn('the payment gateway could not be asked about the charge', {
          paymentId,
          reason: error instanceof Error ? error.message : String(error),
        });
        return { answered: false, found: undefined } as const;
      },
    );
    const { found } = asked;
    if (found?.status === 'succeeded') {
      await payments.recordCharged(paymentId, found.chargeId);
      logger.info('charge confirmed by the gateway', { paymentId, chargeId: found.chargeId, chargeError });
      return { outcome: 'charged', chargeId: found.chargeId, declineReason: null };
    }
    if (found?.status === 'declined') {
      await payments.recordChargeDeclined(paymentId, found.declineCode);
      logger.info('decline confirmed by the gateway', { paymentId, declineCode: found.declineCode });
      return { outcome: 'declined', chargeId: null, declineReason: found.declineCode };
    }
    // Right after the retries a request of ours may still be at the gateway, so "no charge" proves nothing. An
    // operator's recheck comes long after every attempt ended (each bounded by the client's timeout): a gateway
    // that holds no charge under the payment's reference then never took the money.
    if (action === 'recheck' && asked.answered && found === undefined) {
      await payments.recordChargeDeclined(paymentId, NO_CHARGE_AT_GATEWAY);
      logger.info('no charge at the gateway: the payment was never charged', { paymentId, chargeError });
      return { outcome: 'declined', chargeId: null, declineReason: NO_CHARGE_AT_GATEWAY };
    }
  }
  const charge = await payments.recordChargeUnconfirmed(paymentId, chargeError);
  if (charge.outcome === 'unconfirmed') {
    logger.warn('charge unconfirmed: reconcile with the gateway', { paymentId, chargeError });
  } else {
    logger.info('charge outcome already recorded', { paymentId, outcome: charge.outcome, chargeError });
  }
  return charge;
}

async function refund(
  { gateway, payments, logger }: ChargeDependencies,
  { paymentId }: RefundRequest,
): Promise<RefundResult> {
  const payment = await payments.findPayment(paymentId);
  if (payment === undefined) throw new PaymentNotFoundError(paymentId);
  if (
    payment.gatewayChargeId === null ||
    (payment.status !== 'vend_failed' && payment.status !== 'refunded')
  ) {
    throw new PaymentNotOpenError(paymentId, payment.status);
  }
  // A refund the gateway made but this task did not record (it crashed) is replayed by the same key.
  const refunded = await gateway.refund({
    idempotencyKey: refundIdempotencyKeyFor(paymentId),
    chargeId: payment.gatewayChargeId,
    reason: 'vend_failed',
  });
  await payments.recordRefunded(paymentId, refunded.refundId);
  logger.info('refunded', { paymentId, refundId: refunded.refundId, amountPence: refunded.amountPence });
  return { refundId: refunded.refundId, amountPence: refunded.amountPence };
}

/** The decline reason of a request the gateway refused: an unknown token is the customer's to fix. */
function refusalReasonOf(error: PaymentGatewayRequestRefusedError): string {
  return error.code === 'resource_missing'
    ? REFUSED_CHARGE_REASONS.invalidPaymentToken
    : REFUSED_CHARGE_REASONS.chargeRequestRefused;
}
