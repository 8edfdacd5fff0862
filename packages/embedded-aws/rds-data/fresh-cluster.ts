/**
 * Starting PGlite on a new database without running initdb each time. A new PostgreSQL cluster costs PGlite
 * 2–3 s here (initdb inside WebAssembly, most of it CPU); loading the files of one made earlier costs about
 * 0.6 s. Every new embedded database (the test suite starts dozens, `npm start` one on a fresh data folder)
 * is therefore a copy of a cluster that PGlite made once on this machine: right after initdb, before anything
 * was written to it, so each copy is what initdb would have made.
 *
 * That cluster is kept, as PGlite's own dump of its files (a tar), in the machine's temporary folder, named
 * by the PGlite version that made it, and written by rename so that processes starting together never read
 * half a file. A copy that cannot be read is made again. An existing data directory is opened as it is.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { keptFile } from '../durable/kept-file.ts';

/**
 * How PostgreSQL starts here: as PGlite starts it, but with 32 MB of shared buffers instead of initdb's 128 MB.
 * PostgreSQL allocates and clears them at every start, which inside WebAssembly costs a new cluster's start about
 * 0.1 s of its 0.8 s of CPU (packages/embedded-aws/bench/cluster-start-bench.ts), and one developer's or one
 * test's database is far smaller than 32 MB. Given at each start, not written to the cluster's configuration.
 */
export const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=32MB'];

/** PGlite started with `START_PARAMS`. */
function start(options: Omit<PGliteOptions, 'startParams'> = {}): Promise<PGlite> {
  return PGlite.create({ ...options, startParams: START_PARAMS });
}

/**
 * PGlite on `dataDir` (null: in memory): the cluster the directory holds, or else a copy of the kept new
 * cluster. `keptIn` is where that copy is kept (the temporary folder unless a test says otherwise).
 * `snapshot`, when given, is what a new cluster starts from instead (`DataApiDatabase.snapshot()`), as an
 * Aurora cluster restored from a snapshot; a directory that already holds a cluster is opened as it is.
 */
export async function openCluster(
  dataDir: string | null,
  { keptIn = tmpdir(), snapshot }: { keptIn?: string; snapshot?: Blob } = {},
): Promise<PGlite> {
  if (dataDir !== null && existsSync(join(dataDir, 'PG_VERSION'))) {
    return start({ dataDir });
  }
  if (snapshot !== undefined) {
    return start({ ...(dataDir !== null ? { dataDir } : {}), loadDataDir: snapshot });
  }
  const empty = dataDir === null || !existsSync(dataDir) || readdirSync(dataDir).length === 0;
  const path = keptPath(keptIn);
  try {
    return await start({
      ...(dataDir !== null ? { dataDir } : {}),
      loadDataDir: await newClusterFiles(path),
    });
  } catch (error) {
    // A kept copy PGlite cannot load: made again at once (initdb, as without a copy) and loaded, in the
    // directory the failed load may have half filled (it was empty before, so nothing else is lost).
    rmSync(path, { force: true });
    kept.delete(path);
    if (!empty) throw error;
    if (dataDir !== null) {
      for (const entry of readdirSync(dataDir))
        rmSync(join(dataDir, entry), { recursive: true, force: true });
    }
    return start({ ...(dataDir !== null ? { dataDir } : {}), loadDataDir: await newClusterFiles(path) });
  }
}

/** The new cluster's files, by where they are kept: read or made once per process. */
const kept = new Map<string, Promise<Blob>>();

/** The files of a new cluster: read from `path`, or made once and put there. */
function newClusterFiles(path: string): Promise<Blob> {
  let files = kept.get(path);
  if (files === undefined) {
    files = readOrMake(path);
    kept.set(path, files);
  }
  return files;
}

async function readOrMake(path: string): Promise<Blob> {
  const files = await keptFile(path, async () => {
    const pg = await start();
    const dump = await pg.dumpDataDir('none');
    await pg.close();
    return new Uint8Array(await dump.arrayBuffer());
  });
  return new Blob([files]);
}

/** Where the copy of a new cluster is kept in `folder`. */
export function keptPath(folder: string): string {
  return join(folder, `embedded-aws-pglite-${pgliteVersion()}-new-cluster.tar`);
}

/**
 * The installed PGlite's version, from its package.json (which its exports do not expose): what names a kept
 * cluster or snapshot, since the version that took one is the one sure to read it back.
 */
export function pgliteVersion(): string {
  let folder = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  for (;;) {
    const manifest = join(folder, 'package.json');
    if (existsSync(manifest)) {
      const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as {
        name?: string;
        version: string;
      };
      if (name === '@electric-sql/pglite') return version;
    }
    const parent = dirname(folder);
    if (parent === folder) return 'unknown';
    folder = parent;
  }
}
