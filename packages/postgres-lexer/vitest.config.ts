import { defineConfig } from 'vitest/config';

// The package's own tests, run alone by `npm test -w @payment-to-vend/postgres-lexer` and as a project of the
// repository's `npm test`.
export default defineConfig({
  test: {
    name: 'postgres-lexer',
    root: import.meta.dirname,
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**'],
  },
});
