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
    // A worker imports the SDK, Fastify, CDK and our modules once for all the test files it runs instead of
    // once per file (each test file is still a module of its own, with its own state): about a third less
    // CPU. So a test file puts back what it changes of the process (environment variables, fake timers).
    isolate: false,
  },
});
