/**
 * Kill -9 tests: the Data API runs in a child process on a PGlite data directory, is killed with SIGKILL
 * and started again on the same directory. Every statement the client saw succeed outside a transaction,
 * and every transaction it saw committed, must be there afterwards; a transaction still open at the kill
 * must be gone, as a dropped connection's transaction is on Aurora.
 */
import {
  BatchExecuteStatementCommand,
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  type RDSDataClient,
} from '@aws-sdk/client-rds-data';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ChildProcesses } from '../../testing/child-processes.ts';
import { packagePath } from '../../testing/package-path.ts';
import { dataClient, TARGET } from './harness.ts';

const FIXTURE = packagePath('rds-data/test/data-api-process.ts');

interface RunningDataApi {
  readonly client: RDSDataClient;
  kill(): Promise<void>;
}

const processes = new ChildProcesses();

async function startDataApiProcess(dataDir: string): Promise<RunningDataApi> {
  const running = await processes.start(FIXTURE, [dataDir]);
  const client = dataClient(running.value);
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

function execute(client: RDSDataClient, sql: string, transactionId?: string) {
  return client.send(new ExecuteStatementCommand({ ...TARGET, sql, transactionId }));
}

describe('the Data API killed with SIGKILL', () => {
  it('keeps what was committed and loses the transaction left open', async () => {
    // Prepare
    const dataDir = processes.tempDir('rds-data-durability-');
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
    const dataDir = processes.tempDir('rds-data-durability-');
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
