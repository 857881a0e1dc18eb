/**
 * The fleet variables of the examples (the configuration table of each example's README), on the
 * Express example (src/stores.ts and src/config.ts are the same file in every example, see
 * examples-source.test.ts): a bad value stops the app at start with a message naming the variable
 * and never a secret; OIN_SESSION_STORE=redis and =postgres keep sessions server-side and shared,
 * and fail closed (a typed 503) while the store is down; OIN_INTROSPECTION_CACHE_SEC=0 turns the
 * cache off.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { browser } from '@oin-oidc/testing/conformance';
import { type RunningServer, startPostgres, startRedisServer } from '@oin-oidc/testing/servers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Framework, freePort, runExampleExpectingExit, startExample } from './support/example';
import { bearer, type FleetProcess, FLEET_USER, me, poll, SESSION_SECRET, sameOrigin, signIn, startRoundRobinProxy } from './support/fleet';

const KEY = randomBytes(32).toString('base64url');

describe('the fleet variables refuse bad values at start (Express example)', () => {
  let dir: string;
  let base: Record<string, string>;
  let closedPort: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oin-e2e-fleet-env-'));
    const baseUrl = 'http://127.0.0.1:4000';
    const tenantsFile = join(dir, 'tenants.json');
    await writeFile(
      tenantsFile,
      JSON.stringify([{ id: 'acme', issuer: 'http://127.0.0.1:4999', clientId: '0oa-acme', clientSecret: 'acme-secret-0123456789abcdef-0123', redirectUris: [`${baseUrl}/auth/callback`] }]),
    );
    base = { PORT: '0', BASE_URL: baseUrl, OIN_TENANTS_FILE: tenantsFile, SESSION_SECRET };
    // Nothing listens there: a Redis or PostgreSQL that cannot be reached.
    closedPort = await freePort();
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const cases: { name: string; env: () => Record<string, string>; says: string; secret?: string }[] = [
    { name: 'an unknown OIN_SESSION_STORE', env: () => ({ OIN_SESSION_STORE: 'memcached' }), says: 'OIN_SESSION_STORE must be cookie, redis or postgres' },
    { name: 'OIN_SESSION_STORE=redis without OIN_REDIS_URL', env: () => ({ OIN_SESSION_STORE: 'redis' }), says: 'OIN_SESSION_STORE=redis needs OIN_REDIS_URL' },
    { name: 'OIN_SESSION_STORE=postgres without OIN_DATABASE_URL', env: () => ({ OIN_SESSION_STORE: 'postgres' }), says: 'OIN_SESSION_STORE=postgres needs OIN_DATABASE_URL' },
    { name: 'an OIN_REDIS_URL that is not redis://', env: () => ({ OIN_REDIS_URL: 'http://user:redis-pw-123@127.0.0.1:6379' }), says: 'OIN_REDIS_URL must be a redis://', secret: 'redis-pw-123' },
    { name: 'an OIN_DATABASE_URL that is not postgres://', env: () => ({ OIN_DATABASE_URL: 'mysql://user:db-pw-123@127.0.0.1/db' }), says: 'OIN_DATABASE_URL must be a postgres://', secret: 'db-pw-123' },
    { name: 'OIN_DATABASE_URL without OIN_ENCRYPTION_KEYS', env: () => ({ OIN_DATABASE_URL: 'postgres://u@127.0.0.1:1/db' }), says: 'OIN_ENCRYPTION_KEYS is not set' },
    {
      name: 'OIN_ENCRYPTION_KEYS with the key where the kid goes',
      env: () => ({ OIN_DATABASE_URL: 'postgres://u@127.0.0.1:1/db', OIN_ENCRYPTION_KEYS: `${KEY}:k1` }),
      says: 'OIN_ENCRYPTION_KEYS:',
      secret: KEY,
    },
    { name: 'a non-numeric OIN_INTROSPECTION_CACHE_SEC', env: () => ({ OIN_INTROSPECTION_CACHE_SEC: 'soon' }), says: 'OIN_INTROSPECTION_CACHE_SEC must be an integer from 0' },
    { name: 'an OIN_INTROSPECTION_CACHE_SEC past 3600', env: () => ({ OIN_INTROSPECTION_CACHE_SEC: '3601' }), says: 'OIN_INTROSPECTION_CACHE_SEC must be an integer from 0' },
    { name: 'a Redis that cannot be reached', env: () => ({ OIN_REDIS_URL: `redis://user:redis-pw-456@127.0.0.1:${closedPort}` }), says: 'OIN_REDIS_URL: cannot reach Redis', secret: 'redis-pw-456' },
    {
      name: 'a PostgreSQL that cannot be reached',
      env: () => ({ OIN_DATABASE_URL: `postgres://oin:db-pw-456@127.0.0.1:${closedPort}/oin`, OIN_ENCRYPTION_KEYS: `k1:${KEY}` }),
      says: 'OIN_DATABASE_URL: cannot migrate the database',
      secret: 'db-pw-456',
    },
    { name: 'neither OIN_TENANTS_FILE nor OIN_DATABASE_URL', env: () => ({ OIN_TENANTS_FILE: '' }), says: 'OIN_TENANTS_FILE is not set' },
  ];

  for (const c of cases) {
    it(`exits with a message naming the variable for ${c.name}`, async () => {
      const result = await runExampleExpectingExit('express', { ...base, ...c.env() });
      expect(result.code, result.output).toBe(1);
      expect(result.output).toContain(c.says);
      expect(result.output).not.toMatch(/listening/i);
      if (c.secret !== undefined) expect(result.output).not.toContain(c.secret);
    });
  }
});

/**
 * Two Express processes with OIN_SESSION_STORE=`kind`, sharing that server (and, for postgres, the
 * tenants, upserted by both from one file); OIN_INTROSPECTION_CACHE_SEC=0 on both.
 */
