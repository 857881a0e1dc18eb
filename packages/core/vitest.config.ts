import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Core's protocol tests talk to the Okta org emulator from @oin-oidc/testing. Testing depends on
// core, so core cannot list it as a dependency (a workspace cycle); the alias points at its build,
// and turbo.json builds @oin-oidc/testing before core's tests run.
const testingBuild = fileURLToPath(new URL('../testing/dist/index.js', import.meta.url));

export default defineConfig({
  resolve: { alias: { '@oin-oidc/testing': testingBuild } },
  test: {
    include: ['test/**/*.test.ts'],
    // Deadlines for a hang, not for speed: a property test runs thousands of cases against the
    // emulator and took 20 s on a loaded 2-core machine (the old limit). Each run has its own hang check.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
