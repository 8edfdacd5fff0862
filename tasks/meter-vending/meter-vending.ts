/**
 * The Meter Vending consumer of the PaymentSuccess queue: each message is one Vend attempt carrying a Step
 * Functions task token. Per message it tells the customer `vend_retrying` (attempts after the first, once),
 * asks the vendor for credit under the payment's transaction id (the vendor never vends one transaction
 * twice, and answers a repeat with the same UTRN), records the attempt in `vends`, and answers the token:
 * SendTaskSuccess `{ utrn, creditPence }`, or SendTaskFailure `VendorUnavailable` (the machine retries) /
 * `VendRejected` with the meter's rejection code as the cause (it does not).
 *
 * Messages are acknowledged once their token is answered, or found closed; only a failure to do either
 * (database or Step Functions unreachable) is reported in `batchItemFailures`, so SQS delivers it again.
 *
 * @example
 * const consume = createMeterVending({ vendor, store, tokens, logger });
 * await consume({ Records: [{ messageId: 'm1', body: JSON.stringify(vendMessage) }] });
 * // { batchItemFailures: [] }
 */
import { type VendMessage, VendMessageSchema, type VendResult } from '../../workflow/contracts.ts';
import type { PaymentsStore } from '../shared/database/payments-store.ts';
import type { TaskLogger } from '../shared/logger.ts';
import type { VendingVendor } from '../shared/vending-vendor/client.ts';
import {
  VendingVendorError,
  VendorUnavailableError,
  VendRejectedError,
} from '../shared/vending-vendor/errors.ts';
import type { TaskTokens, TokenAnswer } from './task-tokens.ts';

/** The part of Lambda's SQS event this consumer reads. */
export interface SqsBatch {
  readonly Records: readonly { readonly messageId: string; readonly body: string }[];
}

export interface SqsBatchResponse {
  readonly batchItemFailures: { itemIdentifier: string }[];
}

export interface MeterVendingDependencies {
  readonly vendor: VendingVendor;
  readonly store: Pick<PaymentsStore, 'recordVendAttempt' | 'appendNotification'>;
  readonly tokens: TaskTokens;
  readonly logger: TaskLogger;
  /** How often to heartbeat the task while the vendor is slow; below the Vend step's HeartbeatSeconds. */
  readonly heartbeatIntervalMs?: number;
}

/** The vendor's transaction id for a payment: the same for every attempt, so a repeat is never a second vend. */
export function vendTransactionIdFor(paymentId: string): string {
  return paymentId;
}

export function createMeterVending(dependencies: MeterVendingDependencies) {
  const { logger } = dependencies;
  return async function consume(batch: SqsBatch): Promise<SqsBatchResponse> {
    const outcomes = await Promise.allSettled(
      batch.Records.map((record) => vendOne(dependencies, record.body)),
    );
    const batchItemFailures: { itemIdentifier: string }[] = [];
    outcomes.forEach((outcome, index) => {
      const record = batch.Records[index];
      if (outcome.status === 'rejected' && record !== undefined) {
        logger.error('vend message not settled; SQS will deliver it again', {
          messageId: record.messageId,
          error: outcome.reason instanceof Error ? outcome.reason.name : 'unknown',
          reason: outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason),
        });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    });
    return { batchItemFailures };
  };
}

async function vendOne(dependencies: MeterVendingDependencies, body: string): Promise<void> {
  const { vendor, store, tokens, logger } = dependencies;
  // A message that is not a Vend message throws: it goes back to the queue and on to its dead-letter queue.
  const message = VendMessageSchema.parse(JSON.parse(body));
  const { paymentId, attempt, maxAttempts } = message;
  const transactionId = vendTransactionIdFor(paymentId);

  if (attempt > 1) {
    await store.appendNotification({ paymentId, type: 'vend_retrying', attempt, maxAttempts });
  }

  let answer: TokenAnswer;
  try {
    const receipt = await withHeartbeats(dependencies, message, () =>
      vendor.vend({ transactionId, meterId: message.meterId, amountPence: message.amountPence }),
    );
    await store.recordVendAttempt({
      paymentId,
      attempt,
      transactionId,
      outcome: 'vended',
      utrn: receipt.utrn,
    });
    const output: VendResult = { utrn: receipt.utrn, creditPence: receipt.creditPence };
    answer = await tokens.succeed(message.taskToken, output);
    logger.info('vended', { paymentId, attempt, creditPence: receipt.creditPence, token: answer });
  } catch (error) {
    if (!(error instanceof VendingVendorError)) throw error;
    answer = await failAttempt(dependencies, message, transactionId, error);
  }
  if (answer === 'closed') {
    logger.warn('the Vend task was already closed; message acknowledged', { paymentId, attempt });
  }
}

async function failAttempt(
  { store, tokens, logger }: MeterVendingDependencies,
  message: VendMessage,
  transactionId: string,
  error: VendingVendorError,
): Promise<TokenAnswer> {
  const { paymentId, attempt } = message;
  if (error instanceof VendRejectedError) {
    await store.recordVendAttempt({
      paymentId,
      attempt,
      transactionId,
      outcome: 'rejected',
      rejectionCode: error.rejectionCode,
    });
    logger.warn('the meter rejected the UTRN', { paymentId, attempt, rejectionCode: error.rejectionCode });
    return tokens.fail(message.taskToken, error.name, error.rejectionCode);
  }
  if (error instanceof VendorUnavailableError) {
    await store.recordVendAttempt({ paymentId, attempt, transactionId, outcome: 'vendor_unavailable' });
  }
  // VendorUnavailable is retried by the machine; anything else (a refused request) is not.
  logger.warn('vend attempt failed', { paymentId, attempt, error: error.name, reason: error.message });
  return tokens.fail(message.taskToken, error.name, error.message);
}

/** Runs `work`, telling Step Functions the task is alive while it takes long. */
async function withHeartbeats<T>(
  { tokens, logger, heartbeatIntervalMs = 20_000 }: MeterVendingDependencies,
  message: VendMessage,
  work: () => Promise<T>,
): Promise<T> {
  const timer = setInterval(() => {
    tokens.heartbeat(message.taskToken).catch((error: unknown) => {
      logger.warn('heartbeat failed', { paymentId: message.paymentId, reason: String(error) });
    });
  }, heartbeatIntervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