function describeServerSideSessions(kind: 'redis' | 'postgres'): void {
  describe(`OIN_SESSION_STORE=${kind} and OIN_INTROSPECTION_CACHE_SEC=0 (two Express processes)`, () => {
    let server: RunningServer | undefined;
    let org: OktaOrg | undefined;
    const processes: FleetProcess[] = [];
    let baseUrl = '';
    const closers: (() => Promise<void>)[] = [];
    let setupError: unknown;
    const tenant = { id: `env-${kind}`, clientId: `0oa-env-${kind}`, clientSecret: `env-${kind}-secret-0123456789abcdef` };

    beforeAll(async () => {
      // Kept, not thrown: a failing beforeAll would mark the tests skipped.
      try {
        const dir = await mkdtemp(join(tmpdir(), 'oin-e2e-fleet-env-'));
        closers.push(() => rm(dir, { recursive: true, force: true }));
        server = kind === 'redis' ? await startRedisServer() : await startPostgres();
        closers.push(() => server!.stop());
        const proxy = await startRoundRobinProxy(() => processes);
        closers.push(() => proxy.close());
        baseUrl = proxy.origin;
        const uris = { redirectUris: [`${baseUrl}/auth/callback`], postLogoutRedirectUris: [`${baseUrl}/`] };
        org = await startOktaOrg({
          autoLogin: false,
          users: [{ login: FLEET_USER.login, password: FLEET_USER.password, claims: { name: FLEET_USER.name } }],
          clients: [{ ...tenant, tokenEndpointAuthMethod: 'client_secret_basic', ...uris }],
        });
        closers.push(() => org!.close());
        const tenantsFile = join(dir, 'tenants.json');
        await writeFile(tenantsFile, JSON.stringify([{ ...tenant, issuer: org.issuer, ...uris }]));
        const storeEnv: Record<string, string> =
          kind === 'redis' ? { OIN_REDIS_URL: server.url } : { OIN_DATABASE_URL: server.url, OIN_ENCRYPTION_KEYS: `k1:${KEY}` };
        for (const name of ['a', 'b']) {
          const port = await freePort();
          const app = await startExample('express', {
            PORT: String(port),
            BASE_URL: baseUrl,
            OIN_TENANTS_FILE: tenantsFile,
            SESSION_SECRET,
            ...storeEnv,
            OIN_SESSION_STORE: kind,
            OIN_INTROSPECTION_CACHE_SEC: '0',
          });
          closers.push(() => app.stop());
          processes.push({ name, origin: `http://127.0.0.1:${port}`, app });
        }
      } catch (error) {
        setupError = error;
      }
    });

    afterAll(async () => {
      for (const close of closers.reverse()) await close().catch(() => {});
    });

    beforeEach(() => {
      if (setupError) throw setupError;
    });

    it(`keeps the session in ${kind}: opened on both processes, and gone from both at logout`, async () => {
      const [a, b] = processes as [FleetProcess, FleetProcess];
      const { callback, jar } = await signIn(a, b, tenant.id);
      expect(callback.status).toBe(302);
      const sub = org!.config.users[0]!.sub;
      for (const p of processes) expect(await me(p, jar)).toEqual({ status: 200, sub, tenant: tenant.id });
      const copy = jar.clone();
      expect((await browser(b.origin, jar).fetch('/auth/logout', { headers: sameOrigin(baseUrl) })).status).toBe(302);
      // Deleted server-side: no process can open it again, with no wait.
      for (const p of processes) expect((await me(p, copy)).status, `process ${p.name}`).toBe(401);
    });

    it('asks the org about a token on every request when OIN_INTROSPECTION_CACHE_SEC=0', async () => {
      const [a] = processes as [FleetProcess];
      const token = await org!.control.issueAccessToken(tenant.clientId, { login: FLEET_USER.login });
      org!.control.resetCounters();
      for (let i = 0; i < 2; i++) expect((await bearer(a, token, tenant.id)).status).toBe(200);
      expect(org!.control.counters().introspect).toBe(2);
    });

    it(`fails closed with a typed 503 while ${kind} holds the sessions and is down, and signs in again after its restart`, async () => {
      const [a, b] = processes as [FleetProcess, FleetProcess];
      const { jar } = await signIn(a, b, tenant.id);
      await server!.kill();
      const response = await browser(a.origin, jar.clone()).fetch('/me', { headers: { accept: 'application/json' } });
      expect(response.status).toBe(503);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await response.text()).toContain('ERR_OIDC_STORE_FAILURE');
      for (const p of processes) expect(p.app.exitCode(), p.app.output()).toBeNull();

      await server!.restart();
      await poll('a sign-in after the restart', 20_000, async () => {
        const again = await signIn(b, a, tenant.id);
        if (again.callback.status !== 302) return `callback status ${again.callback.status}`;
        return (await me(b, again.jar)).status === 200 || 'no session';
      });
      for (const p of processes) expect(p.app.exitCode(), p.app.output()).toBeNull();
    });
  });
}

