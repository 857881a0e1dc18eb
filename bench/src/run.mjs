#!/usr/bin/env node
/**
 * oin-oidc benchmark suite (issue 6). `pnpm bench` (full, a few minutes on 2 cores) or
 * `pnpm bench --quick` (CI smoke, well under a minute; never fails on a number).
 *
 * Flags: --quick, --only=idtoken,session,bearer,rotation,tenants,signin,flood,fleet, --out=<path>.
 * Full runs write bench/results/latest.json; quick runs write bench/results/quick.tmp.json
 * (git-ignored) unless --out is given, so a smoke run never replaces the published numbers.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { loadAvg, machineInfo } from './lib/machine.mjs';
import { Results, printHeader, writeResults } from './lib/report.mjs';
import { checkTargets } from './lib/targets.mjs';

const argv = process.argv.slice(2).filter((a) => a !== '--');
const quick = argv.includes('--quick');
const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const outArg = argv.find((a) => a.startsWith('--out='))?.slice('--out='.length);
const resultsDir = new URL('../results/', import.meta.url);
const out = outArg ? pathToFileURL(resolve(process.env.INIT_CWD ?? process.cwd(), outArg)) : new URL(quick ? 'quick.tmp.json' : 'latest.json', resultsDir);

const SUITES = [
  ['idtoken', () => import('./suites/id-token.mjs').then((m) => m.runIdToken)],
  ['session', () => import('./suites/http.mjs').then((m) => m.runSession)],
  ['bearer', () => import('./suites/http.mjs').then((m) => m.runBearer)],
  ['rotation', () => import('./suites/rotation.mjs').then((m) => m.runRotation)],
  ['tenants', () => import('./suites/tenants.mjs').then((m) => m.runTenants)],
  ['signin', () => import('./suites/signin.mjs').then((m) => m.runSignIn)],
  ['flood', () => import('./suites/flood.mjs').then((m) => m.runFlood)],
  ['fleet', () => import('./suites/fleet.mjs').then((m) => m.runFleet)],
];

const machine = machineInfo();
console.log(`oin-oidc bench ${quick ? '(quick: short rounds, long waits skipped)' : '(full)'}`);
console.log(`node ${machine.node}, ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, load ${machine.loadAvgStart.join(' ')}`);
printHeader();

const results = new Results();
const started = Date.now();
let failed = false;
for (const [name, load] of SUITES) {
  if (only && !only.includes(name)) continue;
  const t0 = Date.now();
  console.log(`\n# ${name}`);
  try {
    const run = await load();
    await run(results, { quick });
  } catch (error) {
    // A broken suite is a harness failure (exit 1), never a slow number.
    failed = true;
    console.error(`suite ${name} crashed:`, error);
    results.note(`${name}: crashed (${error?.message ?? error})`);
  }
  console.log(`  (${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

machine.loadAvgEnd = loadAvg();
machine.quick = quick;
machine.durationSec = Math.round((Date.now() - started) / 100) / 10;
machine.date = new Date().toISOString();
machine.notes = results.notes;
await writeResults(out, machine, results.results);
const targets = checkTargets(results.results);
if (targets.length > 0) {
  console.log('\ntargets (issues 6 §3, 11 part 9, 12, 17; informational, never an exit code):');
  for (const t of targets) console.log(`  ${t.met ? 'met    ' : 'NOT MET'}  ${t.target}: ${t.measured}`);
}
console.log(`\n${results.results.length} results in ${machine.durationSec} s, load ${machine.loadAvgEnd.join(' ')} → ${fileURLToPath(out)}`);
// Child processes and sockets are closed by the suites; exit explicitly in case a peer library left a timer.
process.exit(failed ? 1 : 0);
