/**
 * The Meter Vending consumer of the PaymentSuccess queue: each message is one Vend attempt carrying a Step
 * Functions task token. Per message it first proves the token still open (SendTaskHeartbeat): a message that
 * waited or came back after its attempt ended (timed out, or the execution moved on) is dropped without
 * reaching the vendor. Then it tells the customer `vend_retrying` (attempts after the first, once), asks the
 * vendor for credit under the payment's transaction id (the vendor never vends one transaction twice, and
 * answers a repeat with the same UTRN), records the attempt in `vends` with the payment's status when the
 * attempt settles it (vended; vend failed on a rejection or at the last attempt), and answers the token:
 * SendTaskSuccess `{ utrn, creditPence }`, or SendTaskFailure `VendorUnavailable` (the machine retries) /
 * `VendRejected` with the meter's rejection code as the cause (it does not).
 *
 * Messages are acknowledged once their token is answered, or found closed; only a failure to do either
 * (database or Step Functions unreachable) is reported in `batchItemFailures`, so SQS delivers it again.
 *
 * The state machine also calls this task directly: `recordVendFailed` when the vend failed after the retries
 * without the task having learned it (the attempts ran out of time), and `recordUtrn` when an operator records
 * a UTRN the vendor gave out of band (the payment is vended, by hand).
 *
 * @example
 * const consume = createMeterVending({ vendor, payments, tokens, logger });
 * await consume({ Records: [{ messageId: 'm1', body: JSON.stringify(vendMessage) }] });
 * // { batchItemFailures: [] }
 */
import type { VendRecords } from '../../database/payments-repository.ts';
import type { PaymentStatus } from '../../database/schema.ts';
import {
  ConfirmVendRequestSchema,
  RecordUtrnRequestSchema,
  RecordVendFailedRequestSchema,
  type VendMessage,
  VendMessageSchema,
  type VendResult,
} from '../../workflow/contracts.ts';
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
  readonly payments: VendRecords;
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

/** RecordVendFailed's answer: the payment's status, and the vend when an attempt did vend after all. */
export interface RecordedVendOutcome {
  readonly status: PaymentStatus;
  readonly utrn: string | null;
  readonly creditPence: number | null;
}

/**
 * Records that a charged payment's vend failed after the retries (the machine's RecordVendFailed step). A vend
 * can have been made at the vendor with its answer lost (a dropped connection, a crash between the vendor's
 * answer and the recording) while every later attempt failed, so the vendor is asked first: a vend it made is
 * recorded and stands. A payment that vended is answered with its UTRN, so the machine tells the customer it
 * vended; one the task already recorded as failed is left as it is. When the vendor cannot be asked now the
 * failure is recorded all the same: nobody may be left not knowing, and ConfirmVend asks again before any refund.
 */
export function createRecordVendFailed(
  dependencies: Pick<MeterVendingDependencies, 'vendor' | 'payments' | 'logger'>,
) {
  const { payments, logger } = dependencies;
  return async function recordVendFailed(event: unknown): Promise<RecordedVendOutcome> {
    const { paymentId, failure, amountPence } = RecordVendFailedRequestSchema.parse(event);
    const found = await vendFoundAtVendor(dependencies, paymentId).catch((error: unknown) => {
      if (!(error instanceof VendorUnavailableError)) throw error;
      logger.warn('the vendor could not be asked whether it vended; recording the failure', {
        paymentId,
        reason: error.message,
      });
      return undefined;
    });
    if (found !== undefined) {
      logger.warn('the vend failed after the retries, but the vendor had vended', {
        paymentId,
        error: failure.Error,
      });
      return found;
    }
    const { status, utrn } = await payments.recordVendFailed(paymentId);
    if (status === 'vended' && utrn !== null) {
      // An attempt vended and recorded it, but its answer never reached Step Functions: the vend stands.
      logger.warn('the vend failed after the retries, but an earlier attempt had vended', {
        paymentId,
        error: failure.Error,
      });
      return { status, utrn, creditPence: amountPence ?? null };
    }
    logger.warn('vend failed after the retries', { paymentId, error: failure.Error, status });
    return { status, utrn: null, creditPence: null };
  };
}

/**
 * Asks the vendor what became of a payment's vend before its money goes back (the machine's ConfirmVend step,
 * on a refund decision): a vend it made is recorded and answered, `status: 'vended'`, and the refund is not
 * made; otherwise the payment's status is answered as it is. A vendor that cannot tell now (unreachable, or the
 * vend still under way) is VendorUnavailable: the machine retries, then pages and waits for another decision.
 */
