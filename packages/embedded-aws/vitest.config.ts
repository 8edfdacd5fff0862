import { defineConfig } from 'vitest/config';

// The package's own tests, run alone by `npm test -w @payment-to-vend/embedded-aws` and as a project of the
// repository's `npm test`.
export default defineConfig({
  test: {
    name: 'embedded-aws',
    root: import.meta.dirname,
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
