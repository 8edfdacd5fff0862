/**
 * Database users: each secret mapped to a role runs its calls as that role, so a statement the role was not
 * granted fails as it fails on Aurora, and nothing a call does (failing, or leaving a transaction open) leaves
 * the next call in the wrong role.
 */
import {
  BatchExecuteStatementCommand,
  BeginTransactionCommand,
  CommitTransactionCommand,
  DatabaseErrorException,
  ExecuteStatementCommand,
  RollbackTransactionCommand,
} from '@aws-sdk/client-rds-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DataApiHarness, errorOf, startDataApi, TARGET } from './harness.ts';

const READER_SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:payments-db-reader-AbCdEf';
const ODD_SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:payments-db-odd-AbCdEf';
/** Which cluster and secret a call names. */
type Target = { readonly resourceArn: string; readonly secretArn: string; readonly database: string };
const READER: Target = { ...TARGET, secretArn: READER_SECRET };

let data: DataApiHarness;

beforeAll(async () => {
  data = await startDataApi({ roles: { [READER_SECRET]: 'reader', [ODD_SECRET]: 'odd "role"' } });
  for (const sql of [
    'CREATE ROLE reader NOLOGIN',
    'CREATE ROLE "odd ""role""" NOLOGIN',
    'CREATE TABLE meters (meter_id text PRIMARY KEY, note text)',
    'GRANT SELECT (meter_id), INSERT (meter_id) ON meters TO reader',
    'GRANT SELECT ON meters TO "odd ""role"""',
  ]) {
    await execute(sql);
  }
}, 30_000);

afterAll(async () => {
  await data.close();
});

function execute(sql: string, target: Target = TARGET, transactionId?: string) {
  return data.client.send(new ExecuteStatementCommand({ ...target, sql, transactionId }));
}

async function currentUser(target: Target = TARGET, transactionId?: string): Promise<string> {
  const { records } = await execute('SELECT current_user', target, transactionId);
  return String(records?.[0]?.[0]?.stringValue);
}

describe('a secret mapped to a role', () => {
  it('runs its calls as its role, and any other secret as the master', async () => {
    // Act
    const asReader = await currentUser(READER);
    const asOdd = await currentUser({ ...TARGET, secretArn: ODD_SECRET });
    const asMaster = await currentUser();

    // Assess
    expect(asReader).toBe('reader');
    expect(asOdd).toBe('odd "role"');
    expect(asMaster).toBe('postgres');
  });

  it('is refused what its role was not granted, with the error Aurora gives, and the next call is unaffected', async () => {
    // Act
    const update = await errorOf(execute("UPDATE meters SET note = 'x'", READER));
    const column = await errorOf(execute('SELECT note FROM meters', READER));
    const afterwards = await currentUser();
    const allowed = await execute("INSERT INTO meters (meter_id) VALUES ('m1') RETURNING meter_id", READER);

    // Assess
    expect(update).toBeInstanceOf(DatabaseErrorException);
    expect(update.message).toBe('ERROR: permission denied for table meters; SQLState: 42501');
    expect(update.$metadata?.httpStatusCode).toBe(400);
    expect(column.message).toBe('ERROR: permission denied for table meters; SQLState: 42501');
    expect(afterwards).toBe('postgres');
    expect(allowed.records).toEqual([[{ stringValue: 'm1' }]]);
  });

  it('applies none of a batch that its role may not finish, and leaves the session as the master', async () => {
    // Act
    const error = await errorOf(
      data.client.send(
        new BatchExecuteStatementCommand({
          ...READER,
          sql: 'INSERT INTO meters (meter_id, note) VALUES (:meterId, NULL)',
          parameterSets: [[{ name: 'meterId', value: { stringValue: 'm2' } }]],
        }),
      ),
    );
    const { records } = await execute("SELECT count(*) FROM meters WHERE meter_id = 'm2'");

    // Assess
    expect(error.message).toMatch(/^ERROR: permission denied for table meters/);
    expect(records).toEqual([[{ longValue: 0 }]]);
    expect(await currentUser()).toBe('postgres');
  });

  it.each(['BEGIN', 'COMMIT', 'RESET ROLE'])(
    'cannot keep its role past its call, even by ending its implicit transaction early (%s)',
    async (statement) => {
      // Act
      await execute(statement, READER);
      const afterwards = await currentUser();

      // Assess
      expect(afterwards).toBe('postgres');
    },
  );
});

describe('a transaction', () => {
  it('runs every call as the role of the secret it began with, until it ends', async () => {
    // Prepare
    const { transactionId } = await data.client.send(new BeginTransactionCommand(READER));

    // Act
    const first = await currentUser(READER, transactionId);
    // A call may change its own role; the transaction's next call is its role again.
    await execute('RESET ROLE', READER, transactionId);
    const afterReset = await currentUser(TARGET, transactionId);
    await execute("INSERT INTO meters (meter_id) VALUES ('m3')", READER, transactionId);
    await data.client.send(new CommitTransactionCommand({ ...READER, transactionId }));
    const afterCommit = await currentUser();

    // Assess
    expect(first).toBe('reader');
    expect(afterReset).toBe('reader');
    expect(afterCommit).toBe('postgres');
    const { records } = await execute("SELECT meter_id FROM meters WHERE meter_id = 'm3'");
    expect(records).toEqual([[{ stringValue: 'm3' }]]);
  });

  it('ends on a statement its role may not run, and the session is the master again', async () => {
    // Prepare
    const { transactionId } = await data.client.send(new BeginTransactionCommand(READER));
    await execute("INSERT INTO meters (meter_id) VALUES ('m4')", READER, transactionId);

    // Act
    const refused = await errorOf(execute('DELETE FROM meters', READER, transactionId));
    const ended = await errorOf(
      data.client.send(new RollbackTransactionCommand({ ...READER, transactionId: transactionId ?? '' })),
    );

    // Assess
    expect(refused.message).toBe('ERROR: permission denied for table meters; SQLState: 42501');
    expect(ended.name).toBe('TransactionNotFoundException');
    expect(await currentUser()).toBe('postgres');
    const { records } = await execute("SELECT count(*) FROM meters WHERE meter_id = 'm4'");
    expect(records).toEqual([[{ longValue: 0 }]]);
  });

  it('begun with the master secret runs as the master', async () => {
    // Prepare
    const { transactionId } = await data.client.send(new BeginTransactionCommand(TARGET));

    // Act
    const user = await currentUser(TARGET, transactionId);
    await data.client.send(new RollbackTransactionCommand({ ...TARGET, transactionId }));

    // Assess
    expect(user).toBe('postgres');
  });
});
