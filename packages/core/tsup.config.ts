import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: "src/index.ts", protocol: "src/protocol.ts", node: "src/node/index.ts" },
  format: ['esm', 'cjs'],
  // Shared modules (OidcError above all) go to a chunk every entry loads, in CJS too (esbuild splits
  // only ESM by default): one OidcError class, so \`instanceof\` holds across the entries.
  splitting: true,
  // The protocol path compiles without Node's types (tsconfig.json); only src/node may use them.
  // stripInternal drops the members tagged @internal (OidcRequest's fast-path fields, which only
  // fromWebRequest / fromHeaderMap set) from the published types.
  dts: { compilerOptions: { types: ['node'], stripInternal: true } },
  clean: true,
  sourcemap: true,
  target: 'node20',
  // Keep `node:crypto` as written: Deno and Bun resolve the prefixed form.
  removeNodeProtocol: false,
});
