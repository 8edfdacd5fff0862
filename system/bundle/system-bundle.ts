/**
 * The system as JavaScript that plain `node` runs: `npm start` through system/bundle/run-bundled.mjs. Loading our
 * TypeScript through tsx's loader hooks, module by module, was the largest part of a start on a kept data
 * folder (BENCHMARKS.md); one esbuild build, kept until a file it was made from changes, removes it.
 *
 * The build has an entry for each program that runs the system (`npm start`'s system/main.ts, the crash
 * tests' system/testing/payment-system-process.ts and the chaos run's system/chaos/system-process.ts) and one
 * for each task Lambda's handler, as CDK's
 * NodejsFunction bundles each handler for AWS; the entries share chunks, so the handlers use the same
 * module instances as the wiring that registers the in-process request handler
 * (tasks/shared/aws-client-config.ts). npm packages stay outside and load from node_modules as they do under
 * tsx. `import.meta` keeps naming the source file, so files beside it (migrations, static pages) are found.
 *
 * The bundle goes to `node_modules/.cache/payment-to-vend/system-bundle/<digest>/`, and `current.json` beside
 * it names the newest and the content digest of every file it was made from, which the launcher checks
 * before it runs the bundle: a start never runs code older than the files.
 *
 * Usage: node --import tsx system/bundle/system-bundle.ts   (builds and writes current.json)
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  importMetaOfTheSource,
  removeBundlesUnusedForADay,
  workspacePackagesInside,
} from '@payment-to-vend/embedded-aws/bundling';
import { build, type Plugin } from 'esbuild';
import { environments } from '../../infra/lib/environments.ts';
import { topologyFor } from '../topology.ts';

const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));
/**
 * Where bundles and `current.json` go; PAYMENT_TO_VEND_SYSTEM_BUNDLES moves them (the launcher's test), to a
 * folder under the repository still, as the bundle's npm packages resolve from the node_modules above it.
 */
export const SYSTEM_BUNDLES =
  process.env.PAYMENT_TO_VEND_SYSTEM_BUNDLES ??
  join(REPOSITORY, 'node_modules/.cache/payment-to-vend/system-bundle');

/** What `current.json` holds; system/bundle/run-bundled.mjs reads it. */
export interface SystemBundleManifest {
  /**
   * The checkout it was built from: `import.meta` in the bundle names files there, so a copy of the
   * repository (the chaos runs') builds its own.
   */
  readonly repository: string;
  /** The bundle's folder: each entry at its path from the repository, `.ts` → `.js`. */
  readonly outdir: string;
  readonly esbuild: string;
  /** Every file the bundle was made from, from the repository, with the SHA-256 of its content. */
  readonly inputs: Readonly<Record<string, string>>;
}

/** The programs that run the system, and every task function's handler in every environment. */
export function systemBundleEntries(): string[] {
  const handlers = environments().flatMap((settings) =>
    Object.values(topologyFor(settings).functions).map((spec) => spec.entry),
  );
  const programs = [
    'system/main.ts',
    'system/testing/payment-system-process.ts',
    'system/chaos/system-process.ts',
  ];
  return [...new Set([...programs, ...handlers])];
}

/** npm packages load from node_modules, as under tsx; our workspace packages are TypeScript and go inside. */
const npmPackagesOutside: Plugin = {
  name: 'npm-packages-outside',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, ({ path }) =>
      path.startsWith('@payment-to-vend/') ? undefined : { path, external: true },
    );
  },
};

export async function buildSystemBundle(bundles: string = SYSTEM_BUNDLES): Promise<SystemBundleManifest> {
  mkdirSync(bundles, { recursive: true });
  const building = join(bundles, `building-${randomUUID()}`);
  // The digest of each file as esbuild read it: a file saved again during the build is then seen as changed.
  const digests = new Map<string, string>();
  const recordDigest = (path: string, source: string) =>
    digests.set(relative(REPOSITORY, path), createHash('sha256').update(source).digest('hex'));
  try {
    const { metafile } = await build({
      absWorkingDir: REPOSITORY,
      entryPoints: systemBundleEntries(),
      outbase: REPOSITORY,
      outdir: building,
      chunkNames: 'chunks/[name]-[hash]',
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: 'linked',
      metafile: true,
      plugins: [workspacePackagesInside, npmPackagesOutside, importMetaOfTheSource(recordDigest)],
      logLevel: 'warning',
    });
    const inputs: Record<string, string> = {};
    for (const input of Object.keys(metafile.inputs).sort()) {
      inputs[input] =
        digests.get(input) ??
        createHash('sha256')
          .update(readFileSync(resolve(REPOSITORY, input)))
          .digest('hex');
    }
    const digest = createHash('sha256')
      .update(JSON.stringify({ repository: REPOSITORY, inputs }))
      .digest('hex')
      .slice(0, 16);
    const outdir = join(bundles, digest);
    try {
      renameSync(building, outdir);
    } catch (error) {
      // Another start built the same files at the same time: its bundle is this one.
      if (!['EEXIST', 'ENOTEMPTY'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
    const manifest: SystemBundleManifest = {
      repository: REPOSITORY,
      outdir,
      esbuild: esbuildVersion(),
      inputs,
    };
    const partial = join(bundles, `current.json.${process.pid}.partial`);
    writeFileSync(partial, `${JSON.stringify(manifest, null, 1)}\n`);
    renameSync(partial, join(bundles, 'current.json'));
    // The launcher touches the bundle it starts; builds that died half way are removed too.
    removeBundlesUnusedForADay(
      bundles,
      (name) => join(bundles, name) !== outdir && !name.startsWith('current.json'),
    );
    return manifest;
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
}

function esbuildVersion(): string {
  return (createRequire(import.meta.url)('esbuild/package.json') as { version: string }).version;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const { outdir } = await buildSystemBundle();
    console.log(`the system bundled into ${relative(process.cwd(), outdir)}`);
  } catch (error) {
    // A build error esbuild has already printed, with the file and line; anything else is ours to print.
    if (!(error instanceof Error && 'errors' in error)) console.error(error);
    process.exitCode = 1;
  }
}
