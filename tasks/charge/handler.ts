/**
 * The charge Lambda (Step Functions' Charge and ConfirmCharge steps): see charge.ts. Built once per
 * cold start from the real clients; locally AWS_ENDPOINT_URL and PAYMENT_GATEWAY_URL point them at the
 * embedded AWS and the simulator.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { paymentGatewayConfig } from '../shared/config.ts';
import { HttpPaymentGateway } from '../shared/payment-gateway/client.ts';
import { paymentsRepositoryFrom } from '../shared/payments-repository.ts';
import { createCharge } from './charge.ts';

const logger = new Logger({ serviceName: 'charge' });
const charge = createCharge({
  gateway: new HttpPaymentGateway(paymentGatewayConfig(process.env)),
  payments: paymentsRepositoryFrom(process.env),
  logger,
});

export const handler = async (event: unknown, context: { awsRequestId: string }) => {
  logger.addContext(context as Parameters<Logger['addContext']>[0]);
  return charge(event);
};
