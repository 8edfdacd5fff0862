import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSystemBundle, type SystemBundleManifest, systemBundleEntries } from './system-bundle.ts';

const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));
const LAUNCHER = fileURLToPath(new URL('./run-bundled.mjs', import.meta.url));

describe('the system bundle', () => {
  // Under the repository, as the bundle's npm packages resolve from the node_modules above it.
  const cache = join(REPOSITORY, 'node_modules/.cache/payment-to-vend');
  mkdirSync(cache, { recursive: true });
  const bundles = mkdtempSync(join(cache, 'system-bundle-test-'));
  const current = join(bundles, 'current.json');
  let manifest: SystemBundleManifest;
  beforeAll(async () => {
    manifest = await buildSystemBundle(bundles);
  }, 60_000);
  afterAll(() => rmSync(bundles, { recursive: true, force: true }));

  /** The crash tests' program, run with no arguments: it refuses at once, from the bundle. */
  const launchWithoutArguments = () =>
    spawnSync(process.execPath, [LAUNCHER, 'system/testing/payment-system-process.ts'], {
      cwd: REPOSITORY,
      env: { ...process.env, PAYMENT_TO_VEND_SYSTEM_BUNDLES: bundles },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('holds every program and every task function handler, each as JavaScript', () => {
    for (const entry of systemBundleEntries()) {
      expect(existsSync(join(manifest.outdir, entry.replace(/\.ts$/, '.js'))), entry).toBe(true);
    }
    expect(systemBundleEntries()).toEqual(
      expect.arrayContaining(['system/main.ts', 'tasks/charge/handler.ts', 'tasks/meter-vending/handler.ts']),
    );
  });

  it('names each file it was made from, our workspace packages included, with the digest of its content', () => {
    const inputs = Object.keys(manifest.inputs);
    expect(inputs).toEqual(
      expect.arrayContaining(['tasks/shared/aws-client-config.ts', 'packages/embedded-aws/index.ts']),
    );
    expect(inputs.some((input) => input.includes('node_modules'))).toBe(false);
    const file = 'tasks/charge/charge.ts';
    expect(manifest.inputs[file]).toBe(
      createHash('sha256')
        .update(readFileSync(join(REPOSITORY, file)))
        .digest('hex'),
    );
    expect(JSON.parse(readFileSync(current, 'utf8'))).toEqual(manifest);
  });

  it('runs a program from the bundle as it stands when no file changed, with its own path as argv[1]', () => {
    const before = statSync(current).mtimeMs;
    const run = launchWithoutArguments();
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('usage: payment-system-process.ts');
    // The error's stack names the TypeScript file, through the bundle's source map.
    expect(run.stderr).toContain('system/testing/payment-system-process.ts');
    expect(statSync(current).mtimeMs).toBe(before);
  });

  it('builds again before it runs when a file the bundle was made from is not what it was', () => {
    const stale = { ...manifest, inputs: { ...manifest.inputs, 'tasks/charge/charge.ts': '0'.repeat(64) } };
    writeFileSync(current, JSON.stringify(stale));
    const run = launchWithoutArguments();
    expect(run.stderr).toContain('usage: payment-system-process.ts');
    expect(run.stdout).toContain('the system bundled into');
    expect(JSON.parse(readFileSync(current, 'utf8'))).toEqual(manifest);
  });

  it('is built once for two starts that build at the same time', async () => {
    const [first, second] = await Promise.all([buildSystemBundle(bundles), buildSystemBundle(bundles)]);
    expect(second).toEqual(first);
    expect(first.outdir).toBe(manifest.outdir);
    expect(readdirSync(bundles).sort()).toEqual([basename(manifest.outdir), 'current.json'].sort());
  }, 60_000);

  it('refuses a program that is not one of its entries', () => {
    const run = spawnSync(process.execPath, [LAUNCHER, 'system/reconcile.ts'], {
      cwd: REPOSITORY,
      env: { ...process.env, PAYMENT_TO_VEND_SYSTEM_BUNDLES: bundles },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("system/reconcile.ts is not one of the system bundle's entries");
  });
});
