/**
 * The charge Lambda (Step Functions' Charge step): see charge.ts. Built once per cold start from the real
 * clients; locally AWS_ENDPOINT_URL and PAYMENT_GATEWAY_URL point them at the embedded AWS and the simulator.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { DataApi } from '../../database/data-api.ts';
import { databaseConfig, paymentGatewayConfig } from '../shared/config.ts';
import { DataApiPaymentsStore } from '../shared/database/payments-store.ts';
import { HttpPaymentGateway } from '../shared/payment-gateway/client.ts';
import { createCharge } from './charge.ts';

const logger = new Logger({ serviceName: 'charge' });
const charge = createCharge({
  gateway: new HttpPaymentGateway(paymentGatewayConfig(process.env)),
  store: new DataApiPaymentsStore(new DataApi(new RDSDataClient({}), databaseConfig(process.env))),
  logger,
});

export const handler = async (event: unknown, context: { awsRequestId: string }) => {
  logger.addContext(context as Parameters<Logger['addContext']>[0]);
  return charge(event);
};
