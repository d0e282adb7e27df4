import { defineConfig } from 'vitest/config';

export default defineConfig({
  // graphql ships CommonJS (main) and ESM (module). Node loads the CommonJS copy for everyone (mercurius included);
  // Vite would pick the ESM one for our imports, and graphql refuses a schema built by the other copy.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
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
