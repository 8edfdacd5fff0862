/**
 * Crash-and-restart tests: SQS runs in a child process on a data directory, is killed with SIGKILL and
 * started again on the same directory. Whatever a client was told (a queue created, a message sent, received
 * or deleted) must survive; an in-flight message stays hidden until its visibility deadline, keeps its receive
 * count and its receipt handle; nothing acknowledged is lost and nothing comes back twice.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sqsClient } from './support.ts';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const FIXTURE = 'local/sqs/test/fixtures/sqs-process.ts';

interface RunningSqs {
  readonly client: SQSClient;
  kill(): Promise<void>;
}

const children = new Set<ChildProcess>();
const dataDirs: string[] = [];

function newDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sqs-durability-'));
  dataDirs.push(dir);
  return dir;
}

async function startSqs(dataDir: string): Promise<RunningSqs> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dataDir], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const endpoint = await new Promise<string>((ready, fail) => {
    let stdout = '';
    const onData = (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^ready (\S+)$/m.exec(stdout);
      if (match) {
        child.stdout!.off('data', onData);
        ready(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) =>
      fail(new Error(`SQS exited (${code ?? signal}) before it was ready:\n${stderr}`)),
    );
  });
  const client = sqsClient(endpoint);
  return {
    client,
    async kill() {
      client.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      children.delete(child);
    },
  };
}

afterEach(() => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
});

afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

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
});
