import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Every test spawns the built CLI; one PostgreSQL per file; two cores shared by the team.
    fileParallelism: false,
  },
});
