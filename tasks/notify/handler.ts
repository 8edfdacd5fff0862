/** The notify Lambda (the state machine's NotifyCustomer… steps): see notify.ts. */
import { Logger } from '@aws-lambda-powertools/logger';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { DataApi } from '../../database/data-api.ts';
import { databaseConfig } from '../shared/config.ts';
import { DataApiPaymentsStore } from '../shared/database/payments-store.ts';
import { createNotify } from './notify.ts';

const logger = new Logger({ serviceName: 'notify' });
const notify = createNotify({
  store: new DataApiPaymentsStore(new DataApi(new RDSDataClient({}), databaseConfig(process.env))),
  logger,
});

export const handler = async (event: unknown, context: { awsRequestId: string }) => {
  logger.addContext(context as Parameters<Logger['addContext']>[0]);
  return notify(event);
};
