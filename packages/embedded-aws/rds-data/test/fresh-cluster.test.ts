/**
 * A new embedded database starts as a copy of a new PostgreSQL cluster kept in a folder (fresh-cluster.ts),
 * and is then a database like any other: empty, writable, kept across a reopen. A kept copy that cannot be
 * loaded is made again.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keptPath, openCluster } from '../fresh-cluster.ts';

const folders: string[] = [];

function folder(): string {
  const path = mkdtempSync(join(tmpdir(), 'fresh-cluster-'));
  folders.push(path);
  return path;
}

afterEach(() => {
  for (const path of folders.splice(0)) rmSync(path, { recursive: true, force: true });
});

/** The user tables of the database: none in a new cluster. */
async function userTables(pg: Awaited<ReturnType<typeof openCluster>>): Promise<string[]> {
  const { rows } = await pg.query<{ name: string }>(
    "SELECT tablename AS name FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
  );
  return rows.map((row) => row.name);
}

/**
 * Each test makes a new cluster (PGlite's initdb, about 5 s of CPU here) and opens it two or three times (about
 * a second each): about 9 s on a quiet machine, over 20 s at a load average of 8.
 */
const CLUSTER_TEST_TIMEOUT_MS = 90_000;

describe('a new embedded database', { timeout: CLUSTER_TEST_TIMEOUT_MS }, () => {
  it('is a copy of the kept new cluster: empty, writable, and its rows kept across a reopen', async () => {
    // Prepare
    const keptIn = folder();
    const dataDir = join(folder(), 'postgres');

    // Act
    const first = await openCluster(dataDir, { keptIn });
    const tablesAtFirst = await userTables(first);
    await first.exec('CREATE TABLE meters (id text PRIMARY KEY); INSERT INTO meters VALUES ($$M-1$$)');
    await first.close();
    const reopened = await openCluster(dataDir, { keptIn });
    const other = await openCluster(null, { keptIn });

    // Assess: the kept copy was written, and neither database sees the other's table.
    expect(readdirSync(keptIn)).toEqual([basename(keptPath(keptIn))]);
    expect(statSync(keptPath(keptIn)).size).toBeGreaterThan(1000);
    expect(tablesAtFirst).toEqual([]);
    expect((await reopened.query('SELECT id FROM meters')).rows).toEqual([{ id: 'M-1' }]);
    expect(await userTables(other)).toEqual([]);
    await reopened.close();
    await other.close();
  });

  it('is a copy made again when the kept one cannot be loaded', async () => {
    // Prepare: a kept copy that is no tar at all, as a process starting now would find it.
    const keptIn = folder();
    writeFileSync(keptPath(keptIn), 'not a cluster');
    const dataDir = join(folder(), 'postgres');

    // Act
    const pg = await openCluster(dataDir, { keptIn });
    await pg.exec('CREATE TABLE t (a int)');
    const tables = await userTables(pg);
    await pg.close();
    const reopened = await openCluster(dataDir, { keptIn });

    // Assess
    expect(tables).toEqual(['t']);
    expect(readdirSync(keptIn)).toEqual([basename(keptPath(keptIn))]);
    expect(statSync(keptPath(keptIn)).size).toBeGreaterThan(1000);
    expect(await userTables(reopened)).toEqual(['t']);
    await reopened.close();
  });
});
