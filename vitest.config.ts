import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // No process a test starts outlives its file, even when the test times out (test/helpers/children.ts).
    setupFiles: ['test/helpers/setup.ts'],
    pool: 'forks',
    // Two cores: two test files at a time, each with its own server and database.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
