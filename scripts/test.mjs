#!/usr/bin/env node
// The README's test command: build everything, run every workspace's vitest suite one package at
// a time (they start real servers and a browser; two cores), then print one summary line that
// counts every test in the repo. Skipped tests fail the run: none may be left behind.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const workspaces = ['packages', 'examples'].flatMap((dir) =>
  spawnSync('ls', [join(root, dir)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map((name) => join(root, dir, name)),
);
const reportOf = (dir) => join(dir, 'test-results', 'vitest.json');
const turbo = join(root, 'node_modules', '.bin', 'turbo');
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' };

const filter = process.argv.slice(2).flatMap((name) => ['--filter', name]);
const build = spawnSync(turbo, ['run', 'build', '--output-logs=errors-only', ...filter], { cwd: root, stdio: 'inherit', env });
if (build.status !== 0) process.exit(build.status ?? 1);

for (const dir of workspaces) rmSync(join(dir, 'test-results'), { recursive: true, force: true });
const run = spawnSync(
  turbo,
  ['run', 'test', '--concurrency=1', '--continue', ...filter, '--', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/vitest.json'],
  { cwd: root, stdio: 'inherit', env },
);

let passed = 0;
let failed = 0;
let skipped = 0;
const rows = [];
for (const dir of workspaces) {
  if (!existsSync(reportOf(dir))) continue;
  const report = JSON.parse(readFileSync(reportOf(dir), 'utf8'));
  const pkgSkipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += pkgSkipped;
  rows.push(`  ${relative(root, dir).padEnd(22)} ${String(report.numPassedTests).padStart(5)} passed ${String(report.numFailedTests).padStart(3)} failed ${String(pkgSkipped).padStart(3)} skipped`);
}
console.log(`\nTest summary by workspace:\n${rows.join('\n')}`);
if (skipped > 0) console.log(`\n${skipped} skipped test(s): skipped tests are not allowed to stay in the suite.`);
console.log(`\nTests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(run.status !== 0 || failed > 0 || skipped > 0 || passed === 0 ? 1 : 0);
