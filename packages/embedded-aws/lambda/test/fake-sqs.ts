/**
 * Test support: a tiny SQS (AWS JSON 1.0, `AmazonSQS.*`) with just what Lambda's pollers and the tests use:
 * queues with a visibility timeout and a redrive policy, send, long-polled receive, delete, attributes.
 * It stands in for the embedded SQS (`packages/embedded-aws/sqs/`) until that lands; it is not a model of SQS beyond that.
 *
 * @example
 * const sqs = await startFakeSqs();
 * const client = sqsClient(sqs.endpoint);
 * await sqs.close();
 */
import { createHash, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AwsError } from '../../aws/errors.ts';
import { createAwsServer, type JsonProtocolService } from '../../aws/server.ts';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';

interface FakeMessage {
  readonly id: string;
  readonly body: string;
  readonly messageAttributes: Record<string, unknown> | undefined;
  readonly sentAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  visibleAt: number;
  receiptHandle?: string;
}

interface FakeQueue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly visibilityTimeout: number;
  readonly redrive?: { readonly deadLetterTargetArn: string; readonly maxReceiveCount: number };
  messages: FakeMessage[];
}

export interface FakeSqs {
  readonly endpoint: string;
  /** ReceiveMessage calls answered so far. */
  receives(): number;
  close(): Promise<void>;
}

export function sqsClient(endpoint: string): SQSClient {
  return new SQSClient({
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

export async function startFakeSqs(): Promise<FakeSqs> {
  const queues = new Map<string, FakeQueue>();
  let receives = 0;
  let closed = false;
  const byUrl = (url: unknown): FakeQueue => {
    const queue = [...queues.values()].find((candidate) => candidate.url === url);
    if (queue === undefined) throw nonExistentQueue();
    return queue;
  };

  const visibleNow = (queue: FakeQueue, now: number): FakeMessage[] => {
    const visible: FakeMessage[] = [];
    for (const message of [...queue.messages]) {
      if (message.visibleAt > now) continue;
      if (queue.redrive !== undefined && message.receiveCount >= queue.redrive.maxReceiveCount) {
        const dlq = [...queues.values()].find(
          (candidate) => candidate.arn === queue.redrive?.deadLetterTargetArn,
        );
        queue.messages = queue.messages.filter((other) => other !== message);
        dlq?.messages.push({ ...message, visibleAt: now });
        continue;
      }
      visible.push(message);
    }
    return visible;
  };

  const actions: Record<string, (input: Record<string, unknown>) => Promise<unknown>> = {
    async CreateQueue(input) {
      const name = String(input.QueueName);
      const attributes = (input.Attributes ?? {}) as Record<string, string>;
      const existing = queues.get(name);
      if (existing) return { QueueUrl: existing.url };
      const redrive =
        attributes.RedrivePolicy === undefined ? undefined : JSON.parse(attributes.RedrivePolicy);
      queues.set(name, {
        name,
        url: `${endpoint}/${ACCOUNT}/${name}`,
        arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
        visibilityTimeout: Number(attributes.VisibilityTimeout ?? 30),
        ...(redrive
          ? {
              redrive: {
                deadLetterTargetArn: redrive.deadLetterTargetArn,
                maxReceiveCount: Number(redrive.maxReceiveCount),
              },
            }
          : {}),
        messages: [],
      });
      return { QueueUrl: queues.get(name)!.url };
    },
    async GetQueueUrl(input) {
      const queue = queues.get(String(input.QueueName));
      if (queue === undefined) throw nonExistentQueue();
      return { QueueUrl: queue.url };
    },
    async GetQueueAttributes(input) {
      const queue = byUrl(input.QueueUrl);
      const now = Date.now();
      visibleNow(queue, now);
      return {
        Attributes: {
          QueueArn: queue.arn,
          VisibilityTimeout: String(queue.visibilityTimeout),
          ApproximateNumberOfMessages: String(queue.messages.filter((m) => m.visibleAt <= now).length),
          ApproximateNumberOfMessagesNotVisible: String(
            queue.messages.filter((m) => m.visibleAt > now).length,
          ),
        },
      };
    },
    async SendMessage(input) {
      const queue = byUrl(input.QueueUrl);
      const body = String(input.MessageBody);
      const id = randomUUID();
      queue.messages.push({
        id,
        body,
        messageAttributes: input.MessageAttributes as Record<string, unknown> | undefined,
        sentAt: Date.now(),
        receiveCount: 0,
        visibleAt: Date.now(),
      });
      return { MessageId: id, MD5OfMessageBody: md5(body) };
    },
    async ReceiveMessage(input) {
      receives += 1;
      const queue = byUrl(input.QueueUrl);
      const max = Number(input.MaxNumberOfMessages ?? 1);
      const deadline = Date.now() + Number(input.WaitTimeSeconds ?? 0) * 1000;
      let visible = visibleNow(queue, Date.now());
      while (visible.length === 0 && Date.now() < deadline && !closed) {
        await new Promise((resolve) => setTimeout(resolve, 20).unref());
        visible = visibleNow(queue, Date.now());
      }
      const now = Date.now();
      return {
        Messages: visible.slice(0, max).map((message) => {
          message.receiveCount += 1;
          message.firstReceivedAt ??= now;
          message.visibleAt = now + queue.visibilityTimeout * 1000;
          message.receiptHandle = randomUUID();
          return {
            MessageId: message.id,
            ReceiptHandle: message.receiptHandle,
            Body: message.body,
            MD5OfBody: md5(message.body),
            Attributes: {
              ApproximateReceiveCount: String(message.receiveCount),
              SentTimestamp: String(message.sentAt),
              SenderId: 'AIDAEMBEDDEDLAMBDATEST',
              ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt),
            },
            ...(message.messageAttributes ? { MessageAttributes: message.messageAttributes } : {}),
          };
        }),
      };
    },
    async DeleteMessageBatch(input) {
      const queue = byUrl(input.QueueUrl);
      const entries = input.Entries as { Id: string; ReceiptHandle: string }[];
      const successful: { Id: string }[] = [];
      for (const entry of entries) {
        queue.messages = queue.messages.filter((message) => message.receiptHandle !== entry.ReceiptHandle);
        successful.push({ Id: entry.Id });
      }
      return { Successful: successful, Failed: [] };
    },
  };

  const service: JsonProtocolService = {
    targetPrefix: 'AmazonSQS',
    actions: Object.keys(actions),
    handle: (action, input) => actions[action]!(input as Record<string, unknown>),
  };
  const server = createAwsServer({ services: [service], accountId: ACCOUNT });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    receives: () => receives,
    async close() {
      closed = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

function nonExistentQueue(): AwsError {
  return new AwsError('QueueDoesNotExist', 'The specified queue does not exist.', {
    queryErrorCode: 'AWS.SimpleQueueService.NonExistentQueue',
  });
}
