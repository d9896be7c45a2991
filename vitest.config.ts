import { defineConfig } from 'vitest/config';

// chDB binds one data directory per process and runs one query at a time: every test file
// runs in its own forked process with its own temp directory (see test/helpers/engine.ts).
export default defineConfig({
  test: {
    pool: 'forks',
    isolate: true,
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    include: ['test/**/*.test.ts'],
  },
});
