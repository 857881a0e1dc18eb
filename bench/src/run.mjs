#!/usr/bin/env node
/**
 * oin-oidc benchmark suite (docs/benchmarks.md). `pnpm bench` (full, a few minutes on 2 cores) or
 * `pnpm bench --quick` (CI smoke, well under a minute; never fails on a number).
 *
 * Flags: --quick, --only=idtoken,session,bearer,rotation,tenants,signin,flood,fleet, --out=<path>.
 * Full runs write bench/results/latest.json; quick runs write bench/results/quick.tmp.json
 * (git-ignored) unless --out is given, so a smoke run never replaces the published numbers.
 * HTTP method (session, bearer, fleet): --round-sec=0.5 --min-rounds=8 --max-rounds=40
 * --halfwidth=0.05 --ci=t|bootstrap --pairing=sequential|concurrent, --frameworks=express,fastify,hono,koa. --compare=REF (or --compare REF, or A..B): the session and
 * bearer suites against REF's packages and this tree's in one run (lib/compare.mjs); writes
 * bench/results/compare.tmp.json unless --out is given.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { currentTree, prepareTree } from './lib/compare.mjs';
import { loadAvg, machineInfo } from './lib/machine.mjs';
import { Results, printHeader, writeResults } from './lib/report.mjs';
import { checkTargets } from './lib/targets.mjs';

const argv = process.argv.slice(2).filter((a) => a !== '--');
/** `--name=value` or `--name value`. */
function flag(name) {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return argv[i].includes('=') ? argv[i].slice(argv[i].indexOf('=') + 1) : argv[i + 1];
}
const num = (name) => (flag(name) === undefined ? undefined : Number(flag(name)));
const quick = argv.includes('--quick');
const compareRef = flag('compare');
let only = flag('only')?.split(',');
if (compareRef) only = (only ?? ['session', 'bearer']).filter((s) => s === 'session' || s === 'bearer');
const outArg = flag('out');
// --frameworks=fastify,hono: the HTTP suites for those frameworks only (a development shortcut).
const frameworks = flag('frameworks')?.split(',');
const method = { roundSec: num('round-sec'), minRounds: num('min-rounds'), maxRounds: num('max-rounds'), halfWidth: num('halfwidth'), ci: flag('ci'), pairing: flag('pairing') };
if (method.pairing !== undefined && method.pairing !== 'sequential' && method.pairing !== 'concurrent') throw new Error(`--pairing must be sequential or concurrent, not ${method.pairing}`);
if (method.ci !== undefined && method.ci !== 't' && method.ci !== 'bootstrap') throw new Error(`--ci must be t or bootstrap, not ${method.ci}`);
const resultsDir = new URL('../results/', import.meta.url);
const out = outArg ? pathToFileURL(resolve(process.env.INIT_CWD ?? process.cwd(), outArg)) : new URL(compareRef ? 'compare.tmp.json' : quick ? 'quick.tmp.json' : 'latest.json', resultsDir);

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
let compare;
const trees = [];
const removeTrees = () => {
  for (const t of trees.splice(0)) t.remove();
};
process.once('SIGINT', () => {
  removeTrees();
  process.exit(130);
});
try {
  if (compareRef) {
    console.log(`\n# compare ${compareRef}`);
    const [a, b] = compareRef.includes('..') ? compareRef.split('..') : [compareRef, undefined];
    trees.push(prepareTree(a));
    trees.push(b ? prepareTree(b) : currentTree());
    compare = { ref: trees[0], base: trees[1] };
    console.log(`  compare: ref = ${compare.ref.label}, base = ${compare.base.label}; ratio ref/base > 1 means ref is faster`);
    machine.compare = { ref: compare.ref.label, base: compare.base.label };
  }
  for (const [name, load] of SUITES) {
    if (only && !only.includes(name)) continue;
    const t0 = Date.now();
    console.log(`\n# ${name}`);
    try {
      const run = await load();
      await run(results, { quick, method, compare, frameworks });
    } catch (error) {
      // A broken suite is a harness failure (exit 1), never a slow number.
      failed = true;
      console.error(`suite ${name} crashed:`, error);
      results.note(`${name}: crashed (${error?.message ?? error})`);
    }
    console.log(`  (${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
} catch (error) {
  failed = true;
  console.error('bench failed:', error);
  results.note(`bench: ${error?.message ?? error}`);
} finally {
  removeTrees();
}

machine.loadAvgEnd = loadAvg();
machine.quick = quick;
machine.durationSec = Math.round((Date.now() - started) / 100) / 10;
machine.date = new Date().toISOString();
machine.notes = results.notes;
await writeResults(out, machine, results.results);
const targets = checkTargets(results.results);
if (targets.length > 0) {
  console.log('\ntargets (informational, never an exit code):');
  for (const t of targets) console.log(`  ${t.met ? 'met    ' : 'NOT MET'}  ${t.target}: ${t.measured}`);
}
console.log(`\n${results.results.length} results in ${machine.durationSec} s, load ${machine.loadAvgEnd.join(' ')} → ${fileURLToPath(out)}`);
// Child processes and sockets are closed by the suites; exit explicitly in case a peer library left a timer.
process.exit(failed ? 1 : 0);
