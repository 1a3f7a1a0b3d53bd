import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests (pure functions, parser, store) and integration tests that start
// a real dbus-daemon, unitd and real clients (busctl, gdbus, systemctl 252).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
