/**
 * Crash tests: the embedded Lambda runs in a child process on a data directory and is killed with SIGKILL
 * right after it acknowledged something; started again on the same directory, it must carry on: an
 * acknowledged event source mapping polls again, an accepted Event invocation still runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packagePath } from '../../testing/package-path.ts';
import { type FakeSqs, sqsClient, startFakeSqs } from './fake-sqs.ts';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const FIXTURE = packagePath('lambda/test/lambda-process.ts');

const children = new Set<ChildProcess>();
const dirs: string[] = [];
let sqs: FakeSqs;
let client: SQSClient;

beforeEach(async () => {
  sqs = await startFakeSqs();
  client = sqsClient(sqs.endpoint);
});

afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  client.destroy();
  await sqs.close();
});

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Started {
  readonly endpoint: string;
  /** The `mapped <uuid>` line, when the process was asked to create a mapping. */
  readonly mapped?: string;
  kill(): Promise<void>;
}

/** Starts the fixture and waits for `ready` (and `mapped` when mapping). */
async function start(dataDir: string, outFile: string, mapQueueArn?: string): Promise<Started> {
  const args = [FIXTURE, dataDir, sqs.endpoint, outFile, ...(mapQueueArn ? ['--map', mapQueueArn] : [])];
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = await new Promise<{ endpoint: string; mapped?: string }>((ready, fail) => {
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const endpoint = /^ready (\S+)$/m.exec(stdout)?.[1];
      const mapped = /^mapped (\S+)$/m.exec(stdout)?.[1];
      if (endpoint && (!mapQueueArn || mapped)) ready({ endpoint, ...(mapped ? { mapped } : {}) });
    });
    child.once('exit', (code, signal) =>
      fail(new Error(`lambda process exited (${code ?? signal}):\n${stderr}`)),
    );
  });
  return {
    ...lines,
    async kill() {
      child.kill('SIGKILL');
      await exited;
      children.delete(child);
    },
  };
}

function newDirs(): { dataDir: string; outFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-durability-'));
  dirs.push(dir);
  return { dataDir: join(dir, 'data'), outFile: join(dir, 'out.jsonl') };
}

function recorded(outFile: string): unknown[] {
  if (!existsSync(outFile)) return [];
  return readFileSync(outFile, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);
}

async function eventually(check: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await check())) await new Promise((done) => setTimeout(done, 25));
}

describe('the embedded Lambda across kill -9', () => {
  it('polls an acknowledged event source mapping again after a restart', async () => {
    // Prepare
    const { dataDir, outFile } = newDirs();
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'payments' }));
    const first = await start(dataDir, outFile, 'arn:aws:sqs:us-east-1:000000000000:payments');
    await first.kill();

    // Act
    const second = await start(dataDir, outFile);
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'after the crash' }));
    await eventually(async () => {
      const { Attributes } = await client.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }),
      );
      return recorded(outFile).length > 0 && Attributes?.ApproximateNumberOfMessagesNotVisible === '0';
    });
    await second.kill();

    // Assess
    expect(first.mapped).toMatch(/^[0-9a-f-]{36}$/);
    const events = recorded(outFile) as { Records: { body: string; eventSourceARN: string }[] }[];
    expect(events.map((event) => event.Records.map((record) => record.body))).toEqual([['after the crash']]);
    expect(events[0]!.Records[0]!.eventSourceARN).toBe('arn:aws:sqs:us-east-1:000000000000:payments');
  });

  it('still runs an Event invocation accepted (202) just before the crash', async () => {
    // Prepare
    const { dataDir, outFile } = newDirs();
    const first = await start(dataDir, outFile);

    // Act
    const accepted = await fetch(`${first.endpoint}/2015-03-31/functions/recorder/invocations`, {
      method: 'POST',
      headers: { 'X-Amz-Invocation-Type': 'Event' },
      body: JSON.stringify({ topUp: 'T-1' }),
    });
    await first.kill();
    const second = await start(dataDir, outFile);
    await eventually(() => recorded(outFile).length > 0);
    await second.kill();

    // Assess
    expect(accepted.status).toBe(202);
    // At least once, as Lambda promises for asynchronous events; the handler waits 300 ms, so the kill
    // normally lands before it records anything.
    expect(new Set(recorded(outFile).map((event) => JSON.stringify(event)))).toEqual(
      new Set(['{"topUp":"T-1"}']),
    );
  });
});
