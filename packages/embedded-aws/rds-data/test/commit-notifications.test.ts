/**
 * The embedded database's commit notifications (`onTablesChanged`, `nextChangeTo`): what the local wiring
 * wakes the front-end's event tail with. Told after an autocommit write or a CommitTransaction, with the
 * tables the SQL writes to; nothing for reads, failures or rollbacks.
 */
import {
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  RollbackTransactionCommand,
} from '@aws-sdk/client-rds-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tablesWrittenBy } from '../database.ts';
import { type DataApiHarness, startDataApi, TARGET } from './harness.ts';

let data: DataApiHarness;
let told: string[][] = [];

beforeAll(async () => {
  data = await startDataApi();
  data.database.onTablesChanged((tables) => told.push([...tables].sort()));
  await execute('CREATE TABLE events_n (id serial PRIMARY KEY, v text)');
  await execute('CREATE TABLE others_n (id serial PRIMARY KEY, v text UNIQUE)');
}, 30_000);

afterAll(async () => {
  await data.close();
});

function execute(sql: string, transactionId?: string) {
  return data.client.send(new ExecuteStatementCommand({ ...TARGET, sql, transactionId }));
}

describe('onTablesChanged', () => {
  it('tells the tables an autocommit write names, and nothing for a read or a failed write', async () => {
    told = [];
    await execute("INSERT INTO events_n (v) VALUES ('a')");
    await execute('SELECT * FROM events_n');
    await execute("INSERT INTO others_n (v) VALUES ('x')");
    await expect(execute("INSERT INTO others_n (v) VALUES ('x')")).rejects.toThrow(/duplicate key/);
    expect(told).toEqual([['events_n'], ['others_n']]);
  });

  it('tells a transaction’s tables once, at its commit, and nothing for a rollback', async () => {
    told = [];
    const { transactionId } = await data.client.send(new BeginTransactionCommand({ ...TARGET }));
    await execute("INSERT INTO events_n (v) VALUES ('b')", transactionId);
    await execute("UPDATE others_n SET v = 'y' WHERE v = 'x'", transactionId);
    expect(told).toEqual([]);
    await data.client.send(new CommitTransactionCommand({ ...TARGET, transactionId }));
    expect(told).toEqual([['events_n', 'others_n']]);

    told = [];
    const second = await data.client.send(new BeginTransactionCommand({ ...TARGET }));
    await execute("INSERT INTO events_n (v) VALUES ('c')", second.transactionId);
    await data.client.send(
      new RollbackTransactionCommand({ ...TARGET, transactionId: second.transactionId }),
    );
    expect(told).toEqual([]);
  });

  it('nextChangeTo resolves after the next commit to that table, with the row readable', async () => {
    let resolved = false;
    const change = data.database.nextChangeTo('events_n').then(() => {
      resolved = true;
    });
    await execute("INSERT INTO others_n (v) VALUES ('z')");
    await new Promise((resolve) => setImmediate(resolve));
    expect(resolved).toBe(false);
    await execute("INSERT INTO events_n (v) VALUES ('d')");
    await change;
    const rows = await execute("SELECT count(*)::int FROM events_n WHERE v = 'd'");
    expect(rows.records).toEqual([[{ longValue: 1 }]]);
  });
});

describe('tablesWrittenBy', () => {
  it('reads the written tables from INSERT, UPDATE, DELETE (CTEs too), without schema, quoted kept as is', () => {
    expect([
      ...tablesWrittenBy(`WITH p AS (UPDATE payments SET n = n + 1 RETURNING id)
        INSERT INTO public.payment_events (id) SELECT id FROM p`),
    ]).toEqual(['payments', 'payment_events']);
    expect([...tablesWrittenBy('DELETE FROM "Odd.Name" WHERE true')]).toEqual(['Odd.Name']);
    expect([...tablesWrittenBy('SELECT * FROM payment_events WHERE id > 1')]).toEqual([]);
  });
});
