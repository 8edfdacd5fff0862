/** The follow-up Lambda (the state machine's AwaitDecision and RecordDecision steps): see follow-up.ts. */
import { Logger } from '@aws-lambda-powertools/logger';
import { paymentsRepositoryFrom } from '../shared/payments-repository.ts';
import { createFollowUp } from './follow-up.ts';

const logger = new Logger({ serviceName: 'follow-up' });
const followUp = createFollowUp({ payments: paymentsRepositoryFrom(process.env), logger });

export const handler = async (event: unknown, context: { awsRequestId: string }) => {
  logger.addContext(context as Parameters<Logger['addContext']>[0]);
  return followUp(event);
};
