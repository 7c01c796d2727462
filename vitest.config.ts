import { defineConfig } from 'vitest/config';

// Two projects: the host on real files (fast, parallel), and end-to-end runs that
// drive Debian's Chromium against the browser-mode server (serial: one browser at a time
// on a 2-core machine).
export default defineConfig({
  test: {
    reporters: ['default', 'json'],
    outputFile: { json: 'test-artifacts/vitest-results.json' },
    projects: [
      {
        test: {
          name: 'host',
          include: ['test/host/**/*.test.ts', 'electron/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
