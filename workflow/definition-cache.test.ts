import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cachedLocalDefinition, definitionDigest, sourceClosure } from './definition-cache.ts';
import { synthesizeLocalDefinition } from './local-definition.ts';

const cacheDir = mkdtempSync(join(tmpdir(), 'definition-cache-'));
const PROPS = { maxVendAttempts: 3, vendRetryIntervalSeconds: 1 };

afterAll(() => {
  rmSync(cacheDir, { recursive: true, force: true });
});

describe('the local definition cache', () => {
  it('answers what the construct synthesizes, the first time and from the cache', async () => {
    // Act
    const first = await cachedLocalDefinition({ props: PROPS }, cacheDir);
    const second = await cachedLocalDefinition({ props: PROPS }, cacheDir);

    // Assess
    const synthesized = synthesizeLocalDefinition({ props: PROPS });
    expect(first).toEqual(synthesized);
    expect(second).toEqual(synthesized);
    expect(readdirSync(cacheDir)).toEqual([`${definitionDigest({ props: PROPS })}.json`]);
  });

  it('keeps other props apart', async () => {
    // Act
    const other = await cachedLocalDefinition({ props: { ...PROPS, maxVendAttempts: 5 } }, cacheDir);

    // Assess
    expect(other).toEqual(synthesizeLocalDefinition({ props: { ...PROPS, maxVendAttempts: 5 } }));
    expect(definitionDigest({ props: { ...PROPS, maxVendAttempts: 5 } })).not.toBe(
      definitionDigest({ props: PROPS }),
    );
  });

  it('is keyed by every file the synthesis imports, however indirectly', () => {
    // Act
    const files = sourceClosure(fileURLToPath(new URL('./local-definition.ts', import.meta.url)));

    // Assess: the construct, its contracts, and the system's resource names it takes from the topology
    const named = (path: string) => fileURLToPath(new URL(path, import.meta.url));
    expect(files).toEqual(
      expect.arrayContaining([
        named('./local-definition.ts'),
        named('./payment-to-vend.ts'),
        named('./contracts.ts'),
        named('../system/topology.ts'),
        named('../infra/lib/environments.ts'),
      ]),
    );
  });
});
