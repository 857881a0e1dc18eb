import { defineConfig } from 'vitest/config';

export default defineConfig({
  // migrations/*.sql as text, as tsup's `loader: { '.sql': 'text' }` bundles them.
  plugins: [
    {
      name: 'sql-as-text',
      enforce: 'pre',
      transform(code, id) {
        return id.endsWith('.sql') ? { code: `export default ${JSON.stringify(code)};`, map: null } : undefined;
      },
    },
  ],
  test: {
    include: ['test/**/*.test.ts'],
    // Deadlines for a hang, not for speed: generous enough for a loaded 2-core machine (the suites
    // are proven with scripts/test-loaded.mjs); a passing test never waits for them.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One PostgreSQL per test file; two cores shared by the team.
    fileParallelism: false,
  },
});
