/**
 * A file made once and kept for every process after: the new cluster PGlite copies, a migrated snapshot, a
 * synthesized definition. Named by what it is made from, so a kept file is never stale, only absent.
 *
 * @example
 * const files = await keptFile(join(tmpdir(), `cluster-${version}.tar`), async () => dumpOfANewCluster());
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * What `path` holds, or else what `make` returns, written there for the next caller. Written by rename, so
 * processes starting together never read half a file; an empty or unreadable file counts as absent, and a
 * folder that cannot be written only costs the next caller the making.
 */
export async function keptFile(path: string, make: () => Promise<Uint8Array | string>): Promise<Buffer> {
  try {
    const kept = readFileSync(path);
    if (kept.length > 0) return kept;
  } catch {
    // Not made yet (or unreadable): made below.
  }
  const made = await make();
  const partial = `${path}.${process.pid}.partial`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(partial, made);
    renameSync(partial, path);
  } catch {
    if (existsSync(partial)) rmSync(partial);
  }
  return Buffer.from(made);
}
