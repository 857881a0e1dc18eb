#!/usr/bin/env node
// Run a test command many times in a row while a CPU burner loads the machine, to show that no test
// depends on wall-clock time, scheduling or machine speed. A run that fails keeps its log.
//
//   node scripts/test-loaded.mjs                         the README's test command, 20 runs, 60 % load
//   node scripts/test-loaded.mjs --runs 5 --load 80
//   node scripts/test-loaded.mjs --runs 5 --cwd packages/core -- npx vitest run test/property-cookies.test.ts
//
// Options: --runs N (default 20), --load PERCENT per core (default 60), --cpus N burner workers
// (default: every core), --burner node (the node fallback even when stress-ng is installed),
// --cwd DIR (relative to the repository root), --logs DIR (default test-results/loaded), and `--`
// followed by the command to run (default `node scripts/test.mjs`, the README's test command).
// The burner is `stress-ng --cpu N --cpu-load PERCENT` when /usr/bin/stress-ng exists, otherwise one
// node child process per core that busy-loops for PERCENT of every 100 ms. It is stopped by its
// PID when the runs end (on Ctrl-C or SIGTERM the run in progress is stopped too). Exit status 1
// when any run failed.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const STRESS_NG = '/usr/bin/stress-ng';

function parseArgs(argv) {
  const options = { runs: 20, load: 60, cpus: availableParallelism(), cwd: root, logs: join(root, 'test-results', 'loaded'), command: ['node', 'scripts/test.mjs'], burner: 'stress-ng' };
  const split = argv.indexOf('--');
  const own = split === -1 ? argv : argv.slice(0, split);
  if (split !== -1) options.command = argv.slice(split + 1);
  for (let i = 0; i < own.length; i += 1) {
    const flag = own[i];
    const value = own[i + 1];
    const need = () => {
      if (value === undefined) usage(`${flag} needs a value`);
      i += 1;
      return value;
    };
    const integer = (min, max) => {
      const n = Number(need());
      if (!Number.isInteger(n) || n < min || n > max) usage(`${flag} must be an integer in [${min}, ${max}]`);
      return n;
    };
    if (flag === '--runs') options.runs = integer(1, 10_000);
    else if (flag === '--load') options.load = integer(0, 100);
    else if (flag === '--cpus') options.cpus = integer(1, 1024);
    else if (flag === '--cwd') options.cwd = resolve(root, need());
    else if (flag === '--logs') options.logs = resolve(root, need());
    else if (flag === '--burner') {
      options.burner = need();
      if (options.burner !== 'node' && options.burner !== 'stress-ng') usage('--burner must be node or stress-ng');
    }
    else if (flag === '--help' || flag === '-h') usage();
    else usage(`unknown option ${flag}`);
  }
  if (options.command.length === 0) usage('no command after --');
  if (!existsSync(options.cwd)) usage(`--cwd ${options.cwd} does not exist`);
  return options;
}

function usage(problem) {
  if (problem) console.error(`test-loaded: ${problem}`);
  console.error('usage: node scripts/test-loaded.mjs [--runs N] [--load PERCENT] [--cpus N] [--burner node|stress-ng] [--cwd DIR] [--logs DIR] [-- command ...]');
  process.exit(problem ? 2 : 0);
}

/** The node fallback burner: busy for `load` % of every 100 ms slice, idle for the rest. */
const NODE_BURNER = `
const busy = Number(process.argv[1]);
const slice = () => { const end = Date.now() + busy; while (Date.now() < end); setTimeout(slice, 100 - busy); };
if (busy > 0) slice(); else setInterval(() => {}, 1 << 30);
`;

/** Start the CPU burner(s); returns their child processes (each in its own process group). */
function startBurner({ load, cpus, burner }) {
  if (load === 0) return { what: 'no load (--load 0)', children: [] };
  if (burner !== 'node' && existsSync(STRESS_NG)) {
    const child = spawn(STRESS_NG, ['--cpu', String(cpus), '--cpu-load', String(load), '--quiet'], { stdio: 'ignore', detached: true });
    return { what: `stress-ng --cpu ${cpus} --cpu-load ${load} (pid ${child.pid})`, children: [child] };
  }
  const children = Array.from({ length: cpus }, () => spawn(process.execPath, ['-e', NODE_BURNER, String(load)], { stdio: 'ignore', detached: true }));
  return { what: `${cpus} node busy-loop${cpus === 1 ? '' : 's'} at ${load} % (pids ${children.map((c) => c.pid).join(', ')})`, children };
}

