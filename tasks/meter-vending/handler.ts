/**
 * The meter-vending Lambda: fed by the PaymentSuccess queue through an event source mapping with
 * ReportBatchItemFailures, and called by the state machine's RecordVendFailed, ConfirmVend and RecordUtrnByHand
 * steps. See meter-vending.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SFNClient } from '@aws-sdk/client-sfn';
import { awsClientConfig } from '../shared/aws-client-config.ts';
import { vendingVendorConfig } from '../shared/config.ts';
import { paymentsRepositoryFrom } from '../shared/payments-repository.ts';
import { HttpVendingVendor } from '../shared/vending-vendor/client.ts';
import {
  createConfirmVend,
  createMeterVending,
  createRecordUtrnByHand,
  createRecordVendFailed,
  type SqsBatch,
} from './meter-vending.ts';
import { StepFunctionsTaskTokens } from './task-tokens.ts';

const logger = new Logger({ serviceName: 'meter-vending' });
const payments = paymentsRepositoryFrom(process.env);
const vendor = new HttpVendingVendor(vendingVendorConfig(process.env));
const consume = createMeterVending({
  vendor,
  payments,
  tokens: new StepFunctionsTaskTokens(new SFNClient(awsClientConfig(process.env))),
  logger,
});
const recordVendFailed = createRecordVendFailed({ vendor, payments, logger });
const confirmVend = createConfirmVend({ vendor, payments, logger });
const recordUtrnByHand = createRecordUtrnByHand({ payments, logger });
const actions: Record<string, (event: unknown) => Promise<unknown>> = {
  recordVendFailed,
  confirmVend,
  recordUtrn: recordUtrnByHand,
};

export const handler = async (event: unknown, context: { awsRequestId: string }) => {
  logger.addContext(context as Parameters<Logger['addContext']>[0]);
  // An SQS event has Records; the state machine's direct call names its action.
  if (isSqsBatch(event)) return consume(event);
  const action = actions[String(actionOf(event))];
  // An unknown action is a machine that does not match this function: fail loudly, never guess.
  if (action === undefined) throw new TypeError(`meter-vending: unknown action ${String(actionOf(event))}`);
  return action(event);
};

function isSqsBatch(event: unknown): event is SqsBatch {
  return typeof event === 'object' && event !== null && Array.isArray((event as SqsBatch).Records);
}

function actionOf(event: unknown): unknown {
  return typeof event === 'object' && event !== null ? (event as { action?: unknown }).action : undefined;
}
