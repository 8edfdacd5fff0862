import type { FastifyInstance } from 'fastify';
import type { Payment } from '../../../database/payments-repository.ts';
import { statusTokenMatches } from '../../domain/status-token.ts';
import { PAYMENT_ID_PATTERN } from './schemas.ts';

/**
 * The payment when `token` is its status token; undefined for an unknown payment, a wrong or a missing
 * token alike, so a caller cannot tell them apart.
 */
export async function authorisedPayment(
  fastify: FastifyInstance,
  paymentId: string,
  token: string | undefined,
): Promise<Payment | undefined> {
  if (!PAYMENT_ID_PATTERN.test(paymentId)) return undefined;
  const payment = await fastify.payments.findPayment(paymentId);
  if (!payment || token === undefined || token === '') return undefined;
  return statusTokenMatches(token, payment.statusTokenHash) ? payment : undefined;
}
