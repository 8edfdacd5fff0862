/**
 * A data directory written by the embedded Lambda of before the readable journal records (record version 1)
 * still opens, with what a user would notice as it was. `fixtures/data-v1/` was written by that code (commit
 * b32516b) with functions `echo` and `failing` (which always throws) and Event retries an hour apart, in two
 * lives so that both files of each journal hold records:
 * - first life, now the snapshots: disabled mappings of `settle` (batch size 5) and `refund`
 *   (ReportBatchItemFailures) to `echo`; an Event invocation of `failing` (p-1) that failed once.
 * - second life, now the logs: `refund` updated to batch size 3 and maximum concurrency 4, then disabled
 *   again; a mapping of `scratch` created and deleted; Event invocations of `echo` (p-2, done) and of
 *   `failing` (p-3, failed once).
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { packagePath } from '../../testing/package-path.ts';
import { EventSourceMappings } from '../event-source-mappings.ts';
import { LambdaRunner } from '../lambda-runner.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/data-v1', import.meta.url));
const RECORDER = `${packagePath('lambda/fixtures/recorder.ts')}#handler`;
const QUEUE_ARN_PREFIX = 'arn:aws:sqs:us-east-1:000000000000:';
/** Two hours after the failed events were queued: past their retry time, inside Lambda's six-hour limit. */
const AFTER_RETRY_TIME = 1_796_226_330_187 + 2 * 60 * 60 * 1000;
const quiet = { warn: () => {}, error: () => {} };

const dirs: string[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function copyOfFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-data-v1-'));
  dirs.push(dir);
  cpSync(FIXTURE, join(dir, 'data'), { recursive: true });
  return dir;
}

describe('Lambda on a data directory written with record version 1', () => {
  it('keeps the event source mappings as they were last saved, without the deleted one', async () => {
    // Prepare
    const dataDir = join(copyOfFixture(), 'data');
    const runner = await LambdaRunner.open({ dataDir: null });

    // Act
    const mappings = await EventSourceMappings.open({
      dataDir,
      runner,
      sqsEndpoint: 'http://127.0.0.1:9',
      logger: quiet,
    });
    const listed = mappings.list();
    await mappings.close();
    await runner.close();

    // Assess
    expect(listed).toMatchObject([
      {
        eventSourceArn: `${QUEUE_ARN_PREFIX}settle`,
        batchSize: 5,
        state: 'Disabled',
        functionResponseTypes: [],
      },
      {
        eventSourceArn: `${QUEUE_ARN_PREFIX}refund`,
        batchSize: 3,
        maximumConcurrency: 4,
        state: 'Disabled',
        functionResponseTypes: ['ReportBatchItemFailures'],
      },
    ]);
    expect(listed).toHaveLength(2);
  });

  it('runs the Event invocations still waiting for a retry, and not the finished one', async () => {
    // Prepare
    const dir = copyOfFixture();
    const dataDir = join(dir, 'data');
    const outFile = join(dir, 'out.jsonl');
    vi.useFakeTimers({ toFake: ['Date'], now: AFTER_RETRY_TIME });
    const runner = await LambdaRunner.open({ dataDir, logger: quiet });

    // Act
    for (const name of ['echo', 'failing']) {
      runner.register({ name, handler: RECORDER, environment: { OUT_FILE: outFile } });
    }
    await runner.idle();
    await runner.close();
    const journal = readdirSync(dataDir)
      .filter((name) => name.startsWith('lambda-async.'))
      .map((name) => readFileSync(join(dataDir, name), 'utf8'))
      .join('');
    const ran = existsSync(outFile) ? readFileSync(outFile, 'utf8').trim().split('\n') : [];

    // Assess
    expect(ran.map((line) => (JSON.parse(line) as { paymentId: string }).paymentId).sort()).toEqual([
      'p-1',
      'p-3',
    ]);
    expect(journal).toContain('"recordVersion":2');
    expect(journal).not.toMatch(/"t":/);
  });
});
