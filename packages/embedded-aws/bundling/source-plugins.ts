/**
 * esbuild plugins (and the clean-up of old bundles) for running our TypeScript as a bundle by plain `node`,
 * without a TypeScript loader: the crash tests' fixtures (testing/fixture-bundles.ts) and the whole system under
 * `npm start` (system/bundle/system-bundle.ts).
 *
 * @example
 * await build({ entryPoints, bundle: true, format: 'esm', plugins: [workspacePackagesInside, importMetaOfTheSource()] });
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';

/** Our workspace packages (`@payment-to-vend/…`) are TypeScript that Node cannot load: they go in the bundle. */
export const workspacePackagesInside: Plugin = {
  name: 'workspace-packages-inside',
  setup(builder) {
    builder.onResolve({ filter: /^@payment-to-vend\// }, ({ path, resolveDir }) => ({
      path: createRequire(join(resolveDir, 'importer.ts')).resolve(path),
    }));
  },
};

const IMPORT_META = /\bimport\.meta\.(url|dirname|filename)\b/g;

/**
 * `import.meta.url`, `import.meta.dirname` and `import.meta.filename` in our files keep naming the file they
 * are written in, so a module that reads a file beside it (migrations, static pages) reads the same file as it
 * does under tsx. `onRead` is told each file's content as the bundle has it.
 */
export function importMetaOfTheSource(onRead?: (path: string, source: string) => void): Plugin {
  return {
    name: 'import-meta-of-the-source',
    setup(builder) {
      builder.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
        const source = await readFile(path, 'utf8');
        onRead?.(path, source);
        const values = { url: pathToFileURL(path).href, dirname: dirname(path), filename: path };
        const contents = source.replace(IMPORT_META, (_, field: keyof typeof values) =>
          JSON.stringify(values[field]),
        );
        return { contents, loader: 'ts' };
      });
    },
  };
}

/**
 * Removes the bundles in `folder` that `isStale` picks and that nobody wrote or started for a day: a process
 * started from an older bundle may still be running, and load a module of it later.
 */
export function removeBundlesUnusedForADay(folder: string, isStale: (name: string) => boolean): void {
  const dayAgo = Date.now() - 24 * 60 * 60 * 1000;
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (isStale(name) && statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
  }
}
