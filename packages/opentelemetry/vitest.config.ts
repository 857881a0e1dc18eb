import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Deadlines for a hang, not for speed: generous enough for a loaded 2-core machine (the suites
    // are proven with scripts/test-loaded.mjs); a passing test never waits for them.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
