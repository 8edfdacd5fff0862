/**
 * A fixture run from its bundle behaves as it does under tsx: its files still know where they are, and it
 * imports our workspace packages and npm packages alike.
 */
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tokenize } from '@payment-to-vend/postgres-lexer';
import { afterEach, describe, expect, it } from 'vitest';
import { ChildProcesses } from './child-processes.ts';
import { fixtureBundle } from './fixture-bundles.ts';
import { packagePath } from './package-path.ts';

const FIXTURE = packagePath('testing/fixtures/bundled-process.ts');

const processes = new ChildProcesses();
afterEach(() => processes.killAll());

const seen = (stdout: string) => {
  const line = /^ready (\{.*\})$/m.exec(stdout)?.[1];
  return line === undefined ? undefined : (JSON.parse(line) as Record<string, unknown>);
};

describe('a crash-test fixture run from its bundle', () => {
  it('runs without tsx, and import.meta in each of our files names that file, not the bundle', async () => {
    // Act
    const running = await processes.start(FIXTURE, ['an argument'], seen);

    // Assess
    expect(running.value).toEqual({
      url: pathToFileURL(FIXTURE).href,
      dirname: dirname(FIXTURE),
      filename: FIXTURE,
      packagePath: join(dirname(FIXTURE), '..'),
      tokens: tokenize("SELECT 'a' -- b").map((token) => token.kind),
      parsed: { argument: 'an argument' },
      loaders: [],
    });
  });

  it('is built once per process and named by its content', async () => {
    // Act
    const first = await fixtureBundle(FIXTURE);
    const second = await fixtureBundle(FIXTURE);

    // Assess
    expect(second).toBe(first);
    expect(first).toMatch(/\/bundled-process-[0-9a-f]{16}\.mjs$/);
  });
});
