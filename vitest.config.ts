import { defineConfig } from 'vitest/config';

// Two projects (docs/style.md §8): colocated unit tests run in parallel; integration tests talk to real
// peers (Redis, spawned processes) and run one file at a time so they never race for ports or CPU.
export default defineConfig({
  test: {
    globals: false,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['shared/**/*.test.ts', 'services/**/*.test.ts', 'workers/**/*.test.ts', 'tools/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
