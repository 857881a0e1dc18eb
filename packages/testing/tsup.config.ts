import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ["src/index.ts","src/cli.ts","src/conformance/index.ts","src/servers/index.ts"],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
});