export function createConfirmVend(
  dependencies: Pick<MeterVendingDependencies, 'vendor' | 'payments' | 'logger'>,
) {
  return async function confirmVend(event: unknown): Promise<RecordedVendOutcome> {
    const { paymentId } = ConfirmVendRequestSchema.parse(event);
    const found = await vendFoundAtVendor(dependencies, paymentId);
    if (found !== undefined) {
      dependencies.logger.warn('a refund was decided, but the vendor had vended: no refund', { paymentId });
      return found;
    }
    return { status: 'vend_failed', utrn: null, creditPence: null };
  };
}

/** The payment's vend as the vendor made it, recorded if it was not; undefined when the vendor made none. */
async function vendFoundAtVendor(
  { vendor, payments }: Pick<MeterVendingDependencies, 'vendor' | 'payments'>,
  paymentId: string,
): Promise<RecordedVendOutcome | undefined> {
  const found = await vendor.lookUp(vendTransactionIdFor(paymentId));
  if (found.status !== 'vended') return undefined;
  const recorded = await payments.recordVendFound(paymentId, vendTransactionIdFor(paymentId), found.utrn);
  return { status: recorded.status, utrn: recorded.utrn, creditPence: found.creditPence };
}

/**
 * Records a UTRN an operator obtained from the vendor out of band (the machine's RecordUtrnByHand step, on an
 * operator's decision) as the payment's vend, under its transaction id, and answers as a vend does. The same
 * UTRN again (a retried step) is a no-op; a payment that is not vend_failed is PaymentNotOpen.
 */
export function createRecordUtrnByHand({
  payments,
  logger,
}: Pick<MeterVendingDependencies, 'payments' | 'logger'>) {
  return async function recordUtrnByHand(event: unknown): Promise<VendResult> {
    const { paymentId, utrn, amountPence } = RecordUtrnRequestSchema.parse(event);
    await payments.recordUtrnByHand(paymentId, vendTransactionIdFor(paymentId), utrn);
    logger.info('UTRN recorded by hand', { paymentId });
    return { utrn, creditPence: amountPence };
  };
}

async function vendOne(dependencies: MeterVendingDependencies, body: string): Promise<void> {
  const { vendor, payments, tokens, logger } = dependencies;
  // A message that is not a Vend message throws: it goes back to the queue and on to its dead-letter queue.
  const message = VendMessageSchema.parse(JSON.parse(body));
  const { paymentId, attempt, maxAttempts } = message;
  const transactionId = vendTransactionIdFor(paymentId);

  // Proves the attempt is still waiting for this message before anything reaches the vendor, and restarts
  // the heartbeat clock, which has been running since the message was sent, not since it was received.
  if ((await tokens.heartbeat(message.taskToken)) === 'closed') {
    logger.warn('stale vend message dropped: its attempt has already ended', { paymentId, attempt });
    return;
  }

  // The customer hears of the retries of the first round; a re-vend's round follows an operator's decision,
  // and they hear how it ends.
  if (attempt > 1 && message.vendRound === 1) {
    await payments.appendEvent({ paymentId, type: 'vend_retrying', body: { attempt, maxAttempts } });
  }

  let answer: TokenAnswer;
  try {
    const receipt = await withHeartbeats(dependencies, message, () =>
      vendor.vend({ transactionId, meterId: message.meterId, amountPence: message.amountPence }),
    );
    await payments.recordVendAttempt({
      paymentId,
      attempt: recordedAttemptOf(message),
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
  { payments, tokens, logger }: MeterVendingDependencies,
  message: VendMessage,
  transactionId: string,
  error: VendingVendorError,
): Promise<TokenAnswer> {
  const { paymentId, attempt } = message;
  if (error instanceof VendRejectedError) {
    await payments.recordVendAttempt({
      paymentId,
      attempt: recordedAttemptOf(message),
      transactionId,
      outcome: 'rejected',
      rejectionCode: error.rejectionCode,
      endsVend: true,
    });
    logger.warn('the meter rejected the UTRN', { paymentId, attempt, rejectionCode: error.rejectionCode });
    return tokens.fail(message.taskToken, error.name, error.rejectionCode);
  }
  if (error instanceof VendorUnavailableError) {
    await payments.recordVendAttempt({
      paymentId,
      attempt: recordedAttemptOf(message),
      transactionId,
      outcome: 'vendor_unavailable',
      // The machine retries no further than maxAttempts: the last unavailable attempt ends the vend.
      endsVend: attempt >= message.maxAttempts,
    });
  }
  // VendorUnavailable is retried by the machine; anything else (a refused request) is not.
  logger.warn('vend attempt failed', { paymentId, attempt, error: error.name, reason: error.message });
  return tokens.fail(message.taskToken, error.name, error.message);
}

/**
 * The attempt's number in `vends`, unique across rounds so a re-vend's attempts never collide with the first
 * round's (a redelivered message still finds its own row): round r's attempt a is (r − 1) × maxAttempts + a.
 */
function recordedAttemptOf({ attempt, maxAttempts, vendRound }: VendMessage): number {
  return (vendRound - 1) * maxAttempts + attempt;
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
