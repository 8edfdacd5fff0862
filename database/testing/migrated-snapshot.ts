/**
 * Test support: a database every migration has run on, taken once per test worker as a snapshot that new
 * embedded databases start from (`startDataApi({ snapshot })`, `startPaymentSystem({ databaseSnapshot })`).
 * A new database and its migrations took 0.9–1.1 s (1.4–1.6 s of CPU) here, a restored snapshot 0.5–0.7 s
 * (0.8–0.9 s of CPU). For the tests that need the schema; tests of the migrations themselves start from an
 * empty cluster.
 *
 * @example
 * const db = await startDataApi({ snapshot: await migratedSnapshot() });
 */
import { migrate } from '../migrate.ts';
import { startDataApi } from './data-api.ts';

let snapshot: Promise<Blob> | undefined;

export function migratedSnapshot(): Promise<Blob> {
  if (snapshot === undefined) {
    snapshot = takeSnapshot();
    snapshot.catch(() => (snapshot = undefined));
  }
  return snapshot;
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
