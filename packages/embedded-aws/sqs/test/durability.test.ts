/**
 * Crash-and-restart tests: SQS runs in a child process on a data directory, is killed with SIGKILL and
 * started again on the same directory. Whatever a client was told (a queue created, a message sent, received
 * or deleted) must survive; an in-flight message stays hidden until its visibility deadline, keeps its receive
 * count and its receipt handle; nothing acknowledged is lost and nothing comes back twice. A message move task
 * running at the kill carries on after the restart.
 */
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type ListMessageMoveTasksResultEntry,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ChildProcesses } from '../../testing/child-processes.ts';
import { packagePath } from '../../testing/package-path.ts';
import { sqsClient } from './support.ts';

const FIXTURE = packagePath('sqs/test/fixtures/sqs-process.ts');

interface RunningSqs {
  readonly client: SQSClient;
  kill(): Promise<void>;
}

const processes = new ChildProcesses();

function newDataDir(): string {
  return processes.tempDir('sqs-durability-');
}

async function startSqs(dataDir: string): Promise<RunningSqs> {
  const running = await processes.start(FIXTURE, [dataDir]);
  const client = sqsClient(running.value);
  return {
    client,
    async kill() {
      client.destroy();
      await running.kill();
    },
  };
}

afterEach(() => processes.killAll());

afterAll(() => processes.removeTempDirs());

async function drain(client: SQSClient, QueueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 600,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        MessageAttributeNames: ['All'],
      }),
    );
    if (!Messages || Messages.length === 0) return all;
    all.push(...Messages);
  }
}

describe('SQS survives kill -9', () => {
  it('keeps queues, messages, deletions and in-flight messages with their deadlines and handles', async () => {
    // Prepare
    const dataDir = newDataDir();
    let sqs = await startSqs(dataDir);
    const { QueueUrl } = await sqs.client.send(
      new CreateQueueCommand({
        QueueName: 'durable',
        Attributes: { VisibilityTimeout: '600', DelaySeconds: '0' },
      }),
    );
    await sqs.client.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: Array.from({ length: 6 }, (_, index) => ({
          Id: `m${index}`,
          MessageBody: `body-${index}`,
          MessageAttributes: { n: { DataType: 'Number', StringValue: String(index) } },
        })),
      }),
    );
    const received = (await sqs.client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 3 })))
      .Messages!;
    await sqs.client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: received[0]!.ReceiptHandle }));

    // Act
    await sqs.kill();
    sqs = await startSqs(dataDir);
    const { Attributes } = await sqs.client.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }),
    );
    const visible = await drain(sqs.client, QueueUrl!);
    // The two still in flight come back when their (old) receipt handles make them visible.
    for (const message of received.slice(1)) {
      await sqs.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    }
    const returned = await drain(sqs.client, QueueUrl!);
    await sqs.kill();

    // Assess
    expect(Attributes).toMatchObject({
      VisibilityTimeout: '600',
      ApproximateNumberOfMessages: '3',
      ApproximateNumberOfMessagesNotVisible: '2',
    });
    const inFlightBodies = received
      .slice(1)
      .map((message) => message.Body)
      .sort();
    const allBodies = Array.from({ length: 6 }, (_, index) => `body-${index}`);
    expect(visible.map((message) => message.Body).sort()).toEqual(
      allBodies.filter((body) => body !== received[0]!.Body && !inFlightBodies.includes(body)),
    );
    expect(visible.every((message) => message.MessageAttributes?.n?.DataType === 'Number')).toBe(true);
    expect(returned.map((message) => message.Body).sort()).toEqual(inFlightBodies);
    expect(returned.map((message) => message.Attributes!.ApproximateReceiveCount)).toEqual(['2', '2']);
  });

  it('loses no acknowledged send and delivers none twice when killed under load', async () => {
    // Prepare
    const dataDir = newDataDir();
    let sqs = await startSqs(dataDir);
    const { QueueUrl } = await sqs.client.send(new CreateQueueCommand({ QueueName: 'storm' }));
    const acknowledged: string[] = [];
    let stop = false;
    const producers = Array.from({ length: 8 }, async (_, producer) => {
      for (let index = 0; !stop; index++) {
        try {
          await sqs.client.send(new SendMessageCommand({ QueueUrl, MessageBody: `p${producer}-${index}` }));
          acknowledged.push(`p${producer}-${index}`);
        } catch {
          return;
        }
      }
    });

    // Act
    while (acknowledged.length < 300) await new Promise((done) => setTimeout(done, 5));
    await sqs.kill();
    stop = true;
    await Promise.all(producers);
    sqs = await startSqs(dataDir);
    const bodies = (await drain(sqs.client, QueueUrl!)).map((message) => message.Body!);
    await sqs.kill();

    // Assess
    expect(new Set(bodies).size).toBe(bodies.length);
    const stored = new Set(bodies);
    expect(acknowledged.filter((body) => !stored.has(body))).toEqual([]);
  });

  it('carries on a message move task that was running at the kill, moving every message once', async () => {
    // Prepare: eight messages dead-lettered, moving back at four a second
    const dataDir = newDataDir();
    let sqs = await startSqs(dataDir);
    const dlq = await sqs.client.send(new CreateQueueCommand({ QueueName: 'redrive-dlq' }));
    const dlqArn = 'arn:aws:sqs:us-east-1:000000000000:redrive-dlq';
    const { QueueUrl } = await sqs.client.send(
      new CreateQueueCommand({
        QueueName: 'redrive',
        Attributes: {
          VisibilityTimeout: '0',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }),
        },
      }),
    );
    const bodies = Array.from({ length: 8 }, (_, index) => `vend-${index}`);
    await sqs.client.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: bodies.map((body, index) => ({ Id: `m${index}`, MessageBody: body })),
      }),
    );
    for (let receive = 0; receive < 2; receive++) {
      await sqs.client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    }
    await sqs.client.send(
      new StartMessageMoveTaskCommand({ SourceArn: dlqArn, MaxNumberOfMessagesPerSecond: 4 }),
    );
    const latestTask = async (client: SQSClient): Promise<ListMessageMoveTasksResultEntry> =>
      (await client.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }))).Results![0]!;
    const beforeKill = await vi.waitFor(
      async () => {
        const task = await latestTask(sqs.client);
        expect(task.ApproximateNumberOfMessagesMoved).toBeGreaterThanOrEqual(2);
        return task;
      },
      { timeout: 10_000, interval: 20 },
    );

    // Act
    await sqs.kill();
    sqs = await startSqs(dataDir);
    const afterRestart = await vi.waitFor(
      async () => {
        const task = await latestTask(sqs.client);
        expect(task.Status).toBe('COMPLETED');
        return task;
      },
      { timeout: 20_000, interval: 50 },
    );
    const redriven = await drain(sqs.client, QueueUrl!);
    const left = await drain(sqs.client, dlq.QueueUrl!);
    await sqs.kill();

    // Assess
    expect(beforeKill.Status).toBe('RUNNING');
    expect(afterRestart).toMatchObject({
      ApproximateNumberOfMessagesMoved: 8,
      ApproximateNumberOfMessagesToMove: 8,
    });
    expect(redriven.map((message) => message.Body).sort()).toEqual(bodies);
    expect(redriven.map((message) => message.Attributes!.ApproximateReceiveCount)).toEqual(
      Array(8).fill('1'),
    );
    expect(left).toEqual([]);
  }, 40_000);
});
