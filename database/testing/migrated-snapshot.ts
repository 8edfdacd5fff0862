/**
 * Test support: a database every migration has run on, as a snapshot that new embedded databases start from
 * (`startDataApi({ snapshot })`, `startPaymentSystem({ databaseSnapshot })`). A new database and its
 * migrations took 0.9–1.1 s (1.4–1.6 s of CPU) here, a restored snapshot 0.5–0.7 s (0.8–0.9 s of CPU). For
 * the tests that need the schema; tests of the migrations themselves start from an empty cluster.
 *
 * The snapshot is kept in the machine's temporary folder, named by the PGlite version and the migrations'
 * checksums (`keptFile`), so only the first test process after a change to either migrates.
 *
 * @example
 * const db = await startDataApi({ snapshot: await migratedSnapshot() });
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keptFile, pgliteVersion } from '@payment-to-vend/embedded-aws';
import { loadMigrations, migrate } from '../migrate.ts';
import { startDataApi } from './data-api.ts';

let snapshot: Promise<Blob> | undefined;

export function migratedSnapshot(): Promise<Blob> {
  if (snapshot === undefined) {
    snapshot = keptOrTaken();
    snapshot.catch(() => (snapshot = undefined));
  }
  return snapshot;
}

async function keptOrTaken(): Promise<Blob> {
  const migrations = await loadMigrations();
  const key = createHash('sha256')
    .update([pgliteVersion(), ...migrations.map((migration) => migration.checksum)].join('\n'))
    .digest('hex')
    .slice(0, 16);
  const files = await keptFile(join(tmpdir(), `payment-to-vend-migrated-${key}.tar`), async () => {
    const taken = await takeSnapshot();
    return new Uint8Array(await taken.arrayBuffer());
  });
  return new Blob([files]);
}

async function takeSnapshot(): Promise<Blob> {
  const db = await startDataApi();
  try {
    await migrate({ client: db.client, ...db.target });
    return await (await db.aws.dataApi()).snapshot();
  } finally {
    await db.close();
  }
}
