/**
 * A database's snapshot and a new database restored from it (`DataApiDatabase.snapshot()`, the `snapshot`
 * option), as an Aurora cluster restored from a snapshot: what was committed when it was taken, roles and
 * grants included, taken between transactions rather than in the middle of one; the copy and the original
 * then go their own ways.
 */
import {
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
} from '@aws-sdk/client-rds-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DataApiHarness, startDataApi, TARGET } from './harness.ts';

const CLERK_SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:clerk-AbCdEf';

let original: DataApiHarness;
let restored: DataApiHarness | undefined;

beforeAll(async () => {
  original = await startDataApi({ roles: { [CLERK_SECRET]: 'clerk' } });
  await execute(original, 'CREATE TABLE ledger_s (id serial PRIMARY KEY, entry text NOT NULL)');
  await execute(original, 'CREATE ROLE clerk');
  await execute(original, 'GRANT SELECT ON ledger_s TO clerk');
  await execute(original, "INSERT INTO ledger_s (entry) VALUES ('committed')");
}, 30_000);

afterAll(async () => {
  await restored?.close();
  await original.close();
});

function execute(
  data: DataApiHarness,
  sql: string,
  options: { transactionId?: string; secretArn?: string } = {},
) {
  return data.client.send(
    new ExecuteStatementCommand({
      ...TARGET,
      secretArn: options.secretArn ?? TARGET.secretArn,
      transactionId: options.transactionId,
      sql,
      formatRecordsAs: 'JSON',
    }),
  );
}

async function entries(data: DataApiHarness, secretArn?: string): Promise<string[]> {
  const { formattedRecords } = await execute(data, 'SELECT entry FROM ledger_s ORDER BY id', { secretArn });
  return (JSON.parse(formattedRecords ?? '[]') as { entry: string }[]).map((row) => row.entry);
}

describe('a database restored from a snapshot', () => {
  it('holds what was committed, roles and grants included, once a transaction open when it was asked for has ended', async () => {
    // Prepare
    const { transactionId } = await original.client.send(new BeginTransactionCommand({ ...TARGET }));
    await execute(original, "INSERT INTO ledger_s (entry) VALUES ('from the transaction')", {
      transactionId,
    });

    // Act: taken once the transaction no longer holds the connection, so after its commit
    const snapshot = original.database.snapshot();
    await original.client.send(new CommitTransactionCommand({ ...TARGET, transactionId }));
    restored = await startDataApi({ roles: { [CLERK_SECRET]: 'clerk' }, snapshot: await snapshot });

    // Assert
    expect(await entries(restored)).toEqual(['committed', 'from the transaction']);
    expect(await entries(restored, CLERK_SECRET)).toEqual(['committed', 'from the transaction']);
    await expect(
      execute(restored, "INSERT INTO ledger_s (entry) VALUES ('by the clerk')", { secretArn: CLERK_SECRET }),
    ).rejects.toThrow(/permission denied for table ledger_s/);
  });

  it('and the original change apart afterwards', async () => {
    // Prepare
    const copy = restored!;

    // Act
    await execute(original, "INSERT INTO ledger_s (entry) VALUES ('original only')");
    await execute(copy, "INSERT INTO ledger_s (entry) VALUES ('copy only')");

    // Assert
    expect(await entries(original)).toEqual(['committed', 'from the transaction', 'original only']);
    expect(await entries(copy)).toEqual(['committed', 'from the transaction', 'copy only']);
  });
});
