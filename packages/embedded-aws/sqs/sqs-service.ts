/**
 * The SQS API over the AWS JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.<Action>`), as the SDK v3 speaks it:
 * reads and checks each action's input, calls the engine, waits for the journal, shapes the output.
 *
 * Bad input gets SQS's errors (MissingParameter, InvalidParameterValue, ...); batch actions report per-entry
 * failures in `Failed` with the entry's error code, as SQS does.
 */

import { AwsError, UnknownOperationException } from '../aws/errors.ts';
import type { JsonProtocolService } from '../aws/server.ts';
import { sqsErrors } from './errors.ts';
import { type MessageAttributeValue, md5OfAttributes } from './md5.ts';
import { type CheckedMessage, checkMessage, type MessageInput } from './message-checks.ts';
import type { ReceivedMessage, SqsEngine } from './sqs-engine.ts';

/** The actions served; others get UnknownOperationException from the front door. */
export const SQS_ACTIONS = [
  'CreateQueue',
  'GetQueueUrl',
  'GetQueueAttributes',
  'SetQueueAttributes',
  'ListQueues',
  'DeleteQueue',
  'PurgeQueue',
  'SendMessage',
  'SendMessageBatch',
  'ReceiveMessage',
  'DeleteMessage',
  'DeleteMessageBatch',
  'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch',
  'ListDeadLetterSourceQueues',
  'StartMessageMoveTask',
  'ListMessageMoveTasks',
  'CancelMessageMoveTask',
  'TagQueue',
  'UntagQueue',
  'ListQueueTags',
] as const;

type Input = Record<string, unknown>;
type Handler = (input: Input, engine: SqsEngine) => unknown;

const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 1_048_576;
const BATCH_ID = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * The SQS service for `createAwsServer`.
 *
 * @example
 * const sqs = await SqsEngine.open({ dataDir: null, endpoint: 'http://127.0.0.1:4566' });
 * const server = createAwsServer({ services: [createSqsService(sqs)] });
 */
export function createSqsService(engine: SqsEngine): JsonProtocolService {
  return {
    targetPrefix: 'AmazonSQS',
    actions: SQS_ACTIONS,
    async handle(action, input) {
      const handler = HANDLERS[action as (typeof SQS_ACTIONS)[number]] as Handler | undefined;
      if (handler === undefined) throw new UnknownOperationException(`AmazonSQS.${action}`);
      const output = await handler(input as Input, engine);
      // Whatever changed is journaled before the client hears of it.
      await engine.flushed();
      return output;
    },
  };
}

