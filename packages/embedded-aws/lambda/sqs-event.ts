/**
 * The event Lambda gives a function for a batch of SQS messages, built from ReceiveMessage's output the
 * way Lambda's SQS poller builds it (Lambda developer guide, "Using Lambda with Amazon SQS", example event).
 */
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';

/** One message attribute as the event spells it: camelCase, binaries base64, list members always present. */
export interface SqsRecordMessageAttribute {
  readonly stringValue?: string;
  readonly binaryValue?: string;
  readonly stringListValues: readonly string[];
  readonly binaryListValues: readonly string[];
  readonly dataType: string;
}

export interface SqsRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  /** ApproximateReceiveCount, SentTimestamp, SenderId, ApproximateFirstReceiveTimestamp, and for FIFO
   *  queues SequenceNumber, MessageGroupId, MessageDeduplicationId; all strings. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly messageAttributes: Readonly<Record<string, SqsRecordMessageAttribute>>;
  readonly md5OfMessageAttributes?: string;
  readonly md5OfBody: string;
  readonly eventSource: 'aws:sqs';
  readonly eventSourceARN: string;
  readonly awsRegion: string;
}

export interface SqsEvent {
  readonly Records: readonly SqsRecord[];
}

/**
 * The record for one received message of the queue `queueArn`.
 *
 * @example
 * sqsRecord({ MessageId: 'm1', ReceiptHandle: 'r1', Body: 'hi', MD5OfBody: '49f6…', Attributes: {} },
 *   'arn:aws:sqs:us-east-1:000000000000:orders');
 * // { messageId: 'm1', receiptHandle: 'r1', body: 'hi', attributes: {}, messageAttributes: {},
 * //   md5OfBody: '49f6…', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:…:orders', awsRegion: 'us-east-1' }
 */
export function sqsRecord(message: Message, queueArn: string): SqsRecord {
  const messageAttributes: Record<string, SqsRecordMessageAttribute> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = recordAttribute(value);
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: { ...(message.Attributes ?? {}) },
    messageAttributes,
    // Guess: present only when the message has attributes (the documented example event has none).
    ...(message.MD5OfMessageAttributes === undefined
      ? {}
      : { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(':')[3] ?? '',
  };
}

function recordAttribute(value: MessageAttributeValue): SqsRecordMessageAttribute {
  return {
    ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
    ...(value.BinaryValue === undefined
      ? {}
      : { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }),
    stringListValues: value.StringListValues ?? [],
    binaryListValues: (value.BinaryListValues ?? []).map((bytes) => Buffer.from(bytes).toString('base64')),
    dataType: value.DataType ?? 'String',
  };
}

/**
 * Which messages of a batch to delete after a successful invocation with ReportBatchItemFailures, following
 * Lambda's rules: a missing, null or empty `batchItemFailures` means all succeeded; an entry whose
 * `itemIdentifier` is missing, empty, or not a message of the batch fails the whole batch (undefined).
 *
 * @example
 * succeededWithPartialFailures({ batchItemFailures: [{ itemIdentifier: 'm2' }] }, ['m1', 'm2']); // ['m1']
 */
export function succeededWithPartialFailures(
  response: unknown,
  messageIds: readonly string[],
): string[] | undefined {
  const failures =
    typeof response === 'object' && response !== null
      ? (response as { batchItemFailures?: unknown }).batchItemFailures
      : undefined;
  if (failures === undefined || failures === null) return [...messageIds];
  if (!Array.isArray(failures)) return undefined;
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !messageIds.includes(id)) return undefined;
    failed.add(id);
  }
  return messageIds.filter((id) => !failed.has(id));
}
