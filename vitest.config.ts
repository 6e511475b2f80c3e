import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Bundles the CLI once for the child processes tests start (see the file).
    globalSetup: ['test/global-setup.ts', 'test/support/postgres-global-setup.ts'],
    // Limits catch hangs, not slowness: idle, every test and hook takes under a
    // fifth of them, so a loaded 2-core machine (CI beside other jobs) has room.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // 2 cores: keep parallelism modest so crash and server tests stay stable.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
