/**
 * Statements the embedded Data API has run before are bound to a prepared name instead of parsed again
 * (prepared-statements.ts). A caller must see nothing of it: a schema change shows in the next result as it
 * does on Aurora, a role is checked on every call, a statement that fails keeps failing the same way, and the
 * same text with parameters of other types runs as its own statement.
 */
import {
  BatchExecuteStatementCommand,
  BeginTransactionCommand,
  CommitTransactionCommand,
  DatabaseErrorException,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
} from '@aws-sdk/client-rds-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DataApiHarness, errorOf, startDataApi, TARGET } from './harness.ts';

const READER_SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:prepared-reader-AbCdEf';
const READER = { ...TARGET, secretArn: READER_SECRET };

let data: DataApiHarness;

beforeAll(async () => {
  data = await startDataApi({ roles: { [READER_SECRET]: 'prepared_reader' } });
  await execute('CREATE ROLE prepared_reader NOLOGIN');
}, 30_000);

afterAll(async () => {
  await data.close();
});

function execute(sql: string, extra: Partial<ExecuteStatementCommandInput> = {}) {
  return data.client.send(new ExecuteStatementCommand({ ...TARGET, sql, ...extra }));
}

const columnsOf = async (sql: string, transactionId?: string) =>
  (await execute(sql, { includeResultMetadata: true, transactionId })).columnMetadata?.map((c) => c.name);

describe('a statement run again', () => {
  it('returns the columns a table has now, after an ALTER TABLE between two runs', async () => {
    // Prepare
    await execute('CREATE TABLE meters_a (meter_id text PRIMARY KEY)');
    await execute("INSERT INTO meters_a VALUES ('m1')");
    const before = [await columnsOf('SELECT * FROM meters_a'), await columnsOf('SELECT * FROM meters_a')];

    // Act
    await execute("ALTER TABLE meters_a ADD COLUMN tariff text DEFAULT 'standard'");
    const after = await execute('SELECT * FROM meters_a', { includeResultMetadata: true });

    // Assess
    expect(before).toEqual([['meter_id'], ['meter_id']]);
    expect(after.columnMetadata?.map((c) => c.name)).toEqual(['meter_id', 'tariff']);
    expect(after.records).toEqual([[{ stringValue: 'm1' }, { stringValue: 'standard' }]]);
  });

  it('returns the columns a table has now, after an ALTER TABLE earlier in the same transaction', async () => {
    // Prepare
    await execute('CREATE TABLE meters_b (meter_id text PRIMARY KEY)');
    await columnsOf('SELECT * FROM meters_b');
    const { transactionId } = await data.client.send(new BeginTransactionCommand({ ...TARGET }));

    // Act
    const inside = await columnsOf('SELECT * FROM meters_b', transactionId);
    await execute('ALTER TABLE meters_b ADD COLUMN note text', { transactionId });
    const afterAlter = await columnsOf('SELECT * FROM meters_b', transactionId);
    await data.client.send(new CommitTransactionCommand({ ...TARGET, transactionId }));
    const afterCommit = await columnsOf('SELECT * FROM meters_b');

    // Assess
    expect(inside).toEqual(['meter_id']);
    expect(afterAlter).toEqual(['meter_id', 'note']);
    expect(afterCommit).toEqual(['meter_id', 'note']);
  });

  it('is checked against the role of each call, whoever ran it first', async () => {
    // Prepare
    await execute('CREATE TABLE meters_c (meter_id text PRIMARY KEY)');
    await execute("INSERT INTO meters_c VALUES ('m1')");
    const asMaster = await execute('SELECT meter_id FROM meters_c');

    // Act
    const refused = await errorOf(execute('SELECT meter_id FROM meters_c', { secretArn: READER_SECRET }));
    await execute('GRANT SELECT ON meters_c TO prepared_reader');
    const granted = await execute('SELECT meter_id FROM meters_c', { ...READER });
    await execute('REVOKE SELECT ON meters_c FROM prepared_reader');
    const revoked = await errorOf(execute('SELECT meter_id FROM meters_c', { ...READER }));

    // Assess
    expect(asMaster.records).toEqual([[{ stringValue: 'm1' }]]);
    expect(refused).toBeInstanceOf(DatabaseErrorException);
    expect(refused.message).toBe('ERROR: permission denied for table meters_c; SQLState: 42501');
    expect(granted.records).toEqual([[{ stringValue: 'm1' }]]);
    expect(revoked.message).toBe('ERROR: permission denied for table meters_c; SQLState: 42501');
  });

  it('that failed to parse fails the same way every time, and does not spoil the next statement', async () => {
    // Act
    const first = await errorOf(execute('SELEC 1'));
    const second = await errorOf(execute('SELEC 1'));
    const next = await execute('SELECT 1 AS one');

    // Assess
    expect(first.message).toMatch(/^ERROR: syntax error at or near "SELEC".*; SQLState: 42601$/s);
    expect(second.message).toBe(first.message);
    expect(next.records).toEqual([[{ longValue: 1 }]]);
  });

  it('with parameters of another type runs as its own statement', async () => {
    // Act
    const asLong = await execute('SELECT :v AS v', { parameters: [{ name: 'v', value: { longValue: 7 } }] });
    const asText = await execute('SELECT :v AS v', {
      parameters: [{ name: 'v', value: { stringValue: 'seven' } }],
    });
    const asLongAgain = await execute('SELECT :v AS v', {
      parameters: [{ name: 'v', value: { longValue: 8 } }],
    });

    // Assess
    expect(asLong.records).toEqual([[{ longValue: 7 }]]);
    expect(asText.records).toEqual([[{ stringValue: 'seven' }]]);
    expect(asLongAgain.records).toEqual([[{ longValue: 8 }]]);
  });

  it('in a batch runs once per parameter set, the first time and after', async () => {
    // Prepare
    await execute('CREATE TABLE readings (meter_id text, kwh int)');
    const batch = (values: number[]) =>
      data.client.send(
        new BatchExecuteStatementCommand({
          ...TARGET,
          sql: 'INSERT INTO readings VALUES (:meter, :kwh)',
          parameterSets: values.map((kwh) => [
            { name: 'meter', value: { stringValue: 'm1' } },
            { name: 'kwh', value: { longValue: kwh } },
          ]),
        }),
      );

    // Act
    await batch([1, 2, 3]);
    await batch([4, 5]);
    const { records } = await execute('SELECT sum(kwh)::int, count(*)::int FROM readings');

    // Assess
    expect(records).toEqual([[{ longValue: 15 }, { longValue: 5 }]]);
  });
});
