import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Integration suites start servers and protocol peers; two cores, so keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
