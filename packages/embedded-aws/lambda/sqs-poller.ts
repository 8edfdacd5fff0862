/**
 * One event source mapping's poller: the loop Lambda runs for an SQS queue. It long-polls ReceiveMessage,
 * gathers a batch (up to the batch size, for up to the batching window), invokes the function
 * synchronously with the SQS event, and deletes what succeeded. When the function fails, nothing is
 * deleted and nothing else is done: the messages reappear after the queue's visibility timeout, their
 * receive count grows, and the queue's redrive policy moves them to its dead-letter queue in time.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { LambdaRunner } from './lambda-runner.ts';
import { type SqsRecord, sqsRecord, succeededWithPartialFailures } from './sqs-event.ts';

/** What a poller needs to know of its mapping. */
export interface PolledMapping {
  readonly uuid: string;
  readonly functionName: string;
  readonly queueArn: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly reportBatchItemFailures: boolean;
}

/** An invocation's payload may be at most 6 MB; a batch stops growing before it would pass that. */
const MAX_BATCH_BYTES = 6 * 1024 * 1024;
const LONG_POLL_SECONDS = 20;
const MAX_BACKOFF_MS = 20_000;

/**
 * Polls until `signal` aborts; resolves once the batch in hand (if any) is finished.
 *
 * @example
 * const stop = new AbortController();
 * const done = pollQueue({ mapping, sqs, runner, signal: stop.signal, logger: console });
 * stop.abort(); await done;
 */
export async function pollQueue(options: {
  mapping: PolledMapping;
  sqs: SQSClient;
  runner: LambdaRunner;
  signal: AbortSignal;
  logger: Pick<Console, 'warn' | 'error'>;
}): Promise<void> {
  const { mapping, sqs, runner, signal, logger } = options;
  let queueUrl: string | undefined;
  let failures = 0;
  while (!signal.aborted) {
    try {
      // No function, no polling: receiving would only raise the messages' receive counts.
      if (runner.registry.get(mapping.functionName) === undefined) {
        await sleep(1000, signal);
        continue;
      }
      queueUrl ??= await queueUrlOf(sqs, mapping.queueArn, signal);
      const messages = await gather(sqs, queueUrl, mapping, signal);
      if (messages.length > 0) await processBatch(messages, queueUrl, mapping, sqs, runner, logger);
      failures = 0;
    } catch (error) {
      if (signal.aborted) break;
      failures += 1;
      queueUrl = undefined;
      if (failures === 1 || failures % 30 === 0) {
        logger.warn(
          `Event source mapping ${mapping.uuid} (${mapping.queueArn} → ${mapping.functionName}): ${describe(error)}`,
        );
      }
      await sleep(Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(failures, 7)), signal);
    }
  }
}

async function queueUrlOf(sqs: SQSClient, queueArn: string, signal: AbortSignal): Promise<string> {
  const [, , , , accountId = '', queueName = ''] = queueArn.split(':');
  const found = await sqs.send(
    new GetQueueUrlCommand({ QueueName: queueName, QueueOwnerAWSAccountId: accountId }),
    {
      abortSignal: signal,
    },
  );
  if (found.QueueUrl === undefined) throw new Error(`GetQueueUrl gave no URL for ${queueArn}`);
  return found.QueueUrl;
}

/**
 * Receives up to the batch size: with no batching window, whatever the first long poll returns; with a
 * window, more receives until the batch is full, the window has passed, or the payload would pass 6 MB.
 */
async function gather(
  sqs: SQSClient,
  queueUrl: string,
  mapping: PolledMapping,
  signal: AbortSignal,
): Promise<Message[]> {
  const messages: Message[] = [];
  let bytes = 0;
  let windowEnds: number | undefined;
  while (!signal.aborted && messages.length < mapping.batchSize) {
    const windowLeftMs = windowEnds === undefined ? undefined : windowEnds - Date.now();
    if (windowLeftMs !== undefined && windowLeftMs <= 0) break;
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, mapping.batchSize - messages.length),
        WaitTimeSeconds:
          windowLeftMs === undefined
            ? LONG_POLL_SECONDS
            : Math.min(LONG_POLL_SECONDS, Math.ceil(windowLeftMs / 1000)),
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: signal },
    );
    for (const message of received.Messages ?? []) {
      messages.push(message);
      bytes += Buffer.byteLength(message.Body ?? '') + 1024;
    }
    if (messages.length === 0) continue;
    if (mapping.maximumBatchingWindowSeconds === 0 || bytes >= MAX_BATCH_BYTES - 1024 * 1024) break;
    windowEnds ??= Date.now() + mapping.maximumBatchingWindowSeconds * 1000;
  }
  return messages;
}

async function processBatch(
  messages: readonly Message[],
  queueUrl: string,
  mapping: PolledMapping,
  sqs: SQSClient,
  runner: LambdaRunner,
  logger: Pick<Console, 'warn' | 'error'>,
): Promise<void> {
  const records: SqsRecord[] = messages.map((message) => sqsRecord(message, mapping.queueArn));
  const result = await runner.invoke(mapping.functionName, { Records: records });
  // A failed invocation leaves the whole batch to come back after the visibility timeout.
  if (result.functionError !== undefined) return;
  const ids = records.map((record) => record.messageId);
  const succeeded = mapping.reportBatchItemFailures ? succeededWithPartialFailures(result.payload, ids) : ids;
  if (succeeded === undefined) {
    logger.warn(
      `Event source mapping ${mapping.uuid}: ${mapping.functionName} returned an invalid batchItemFailures response; the whole batch will be retried`,
    );
    return;
  }
  const toDelete = records.filter((record) => succeeded.includes(record.messageId));
  for (let start = 0; start < toDelete.length; start += 10) {
    const chunk = toDelete.slice(start, start + 10);
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
      }),
    );
    for (const failure of deleted.Failed ?? []) {
      logger.warn(
        `Event source mapping ${mapping.uuid}: could not delete a message: ${failure.Code} ${failure.Message}`,
      );
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal.aborted) return done();
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      done();
    }
    signal.addEventListener('abort', finish, { once: true });
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
