import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Vitest's default is one worker fewer than the cores: one worker on the 2-core machines we run on. Most test
// files wait (on child processes, timers, sockets, a browser) more than they compute, so one worker more than
// the cores keeps them busy: `npm test` took 573 s with one worker and 339 s with three here (BENCHMARKS.md),
// and passed at a load average of 8.
const workers = availableParallelism() + 1;

// Each package's tests are a project of their own; the payments system's (everything outside packages/) are
// `app`. `npm test -- --project app` runs one part.
export default defineConfig({
  test: {
    maxWorkers: workers,
    projects: [
      'packages/*',
      {
        test: {
          name: 'app',
          include: ['**/*.test.ts'],
          exclude: ['node_modules/**', 'packages/**', '.data/**', 'cdk.out/**'],
          testTimeout: 20_000,
          hookTimeout: 30_000,
          isolate: false, // see packages/embedded-aws/vitest.config.ts
        },
      },
    ],
  },
});
