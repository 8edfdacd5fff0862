/**
 * The local definition, synthesized once per version of what it is made from. Loading CDK and synthesizing
 * took about 0.95 s of every `npm start` here, most of a start on a kept data folder; what the construct
 * synthesizes depends only on its source files, the CDK version and the props, so the result is kept under
 * a digest of exactly those (`node_modules/.cache/payment-to-vend/definitions/`). A change to any file the
 * construct imports, however indirectly, changes the digest: `npm start` never runs a stale definition.
 *
 * @example
 * const asl = await cachedLocalDefinition({ props: topology.workflow });
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keptFile } from '@payment-to-vend/embedded-aws';
import type { LocalEnvironment, LocalTuning } from './local-definition.ts';

const SYNTHESIS = fileURLToPath(new URL('./local-definition.ts', import.meta.url));
const CACHE = fileURLToPath(new URL('../node_modules/.cache/payment-to-vend/definitions/', import.meta.url));

export interface LocalDefinitionOptions {
  readonly props?: LocalTuning;
  readonly environment?: LocalEnvironment;
}

/** What `synthesizeLocalDefinition(options)` returns, from the cache when nothing it depends on changed. */
export async function cachedLocalDefinition(
  options: LocalDefinitionOptions = {},
  cacheDir: string = CACHE,
): Promise<Record<string, unknown>> {
  const kept = await keptFile(join(cacheDir, `${definitionDigest(options)}.json`), async () => {
    const { synthesizeLocalDefinition } = await import('./local-definition.ts');
    return JSON.stringify(synthesizeLocalDefinition(options));
  });
  return JSON.parse(kept.toString('utf8')) as Record<string, unknown>;
}

/** A digest of the synthesis's source files, the CDK version and the options. */
export function definitionDigest(options: LocalDefinitionOptions): string {
  const hash = createHash('sha256');
  hash.update(`aws-cdk-lib ${createRequire(import.meta.url)('aws-cdk-lib/package.json').version}\n`);
  hash.update(`${JSON.stringify(options)}\n`);
  for (const file of sourceClosure(SYNTHESIS)) hash.update(`${file}\n`).update(readFileSync(file));
  return hash.digest('hex').slice(0, 32);
}

const RELATIVE_IMPORT = /\bfrom\s+'(\.{1,2}\/[^']+\.ts)'|\bimport\(\s*'(\.{1,2}\/[^']+\.ts)'\s*\)/g;

/** `entry` and every file of ours it imports by a relative path, directly or not, sorted. */
export function sourceClosure(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(RELATIVE_IMPORT)) {
      visit(resolve(dirname(file), (match[1] ?? match[2]) as string));
    }
  };
  visit(entry);
  return [...seen].sort();
}
