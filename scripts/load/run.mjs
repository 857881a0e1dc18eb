#!/usr/bin/env node
/**
 * Bounded load and soak run (docs/load.md): concurrent sign-ins and bearer calls through each
 * adapter's example app against the Okta org emulator, all on loopback. Not a unit test: its own
 * command.
 *
 *   npx -y pnpm@10.34.9 load [--duration 20] [--adapters express,fastify,hono,koa]
 *                            [--concurrency 8] [--max-ops 50000] [--json]
 *
 * Per adapter, one after the other (so they do not compete for the CPU): start the example
 * (examples/<fw>/dist/server.js) as a child process, warm it up, then for `--duration` seconds run
 * `--concurrency` workers, each alternating a whole sign-in (GET /auth/login → the emulator's
 * authorize + auto-login → GET /auth/callback → GET /me) and a bearer call (GET /api/me with an
 * access token the emulator issued, introspected by the SDK). It reports the error count, the
 * throughput, p50/p99 latency per operation, and the app's RSS at the start and end of the window
 * (from /proc/<pid>/status). It stops by itself: at the deadline or after `--max-ops` operations.
 * Exit code 1 if any operation failed, 2 on a setup problem.
 *
 * Needs the built packages and examples (`npx -y pnpm@10.34.9 build`).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ALL_ADAPTERS = ['express', 'fastify', 'hono', 'koa'];
const SESSION_SECRET = 'load-run-session-secret-0123456789abcdef';
const CLIENT = { clientId: '0oa-load-app', clientSecret: 'load-secret-0123456789abcdef' };
const USER = { login: 'ada@acme.example', password: 'correct horse battery staple', claims: { name: 'Ada Lovelace', email: 'ada@acme.example' } };
const TOKEN_POOL = 64;
const REQUEST_TIMEOUT_MS = 10_000;

function parseArgs(argv) {
  const options = { duration: 20, adapters: ALL_ADAPTERS, concurrency: 8, maxOps: 50_000, warmup: 20, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? arg.split(/=(.*)/s) : [arg, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--duration') options.duration = Number(value());
    else if (flag === '--adapters') options.adapters = String(value()).split(',').map((s) => s.trim()).filter(Boolean);
    else if (flag === '--concurrency') options.concurrency = Number(value());
    else if (flag === '--max-ops') options.maxOps = Number(value());
    else if (flag === '--warmup') options.warmup = Number(value());
    else if (flag === '--json') options.json = true;
    else if (flag === '--help' || flag === '-h') {
      console.log('usage: node scripts/load/run.mjs [--duration 20] [--adapters express,fastify,hono,koa] [--concurrency 8] [--max-ops 50000] [--warmup 20] [--json]');
      process.exit(0);
    } else fail(`unknown argument ${arg}`);
  }
  if (!(options.duration > 0 && options.duration <= 3600)) fail('--duration must be 1..3600 seconds');
  if (!(Number.isInteger(options.concurrency) && options.concurrency >= 1 && options.concurrency <= 256)) fail('--concurrency must be 1..256');
  if (!(Number.isInteger(options.maxOps) && options.maxOps >= 1)) fail('--max-ops must be a positive integer');
  for (const name of options.adapters) if (!ALL_ADAPTERS.includes(name)) fail(`unknown adapter ${name} (one of ${ALL_ADAPTERS.join(', ')})`);
  return options;
}

function fail(message) {
  console.error(`load: ${message}`);
  process.exit(2);
}

/** A free loopback port (the example reads PORT, and the emulator must know the redirect URI first). */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

function rssKb(pid) {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A one-origin cookie jar: enough for the app's transaction and session cookies. */
class Jar {
  cookies = new Map();
  store(response) {
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const deletes = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || attributes.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) <= Date.now());
      if (deletes) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1).trim());
    }
  }
  header() {
    return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }
}

