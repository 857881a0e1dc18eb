#!/usr/bin/env node
/**
 * `pnpm demo` (after `turbo run build`): two Okta org emulators with a real login form, a tenants
 * file for their three app instances, and the Express example, all on 127.0.0.1. Prints what to
 * open and who to sign in as. Ctrl-C stops everything.
 *
 *   node scripts/demo.mjs            run until Ctrl-C
 *   node scripts/demo.mjs --check    start, sign in once per tenant over HTTP, print the result, exit
 *                                    (also DEMO_EXIT_AFTER_READY=1; CI uses it to keep the README true)
 *
 * Environment: PORT (app, default 4000). The org ports (4101, 4102) come from
 * examples/express/demo/orgs.json. A taken port falls back to a free one, with a message.
 * See docs/demo.md.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE_DIR = join(ROOT, 'examples/express');
const SERVER = join(EXAMPLE_DIR, 'dist/server.js');
const CONFIG = join(EXAMPLE_DIR, 'demo/orgs.json');
const HOST = '127.0.0.1';
/** Read once; the demo is not a turbo task, so no turbo env declaration applies. */
const ENV = { ...process.env };
const CHECK = process.argv.includes('--check') || ENV['DEMO_EXIT_AFTER_READY'] === '1';

const cleanups = [];
let stopping = false;

main().catch(async (error) => {
  console.error(`\ndemo: ${error instanceof Error ? error.message : String(error)}`);
  await shutdown(1);
});

async function main() {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => shutdown(0));

  // The emulator ships in @oin-oidc/testing, a dependency of the Express example.
  const require = createRequire(join(EXAMPLE_DIR, 'package.json'));
  const testingDir = dirname(require.resolve('@oin-oidc/testing/package.json'));
  const testingEntry = join(testingDir, 'dist/index.js');
  for (const [file, pkg] of [[SERVER, './examples/express'], [testingEntry, '@oin-oidc/testing']]) {
    if (!existsSync(file)) throw new Error(`${file} is missing. Build first: npx -y pnpm@10.34.9 --filter ${pkg}... build (or run \`pnpm demo\`, which builds).`);
  }
  const { startOktaOrg, driveAuthorization } = await import(pathToFileURL(testingEntry).href);

  const { orgs: orgConfigs } = JSON.parse(readFileSync(CONFIG, 'utf8'));

  const wantedPort = Number(ENV['PORT'] ?? 4000);
  if (!Number.isInteger(wantedPort) || wantedPort < 0 || wantedPort > 65535) throw new Error(`PORT must be an integer from 0 to 65535, got "${ENV['PORT']}"`);
  const appPort = await choosePort(wantedPort, 'the app (PORT)');
  const baseUrl = `http://${HOST}:${appPort}`;

  // Start the orgs. Redirect URIs are registered from BASE_URL, so they follow a fallback port.
  const orgs = [];
  for (const orgConfig of orgConfigs) {
    const port = await choosePort(orgConfig.port ?? 0, `org "${orgConfig.name}"`);
    const several = orgConfig.apps.length > 1;
    const apps = orgConfig.apps.map((app) => ({
      ...app,
      redirectUris: [`${baseUrl}/auth/callback`],
      postLogoutRedirectUris: [`${baseUrl}/`],
      // Okta sends only `iss` to the initiate login URI: when the org holds several instances of the app,
      // the URI itself says which one (/auth/initiate?tenant=ID, as in the example contract).
      initiateLoginUri: several ? `${baseUrl}/auth/initiate?tenant=${encodeURIComponent(app.tenant)}` : `${baseUrl}/auth/initiate`,
    }));
    const org = await startOktaOrg({
      name: orgConfig.name,
      port,
      host: HOST,
      autoLogin: false,
      users: orgConfig.users,
      clients: apps.map((app) => ({
        clientId: app.clientId,
        clientSecret: app.clientSecret,
        tokenEndpointAuthMethod: app.tokenEndpointAuthMethod ?? 'client_secret_basic',
        redirectUris: app.redirectUris,
        postLogoutRedirectUris: app.postLogoutRedirectUris,
        initiateLoginUri: app.initiateLoginUri,
        name: app.name,
      })),
    });
    cleanups.push(() => org.close());
    orgs.push({ config: orgConfig, apps, org });
  }

  // The tenants file: one record per app instance (the OIN_TENANTS_FILE format, docs/demo.md).
  const dir = await mkdtemp(join(tmpdir(), 'oin-oidc-demo-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const tenantsFile = join(dir, 'tenants.json');
  const tenants = orgs.flatMap(({ org, apps }) =>
    apps.map((app) => ({
      id: app.tenant,
      issuer: org.issuer,
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      tokenEndpointAuthMethod: app.tokenEndpointAuthMethod ?? 'client_secret_basic',
      redirectUris: app.redirectUris,
      postLogoutRedirectUris: app.postLogoutRedirectUris,
      initiateLoginUri: app.initiateLoginUri,
      allowSimplifiedFlow: app.allowSimplifiedFlow ?? false,
    })),
  );
  await writeFile(tenantsFile, `${JSON.stringify(tenants, null, 2)}\n`, { mode: 0o600 });

  await startApp({
    PORT: String(appPort),
    HOST,
    BASE_URL: baseUrl,
    OIN_TENANTS_FILE: tenantsFile,
    // A fresh secret per run: sessions from an earlier demo simply stop being valid.
    SESSION_SECRET: randomBytes(32).toString('base64url'),
  });

  printBanner(baseUrl, tenantsFile, orgs);

  if (CHECK) {
    await check(baseUrl, orgs, driveAuthorization);
    await shutdown(0);
  }
}

/** The wanted port if free, else a free one (and say so): the demo must start even when 4000 is taken. */
async function choosePort(wanted, what) {
  if (wanted && (await portIsFree(wanted))) return wanted;
  const port = await freePort();
  if (wanted) console.log(`demo: port ${wanted} for ${what} is in use; using ${port} instead.`);
  return port;
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Spawn the built Express example and wait for its `listening` line; its output is shown prefixed. */
function startApp(env) {
  const child = spawn(process.execPath, [SERVER], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(
    () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  );
  return new Promise((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(() => reject(new Error('the Express example printed no "listening" line within 20 s')), 20_000);
    const forward = (stream, out) => {
      let buffered = '';
      stream.on('data', (chunk) => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          out.write(`[express] ${line}\n`);
          if (!ready && /listening/i.test(line)) {
            ready = true;
            clearTimeout(timer);
            resolve();
          }
        }
      });
    };
    forward(child.stdout, process.stdout);
    forward(child.stderr, process.stderr);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`the Express example exited (${signal ?? `code ${code}`}) before listening`));
      else if (!stopping) {
        console.error(`demo: the Express example stopped (${signal ?? `code ${code}`}); stopping the orgs.`);
        shutdown(1);
      }
    });
  });
}