const HANDLERS: Record<(typeof SQS_ACTIONS)[number], Handler> = {
  CreateQueue(input, engine) {
    const name = requiredString(input, 'QueueName');
    const url = engine.createQueue(name, stringMap(input, 'Attributes'), stringMap(input, 'tags'));
    return { QueueUrl: url };
  },

  GetQueueUrl(input, engine) {
    const name = requiredString(input, 'QueueName');
    const owner = optionalString(input, 'QueueOwnerAWSAccountId');
    if (owner !== undefined && owner !== engine.accountId) throw sqsErrors.queueDoesNotExist();
    return { QueueUrl: engine.getQueueUrl(name) };
  },

  GetQueueAttributes(input, engine) {
    const name = queueOf(input, engine);
    const names = stringList(input, 'AttributeNames');
    const attributes = engine.queueAttributes(name, names);
    return Object.keys(attributes).length === 0 ? {} : { Attributes: attributes };
  },

  SetQueueAttributes(input, engine) {
    const name = queueOf(input, engine);
    if (input.Attributes === undefined || input.Attributes === null)
      throw sqsErrors.missingParameter('Attributes');
    engine.setQueueAttributes(name, stringMap(input, 'Attributes'));
    return {};
  },

  ListQueues(input, engine) {
    const prefix = optionalString(input, 'QueueNamePrefix') ?? '';
    const { page, nextToken } = pageOfQueues(input, engine.listQueues(prefix));
    return {
      ...(page.length > 0 ? { QueueUrls: page.map((name) => engine.queueUrl(name)) } : {}),
      ...nextToken,
    };
  },

  DeleteQueue(input, engine) {
    engine.deleteQueue(queueOf(input, engine));
    return {};
  },

  PurgeQueue(input, engine) {
    engine.purgeQueue(queueOf(input, engine));
    return {};
  },

  ListDeadLetterSourceQueues(input, engine) {
    const { page, nextToken } = pageOfQueues(input, engine.deadLetterSourceQueues(queueOf(input, engine)));
    return { queueUrls: page.map((source) => engine.queueUrl(source)), ...nextToken };
  },

  StartMessageMoveTask(input, engine) {
    const sourceArn = requiredString(input, 'SourceArn');
    const destinationArn = optionalString(input, 'DestinationArn');
    const rate = optionalIntegerWithin(
      input,
      'MaxNumberOfMessagesPerSecond',
      1,
      500,
      'Must be between 1 and 500, if provided.',
    );
    const taskHandle = engine.startMessageMoveTask({
      sourceArn,
      // Left blank, as the API reference puts it, is the same as not given.
      ...(destinationArn === undefined || destinationArn === '' ? {} : { destinationArn }),
      ...(rate === undefined ? {} : { maxNumberOfMessagesPerSecond: rate }),
    });
    return { TaskHandle: taskHandle };
  },

  ListMessageMoveTasks(input, engine) {
    const sourceArn = requiredString(input, 'SourceArn');
    const maxResults =
      optionalIntegerWithin(input, 'MaxResults', 1, 10, 'Must be between 1 and 10, if provided.') ?? 1;
    const tasks = engine.listMessageMoveTasks(sourceArn, maxResults);
    return {
      Results: tasks.map((task) => ({
        // Only a running task's handle is shown: it is what CancelMessageMoveTask takes.
        ...(task.status === 'RUNNING' ? { TaskHandle: task.taskHandle } : {}),
        Status: task.status,
        SourceArn: task.sourceArn,
        DestinationArn: task.destinationArn,
        MaxNumberOfMessagesPerSecond: task.maxNumberOfMessagesPerSecond,
        ApproximateNumberOfMessagesMoved: task.approximateNumberOfMessagesMoved,
        ApproximateNumberOfMessagesToMove: task.approximateNumberOfMessagesToMove,
        FailureReason: task.failureReason,
        StartedTimestamp: task.startedTimestamp,
      })),
    };
  },

  CancelMessageMoveTask(input, engine) {
    const moved = engine.cancelMessageMoveTask(requiredString(input, 'TaskHandle'));
    return { ApproximateNumberOfMessagesMoved: moved };
  },

  TagQueue(input, engine) {
    const name = queueOf(input, engine);
    engine.setTags(name, stringMap(input, 'Tags'), []);
    return {};
  },

  UntagQueue(input, engine) {
    const name = queueOf(input, engine);
    engine.setTags(name, {}, stringList(input, 'TagKeys'));
    return {};
  },

  ListQueueTags(input, engine) {
    const tags = engine.tags(queueOf(input, engine));
    return Object.keys(tags).length === 0 ? {} : { Tags: tags };
  },

  SendMessage(input, engine) {
    const name = queueOf(input, engine);
    const checked = checkMessage(input as MessageInput);
    const sent = engine.sendMessage(name, checked.message);
    return {
      MD5OfMessageBody: checked.message.md5,
      MD5OfMessageAttributes: checked.md5OfMessageAttributes,
      MD5OfMessageSystemAttributes: checked.md5OfMessageSystemAttributes,
      MessageId: sent.messageId,
      SequenceNumber: sent.sequenceNumber,
    };
  },

  SendMessageBatch(input, engine) {
    const name = queueOf(input, engine);
    const entries = batchEntries(input, 'SendMessageBatchRequestEntry');
    let total = 0;
    const checked = entries.map((entry): CheckedMessage | { readonly error: unknown } => {
      try {
        const result = checkMessage(entry as MessageInput);
        total += result.message.size;
        return result;
      } catch (error) {
        return { error };
      }
    });
    if (total > MAX_BATCH_BYTES) throw sqsErrors.batchRequestTooLong(MAX_BATCH_BYTES, total);
    const Successful: unknown[] = [];
    const Failed: unknown[] = [];
    entries.forEach((entry, index) => {
      const id = entry.Id as string;
      const result = checked[index];
      try {
        if (result === undefined || 'error' in result) throw result?.error;
        const sent = engine.sendMessage(name, result.message);
        Successful.push({
          Id: id,
          MessageId: sent.messageId,
          MD5OfMessageBody: result.message.md5,
          MD5OfMessageAttributes: result.md5OfMessageAttributes,
          MD5OfMessageSystemAttributes: result.md5OfMessageSystemAttributes,
          SequenceNumber: sent.sequenceNumber,
        });
      } catch (error) {
        Failed.push(failedEntry(id, error));
      }
    });
    return { Successful, Failed };
  },

  async ReceiveMessage(input, engine) {
    const name = queueOf(input, engine);
    const maxMessages =
      optionalIntegerWithin(input, 'MaxNumberOfMessages', 1, 10, 'Must be between 1 and 10, if provided.') ??
      1;
    const visibilityTimeout = optionalIntegerWithin(
      input,
      'VisibilityTimeout',
      0,
      43_200,
      'Must be >= 0 and <= 43200, if provided.',
    );
    const waitSeconds = optionalIntegerWithin(
      input,
      'WaitTimeSeconds',
      0,
      20,
      'Must be >= 0 and <= 20, if provided.',
    );
    optionalString(input, 'ReceiveRequestAttemptId');
    const systemNames = new Set([
      ...stringList(input, 'AttributeNames'),
      ...stringList(input, 'MessageSystemAttributeNames'),
    ]);
    const attributeNames = stringList(input, 'MessageAttributeNames');
    for (const attributeName of attributeNames) {
      if (attributeName === '' || attributeName.length > 256) {
        throw sqsErrors.invalidParameterValue(`Message attribute name '${attributeName}' is invalid.`);
      }
    }
    const messages = await engine.receive(name, {
      maxMessages,
      ...(visibilityTimeout === undefined ? {} : { visibilityTimeout }),
      ...(waitSeconds === undefined ? {} : { waitSeconds }),
    });
    if (messages.length === 0) return {};
    return { Messages: messages.map((message) => shapeMessage(message, systemNames, attributeNames)) };
  },

  DeleteMessage(input, engine) {
    const name = queueOf(input, engine);
    engine.deleteMessage(name, requiredString(input, 'ReceiptHandle'));
    return {};
  },

  DeleteMessageBatch(input, engine) {
    const name = queueOf(input, engine);
    const entries = batchEntries(input, 'DeleteMessageBatchRequestEntry');
    // A malformed entry fails the whole request; an entry the queue refuses fails only itself.
    const requests = entries.map((entry) => ({
      id: entry.Id as string,
      handle: requiredString(entry, 'ReceiptHandle'),
    }));
    const Successful: unknown[] = [];
    const Failed: unknown[] = [];
    for (const { id, handle } of requests) {
      try {
        engine.deleteMessage(name, handle);
        Successful.push({ Id: id });
      } catch (error) {
        Failed.push(failedEntry(id, error));
      }
    }
    return { Successful, Failed };
  },

  ChangeMessageVisibility(input, engine) {
    const name = queueOf(input, engine);
    const handle = requiredString(input, 'ReceiptHandle');
    engine.changeVisibility(name, handle, visibilityOf(input) as number);
    return {};
  },

  ChangeMessageVisibilityBatch(input, engine) {
    const name = queueOf(input, engine);
    const entries = batchEntries(input, 'ChangeMessageVisibilityBatchRequestEntry');
    const requests = entries.map((entry) => ({
      id: entry.Id as string,
      handle: requiredString(entry, 'ReceiptHandle'),
      timeout: visibilityOf(entry, false),
    }));
    const Successful: unknown[] = [];
    const Failed: unknown[] = [];
    for (const { id, handle, timeout } of requests) {
      try {
        if (timeout instanceof AwsError) throw timeout;
        engine.changeVisibility(name, handle, timeout);
        Successful.push({ Id: id });
      } catch (error) {
        Failed.push(failedEntry(id, error));
      }
    }
    return { Successful, Failed };
  },
};

