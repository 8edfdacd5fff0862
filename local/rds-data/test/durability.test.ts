/**
 * Kill -9 tests: the Data API runs in a child process on a PGlite data directory, is killed with SIGKILL
 * and started again on the same directory. Every statement the client saw succeed outside a transaction,
 * and every transaction it saw committed, must be there afterwards; a transaction still open at the kill
 * must be gone, as a dropped connection's transaction is on Aurora.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  BatchExecuteStatementCommand,
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  type RDSDataClient,
} from '@aws-sdk/client-rds-data';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { dataClient, TARGET } from './harness.ts';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const FIXTURE = 'local/rds-data/test/data-api-process.ts';

interface RunningDataApi {
  readonly client: RDSDataClient;
  kill(): Promise<void>;
}

const children = new Set<ChildProcess>();
const dataDirs: string[] = [];

async function startDataApiProcess(dataDir: string): Promise<RunningDataApi> {
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
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^ready (\S+)$/m.exec(stdout);
      if (match) ready(match[1]!);
    });
    child.once('exit', (code, signal) =>
      fail(new Error(`the Data API exited (${code ?? signal}) before it was ready:\n${stderr}`)),
    );
  });
  const client = dataClient(endpoint);
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

function execute(client: RDSDataClient, sql: string, transactionId?: string) {
  return client.send(new ExecuteStatementCommand({ ...TARGET, sql, transactionId }));
}

describe('the Data API killed with SIGKILL', () => {
  it('keeps what was committed and loses the transaction left open', async () => {
    // Prepare
    const dataDir = mkdtempSync(join(tmpdir(), 'rds-data-durability-'));
    dataDirs.push(dataDir);
    let api = await startDataApiProcess(dataDir);
    await execute(api.client, 'CREATE TABLE payments (id text PRIMARY KEY, pence int8 NOT NULL)');
    await execute(api.client, "INSERT INTO payments VALUES ('autocommit', 100)");
    await api.client.send(
      new BatchExecuteStatementCommand({
        ...TARGET,
        sql: 'INSERT INTO payments VALUES (:id, :pence)',
        parameterSets: [1, 2, 3].map((n) => [
          { name: 'id', value: { stringValue: `batch-${n}` } },
          { name: 'pence', value: { longValue: n } },
        ]),
      }),
    );
    const committed = await api.client.send(new BeginTransactionCommand(TARGET));
    await execute(api.client, "INSERT INTO payments VALUES ('committed', 200)", committed.transactionId);
    await api.client.send(
      new CommitTransactionCommand({ ...TARGET, transactionId: committed.transactionId }),
    );
    const open = await api.client.send(new BeginTransactionCommand(TARGET));
    await execute(api.client, "INSERT INTO payments VALUES ('uncommitted', 300)", open.transactionId);
    await execute(api.client, "UPDATE payments SET pence = 0 WHERE id = 'autocommit'", open.transactionId);

    // Act
    await api.kill();
    api = await startDataApiProcess(dataDir);
    const rows = await execute(api.client, 'SELECT id, pence FROM payments ORDER BY id');
    const afterRestart = await execute(api.client, "INSERT INTO payments VALUES ('after', 400)");
    await api.kill();

    // Assess
    expect(rows.records).toEqual([
      [{ stringValue: 'autocommit' }, { longValue: 100 }],
      [{ stringValue: 'batch-1' }, { longValue: 1 }],
      [{ stringValue: 'batch-2' }, { longValue: 2 }],
      [{ stringValue: 'batch-3' }, { longValue: 3 }],
      [{ stringValue: 'committed' }, { longValue: 200 }],
    ]);
    expect(afterRestart.numberOfRecordsUpdated).toBe(1);
  }, 60_000);

  it('keeps every acknowledged autocommit insert when killed in the middle of a burst', async () => {
    // Prepare
    const dataDir = mkdtempSync(join(tmpdir(), 'rds-data-durability-'));
    dataDirs.push(dataDir);
    let api = await startDataApiProcess(dataDir);
    await execute(api.client, 'CREATE TABLE events (n int4 PRIMARY KEY)');
    const acknowledged: number[] = [];
    let killed: Promise<void> | undefined;

    // Act: 200 inserts in flight; the process is killed as the 20th is acknowledged
    const running = api;
    const inserts = Array.from({ length: 200 }, async (_, n) => {
      await running.client.send(
        new ExecuteStatementCommand({
          ...TARGET,
          sql: 'INSERT INTO events VALUES (:n)',
          parameters: [{ name: 'n', value: { longValue: n } }],
        }),
      );
      acknowledged.push(n);
      if (acknowledged.length === 20) killed = running.kill();
    });
    await Promise.allSettled(inserts);
    await killed;
    api = await startDataApiProcess(dataDir);
    const stored = await execute(api.client, 'SELECT n FROM events');
    await api.kill();

    // Assess
    const storedNumbers = new Set((stored.records ?? []).map((row) => row[0]?.longValue));
    expect(acknowledged.length).toBeGreaterThanOrEqual(20);
    expect(acknowledged.filter((n) => !storedNumbers.has(n))).toEqual([]);
  }, 60_000);
});