function printBanner(baseUrl, tenantsFile, orgs) {
  const lines = ['', '  oin-oidc demo is running', '', `  App (Express example):  ${baseUrl}/`, '', '  Tenants (one per app instance):'];
  for (const { org, apps } of orgs) {
    for (const app of apps) lines.push(`    ${app.tenant.padEnd(14)} ${org.issuer}   ${app.name}`);
  }
  lines.push('', '  Demo users (sign in through the org login form):');
  for (const { config, org } of orgs) {
    for (const user of config.users) lines.push(`    ${user.login.padEnd(22)} ${user.password.padEnd(20)} ${config.name} (${org.issuer})`);
  }
  lines.push('', '  Okta-initiated sign-in (the org dashboard: admin page with "initiate" links):');
  for (const { config, org } of orgs) lines.push(`    ${config.name.padEnd(20)} ${org.adminUrl}`);
  lines.push('', `  Tenants file: ${tenantsFile}`, CHECK ? '' : '  Press Ctrl-C to stop.', '');
  console.log(lines.join('\n'));
}

/** Per tenant: one HTTP sign-in (login → org login form → callback → /me), as a browser would do it, and the start of an Okta-initiated one. */
async function check(baseUrl, orgs, driveAuthorization) {
  const home = await fetch(`${baseUrl}/`);
  if (home.status !== 200) throw new Error(`check: GET / answered ${home.status}`);
  for (const { config, org, apps } of orgs) {
    const user = config.users[0];
    for (const app of apps) {
      const jar = new Map();
      const login = await fetch(`${baseUrl}/auth/login?tenant=${encodeURIComponent(app.tenant)}`, { redirect: 'manual' });
      keepCookies(jar, login);
      const authorize = login.headers.get('location');
      if (login.status !== 302 || !authorize?.startsWith(`${org.issuer}/oauth2/v1/authorize`)) {
        throw new Error(`check: /auth/login?tenant=${app.tenant} answered ${login.status}, not a redirect to ${org.issuer}`);
      }
      const callback = await driveAuthorization(authorize, { login: user.login, password: user.password });
      const back = await fetch(callback.url, {
        method: callback.method,
        redirect: 'manual',
        headers: { cookie: cookieHeader(jar), ...(callback.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        ...(callback.body ? { body: callback.body } : {}),
      });
      keepCookies(jar, back);
      if (back.status !== 302) throw new Error(`check: the callback for ${app.tenant} answered ${back.status}: ${(await back.text()).slice(0, 300)}`);
      const me = await fetch(`${baseUrl}/me`, { headers: { cookie: cookieHeader(jar), accept: 'application/json' } });
      const body = await me.json();
      if (me.status !== 200 || body.tenant !== app.tenant) throw new Error(`check: /me after signing in to ${app.tenant} answered ${me.status}`);
      console.log(`demo check: signed in to ${app.tenant} as ${user.login} (sub ${body.sub}) → /me 200`);

      // Okta-initiated sign-in (OIDC Core §4): the org sends the browser to the initiate login URI with iss.
      const initiate = new URL(app.initiateLoginUri);
      initiate.searchParams.set('iss', org.issuer);
      const started = await fetch(initiate, { redirect: 'manual' });
      const location = URL.parse(started.headers.get('location') ?? '');
      if (started.status !== 302 || location?.origin !== org.issuer || location.searchParams.get('client_id') !== app.clientId) {
        throw new Error(`check: ${initiate.pathname}${initiate.search} for ${app.tenant} answered ${started.status}, not a redirect to its authorize endpoint`);
      }
      console.log(`demo check: Okta-initiated sign-in for ${app.tenant} → ${org.issuer}/oauth2/v1/authorize (client_id ${app.clientId})`);
    }
  }
  console.log('demo check: OK');
}

function keepCookies(jar, response) {
  for (const line of response.headers.getSetCookie()) {
    const [pair = '', ...attributes] = line.split(';');
    const index = pair.indexOf('=');
    const name = pair.slice(0, index).trim();
    const value = pair.slice(index + 1).trim();
    const expired = attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a));
    if (expired || value === '') jar.delete(name);
    else jar.set(name, value);
  }
}

function cookieHeader(jar) {
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
}

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  if (!CHECK || code !== 0) console.log('\ndemo: stopping…');
  for (const cleanup of cleanups.reverse()) {
    await cleanup().catch(() => {});
  }
  process.exit(code);
}