// ─── Shaping ─────────────────────────────────────────────────────────────────────────────────────────────

/**
 * A received message as ReceiveMessage returns it: only the system attributes and message attributes asked
 * for (`All`; for message attributes also `.*` and prefixes `name.*`). MD5OfMessageAttributes covers the
 * attributes returned, which is what clients that check it (the Java SDK) recompute; whether SQS digests the
 * returned subset or all of a message's attributes is not documented (a guess).
 */
function shapeMessage(
  message: ReceivedMessage,
  systemNames: ReadonlySet<string>,
  attributeNames: readonly string[],
): Record<string, unknown> {
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(message.systemAttributes)) {
    if (systemNames.has('All') || systemNames.has(key)) attributes[key] = value;
  }
  const messageAttributes: Record<string, MessageAttributeValue> = {};
  for (const [key, value] of Object.entries(message.messageAttributes)) {
    if (attributeWanted(key, attributeNames)) messageAttributes[key] = value;
  }
  const hasMessageAttributes = Object.keys(messageAttributes).length > 0;
  return {
    MessageId: message.messageId,
    ReceiptHandle: message.receiptHandle,
    MD5OfBody: message.md5OfBody,
    Body: message.body,
    ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
    ...(hasMessageAttributes
      ? { MD5OfMessageAttributes: md5OfAttributes(messageAttributes), MessageAttributes: messageAttributes }
      : {}),
  };
}

function attributeWanted(name: string, wanted: readonly string[]): boolean {
  return wanted.some(
    (pattern) =>
      pattern === 'All' ||
      pattern === '.*' ||
      pattern === name ||
      (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1))),
  );
}

