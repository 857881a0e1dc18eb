#!/usr/bin/env node
// Consume oin-oidc as a user outside this repository would, before anything is on the npm registry:
// build, `pnpm pack` every package a user installs (core, the four adapters, testing), install the
// tarballs with plain npm into a fresh app in the system temp directory (no workspace links, no
// `workspace:^` left), type-check it in strict mode under `moduleResolution: node16` and `bundler`,
// then sign in against the emulator once with `import` and once with `require`.
// Usage: node scripts/standalone.mjs [--keep]   (--keep leaves the temp app for inspection)
import { spawnSync } from 'node:child_process';
import { copyFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const here = join(root, 'scripts', 'standalone');
const packages = ['core', 'express', 'fastify', 'hono', 'koa', 'testing'];
const pnpmVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];
const keep = process.argv.includes('--keep');

function run(command, args, cwd) {
  console.log(`$ ${[command, ...args].join(' ')}${cwd === root ? '' : `   (in ${cwd})`}`);
  const result = spawnSync(command, args, { cwd, stdio: 'inherit', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}`);
}

/** The version the workspace pins for a dependency, so the standalone app tests what the repo tests. */
function pinned(pkg, name) {
  const json = JSON.parse(readFileSync(join(root, 'packages', pkg, 'package.json'), 'utf8'));
  const version = json.devDependencies?.[name] ?? json.dependencies?.[name];
  if (!version) throw new Error(`packages/${pkg} pins no version of ${name}`);
  return `${name}@${version}`;
}

const app = mkdtempSync(join(tmpdir(), 'oin-oidc-standalone-'));
try {
  // Through pnpm: turbo looks for the package manager's binary on PATH.
  run('npx', ['-y', `pnpm@${pnpmVersion}`, 'exec', 'turbo', 'run', 'build', '--output-logs=errors-only', ...packages.flatMap((p) => ['--filter', `@oin-oidc/${p}`])], root);
  const tarballs = join(app, 'tarballs');
  mkdirSync(tarballs);
  for (const pkg of packages) run('npx', ['-y', `pnpm@${pnpmVersion}`, 'pack', '--pack-destination', tarballs], join(root, 'packages', pkg));

  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'oin-oidc-standalone-app', private: true, type: 'commonjs' }, null, 2)}\n`);
  for (const file of readdirSync(here)) copyFileSync(join(here, file), join(app, file));
  const dependencies = [
    ...readdirSync(tarballs).map((file) => `./tarballs/${file}`),
    pinned('express', 'express'), pinned('express', '@types/express'), pinned('fastify', 'fastify'), pinned('hono', 'hono'),
    pinned('koa', 'koa'), pinned('koa', '@types/koa'), 'typescript@5.9.3', '@types/node@20.19.43', 'vitest@4.1.12',
  ];
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...dependencies], app);

  // Plain npm, no links: every @oin-oidc package is a real directory whose manifest names versions.
  for (const pkg of packages) {
    const dir = join(app, 'node_modules', '@oin-oidc', pkg);
    if (lstatSync(dir).isSymbolicLink()) throw new Error(`@oin-oidc/${pkg} is a link, not an installed package`);
    const manifest = readFileSync(join(dir, 'package.json'), 'utf8');
    if (manifest.includes('workspace:')) throw new Error(`@oin-oidc/${pkg}'s installed package.json still says workspace:`);
  }

  run(join(app, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.node16.json'], app);
  run(join(app, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.bundler.json'], app);
  run(process.execPath, ['sign-in.mjs'], app);
  run(process.execPath, ['sign-in.cjs'], app);
  console.log(`\nstandalone: ${packages.length} packed packages installed with npm, type-checked (node16, bundler), signed in with import and require`);
} finally {
  if (keep) console.log(`kept ${app}`);
  else rmSync(app, { recursive: true, force: true });
}