async function appFetch(jar, url, init = {}) {
  const headers = { ...init.headers };
  if (jar && jar.cookies.size > 0) headers.cookie = jar.header();
  const response = await fetch(url, { ...init, headers, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  jar?.store(response);
  return response;
}

function expectStatus(response, status, step) {
  if (response.status !== status) throw new Error(`${step}: HTTP ${response.status} (expected ${status})`);
}

/** One whole browser sign-in through the app, and the /me call that proves the session. */
async function signIn(baseUrl, driveAuthorization) {
  const jar = new Jar();
  const login = await appFetch(jar, `${baseUrl}/auth/login?tenant=acme`);
  expectStatus(login, 302, 'login');
  await login.arrayBuffer();
  const request = await driveAuthorization(login.headers.get('location'));
  const callback =
    request.method === 'GET'
      ? await appFetch(jar, request.url)
      : await appFetch(jar, request.url, { method: 'POST', body: request.body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expectStatus(callback, 302, 'callback');
  await callback.arrayBuffer();
  const me = await appFetch(jar, `${baseUrl}/me`, { headers: { accept: 'application/json' } });
  expectStatus(me, 200, '/me');
  const body = await me.json();
  if (body.tenant !== 'acme' || typeof body.sub !== 'string') throw new Error('/me: unexpected body');
}

async function bearerCall(baseUrl, token) {
  const response = await appFetch(undefined, `${baseUrl}/api/me?tenant=acme`, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
  expectStatus(response, 200, '/api/me');
  const body = await response.json();
  if (body.client_id !== CLIENT.clientId) throw new Error('/api/me: unexpected client_id');
}

function startApp(adapter, port, tenantsFile) {
  const entry = join(ROOT, 'examples', adapter, 'dist', 'server.js');
  if (!existsSync(entry)) fail(`${entry} is missing: build first (npx -y pnpm@10.34.9 build)`);
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [entry], {
    cwd: join(ROOT, 'examples', adapter),
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', BASE_URL: baseUrl, OIN_TENANTS_FILE: tenantsFile, SESSION_SECRET, INIT_CWD: ROOT, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`${adapter} did not start within 20 s:\n${output}`)), 20_000);
    const onData = (chunk) => {
      output += chunk;
      if (/listening on/.test(output)) {
        clearTimeout(timer);
        resolveReady();
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      output += chunk;
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${adapter} exited with ${code}:\n${output}`));
    });
  });
  const stop = () =>
    new Promise((resolveStop) => {
      if (child.exitCode !== null) return resolveStop();
      child.once('exit', () => resolveStop());
      child.kill('SIGTERM');
      setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 3000).unref();
    });
  return { child, baseUrl, ready, stop, output: () => output };
}

async function runAdapter(adapter, port, tenantsFile, org, tokens, driveAuthorization, options) {
  const app = startApp(adapter, port, tenantsFile);
  try {
    await app.ready;
    // Warm-up (JIT, key cache, connection pools): not measured.
    for (let i = 0; i < options.warmup; i++) {
      await signIn(app.baseUrl, driveAuthorization);
      await bearerCall(app.baseUrl, tokens[i % tokens.length]);
    }
    const rssStart = rssKb(app.child.pid);
    const counters = { signIn: [], bearer: [] };
    const errors = [];
    let ops = 0;
    let next = 0;
    const started = performance.now();
    const deadline = started + options.duration * 1000;
    // RSS at half time too: growth in the second half (after heaps have sized themselves) is the leak signal.
    let rssMid;
    const midTimer = setTimeout(() => {
      rssMid = rssKb(app.child.pid);
    }, (options.duration * 1000) / 2);
    const worker = async (id) => {
      let turn = id; // half the workers start with a bearer call
      while (performance.now() < deadline && ops < options.maxOps && app.child.exitCode === null) {
        ops++;
        const kind = turn++ % 2 === 0 ? 'signIn' : 'bearer';
        const t0 = performance.now();
        try {
          if (kind === 'signIn') await signIn(app.baseUrl, driveAuthorization);
          else await bearerCall(app.baseUrl, tokens[next++ % tokens.length]);
          counters[kind].push(performance.now() - t0);
        } catch (error) {
          errors.push(`${kind}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
    clearTimeout(midTimer);
    const elapsedSec = (performance.now() - started) / 1000;
    const rssEnd = rssKb(app.child.pid);
    if (app.child.exitCode !== null) errors.push(`the app exited with ${app.child.exitCode}`);
    const stats = (samples) => {
      const sorted = [...samples].sort((a, b) => a - b);
      return { count: sorted.length, perSec: sorted.length / elapsedSec, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN };
    };
    return {
      adapter,
      elapsedSec,
      operations: counters.signIn.length + counters.bearer.length,
      errors: errors.length,
      firstErrors: [...new Set(errors)].slice(0, 5),
      throughput: (counters.signIn.length + counters.bearer.length) / elapsedSec,
      signIn: stats(counters.signIn),
      bearer: stats(counters.bearer),
      rssStartKb: rssStart,
      rssMidKb: rssMid,
      rssEndKb: rssEnd,
      okta: org.control.counters(),
    };
  } catch (error) {
    return { adapter, setupError: error instanceof Error ? error.message : String(error), errors: 1 };
  } finally {
    await app.stop();
  }
}

function ms(value) {
  return Number.isFinite(value) ? `${value.toFixed(1)} ms` : 'n/a';
}

function mb(kb) {
  return kb === undefined ? 'n/a' : `${(kb / 1024).toFixed(1)} MB`;
}

function printReport(results, options) {
  console.log(`\nload: ${options.duration} s per adapter, ${options.concurrency} workers, node ${process.version}, ${results.length} adapter(s)\n`);
  const rows = [['adapter', 'ops', 'errors', 'ops/s', 'sign-in/s', 'sign-in p50', 'sign-in p99', 'bearer/s', 'bearer p50', 'bearer p99', 'RSS start', 'RSS mid', 'RSS end', 'growth', '2nd half']];
  for (const r of results) {
    if (r.setupError) {
      rows.push([r.adapter, '-', 'setup', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-']);
      continue;
    }
    const delta = (from, to) => (from !== undefined && to !== undefined ? `${to >= from ? '+' : ''}${((to - from) / 1024).toFixed(1)} MB` : 'n/a');
    rows.push([
      r.adapter,
      String(r.operations),
      String(r.errors),
      r.throughput.toFixed(1),
      r.signIn.perSec.toFixed(1),
      ms(r.signIn.p50),
      ms(r.signIn.p99),
      r.bearer.perSec.toFixed(1),
      ms(r.bearer.p50),
      ms(r.bearer.p99),
      mb(r.rssStartKb),
      mb(r.rssMidKb),
      mb(r.rssEndKb),
      delta(r.rssStartKb, r.rssEndKb),
      delta(r.rssMidKb, r.rssEndKb),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));
  for (const r of results) {
    if (r.setupError) console.log(`\n${r.adapter}: setup failed: ${r.setupError}`);
    else if (r.errors > 0) console.log(`\n${r.adapter}: ${r.errors} error(s), e.g.\n  ${r.firstErrors.join('\n  ')}`);
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const testingEntry = join(ROOT, 'packages', 'testing', 'dist', 'index.js');
  if (!existsSync(testingEntry)) fail(`${testingEntry} is missing: build first (npx -y pnpm@10.34.9 build)`);
  const { startOktaOrg, driveAuthorization } = await import(testingEntry);

  const ports = Object.fromEntries(await Promise.all(options.adapters.map(async (a) => [a, await freePort()])));
  const origins = options.adapters.map((a) => `http://127.0.0.1:${ports[a]}`);
  const org = await startOktaOrg({
    name: 'load',
    clients: [
      {
        ...CLIENT,
        tokenEndpointAuthMethod: 'client_secret_basic',
        redirectUris: origins.map((o) => `${o}/auth/callback`),
        postLogoutRedirectUris: origins.map((o) => `${o}/`),
      },
    ],
    users: [USER],
    // The load measures the SDK, not an org's budget: with the emulator's default window (600 a
    // minute) the SDK would rightly stop calling /token at `X-Rate-Limit-Remaining: 0`
    // (docs/rate-limits.md).
    rateLimit: { limit: 1_000_000 },
  });
  const dir = mkdtempSync(join(tmpdir(), 'oin-load-'));
  const results = [];
  try {
    const tokens = await Promise.all(Array.from({ length: TOKEN_POOL }, () => org.control.issueAccessToken(CLIENT.clientId, { login: USER.login, scope: 'openid email' })));
    for (const adapter of options.adapters) {
      const origin = `http://127.0.0.1:${ports[adapter]}`;
      const tenantsFile = join(dir, `${adapter}-tenants.json`);
      // One tenant per app: its redirect URI is this app's callback (the emulator client lists all four).
      writeFileSync(
        tenantsFile,
        JSON.stringify([{ id: 'acme', issuer: org.issuer, ...CLIENT, redirectUris: [`${origin}/auth/callback`], postLogoutRedirectUris: [`${origin}/`] }]),
      );
      org.control.resetCounters();
      if (!options.json) process.stdout.write(`load: ${adapter} …`);
      const result = await runAdapter(adapter, ports[adapter], tenantsFile, org, tokens, driveAuthorization, options);
      results.push(result);
      if (!options.json) process.stdout.write(result.setupError ? ' setup failed\n' : ` ${result.operations} ops, ${result.errors} errors\n`);
    }
  } finally {
    await org.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (options.json) console.log(JSON.stringify({ options, results }, null, 2));
  else printReport(results, options);
  const failed = results.reduce((sum, r) => sum + r.errors, 0);
  process.exitCode = failed > 0 ? 1 : 0;
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
