// Runs one of the system's programs from its bundle (system/bundle/system-bundle.ts) with plain `node`:
// `npm start` is `node system/bundle/run-bundled.mjs system/main.ts`. JavaScript, not TypeScript, because it
// runs before anything could load TypeScript; it builds the bundle (through tsx) only when a file the bundle
// was made from has changed since, or there is none yet.
//
// Usage: node system/bundle/run-bundled.mjs <entry.ts> [args...]   (the entry's path from the repository, or absolute)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repository = fileURLToPath(new URL('../../', import.meta.url));
const bundles =
  process.env.PAYMENT_TO_VEND_SYSTEM_BUNDLES ??
  join(repository, 'node_modules/.cache/payment-to-vend/system-bundle');
const current = join(bundles, 'current.json');
const entry = process.argv[2];
if (entry === undefined) throw new Error('usage: node system/bundle/run-bundled.mjs <entry.ts> [args...]');

let manifest = upToDate(readManifest());
if (manifest === undefined) {
  const built = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(repository, 'system/bundle/system-bundle.ts')],
    { stdio: 'inherit', cwd: repository },
  );
  if (built.status !== 0) process.exit(built.status ?? 1);
  manifest = readManifest();
  if (manifest === undefined) throw new Error(`the bundle was built, but ${current} cannot be read`);
}
const entryFile = resolve(repository, entry);
const entryFromRepository = relative(repository, entryFile);
const bundled = join(manifest.outdir, entryFromRepository.replace(/\.ts$/, '.js'));
if (!existsSync(bundled)) throw new Error(`${entry} is not one of the system bundle's entries`);

// Marks the bundle as started now: the builder removes only bundles nobody started for a day.
utimesSync(manifest.outdir, new Date(), new Date());
// The task functions' handlers are bundled beside it (system/payment-system.ts looks for them here), and stack
// traces name our TypeScript files.
process.env.PAYMENT_TO_VEND_RUNNING_BUNDLE = manifest.outdir;
process.setSourceMapsEnabled(true);
// As if the TypeScript file were run: `import.meta.url` in the bundle names it too.
process.argv.splice(1, 2, entryFile);
await import(pathToFileURL(bundled).href);

function readManifest() {
  try {
    return JSON.parse(readFileSync(current, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The manifest, if the bundle it names was made from the files as they are now, by this esbuild. */
function upToDate(candidate) {
  if (candidate === undefined || candidate.repository !== repository || !existsSync(candidate.outdir)) {
    return undefined;
  }
  const esbuild = createRequire(import.meta.url)('esbuild/package.json').version;
  if (candidate.esbuild !== esbuild) return undefined;
  for (const [input, digest] of Object.entries(candidate.inputs)) {
    let content;
    try {
      content = readFileSync(join(repository, input));
    } catch {
      return undefined;
    }
    if (createHash('sha256').update(content).digest('hex') !== digest) return undefined;
  }
  return candidate;
}
