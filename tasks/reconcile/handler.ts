/**
 * The reconcile Lambda (an EventBridge schedule on AWS, every 15 minutes; `npm run reconcile` locally): see
 * reconcile.ts. Built once per cold start from the real clients; it reaches the payments database as
 * `payments_reconcile` (its own secret, DATABASE_SECRET_ARN), and locally AWS_ENDPOINT_URL and
 * PAYMENT_GATEWAY_URL point it at the embedded AWS and the gateway simulator.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { DataApi } from '../../database/data-api.ts';
import { DataApiReconciliationRecords } from '../../database/reconciliation.ts';
import { awsClientConfig } from '../shared/aws-client-config.ts';
import { databaseConfig, paymentGatewayConfig } from '../shared/config.ts';
import { HttpPaymentGateway } from '../shared/payment-gateway/client.ts';
import { createReconcile } from './reconcile.ts';

const logger = new Logger({ serviceName: 'reconcile' });
const reconcile = createReconcile({
  gateway: new HttpPaymentGateway(paymentGatewayConfig(process.env)),
  records: new DataApiReconciliationRecords(
    new DataApi(new RDSDataClient(awsClientConfig(process.env)), databaseConfig(process.env)),
  ),
  logger,
});

export const handler = async (event: unknown, context: { awsRequestId: string }) => {
  logger.addContext(context as Parameters<Logger['addContext']>[0]);
  return reconcile(event);
};
