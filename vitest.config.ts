import { defineConfig } from 'vitest/config';
import SummaryReporter from './test/helpers/summary-reporter.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests of bin/ms-async.js run dist/: build it first when src/ is newer (test/helpers/build-dist.ts).
    globalSetup: ['test/helpers/build-dist.ts'],
    reporters: ['default', new SummaryReporter()],
    // Tests start real servers and child processes; forks keep them isolated on 2 cores.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    clearMocks: true,
    restoreMocks: true,
  },
});
