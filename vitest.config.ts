import { defineConfig } from 'vitest/config';

// Three projects: fast unit tests (pure functions, parser, store), integration tests that start
// a real dbus-daemon, unitd and real clients (busctl, gdbus, systemctl 252), and the container
// suite (unitd as PID 1 of a podman container).
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
      {
        // unitd as PID 1 of podman containers, driven by systemctl/busctl/gdbus inside them
        // (test/containers/; needs scripts/setup-containers.sh once; one container per file)
        test: {
          name: 'containers',
          include: ['test/containers/**/*.test.ts'],
          globalSetup: ['test/containers/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
