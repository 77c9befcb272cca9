import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const maxWorkers = Number(process.env.VITEST_MAX_WORKERS ?? process.env.TEST_MAX_WORKERS ?? 2) || 2;

export default defineConfig({
  // One graphql instance for test code and Apollo (which loads the CommonJS build); otherwise
  // `instanceof GraphQLError` fails across the two copies.
  resolve: { alias: { graphql: createRequire(import.meta.url).resolve('graphql') } },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'services/*/test/**/*.test.ts',
      'gateway/test/**/*.test.ts',
      'infra/test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**', '.data/**'],
    pool: 'forks',
    poolOptions: {
      forks: { maxForks: maxWorkers, minForks: 1 },
    },
    maxWorkers,
    minWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    globalSetup: ['infra/vitest.global-setup.ts'],
  },
});
