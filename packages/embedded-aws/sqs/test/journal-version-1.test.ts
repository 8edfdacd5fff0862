/**
 * A data directory written by the SQS of before the readable journal records (record version 1) still opens,
 * with everything a user would notice as it was. `fixtures/data-v1/` was written by that code (commit
 * b32516b) on a test clock, in two lives so that both files hold records:
 * - first life, now the snapshot: queues `orders-dlq`, `orders` (VisibilityTimeout 30, a RedrivePolicy to
 *   `orders-dlq` with maxReceiveCount 1, tag team=payments), `vends.fifo` (content-based deduplication) and
 *   `old`; order-1..3 sent, order-4 with a 600 s delay; vend-1 (group meter-1, deduplication id d-1) and
 *   vend-2 (group meter-2) sent; vend-1 received (visibility 300 s); `old` deleted.
 * - second life, now the log: order-1..3 received, order-1 deleted, order-2's visibility set to 120 s,
 *   order-3's to 0, order-3 received again and so dead-lettered; vend-3 (group meter-1, d-3) sent;
 *   MaximumMessageSize 2048 and tag owner=vend-team set on `orders`; `scratch` created, sent to and purged;
 *   a message move task moved order-3 back from `orders-dlq` to `orders` as a new message.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { errorOf, type RunningSqs, startSqs } from './support.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/data-v1', import.meta.url));
/** The test clock when the fixture's writer stopped. */
const WRITTEN_AT = 1_736_942_412_000;
const MESSAGE_IDS = {
  'order-2': '577768d9-4ce9-4b8e-b6bd-41111f5d4bc0',
  'order-3': '8d8d9d1b-cbed-49e3-8317-bb17283c231f',
  'vend-1': '378c8984-e0d7-427f-9552-476407db17f3',
  'vend-2': '244ca202-ee21-4f29-b4f1-61e3586b7ca8',
  'vend-3': '2ef4b895-9f44-4892-884d-e553c88252e3',
};
/** The receipt handles the writer was given for the messages still in flight. */
const RECEIPT_HANDLES = {
  'order-2': 'b3JkZXJzCjU3Nzc2OGQ5LTRjZTktNGI4ZS1iNmJkLTQxMTExZjVkNGJjMAowYmU0NjRlMDE1Y2UwMTllNDdkZmIxZDU=',
  'vend-1':
    'dmVuZHMuZmlmbwozNzhjODk4NC1lMGQ3LTQyN2YtOTU1Mi00NzY0MDdkYjE3ZjMKNjFhYWIyNzdjOGY0YTQ5NmM3N2FhMWFk',
};

let sqs: RunningSqs | undefined;
let clock = WRITTEN_AT;
const dirs: string[] = [];

