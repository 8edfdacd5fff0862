/**
 * The embedded RDS Data API through the real `@aws-sdk/client-rds-data` client, as application code calls
 * Aurora PostgreSQL. One in-memory database serves the whole file (PGlite takes seconds to start); each test
 * works in its own tables.
 */

import { Agent } from 'node:http';
import {
  BadRequestException,
  BatchExecuteStatementCommand,
  BeginTransactionCommand,
  CommitTransactionCommand,
  DatabaseErrorException,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
  RDSDataClient,
  RollbackTransactionCommand,
  type SqlParameter,
  TransactionNotFoundException,
} from '@aws-sdk/client-rds-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DataApiHarness, errorOf, startDataApi, TARGET } from './harness.ts';

let data: DataApiHarness;
let tableCounter = 0;

beforeAll(async () => {
  // A short idle limit so the expiry test need not wait 3 minutes; no other test idles that long. Calls
  // waiting behind a quiet transaction are turned away sooner than that.
  data = await startDataApi({ transactionIdleTimeoutMs: 1500, connectionWaitLimitMs: 300 });
}, 30_000);

afterAll(async () => {
  await data.close();
});

function execute(sql: string, extra: Partial<ExecuteStatementCommandInput> = {}) {
  return data.client.send(new ExecuteStatementCommand({ ...TARGET, sql, ...extra }));
}

/** A fresh table name, so tests do not see each other's rows. */
function table(): string {
  tableCounter += 1;
  return `t${tableCounter}`;
}

async function accountsTable(): Promise<string> {
  const name = table();
  await execute(
    `CREATE TABLE ${name} (id serial PRIMARY KEY, email text UNIQUE NOT NULL, balance numeric(12,2))`,
  );
  return name;
}

const text = (name: string, value: string): SqlParameter => ({ name, value: { stringValue: value } });
const long = (name: string, value: number): SqlParameter => ({ name, value: { longValue: value } });

