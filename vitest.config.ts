import { defineConfig } from 'vitest/config';

// Each package's tests are a project of their own; the payments system's (everything outside packages/) are
// `app`. `npm test -- --project app` runs one part.
export default defineConfig({
  test: {
    projects: [
      'packages/*',
      {
        test: {
          name: 'app',
          include: ['**/*.test.ts'],
          exclude: ['node_modules/**', 'packages/**', '.data/**', 'cdk.out/**'],
          testTimeout: 20_000,
          hookTimeout: 30_000,
        },
      },
    ],
  },
});
