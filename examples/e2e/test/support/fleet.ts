/**
 * The fleet of the multi-process proof (fleet.test.ts): a real redis-server and PostgreSQL, one
 * Okta org emulator, the tenants in PostgreSQL, three processes of the built Express example
 * sharing both (same SESSION_SECRET and BASE_URL, each on its own port), and a round-robin HTTP
 * proxy at BASE_URL that names the process behind each answer (`X-Served-By`). Everything binds
 * loopback and is stopped by PID.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresCredentialStore, migrate, type PostgresCredentialStore } from '@oin-oidc/postgres';
import { driveAuthorization, type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { browser, CookieJar } from '@oin-oidc/testing/conformance';
import { type RunningPostgres, type RunningServer, startPostgres, startRedisServer } from '@oin-oidc/testing/servers';
import pg from 'pg';
import { freePort, type RunningExample, startExample } from './example';

export const FLEET_USER = { login: 'dana@fleet.example', password: 'fleet horse battery staple', name: 'Dana Fleet' } as const;

/** The app instances in the org. `late` is registered at the org but reaches the database only mid-run. */
export const FLEET_TENANTS = {
  /** Seeded into PostgreSQL by the test process before any app starts. */
  main: { id: 'fleet-main', clientId: '0oa-fleet-main', clientSecret: 'fleet-main-secret-0123456789abcdef' },
  /** Okta's simplified flow; seeded by process a's OIN_TENANTS_FILE (upserted at its start). */
  simple: { id: 'fleet-simple', clientId: '0oa-fleet-simple', clientSecret: 'fleet-simple-secret-0123456789abcdef' },
  /** Added to the database by the test while the fleet runs. */
  late: { id: 'fleet-late', clientId: '0oa-fleet-late', clientSecret: 'fleet-late-secret-0123456789abcdef' },
} as const;

export type FleetTenant = (typeof FLEET_TENANTS)[keyof typeof FLEET_TENANTS];

/** A tenant record as the store takes it (named through the store: this package has no core dependency). */
export type TenantRecord = Parameters<PostgresCredentialStore['put']>[0];

export interface FleetProcess {
  /** `a`, `b` or `c`: also the proxy's `X-Served-By` value. */
  name: string;
  /** The process's own origin (bypassing the proxy), to pick which process serves a request. */
  origin: string;
  app: RunningExample;
}

export interface Fleet {
  /** BASE_URL: the proxy. */
  baseUrl: string;
  org: OktaOrg;
  redis: RunningServer;
  postgres: RunningPostgres;
  processes: readonly [FleetProcess, FleetProcess, FleetProcess];
  /** The test's own handle on the tenants table (what an admin tool would use). */
  tenants: PostgresCredentialStore;
  /** The tenant record the database holds for `tenant` (with `secret` as its only client secret). */
  record(tenant: FleetTenant, secret?: string): TenantRecord;
  close(): Promise<void>;
}

export const SESSION_SECRET = 'fleet-e2e-session-secret-at-least-32-characters';