afterEach(async () => {
  await sqs?.close();
  sqs = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Starts SQS on a copy of the fixture, a second after its writer stopped. */
async function openFixture(): Promise<{ sqs: RunningSqs; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sqs-data-v1-'));
  dirs.push(dataDir);
  cpSync(FIXTURE, dataDir, { recursive: true });
  clock = WRITTEN_AT + 1000;
  sqs = await startSqs({ dataDir, now: () => clock, enforceDeletedQueueCooldown: true });
  return { sqs, dataDir };
}

async function urlOf(running: RunningSqs, QueueName: string): Promise<string> {
  return (await running.client.send(new GetQueueUrlCommand({ QueueName }))).QueueUrl!;
}

async function receiveBodies(running: RunningSqs, QueueName: string): Promise<string[]> {
  const { Messages } = await running.client.send(
    new ReceiveMessageCommand({ QueueUrl: await urlOf(running, QueueName), MaxNumberOfMessages: 10 }),
  );
  return (Messages ?? []).map((message) => message.Body!);
}

async function attributesOf(running: RunningSqs, QueueName: string): Promise<Record<string, string>> {
  const { Attributes } = await running.client.send(
    new GetQueueAttributesCommand({ QueueUrl: await urlOf(running, QueueName), AttributeNames: ['All'] }),
  );
  return Attributes!;
}

describe('SQS on a data directory written with record version 1', () => {
  it('keeps the queues with their attributes and tags, the deleted queue and the finished move task', async () => {
    // Prepare
    const { sqs } = await openFixture();
    const dlqArn = 'arn:aws:sqs:us-east-1:000000000000:orders-dlq';

    // Act
    const { QueueUrls } = await sqs.client.send(new ListQueuesCommand({}));
    const orders = await attributesOf(sqs, 'orders');
    const fifo = await attributesOf(sqs, 'vends.fifo');
    const { Tags } = await sqs.client.send(
      new ListQueueTagsCommand({ QueueUrl: await urlOf(sqs, 'orders') }),
    );
    const recreateDeleted = await errorOf(sqs.client.send(new CreateQueueCommand({ QueueName: 'old' })));
    const { Results } = await sqs.client.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));

    // Assess
    expect(QueueUrls?.map((url) => url.split('/').pop())).toEqual([
      'orders',
      'orders-dlq',
      'scratch',
      'vends.fifo',
    ]);
    expect(orders).toMatchObject({
      VisibilityTimeout: '30',
      MaximumMessageSize: '2048',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }),
      ApproximateNumberOfMessages: '1',
      ApproximateNumberOfMessagesNotVisible: '1',
      ApproximateNumberOfMessagesDelayed: '1',
    });
    expect(fifo).toMatchObject({ FifoQueue: 'true', ContentBasedDeduplication: 'true' });
    expect(await attributesOf(sqs, 'scratch')).toMatchObject({ ApproximateNumberOfMessages: '0' });
    expect(Tags).toEqual({ team: 'payments', owner: 'vend-team' });
    expect(recreateDeleted.name).toBe('QueueDeletedRecently');
    expect(Results).toMatchObject([
      { Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 1, ApproximateNumberOfMessagesToMove: 1 },
    ]);
  });

  it('keeps each message in its state: visible, in flight under its receipt handle, delayed, or gone', async () => {
    // Prepare
    const { sqs } = await openFixture();
    const ordersUrl = await urlOf(sqs, 'orders');

    // Act
    const visible = await receiveBodies(sqs, 'orders');
    await sqs.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: ordersUrl,
        ReceiptHandle: RECEIPT_HANDLES['order-2'],
        VisibilityTimeout: 0,
      }),
    );
    const afterVisibilityChange = await receiveBodies(sqs, 'orders');
    const { Messages: deadLettered } = await sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: await urlOf(sqs, 'orders-dlq'),
        MessageSystemAttributeNames: ['All'],
      }),
    );
    clock = WRITTEN_AT + 600_000;
    const afterDelay = await receiveBodies(sqs, 'orders');

    // Assess: order-3 came back from the dead-letter queue as a new message; order-2 had been received once,
    // so its next receive dead-letters it (maxReceiveCount 1); order-1 was deleted
    expect(visible).toEqual(['order-3']);
    expect(afterVisibilityChange).toEqual([]);
    expect(deadLettered).toMatchObject([
      {
        MessageId: MESSAGE_IDS['order-2'],
        Body: 'order-2',
        Attributes: { DeadLetterQueueSourceArn: 'arn:aws:sqs:us-east-1:000000000000:orders' },
      },
    ]);
    expect(afterDelay).toEqual(['order-4']);
  });

  it('keeps FIFO groups blocked behind a message in flight, and the deduplication ids of the last 5 minutes', async () => {
    // Prepare
    const { sqs } = await openFixture();
    const fifoUrl = await urlOf(sqs, 'vends.fifo');

    // Act
    const whileVend1InFlight = await receiveBodies(sqs, 'vends.fifo');
    const resentVend1 = await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: fifoUrl,
        MessageBody: 'vend-1 again',
        MessageGroupId: 'meter-1',
        MessageDeduplicationId: 'd-1',
      }),
    );
    const resentVend2 = await sqs.client.send(
      new SendMessageCommand({ QueueUrl: fifoUrl, MessageBody: 'vend-2', MessageGroupId: 'meter-2' }),
    );
    await sqs.client.send(
      new DeleteMessageCommand({ QueueUrl: fifoUrl, ReceiptHandle: RECEIPT_HANDLES['vend-1'] }),
    );
    const afterVend1Deleted = await receiveBodies(sqs, 'vends.fifo');

    // Assess
    expect(whileVend1InFlight).toEqual(['vend-2']);
    expect(resentVend1).toMatchObject({
      MessageId: MESSAGE_IDS['vend-1'],
      SequenceNumber: '10000000000000000000',
    });
    expect(resentVend2).toMatchObject({
      MessageId: MESSAGE_IDS['vend-2'],
      SequenceNumber: '10000000000000000001',
    });
    expect(afterVend1Deleted).toEqual(['vend-3']);
  });

  it('rewrites the directory at the current record version, and opens it again to the same state', async () => {
    // Prepare
    const { sqs: first, dataDir } = await openFixture();
    const before = await attributesOf(first, 'orders');
    await first.close();
    sqs = undefined;

    // Act
    const files = readdirSync(dataDir).sort();
    const contents = files.map((name) => readFileSync(join(dataDir, name), 'utf8'));
    sqs = await startSqs({ dataDir, now: () => clock });
    const after = await attributesOf(sqs, 'orders');

    // Assess
    expect(files).toEqual(['sqs.3.log.jsonl', 'sqs.3.snapshot.jsonl']);
    expect(JSON.parse(contents[0]!.split('\n')[0]!)).toEqual({ $journal: 'log', recordVersion: 2 });
    expect(JSON.parse(contents[1]!.split('\n')[0]!)).toMatchObject({ recordVersion: 2 });
    expect(contents.join('')).not.toMatch(/"t":/);
    expect(after).toEqual(before);
  });
});
