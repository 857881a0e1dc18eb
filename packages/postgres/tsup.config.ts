import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // migrations/*.sql are bundled as strings; the files ship too, for DBAs to read.
  loader: { '.sql': 'text' },
});
