/** The notify Lambda (the state machine's NotifyCustomer… steps): see notify.ts. */
import { Logger } from '@aws-lambda-powertools/logger';
import { paymentsRepositoryFrom } from '../shared/payments-repository.ts';
import { createNotify } from './notify.ts';

const logger = new Logger({ serviceName: 'notify' });
const notify = createNotify({ events: paymentsRepositoryFrom(process.env), logger });

export const handler = async (event: unknown, context: { awsRequestId: string }) => {
  logger.addContext(context as Parameters<Logger['addContext']>[0]);
  return notify(event);
};
