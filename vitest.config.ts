import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Bundles the CLI once for the child processes tests start (see the file).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // 2 cores: keep parallelism modest so crash and server tests stay stable.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