describeServerSideSessions('redis');
describeServerSideSessions('postgres');

describe('every example answers a typed 503 while its server-side session store is down', () => {
  const frameworks: Framework[] = ['express', 'fastify', 'hono', 'koa'];
  const tenant = { id: 'env-globex', clientId: '0oa-env-globex', clientSecret: 'env-globex-secret-0123456789abcdef' };
  let redis: RunningServer | undefined;
  const apps: (FleetProcess & { framework: Framework })[] = [];
  const closers: (() => Promise<void>)[] = [];
  let setupError: unknown;

  beforeAll(async () => {
    try {
      const dir = await mkdtemp(join(tmpdir(), 'oin-e2e-fleet-env-'));
      closers.push(() => rm(dir, { recursive: true, force: true }));
      redis = await startRedisServer();
      closers.push(() => redis!.stop());
      // Each example is its own app (its own BASE_URL): one client registers all four callbacks.
      const ports = await Promise.all(frameworks.map(() => freePort()));
      const origins = ports.map((port) => `http://127.0.0.1:${port}`);
      const redirectUris = origins.map((origin) => `${origin}/auth/callback`);
      const org = await startOktaOrg({
        autoLogin: false,
        users: [{ login: FLEET_USER.login, password: FLEET_USER.password }],
        clients: [{ ...tenant, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris }],
      });
      closers.push(() => org.close());
      const tenantsFile = join(dir, 'tenants.json');
      await writeFile(tenantsFile, JSON.stringify([{ ...tenant, issuer: org.issuer, redirectUris }]));
      for (const [i, framework] of frameworks.entries()) {
        const app = await startExample(framework, {
          PORT: String(ports[i]),
          BASE_URL: origins[i]!,
          OIN_TENANTS_FILE: tenantsFile,
          SESSION_SECRET,
          OIN_REDIS_URL: redis.url,
          OIN_SESSION_STORE: 'redis',
        });
        closers.push(() => app.stop());
        apps.push({ name: framework, framework, origin: origins[i]!, app });
      }
    } catch (error) {
      setupError = error;
    }
  });

  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
  });

  beforeEach(() => {
    if (setupError) throw setupError;
  });

  it('503 ERR_OIDC_STORE_FAILURE with Retry-After on / and /me, and no crash (express, fastify, hono, koa)', async () => {
    const jars = [];
    for (const app of apps) {
      const { callback, jar } = await signIn(app, app, tenant.id);
      expect(callback.status, app.framework).toBe(302);
      expect((await me(app, jar)).status, app.framework).toBe(200);
      jars.push(jar);
    }
    await redis!.kill();
    for (const [i, app] of apps.entries()) {
      for (const path of ['/', '/me']) {
        const response = await browser(app.origin, jars[i]!.clone()).fetch(path);
        expect(response.status, `${app.framework} ${path}`).toBe(503);
        expect(Number(response.headers.get('retry-after')), `${app.framework} ${path}`).toBeGreaterThan(0);
        expect(await response.text(), `${app.framework} ${path}`).toContain('ERR_OIDC_STORE_FAILURE');
      }
      expect(app.app.exitCode(), app.app.output()).toBeNull();
    }
  });
});
