/**
 * Crash-test fixtures run as one esbuild bundle each, by plain `node`, instead of through tsx: a child started
 * with `node --import tsx` spent about 1.4 s here before its first line ran (tsx's loader hooks resolving and
 * compiling our TypeScript module by module), and the crash tests start a child more than a hundred times.
 *
 * The bundle holds our own TypeScript (this repository's files and its workspace packages) and the npm
 * packages it imports: one file to read instead of hundreds to resolve and load, which took a fixture from
 * about 0.5 s to its `ready` line down to about 0.37 s here. A package that finds its own files beside its
 * code (PGlite's WebAssembly and data) stays outside and loads as Node loads it. `import.meta` in our files
 * keeps naming the file it is written in (bundling/source-plugins.ts).
 *
 * A fixture must not import TypeScript while it runs: the embedded Lambda loading a handler by its path is
 * given the handler module's own bundle (`fixtureBundle` of it) instead.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { build } from 'esbuild';
import {
  importMetaOfTheSource,
  removeBundlesUnusedForADay,
  workspacePackagesInside,
} from '../bundling/source-plugins.ts';
import { packagePath } from './package-path.ts';

/**
 * Beside the package's node_modules, so that the packages the bundle leaves out resolve from it as they do
 * from the fixture (Node looks for node_modules in every folder above the bundle).
 */
const BUNDLES = packagePath('node_modules/.cache/crash-test-fixtures');

/** Packages that read their own files at run time, so must load from node_modules. */
const PACKAGES_LEFT_OUTSIDE = ['@electric-sql/pglite', '@electric-sql/pglite/*'];

/** One build per fixture per test worker: the files do not change while the tests run. */
const bundles = new Map<string, Promise<string>>();

/** The bundle's path, built on first use. */
export function fixtureBundle(fixture: string): Promise<string> {
  let bundle = bundles.get(fixture);
  if (bundle === undefined) {
    bundle = bundleFixture(fixture);
    bundles.set(fixture, bundle);
    bundle.catch(() => bundles.delete(fixture));
  }
  return bundle;
}

async function bundleFixture(fixture: string): Promise<string> {
  const { outputFiles } = await build({
    entryPoints: [fixture],
    outfile: join(BUNDLES, `${basename(fixture, '.ts')}.mjs`),
    write: false,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node}`,
    external: [...PACKAGES_LEFT_OUTSIDE],
    // The CommonJS packages inside call require() for Node's own modules, which an ES module lacks.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
    },
    plugins: [workspacePackagesInside, importMetaOfTheSource()],
    logLevel: 'warning',
  });
  const bundle = outputFiles[0]!;
  // Named by its content: test workers building the same fixture at once write the same file, and a run
  // after a change to the code writes a new one instead of overwriting a bundle another run is starting.
  const hash = createHash('sha256').update(bundle.contents).digest('hex').slice(0, 16);
  const path = bundle.path.replace(/\.mjs$/, `-${hash}.mjs`);
  if (!existsSync(path)) {
    mkdirSync(BUNDLES, { recursive: true });
    const partial = `${path}.${process.pid}.partial`;
    writeFileSync(partial, bundle.contents);
    renameSync(partial, path);
    const name = basename(fixture, '.ts');
    removeBundlesUnusedForADay(BUNDLES, (file) => file.startsWith(`${name}-`) && file !== basename(path));
  }
  return path;
}