const exited = (child) => child.exitCode !== null || child.signalCode !== null;

/** Signal a burner by its PID: its whole process group (stress-ng forks one worker per CPU). */
function signalBurner(burner, signal) {
  for (const child of burner.children) {
    if (exited(child)) continue;
    try {
      process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
  }
}

/** Stop the burner: SIGTERM, then SIGKILL whatever has not exited 5 s later. */
async function stopBurner(burner) {
  signalBurner(burner, 'SIGTERM');
  const gone = Promise.all(burner.children.map((child) => (exited(child) ? undefined : new Promise((done) => child.once('exit', done)))));
  let timer;
  const late = new Promise((done) => {
    timer = setTimeout(() => done('late'), 5_000);
  });
  if ((await Promise.race([gone, late])) === 'late') signalBurner(burner, 'SIGKILL');
  clearTimeout(timer);
}

/** The run in progress, if any. */
let current;

/** Run the command once, its output to `logPath`; resolves with the exit code and duration. */
function runOnce(options, logPath) {
  return new Promise((done) => {
    const log = createWriteStream(logPath);
    const started = process.hrtime.bigint();
    const [file, ...args] = options.command;
    // Its own process group, so an interrupted run is stopped whole (vitest's workers, servers).
    const child = spawn(file, args, { cwd: options.cwd, env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    current = child;
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    const finish = (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      log.end(() => done({ code, seconds }));
    };
    child.on('error', (error) => {
      log.write(`\ntest-loaded: could not start ${file}: ${error.message}\n`);
      finish(127);
    });
    child.on('close', (code, signal) => {
      current = undefined;
      finish(code ?? (signal ? 128 : 1));
    });
  });
}

/** The last vitest/test.mjs summary lines of a log, for the per-run line. */
async function summaryOf(logPath) {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(logPath, 'utf8').catch(() => '');
  const lines = text.split('\n').map((line) => line.trim());
  const tests = lines.filter((line) => /^Tests[: ]/.test(line)).at(-1);
  return tests ? tests.replace(/\s+/g, ' ') : '';
}

const options = parseArgs(process.argv.slice(2));
rmSync(options.logs, { recursive: true, force: true });
mkdirSync(options.logs, { recursive: true });
const burner = startBurner(options);
const onSignal = () => {
  if (current?.pid !== undefined) {
    try {
      process.kill(-current.pid, 'SIGTERM');
    } catch {
      current.kill('SIGTERM');
    }
  }
  stopBurner(burner).then(() => process.exit(130));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

console.log(`test-loaded: ${options.runs} run(s) of \`${options.command.join(' ')}\` in ${relative(root, options.cwd) || '.'}`);
console.log(`test-loaded: load: ${burner.what}; ${availableParallelism()} core(s)`);
let passed = 0;
const durations = [];
const kept = [];
try {
  for (let run = 1; run <= options.runs; run += 1) {
    const logPath = join(options.logs, `run-${String(run).padStart(2, '0')}.log`);
    const { code, seconds } = await runOnce(options, logPath);
    durations.push(seconds);
    const summary = await summaryOf(logPath);
    if (code === 0) {
      passed += 1;
      rmSync(logPath, { force: true });
    } else {
      kept.push(logPath);
    }
    console.log(`run ${String(run).padStart(2)}/${options.runs}: ${code === 0 ? 'pass' : `FAIL (exit ${code})`} ${seconds.toFixed(1).padStart(7)} s${summary ? `  ${summary}` : ''}${code === 0 ? '' : `  log: ${relative(root, logPath)}`}`);
  }
} finally {
  await stopBurner(burner);
}
const sorted = [...durations].sort((a, b) => a - b);
const median = sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
console.log(`durations: min ${sorted[0]?.toFixed(1)} s, median ${median.toFixed(1)} s, max ${sorted.at(-1)?.toFixed(1)} s`);
if (kept.length > 0) console.log(`failing runs' logs: ${kept.map((p) => relative(root, p)).join(', ')}`);
console.log(`${passed}/${options.runs} runs passed`);
process.exit(passed === options.runs ? 0 : 1);
