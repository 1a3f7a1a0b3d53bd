// Oracle runs against real systemd 252 (root only). Not part of `npm test`:
//   npx vitest run --config test/oracle/vitest.oracle.config.ts            # all oracle files
//   npx vitest run --config test/oracle/vitest.oracle.config.ts capture    # just the capture
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/oracle/**/*.oracle.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
