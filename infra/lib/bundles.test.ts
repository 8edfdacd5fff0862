// Synthesizes one environment with real esbuild bundling (slower than the other infra tests, which skip it)
// to check what Lambda would run: ESM bundles, minified, with source maps, and the migrations beside theirs.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { settingsOf } from '../testing/bare-stack.ts';
import { testApp } from '../testing/test-app.ts';
import { PaymentPlatformStage } from './stage.ts';

interface Bundle {
  readonly name: string;
  readonly directory: string;
}

let bundles: Bundle[];
beforeAll(() => {
  // Only dev's stacks are bundled; CDK's own CloudFormation checks are left to bin/app.test.ts.
  const app = testApp({
    context: { 'aws:cdk:bundling-stacks': ['dev/**'] },
    builtinCloudFormationValidation: false,
  });
  const stage = new PaymentPlatformStage(app, 'dev', {
    settings: settingsOf('dev'),
    toolingAccount: '111111111111',
  });
  stage.synth();
  // Assets are staged once for the whole app, in its output directory.
  const assetsDirectory = app.outdir;
  const bundleOf = (stack: Stack, description: RegExp, name: string): Bundle => {
    const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
    const fn = functions.find((candidate) => description.test(candidate.Properties.Description ?? ''));
    const key = fn?.Properties.Code?.S3Key as string | undefined;
    if (key === undefined) throw new Error(`no bundled function for ${name}`);
    return { name, directory: join(assetsDirectory, `asset.${key.replace(/\.zip$/, '')}`) };
  };
  bundles = [
    bundleOf(stage.applicationStack, /Charge/, 'charge'),
    bundleOf(stage.applicationStack, /Meter Vending/, 'meter-vending'),
    bundleOf(stage.applicationStack, /NotifyCustomer/, 'notify'),
    bundleOf(stage.statefulStack, /migrations/, 'migrate-database'),
  ];
}, 120_000);

describe('the Lambda bundles', () => {
  it('are minified ES modules with external source maps', () => {
    const sizes: Record<string, string> = {};
    for (const bundle of bundles) {
      const code = readFileSync(join(bundle.directory, 'index.mjs'), 'utf8');
      expect(code.startsWith("import { createRequire } from 'node:module';"), bundle.name).toBe(true);
      expect(code, bundle.name).toMatch(/export\s*\{[^}]*\bhandler\b/);
      // Minified: long lines (only multi-line string literals, such as SQL, keep their line breaks).
      expect(code.length / code.split('\n').length, `${bundle.name} is minified`).toBeGreaterThan(500);
      expect(code, bundle.name).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
      expect(existsSync(join(bundle.directory, 'index.mjs.map')), bundle.name).toBe(true);
      const kib = (file: string) => (statSync(join(bundle.directory, file)).size / 1024).toFixed(0);
      sizes[bundle.name] = `${kib('index.mjs')} KiB (+ ${kib('index.mjs.map')} KiB source map)`;
    }
    // The sizes, for the README.
    console.info('Lambda bundle sizes:', sizes);
  });

  it('carry the migration files beside the migrations handler', () => {
    const migrate = bundles.find((bundle) => bundle.name === 'migrate-database');
    const files = readdirSync(join(migrate?.directory ?? '', 'migrations'));
    expect(files).toEqual(
      readdirSync(new URL('../../database/migrations/', import.meta.url)).filter((f) => f.endsWith('.sql')),
    );
  });
});