/** A round-robin reverse proxy over `backends`; adds `X-Served-By: <name>` to every answer. */
export async function startRoundRobinProxy(backends: () => readonly { name: string; origin: string }[]): Promise<{ origin: string; close(): Promise<void> }> {
  let next = 0;
  const server = createServer((req, res) => {
    // Browsers ask for a favicon on their own schedule: answer it here so it never shifts the rotation.
    if (req.url === '/favicon.ico') {
      res.writeHead(404, { 'content-length': '0' }).end();
      return;
    }
    const list = backends();
    const backend = list[next++ % list.length];
    if (!backend) {
      res.writeHead(503, { 'content-length': '0' }).end();
      return;
    }
    const target = new URL(backend.origin);
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, { ...answer.headers, 'x-served-by': backend.name });
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'x-served-by': backend.name, 'content-length': '0' });
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function startFleet(): Promise<Fleet> {
  const dir = await mkdtemp(join(tmpdir(), 'oin-e2e-fleet-'));
  const closers: (() => Promise<void>)[] = [() => rm(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => {});
  };
  try {
    const [redis, postgres] = await Promise.all([startRedisServer(), startPostgres()]);
    closers.push(
      () => redis.stop(),
      () => postgres.stop(),
    );

    let processes: FleetProcess[] = [];
    const proxy = await startRoundRobinProxy(() => processes);
    closers.push(() => proxy.close());
    const baseUrl = proxy.origin;

    const org = await startOktaOrg({
      name: 'Fleet',
      autoLogin: false,
      users: [{ login: FLEET_USER.login, password: FLEET_USER.password, claims: { name: FLEET_USER.name, email: FLEET_USER.login } }],
      clients: Object.values(FLEET_TENANTS).map((t) => ({
        clientId: t.clientId,
        clientSecret: t.clientSecret,
        tokenEndpointAuthMethod: 'client_secret_basic' as const,
        redirectUris: [`${baseUrl}/auth/callback`],
        postLogoutRedirectUris: [`${baseUrl}/`],
      })),
    });
    closers.push(() => org.close());

    const record = (t: FleetTenant, secret: string = t.clientSecret): TenantRecord => ({
      id: t.id,
      issuer: org.issuer,
      clientId: t.clientId,
      clientSecret: secret,
      redirectUris: [`${baseUrl}/auth/callback`],
      postLogoutRedirectUris: [`${baseUrl}/`],
      allowSimplifiedFlow: t.id === FLEET_TENANTS.simple.id,
    });

    // One at-rest key (kid "k1"), 32 random bytes in unpadded base64url.
    const encryptionKeys = `k1:${randomBytes(32).toString('base64url')}`;
    const pool = new pg.Pool({ connectionString: postgres.url, max: 3 });
    // Killing PostgreSQL breaks idle connections: an 'error' event without a listener would end the test run.
    pool.on('error', () => undefined);
    closers.push(() => pool.end());
    await migrate(pool);
    const tenants = await createPostgresCredentialStore({ pool, encryptionKeys, onEvent: () => undefined });
    closers.push(() => tenants.close());
    await tenants.put(record(FLEET_TENANTS.main));

    const tenantsFile = join(dir, 'tenants.json');
    await writeFile(tenantsFile, JSON.stringify([record(FLEET_TENANTS.simple)], null, 2));

    const start = async (name: string, withFile: boolean): Promise<FleetProcess> => {
      const port = await freePort();
      const app = await startExample('express', {
        PORT: String(port),
        BASE_URL: baseUrl,
        SESSION_SECRET,
        // Empty means unset: with OIN_DATABASE_URL the tenants live in PostgreSQL.
        OIN_TENANTS_FILE: withFile ? tenantsFile : '',
        OIN_REDIS_URL: redis.url,
        OIN_DATABASE_URL: postgres.url,
        OIN_ENCRYPTION_KEYS: encryptionKeys,
        OIN_SESSION_STORE: 'cookie',
      });
      closers.push(() => app.stop());
      return { name, origin: `http://127.0.0.1:${port}`, app };
    };
    // a first: it upserts the tenants file, so b and c start with that tenant in their snapshot.
    const a = await start('a', true);
    const [b, c] = await Promise.all([start('b', false), start('c', false)]);
    processes = [a, b, c];

    return { baseUrl, org, redis, postgres, processes: [a, b, c], tenants, record, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** What a browser sends with a request its own page makes (Fetch Metadata; Origin, RFC 6454 §7). */
export function sameOrigin(baseUrl: string): Record<string, string> {
  return { 'sec-fetch-site': 'same-origin', origin: baseUrl };
}

/**
 * A sign-in over HTTP: `/auth/login` on `start`, the org's login form (driven like a browser), and
 * the callback on `finish`. Resolves with the callback's answer (body unread) and the cookie jar.
 */
export async function signIn(start: FleetProcess, finish: FleetProcess, tenantId: string, jar = new CookieJar()): Promise<{ callback: Response; jar: CookieJar }> {
  const login = await browser(start.origin, jar).fetch(`/auth/login?tenant=${tenantId}`);
  if (login.status !== 302) throw new Error(`/auth/login on ${start.name} answered ${login.status}: ${(await login.text()).slice(0, 300)}`);
  const request = await driveAuthorization(login.headers.get('location')!, { login: FLEET_USER.login, password: FLEET_USER.password });
  const callback = await browser(finish.origin, jar).fetch(`${request.url.pathname}${request.url.search}`, {
    method: request.method,
    ...(request.body === undefined ? {} : { body: request.body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
  });
  return { callback, jar };
}

/** GET /me on `target` with `jar`'s cookies: the status and, on 200, the session. */
export async function me(target: FleetProcess, jar: CookieJar): Promise<{ status: number; sub?: string; tenant?: string }> {
  const response = await browser(target.origin, jar.clone()).fetch('/me', { headers: { accept: 'application/json' } });
  const body = (await response.json()) as { sub?: string; tenant?: string };
  return { status: response.status, ...(response.status === 200 ? { sub: body.sub, tenant: body.tenant } : {}) };
}

/** The simplified flow's auto-submitted form, as Okta's page posts it (from the org's origin) to `target`. */
export async function postIdToken(target: FleetProcess, idToken: string, issuer: string): Promise<Response> {
  return browser(target.origin).fetch('/auth/callback', {
    method: 'POST',
    body: new URLSearchParams({ id_token: idToken }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: issuer },
  });
}

/** GET /api/me?tenant=… with a bearer token. */
export async function bearer(target: FleetProcess, token: string, tenantId: string): Promise<Response> {
  return fetch(`${target.origin}/api/me?tenant=${tenantId}`, { headers: { authorization: `Bearer ${token}` }, redirect: 'manual' });
}

/**
 * Retry `attempt` until it returns true; fail with `what` (and the last outcome) when `deadlineMs`
 * passes. An attempt that started before the deadline counts.
 */
export async function poll(what: string, deadlineMs: number, attempt: () => Promise<boolean | string>): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let last: boolean | string = false;
  for (;;) {
    const started = Date.now();
    try {
      last = await attempt();
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (last === true) return;
    if (started >= deadline) throw new Error(`${what}: not within ${deadlineMs} ms (last: ${String(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
