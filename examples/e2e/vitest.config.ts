import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One Chromium and one example at a time: the machine has 2 cores and each file drives a real browser.
    fileParallelism: false,
    // Deadlines for a hang, not for speed: generous enough for a loaded 2-core machine (the suites
    // are proven with scripts/test-loaded.mjs); a passing test never waits for them.
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
