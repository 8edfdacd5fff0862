/**
 * The meter-vending Lambda, fed by the PaymentSuccess queue through an event source mapping with
 * ReportBatchItemFailures: see meter-vending.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DataApi } from '../../database/data-api.ts';
import { databaseConfig, vendingVendorConfig } from '../shared/config.ts';
import { DataApiPaymentsStore } from '../shared/database/payments-store.ts';
import { HttpVendingVendor } from '../shared/vending-vendor/client.ts';
import { createMeterVending, type SqsBatch } from './meter-vending.ts';
import { StepFunctionsTaskTokens } from './task-tokens.ts';

const logger = new Logger({ serviceName: 'meter-vending' });
const consume = createMeterVending({
  vendor: new HttpVendingVendor(vendingVendorConfig(process.env)),
  store: new DataApiPaymentsStore(new DataApi(new RDSDataClient({}), databaseConfig(process.env))),
  tokens: new StepFunctionsTaskTokens(new SFNClient({})),
  logger,
});

export const handler = async (event: SqsBatch, context: { awsRequestId: string }) => {
  logger.addContext(context as Parameters<Logger['addContext']>[0]);
  return consume(event);
};