describe('ExecuteStatement', () => {
  it('inserts with named parameters and reports the rows changed, with no generated fields (PostgreSQL)', async () => {
    // Prepare
    const accounts = await accountsTable();

    // Act
    const inserted = await execute(`INSERT INTO ${accounts} (email, balance) VALUES (:email, :balance)`, {
      parameters: [
        text('email', 'a@example.com'),
        { name: 'balance', value: { stringValue: '12.50' }, typeHint: 'DECIMAL' },
      ],
    });
    const updated = await execute(`UPDATE ${accounts} SET balance = balance + 1`);

    // Assess
    expect(inserted.numberOfRecordsUpdated).toBe(1);
    expect(inserted.generatedFields).toEqual([]);
    expect(inserted.records).toBeUndefined();
    expect(updated.numberOfRecordsUpdated).toBe(1);
  });

  it('maps PostgreSQL types to Fields as Aurora PostgreSQL returns them', async () => {
    // Act
    const result = await execute(
      `SELECT 7::int4 AS i4, 9007199254740993::int8 AS i8, 2::int2 AS i2, 1.5::float8 AS f8, 12.30::numeric(10,2) AS n,
        true AS b, 'x'::text AS t, 'v'::varchar(5) AS v, '2024-01-02 03:04:05.123456'::timestamp AS ts,
        '2024-01-02 03:04:05+02'::timestamptz AS tz, '2024-01-02'::date AS d, '10:11:12'::time AS tm,
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, '{"a": 1}'::jsonb AS j, '\\x0102ff'::bytea AS bin,
        ARRAY[1, NULL, 3] AS ints, ARRAY['a', 'b c'] AS texts, ARRAY[true, false] AS bools, NULL::text AS nothing,
        '1 day'::interval AS span`,
    );

    // Assess
    expect(result.numberOfRecordsUpdated).toBe(0);
    expect(result.columnMetadata).toBeUndefined();
    const [row] = result.records ?? [];
    expect(row).toEqual([
      { longValue: 7 },
      { longValue: Number('9007199254740993') }, // a JS number, as the SDK reads it
      { longValue: 2 },
      { doubleValue: 1.5 },
      { stringValue: '12.30' },
      { booleanValue: true },
      { stringValue: 'x' },
      { stringValue: 'v' },
      { stringValue: '2024-01-02 03:04:05.123' },
      { stringValue: '2024-01-02 01:04:05' },
      { stringValue: '2024-01-02' },
      { stringValue: '10:11:12' },
      { stringValue: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' },
      { stringValue: '{"a": 1}' },
      { blobValue: new Uint8Array([1, 2, 255]) },
      { arrayValue: { longValues: [1, null, 3] } },
      { arrayValue: { stringValues: ['a', 'b c'] } },
      { arrayValue: { booleanValues: [true, false] } },
      { isNull: true },
      { stringValue: '1 day' },
    ]);
  });

  it('describes columns with includeResultMetadata, as the JDBC driver describes them', async () => {
    // Prepare
    const accounts = await accountsTable();

    // Act
    const result = await execute(`SELECT id, email, balance, now() AS at FROM ${accounts}`, {
      includeResultMetadata: true,
    });

    // Assess
    const columns = result.columnMetadata ?? [];
    expect(columns.map((column) => [column.name, column.label, column.typeName, column.type])).toEqual([
      ['id', 'id', 'serial', 4],
      ['email', 'email', 'text', 12],
      ['balance', 'balance', 'numeric', 2],
      ['at', 'at', 'timestamptz', 93],
    ]);
    expect(columns[0]).toMatchObject({
      tableName: accounts,
      isAutoIncrement: true,
      nullable: 0,
      isSigned: true,
    });
    expect(columns[2]).toMatchObject({ precision: 12, scale: 2, nullable: 1, isAutoIncrement: false });
    expect(columns[3]).toMatchObject({ tableName: '', nullable: 2 });
    expect(result.records).toEqual([]);
  });

  it('returns formattedRecords as one JSON string, and no records or metadata, with formatRecordsAs JSON', async () => {
    // Prepare
    const accounts = await accountsTable();
    await execute(`INSERT INTO ${accounts} (email, balance) VALUES ('a@x', 1.25), ('b@x', NULL)`);

    // Act
    const result = await execute(
      `SELECT id, email, balance, true AS ok, ARRAY[1,2] AS list, 9007199254740993::int8 AS big FROM ${accounts} ORDER BY id`,
      { formatRecordsAs: 'JSON', includeResultMetadata: true },
    );

    // Assess
    expect(result.records).toBeUndefined();
    expect(result.columnMetadata).toBeUndefined();
    expect(result.formattedRecords).toBe(
      '[{"id":1,"email":"a@x","balance":"1.25","ok":true,"list":[1,2],"big":9007199254740993},' +
        '{"id":2,"email":"b@x","balance":null,"ok":true,"list":[1,2],"big":9007199254740993}]',
    );
  });

  it('honours resultSetOptions: longs as strings, decimals as numbers', async () => {
    // Act
    const result = await execute('SELECT 5::int8 AS l, 2.50::numeric AS d, 3::numeric AS whole', {
      resultSetOptions: { longReturnType: 'STRING', decimalReturnType: 'DOUBLE_OR_LONG' },
    });

    // Assess
    expect(result.records).toEqual([[{ stringValue: '5' }, { doubleValue: 2.5 }, { longValue: 3 }]]);
  });

  it('leaves :names inside literals, quoted identifiers, comments and ::casts alone', async () => {
    // Act
    const result = await execute(
      `SELECT ':a' AS "x:a", $$:a$$ AS dollar, E'\\':a' AS escaped, :a::text AS cast /* :a */ -- :a`,
      { parameters: [text('a', 'bound')] },
    );

    // Assess
    expect(result.records).toEqual([
      [{ stringValue: ':a' }, { stringValue: ':a' }, { stringValue: "':a" }, { stringValue: 'bound' }],
    ]);
  });

  it('binds one name used twice once, and ignores parameters the SQL does not use', async () => {
    // Act
    const result = await execute('SELECT :n + :n AS twice', {
      parameters: [long('n', 21), long('unused', 1)],
    });

    // Assess
    expect(result.records).toEqual([[{ longValue: 42 }]]);
  });

  it('lets PostgreSQL reject a :name no parameter supplies', async () => {
    // Act
    const error = await errorOf(execute('SELECT :missing AS x'));

    // Assess
    expect(error).toBeInstanceOf(DatabaseErrorException);
    expect(error.message).toBe('ERROR: syntax error at or near ":"\n  Position: 8; SQLState: 42601');
    expect(error.$metadata?.httpStatusCode).toBe(400);
  });

  it('types a stringValue as varchar, so a non-text column needs a typeHint or a cast, as on Aurora', async () => {
    // Prepare
    const name = table();
    await execute(
      `CREATE TABLE ${name} (id uuid PRIMARY KEY, at timestamptz, day date, doc jsonb, amount numeric)`,
    );
    const id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';

    // Act
    const untyped = await errorOf(
      execute(`INSERT INTO ${name} (id) VALUES (:id)`, { parameters: [text('id', id)] }),
    );
    await execute(`INSERT INTO ${name} VALUES (:id, :at, :day, :doc, :amount)`, {
      parameters: [
        { name: 'id', value: { stringValue: id }, typeHint: 'UUID' },
        { name: 'at', value: { stringValue: '2024-05-06 07:08:09.5' }, typeHint: 'TIMESTAMP' },
        { name: 'day', value: { stringValue: '2024-05-06' }, typeHint: 'DATE' },
        { name: 'doc', value: { stringValue: '{"k": [1]}' }, typeHint: 'JSON' },
        { name: 'amount', value: { stringValue: '10.005' }, typeHint: 'DECIMAL' },
      ],
    });
    const read = await execute(`SELECT id, at, day, doc, amount FROM ${name}`);

    // Assess
    expect(untyped).toBeInstanceOf(DatabaseErrorException);
    expect(untyped.message).toMatch(
      /^ERROR: column "id" is of type uuid but expression is of type character varying\n/,
    );
    expect(untyped.message).toMatch(/; SQLState: 42804$/);
    expect(read.records).toEqual([
      [
        { stringValue: id },
        { stringValue: '2024-05-06 07:08:09.5' },
        { stringValue: '2024-05-06' },
        { stringValue: '{"k": [1]}' },
        { stringValue: '10.005' },
      ],
    ]);
  });

  it('refuses a TIMESTAMP hint that is not yyyy-mm-dd hh:mm:ss, an array parameter and a missing sql', async () => {
    // Act
    const iso = await errorOf(
      execute('SELECT :at AS at', {
        parameters: [{ name: 'at', value: { stringValue: '2024-05-06T07:08:09Z' }, typeHint: 'TIMESTAMP' }],
      }),
    );
    const array = await errorOf(
      execute('SELECT :list AS list', {
        parameters: [{ name: 'list', value: { arrayValue: { longValues: [1] } } }],
      }),
    );
    const noSql = await errorOf(data.client.send(new ExecuteStatementCommand({ ...TARGET, sql: undefined })));

    // Assess
    expect(iso).toBeInstanceOf(BadRequestException);
    expect(iso.message).toBe('Timestamp format must be yyyy-mm-dd hh:mm:ss[.fffffffff]');
    expect(array).toBeInstanceOf(BadRequestException);
    expect(array.message).toBe('Array parameters are not supported.');
    expect(noSql).toBeInstanceOf(BadRequestException);
    expect(noSql.message).toContain(
      "Value null at 'sql' failed to satisfy constraint: Member must not be null",
    );
  });

  it('reports a unique violation with PostgreSQL’s message, detail and SQLState', async () => {
    // Prepare
    const accounts = await accountsTable();
    await execute(`INSERT INTO ${accounts} (email) VALUES ('dup@x')`);

    // Act
    const error = await errorOf(execute(`INSERT INTO ${accounts} (email) VALUES ('dup@x')`));

    // Assess
    expect(error).toBeInstanceOf(DatabaseErrorException);
    expect(error.message).toBe(
      `ERROR: duplicate key value violates unique constraint "${accounts}_email_key"\n` +
        '  Detail: Key (email)=(dup@x) already exists.; SQLState: 23505',
    );
  });

  it('refuses several statements in one call', async () => {
    // Act
    const error = await errorOf(execute('SELECT 1; SELECT 2'));
    const trailing = await execute('SELECT 1 AS one; -- done');

    // Assess
    expect(error).toBeInstanceOf(DatabaseErrorException);
    expect(trailing.records).toEqual([[{ longValue: 1 }]]);
  });
});

describe('BatchExecuteStatement', () => {
  it('runs the statement once per parameter set', async () => {
    // Prepare
    const accounts = await accountsTable();

    // Act
    const batch = await data.client.send(
      new BatchExecuteStatementCommand({
        ...TARGET,
        sql: `INSERT INTO ${accounts} (email) VALUES (:email)`,
        parameterSets: [[text('email', 'a@x')], [text('email', 'b@x')], [text('email', 'c@x')]],
      }),
    );
    const count = await execute(`SELECT count(*) FROM ${accounts}`);

    // Assess
    expect(batch.updateResults).toEqual([
      { generatedFields: [] },
      { generatedFields: [] },
      { generatedFields: [] },
    ]);
    expect(count.records).toEqual([[{ longValue: 3 }]]);
  });

  it('applies nothing when one parameter set fails', async () => {
    // Prepare
    const accounts = await accountsTable();

    // Act
    const error = await errorOf(
      data.client.send(
        new BatchExecuteStatementCommand({
          ...TARGET,
          sql: `INSERT INTO ${accounts} (email) VALUES (:email)`,
          parameterSets: [[text('email', 'a@x')], [text('email', 'a@x')]],
        }),
      ),
    );
    const count = await execute(`SELECT count(*) FROM ${accounts}`);

    // Assess
    expect(error).toBeInstanceOf(DatabaseErrorException);
    expect(error.message).toContain('SQLState: 23505');
    expect(count.records).toEqual([[{ longValue: 0 }]]);
  });
});

describe('transactions', () => {
  it('commits: the rows become visible and the transaction ID is spent', async () => {
    // Prepare
    const accounts = await accountsTable();
    const { transactionId } = await data.client.send(new BeginTransactionCommand(TARGET));

    // Act
    await execute(`INSERT INTO ${accounts} (email) VALUES ('tx@x')`, { transactionId });
    const committed = await data.client.send(new CommitTransactionCommand({ ...TARGET, transactionId }));
    const again = await errorOf(data.client.send(new CommitTransactionCommand({ ...TARGET, transactionId })));
    const rows = await execute(`SELECT email FROM ${accounts}`);

    // Assess
    expect(transactionId).toMatch(/^[A-Za-z0-9+/=]{100,192}$/);
    expect(committed.transactionStatus).toBe('Transaction Committed');
    expect(again).toBeInstanceOf(TransactionNotFoundException);
    expect(again.message).toBe(`Transaction ${transactionId} is not found`);
    expect(again.$metadata?.httpStatusCode).toBe(404);
    expect(rows.records).toEqual([[{ stringValue: 'tx@x' }]]);
  });

  it('rolls back: the rows are gone', async () => {
    // Prepare
    const accounts = await accountsTable();
    const { transactionId } = await data.client.send(new BeginTransactionCommand(TARGET));
    await data.client.send(
      new BatchExecuteStatementCommand({
        ...TARGET,
        transactionId,
        sql: `INSERT INTO ${accounts} (email) VALUES (:email)`,
        parameterSets: [[text('email', 'a@x')], [text('email', 'b@x')]],
      }),
    );

    // Act
    const rolledBack = await data.client.send(new RollbackTransactionCommand({ ...TARGET, transactionId }));
    const rows = await execute(`SELECT count(*) FROM ${accounts}`);

    // Assess
    expect(rolledBack.transactionStatus).toBe('Rollback Complete');
    expect(rows.records).toEqual([[{ longValue: 0 }]]);
  });

  it('makes other callers wait while a transaction holds the connection, then shows them its commit', async () => {
    // Prepare
    const accounts = await accountsTable();
    const { transactionId } = await data.client.send(new BeginTransactionCommand(TARGET));
    await execute(`INSERT INTO ${accounts} (email) VALUES ('first@x')`, { transactionId });

    // Act: an autocommit read is sent while the transaction is open, and answered only after the commit
    const order: string[] = [];
    const read = execute(`SELECT email FROM ${accounts}`).then((result) => {
      order.push('read');
      return result;
    });
    await execute(`INSERT INTO ${accounts} (email) VALUES ('second@x')`, { transactionId });
    await data.client.send(new CommitTransactionCommand({ ...TARGET, transactionId }));
    order.push('commit');
    const seen = await read;

    // Assess
    expect(order).toEqual(['commit', 'read']);
    expect(seen.records).toEqual([[{ stringValue: 'first@x' }], [{ stringValue: 'second@x' }]]);
  });

  it('ends a transaction whose statement fails: its work is rolled back and its ID is no longer found', async () => {
    // Prepare
    const accounts = await accountsTable();
    const { transactionId } = await data.client.send(new BeginTransactionCommand(TARGET));
    await execute(`INSERT INTO ${accounts} (email) VALUES ('kept?@x')`, { transactionId });

    // Act
    const failed = await errorOf(execute('SELECT * FROM no_such_table', { transactionId }));
    const commit = await errorOf(
      data.client.send(new CommitTransactionCommand({ ...TARGET, transactionId })),
    );
    const rows = await execute(`SELECT count(*) FROM ${accounts}`);

    // Assess
    expect(failed).toBeInstanceOf(DatabaseErrorException);
    expect(failed.message).toBe(
      'ERROR: relation "no_such_table" does not exist\n  Position: 15; SQLState: 42P01',
    );
    expect(commit).toBeInstanceOf(TransactionNotFoundException);
    expect(rows.records).toEqual([[{ longValue: 0 }]]);
  });

  it('refuses a second call for a transaction while its first is still running', async () => {
    // Prepare: PGlite runs a statement synchronously, so two HTTP requests can never overlap here; two
    // calls made in the same tick reach the queue the way overlapping requests reach it on AWS.
    const { transactionId } = await data.client.send(new BeginTransactionCommand(TARGET));

    // Act
    const results = await Promise.allSettled([
      data.database.executeStatement({ sql: 'SELECT 1', transactionId }),
      data.database.executeStatement({ sql: 'SELECT 2', transactionId }),
    ]);
    await data.client.send(new RollbackTransactionCommand({ ...TARGET, transactionId }));

    // Assess
    expect(results[0].status).toBe('fulfilled');
    expect(results[1].status).toBe('rejected');
    const refused = (results[1] as PromiseRejectedResult).reason as Error;
    expect(refused.name).toBe('DatabaseErrorException');
    expect(refused.message).toBe('Transaction is still running a query');
  });

  it('refuses a transaction ID it never issued', async () => {
    // Act
    const error = await errorOf(execute('SELECT 1', { transactionId: 'bm90LWEtdHJhbnNhY3Rpb24=' }));

    // Assess
    expect(error).toBeInstanceOf(TransactionNotFoundException);
    expect(error.message).toBe('Transaction bm90LWEtdHJhbnNhY3Rpb24= is not found');
  });

  it('rolls back an idle transaction after the idle limit and lets the waiting callers through', async () => {
    // Prepare
    const accounts = await accountsTable();
    const { transactionId } = await data.client.send(new BeginTransactionCommand(TARGET));
    await execute(`INSERT INTO ${accounts} (email) VALUES ('abandoned@x')`, { transactionId });

    // Act: this read can only run once the abandoned transaction has been rolled back; until then it is
    // turned away as retryable, and the SDK retries it
    const retrying = new RDSDataClient({
      endpoint: data.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 5,
    });
    const seen = await retrying.send(
      new ExecuteStatementCommand({ ...TARGET, sql: `SELECT count(*) FROM ${accounts}` }),
    );
    retrying.destroy();
    const late = await errorOf(data.client.send(new CommitTransactionCommand({ ...TARGET, transactionId })));

    // Assess
    expect(seen.records).toEqual([[{ longValue: 0 }]]);
    expect(late).toBeInstanceOf(TransactionNotFoundException);
  });
});

describe('a client whose connections are all taken by calls waiting behind its own transaction', () => {
  it('still gets the transaction through: the waiting calls are refused as retryable and retried after it', async () => {
    // Prepare: a client with two sockets, like the SDK's 50 under load, and its own transaction open
    const client = new RDSDataClient({
      endpoint: data.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 2 }) },
      maxAttempts: 10,
    });
    const accounts = await accountsTable();
    const { transactionId } = await client.send(new BeginTransactionCommand(TARGET));

    // Act: two autocommit inserts take both sockets waiting for the connection; the transaction then
    // needs a socket for its insert and its commit
    const waiting = [1, 2].map((n) =>
      client.send(
        new ExecuteStatementCommand({
          ...TARGET,
          sql: `INSERT INTO ${accounts} (email) VALUES ('waiting${n}@x')`,
        }),
      ),
    );
    await client.send(
      new ExecuteStatementCommand({
        ...TARGET,
        sql: `INSERT INTO ${accounts} (email) VALUES ('in-transaction@x')`,
        transactionId,
      }),
    );
    await client.send(new CommitTransactionCommand({ ...TARGET, transactionId }));
    await Promise.all(waiting);
    const rows = await execute(`SELECT email FROM ${accounts} ORDER BY email`);
    client.destroy();

    // Assess: everything was written once
    expect(rows.records).toEqual([
      [{ stringValue: 'in-transaction@x' }],
      [{ stringValue: 'waiting1@x' }],
      [{ stringValue: 'waiting2@x' }],
    ]);
  });
});