function failedEntry(id: string, error: unknown): Record<string, unknown> {
  if (error instanceof AwsError) {
    return {
      Id: id,
      SenderFault: error.statusCode < 500,
      Code: error.queryErrorCode ?? error.name,
      Message: error.message,
    };
  }
  return {
    Id: id,
    SenderFault: false,
    Code: 'InternalError',
    Message: 'We encountered an internal error. Please try again.',
  };
}

// ─── Reading input ───────────────────────────────────────────────────────────────────────────────────────

function queueOf(input: Input, engine: SqsEngine): string {
  return engine.queueNameOf(requiredString(input, 'QueueUrl'));
}

/** Batch entries: 1 to 10, each with a distinct, well-formed Id. */
function batchEntries(input: Input, shape: string): Input[] {
  const raw = input.Entries;
  if (raw === undefined || raw === null) throw sqsErrors.missingParameter('Entries');
  if (!Array.isArray(raw)) throw sqsErrors.serialization('Entries must be a list');
  if (raw.length === 0) throw sqsErrors.emptyBatchRequest(shape);
  if (raw.length > MAX_BATCH_ENTRIES) throw sqsErrors.tooManyEntriesInBatchRequest(raw.length);
  const seen = new Set<string>();
  for (const entry of raw) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw sqsErrors.serialization(`Each ${shape} must be an object`);
    }
    const id = (entry as Input).Id;
    if (id === undefined || id === null) throw sqsErrors.missingParameter(`${shape}.Id`);
    if (typeof id !== 'string' || !BATCH_ID.test(id)) throw sqsErrors.invalidBatchEntryId();
    if (seen.has(id)) throw sqsErrors.batchEntryIdsNotDistinct(id);
    seen.add(id);
  }
  return raw as Input[];
}

/** The VisibilityTimeout member; out of range it is thrown, or returned when `throwRange` is false (batches). */
function visibilityOf(input: Input, throwRange = true): number | AwsError {
  const value = input.VisibilityTimeout;
  if (value === undefined || value === null) throw sqsErrors.missingParameter('VisibilityTimeout');
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw sqsErrors.serialization('VisibilityTimeout must be an integer');
  }
  if (value < 0 || value > 43_200) {
    const error = sqsErrors.invalidParameter(
      'VisibilityTimeout',
      value,
      'Must be >= 0 and <= 43200, if provided.',
    );
    if (throwRange) throw error;
    return error;
  }
  return value;
}

function requiredString(input: Input, name: string): string {
  const value = optionalString(input, name);
  if (value === undefined || value === '') throw sqsErrors.missingParameter(name);
  return value;
}

function optionalString(input: Input, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw sqsErrors.serialization(`${name} must be a string`);
  return value;
}

function optionalInteger(input: Input, name: string): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw sqsErrors.serialization(`${name} must be an integer`);
  return value;
}

/** An optional integer parameter that SQS refuses outside [min, max], with SQS's own message. */
function optionalIntegerWithin(
  input: Input,
  name: string,
  min: number,
  max: number,
  message: string,
): number | undefined {
  const value = optionalInteger(input, name);
  if (value !== undefined && (value < min || value > max))
    throw sqsErrors.invalidParameter(name, value, message);
  return value;
}

/**
 * One page of queue names for the List actions: after NextToken (the last name of the previous page), at
 * most MaxResults. Without MaxResults SQS answers at most 1,000 and no NextToken.
 */
function pageOfQueues(
  input: Input,
  names: readonly string[],
): { page: string[]; nextToken: { NextToken?: string } } {
  const maxResults = optionalIntegerWithin(
    input,
    'MaxResults',
    1,
    1000,
    'MaxResults must be an integer between 1 and 1000.',
  );
  const token = optionalString(input, 'NextToken');
  const after = token === undefined ? undefined : decodeToken(token);
  const remaining = after === undefined ? names : names.filter((name) => name > after);
  const page = remaining.slice(0, maxResults ?? 1000);
  const more = maxResults !== undefined && remaining.length > page.length;
  return {
    page,
    nextToken: more ? { NextToken: Buffer.from(page[page.length - 1]!, 'utf8').toString('base64') } : {},
  };
}

function stringList(input: Input, name: string): string[] {
  const value = input[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw sqsErrors.serialization(`${name} must be a list of strings`);
  }
  return value as string[];
}

function stringMap(input: Input, name: string): Record<string, string> {
  const value = input[name];
  if (value === undefined || value === null) return {};
  if (
    typeof value !== 'object' ||
    Array.isArray(value) ||
    Object.values(value).some((item) => typeof item !== 'string')
  ) {
    throw sqsErrors.serialization(`${name} must be a map of strings`);
  }
  return value as Record<string, string>;
}

function decodeToken(token: string): string {
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  if (token === '' || Buffer.from(decoded, 'utf8').toString('base64') !== token) {
    throw sqsErrors.invalidParameterValue('Invalid NextToken value.');
  }
  return decoded;
}