describe('on the wire', () => {
  it('names the exception in x-amzn-ErrorType with the model’s status, and answers plain JSON', async () => {
    // Act
    const response = await fetch(`${data.endpoint}/CommitTransaction`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...TARGET, transactionId: 'nope' }),
    });
    const ok = await fetch(`${data.endpoint}/Execute`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...TARGET, sql: "SELECT '\\x00ff'::bytea AS b, NULL AS n" }),
    });

    // Assess
    expect(response.status).toBe(404);
    expect(response.headers.get('x-amzn-errortype')).toBe('TransactionNotFoundException');
    expect(await response.json()).toMatchObject({ message: 'Transaction nope is not found' });
    expect(ok.headers.get('content-type')).toBe('application/json');
    expect(await ok.json()).toEqual({
      records: [[{ blobValue: 'AP8=' }, { isNull: true }]],
      numberOfRecordsUpdated: 0,
    });
  });

  it('refuses a parameter value with two members, which the SDK cannot send but a raw client can', async () => {
    // Act
    const response = await fetch(`${data.endpoint}/Execute`, {
      method: 'POST',
      body: JSON.stringify({
        ...TARGET,
        sql: 'SELECT :a',
        parameters: [{ name: 'a', value: { longValue: 1, stringValue: 'x' } }],
      }),
    });

    // Assess
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('BadRequestException');
  });
});
