/**
 * Fleet state in core (docs/deployment.md, 'What state lives where'): state a fleet must share is
 * pluggable, and with one shared store several clients (standing in for processes) behave as one.
 * Over HTTP against the Okta org emulator; the shared stores are core's memory implementations of
 * the interfaces the Redis package implements (that package proves the same against a real
 * redis-server).
 */
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOidcClient } from '../src/client';
import { createOidcAuth } from '../src/flow/auth';
import type { OidcAuthOptions } from '../src/flow/types';
import { MemoryRateLimitStore, type RateLimitStore } from '../src/http/rate-limit-store';
import { MemoryRevocationList } from '../src/session/revocation-list';
import { MemoryCredentialStore } from '../src/tenant/credential-store';
import type { TenantRecord } from '../src/tenant/tenant';
import { MemoryTtlStore } from '../src/ttl-store';
import { FlowBrowser, SAME_ORIGIN } from './support/flow-browser';

const APP = 'http://127.0.0.1:4110';
const SECRET = 'fleet-state-secret-0123456789-0123456789';
const KEY_SECRET = 'introspection-key-secret-0123456789-abcdef';
const ALICE = { login: 'alice@acme.example', password: 'pw-alice' };

let org: OktaOrg;
beforeAll(async () => {
  org = await startOktaOrg({
    clients: [
      {
        clientId: 'app-acme',
        clientSecret: 'acme-secret-0123456789',
        tokenEndpointAuthMethod: 'client_secret_basic',
        redirectUris: [`${APP}/auth/callback`],
        postLogoutRedirectUris: [`${APP}/`],
      },
    ],
    users: [ALICE],
  });
});
afterAll(async () => {
  await org?.close();
});
beforeEach(() => {
  org.control.clearFaults();
  org.control.resetCounters();
});

function record(): TenantRecord {
  return {
    id: 'acme',
    issuer: org.issuer,
    clientId: 'app-acme',
    clientSecret: 'acme-secret-0123456789',
    redirectUris: [`${APP}/auth/callback`],
    postLogoutRedirectUris: [`${APP}/`],
  };
}

/** One "process": its own client, transport, caches and throttle, sharing only what is passed. */
function processWith(shared: { rateLimitStore?: RateLimitStore; cacheStore?: MemoryTtlStore; fleetSingleFlight?: boolean; now?: () => number }) {
  return createOidcClient({
    store: new MemoryCredentialStore([record()]),
    allowLoopbackIssuers: true,
    httpTimeoutMs: 2_000,
    ...(shared.now ? { now: shared.now } : {}),
    ...(shared.rateLimitStore ? { rateLimitStore: shared.rateLimitStore } : {}),
    introspectionCache: {
      ...(shared.cacheStore ? { store: shared.cacheStore, keySecret: KEY_SECRET } : {}),
      ...(shared.fleetSingleFlight ? { fleetSingleFlight: true } : {}),
    },
  });
}

class Browser extends FlowBrowser {
  constructor(auth: ConstructorParameters<typeof FlowBrowser>[0]) {
    super(auth, APP);
  }

  async session() {
    return (await this.auth.getSession(this.request('GET', `${APP}/`))).session;
  }
}

const introspections = () => org.control.counters().introspect;

describe('Okta back-off shared through a RateLimitStore', () => {
  it('a 429 seen by one process makes the others wait for X-Rate-Limit-Reset without calling Okta', async () => {
    const shared = new MemoryRateLimitStore();
    // b's clock stands still at a moment before the 429, which the emulator stamps (30 s ahead) with
    // the real clock: b's wait is then at least 30 s however long a loaded machine takes in between.
    const before = Date.now();
    const [a, b] = [processWith({ rateLimitStore: shared }), processWith({ rateLimitStore: shared, now: () => before })];
    org.control.fault('introspect', { type: 'rate-limit', resetInSec: 30 }, { times: 1 });
    const tokenA = await org.control.issueAccessToken('app-acme', { login: ALICE.login });
    const tokenB = await org.control.issueAccessToken('app-acme', { login: ALICE.login });
    await expect(a.introspect(await a.getTenant('acme'), tokenA)).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', status: 503 });
    expect(introspections()).toBe(1);
    const refused = await b.introspect(await b.getTenant('acme'), tokenB).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', details: { reason: 'back-off', endpoint: 'introspection' } });
    expect((refused as { retryAfter: number }).retryAfter).toBeGreaterThanOrEqual(30);
    expect(introspections()).toBe(1); // b never reached Okta
    // Only that endpoint of that org waits: /token-bound work and other orgs are untouched.
    expect(await shared.blockedUntil(org.issuer, 'token')).toBeUndefined();
  });

  it('without a shared store only the process that saw the 429 waits (the per-process limit)', async () => {
    const [a, b] = [processWith({}), processWith({})];
    org.control.fault('introspect', { type: 'rate-limit', resetInSec: 30 }, { times: 1 });
    const token = await org.control.issueAccessToken('app-acme', { login: ALICE.login });
    await expect(a.introspect(await a.getTenant('acme'), token)).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED' });
    await expect(a.introspect(await a.getTenant('acme'), token)).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', details: { reason: 'back-off' } });
    expect(introspections()).toBe(1);
    expect((await b.introspect(await b.getTenant('acme'), token)).client_id).toBe('app-acme');
    expect(introspections()).toBe(2);
  });

  it('a failing shared store falls back to this process\'s own back-off, never to "allowed"', async () => {
    const broken: RateLimitStore = {
      blockedUntil: () => Promise.reject(new Error('store down')),
      block: () => Promise.reject(new Error('store down')),
      take: () => Promise.reject(new Error('store down')),
      give: () => Promise.reject(new Error('store down')),
    };
    const a = processWith({ rateLimitStore: broken });
    const token = await org.control.issueAccessToken('app-acme', { login: ALICE.login });
    expect((await a.introspect(await a.getTenant('acme'), token)).client_id).toBe('app-acme'); // store errors cost nothing when Okta answers
    org.control.fault('introspect', { type: 'rate-limit', resetInSec: 30 }, { times: 1 });
    const other = await org.control.issueAccessToken('app-acme', { login: ALICE.login });
    await expect(a.introspect(await a.getTenant('acme'), other)).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED' });
    await expect(a.introspect(await a.getTenant('acme'), other)).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', details: { reason: 'back-off' } });
    expect(introspections()).toBe(2);
  });

  it('X-Rate-Limit-Remaining: 0 on a success also starts the back-off, for every process, until the reset', async () => {
    // An org whose /introspect window holds 2 calls: the second answers 200 with Remaining: 0.
    const small = await startOktaOrg({
      clients: [{ clientId: 'app-small', clientSecret: 'small-secret-0123456789', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [`${APP}/auth/callback`] }],
      users: [ALICE],
      rateLimit: { limit: 2, windowSec: 60 },
    });
    try {
      const tenant = { id: 'small', issuer: small.issuer, clientId: 'app-small', clientSecret: 'small-secret-0123456789', redirectUris: [`${APP}/auth/callback`] };
      const shared = new MemoryRateLimitStore();
      const make = () => createOidcClient({ store: new MemoryCredentialStore([tenant]), allowLoopbackIssuers: true, rateLimitStore: shared });
      const [a, b] = [make(), make()];
      const tokens = await Promise.all([1, 2, 3].map(() => small.control.issueAccessToken('app-small', { login: ALICE.login })));
      expect((await a.introspect(await a.getTenant('small'), tokens[0]!)).client_id).toBe('app-small');
      expect((await a.introspect(await a.getTenant('small'), tokens[1]!)).client_id).toBe('app-small'); // Remaining: 0
      await expect(b.introspect(await b.getTenant('small'), tokens[2]!)).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', details: { reason: 'back-off' } });
      expect(small.control.counters().introspect).toBe(2);
    } finally {
      await small.close();
    }
  });
});

describe('the introspection throttle budget through a RateLimitStore', () => {
  it('is one budget per tenant for every process that shares the store', async () => {
    const shared = new MemoryRateLimitStore();
    const make = () =>
      createOidcClient({
        store: new MemoryCredentialStore([record()]),
        allowLoopbackIssuers: true,
        rateLimitStore: shared,
        introspectionTriage: false,
        introspectionThrottle: { ratePerSec: 0.001, burst: 2, perCaller: false },
      });
    const [a, b] = [make(), make()];
    const junk = (n: number) => `not-a-real-token-${n}-${'x'.repeat(40)}`;
    await expect(a.introspect(await a.getTenant('acme'), junk(1))).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    await expect(b.introspect(await b.getTenant('acme'), junk(2))).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    // The fleet's two tokens are spent: the third call, on either process, is refused locally.
    await expect(a.introspect(await a.getTenant('acme'), junk(3))).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', details: { reason: 'introspection-throttle' } });
    await expect(b.introspect(await b.getTenant('acme'), junk(4))).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', details: { reason: 'introspection-throttle' } });
    expect(introspections()).toBe(2);
  });
});

describe('a shared introspection cache', () => {
  it('three processes that receive one new token at once make one /introspect call (fleet single flight)', async () => {
    const cacheStore = new MemoryTtlStore();
    const fleet = [0, 1, 2].map(() => processWith({ cacheStore, fleetSingleFlight: true }));
    const token = await org.control.issueAccessToken('app-acme', { login: ALICE.login });
    const answers = await Promise.all(fleet.map(async (client) => client.introspect(await client.getTenant('acme'), token)));
    expect(answers.map((answer) => answer.client_id)).toEqual(['app-acme', 'app-acme', 'app-acme']);
    expect(introspections()).toBe(1);
  });

  it('a process whose cache read came just before another process answered and released the lock asks no one (it looks again after winning the lock)', async () => {
    const shared = new MemoryTtlStore();
    let release!: () => void;
    const afterFirst = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held = false;
    // The late process's first read of the answer misses, and returns only after the first process
    // has written the answer and released its lock: the interleaving measured in the fleet bench.
    const late: MemoryTtlStore = Object.assign(Object.create(shared) as MemoryTtlStore, {
      get: async (key: string) => {
        if (!held && key.startsWith('oin-oidc:introspection:') && !key.endsWith(':lock')) {
          held = true;
          await afterFirst;
          return undefined;
        }
        return shared.get(key);
      },
      setIfAbsent: (key: string, value: string, ttl: number) => shared.setIfAbsent(key, value, ttl),
      set: (key: string, value: string, ttl: number) => shared.set(key, value, ttl),
      delete: (key: string) => shared.delete(key),
    });
    const first = processWith({ cacheStore: shared, fleetSingleFlight: true });
    const second = processWith({ cacheStore: late, fleetSingleFlight: true });
    const token = await org.control.issueAccessToken('app-acme', { login: ALICE.login });
    const waiting = second.introspect(await second.getTenant('acme'), token);
    expect((await first.introspect(await first.getTenant('acme'), token)).client_id).toBe('app-acme');
    release();
    expect((await waiting).client_id).toBe('app-acme');
    expect(introspections()).toBe(1);
  });

  it('without the fleet single flight each process asks once, then all answer from the shared cache', async () => {
    const cacheStore = new MemoryTtlStore();
    const fleet = [0, 1, 2].map(() => processWith({ cacheStore }));
    const token = await org.control.issueAccessToken('app-acme', { login: ALICE.login });
    await Promise.all(fleet.map(async (client) => client.introspect(await client.getTenant('acme'), token)));
    expect(introspections()).toBe(3);
    const late = processWith({ cacheStore });
    expect((await late.introspect(await late.getTenant('acme'), token)).client_id).toBe('app-acme');
    expect(introspections()).toBe(3);
  });

  it('keys entries by an HMAC under keySecret: no key or value holds the token, and another secret finds nothing', async () => {
    const cacheStore = new MemoryTtlStore();
    const seen: string[] = [];
    const spying = Object.assign(cacheStore, {
      set: async (key: string, value: string, ttl: number) => {
        seen.push(key, value);
        return MemoryTtlStore.prototype.set.call(cacheStore, key, value, ttl);
      },
    });
    const token = await org.control.issueAccessToken('app-acme', { login: ALICE.login });
    const spied = processWith({ cacheStore: spying });
    await spied.introspect(await spied.getTenant('acme'), token);
    expect(seen.length).toBeGreaterThan(0);
    for (const text of seen) expect(text).not.toContain(token);
    const otherSecret = createOidcClient({
      store: new MemoryCredentialStore([record()]),
      allowLoopbackIssuers: true,
      introspectionCache: { store: cacheStore, keySecret: 'another-key-secret-0123456789-abcdefgh' },
    });
    await otherSecret.introspect(await otherSecret.getTenant('acme'), token);
    expect(introspections()).toBe(2); // its HMAC names another key: a miss, so Okta was asked
  });

  it('refuses a keySecret shorter than 32 characters at start-up', () => {
    expect(() =>
      createOidcClient({ store: new MemoryCredentialStore([record()]), introspectionCache: { store: new MemoryTtlStore(), keySecret: 'short' } }),
    ).toThrow(expect.objectContaining({ code: 'ERR_OIDC_INVALID_OPTIONS' }));
  });
});

describe('revocations through a SharedRevocationList (logouts and Universal Logout)', () => {
  function instance(revocations: MemoryRevocationList | undefined, extra: Partial<OidcAuthOptions> = {}) {
    const auth = createOidcAuth({
      store: new MemoryCredentialStore([record()]),
      session: { secret: SECRET, ...(revocations ? { revocations } : {}) },
      client: { allowLoopbackIssuers: true, httpTimeoutMs: 2_000 },
      ...extra,
    });
    return { auth, browser: new Browser(auth) };
  }

  it('a logout on one process ends the session on the others, from memory (no store read per request)', async () => {
    const list = new MemoryRevocationList();
    const loads: number[] = [];
    const counting = Object.assign(list, {
      load: async (limit?: number) => {
        loads.push(1);
        return MemoryRevocationList.prototype.load.call(list, limit);
      },
    });
    const first = instance(counting);
    const second = instance(counting);
    await first.browser.signIn('acme');
    for (const [name, value] of first.browser.cookies) second.browser.cookies.set(name, value);
    expect((await second.browser.session())?.tenant).toBe('acme');
    await first.browser.send('GET', `${APP}/auth/logout`, { headers: SAME_ORIGIN });
    expect(await second.browser.session()).toBeNull();
    expect(loads.length).toBe(2); // one load per process at start, none per request
  });

  it('a process that starts after the logout loads the record and refuses the session', async () => {
    const list = new MemoryRevocationList();
    const first = instance(list);
    await first.browser.signIn('acme');
    const cookies = [...first.browser.cookies];
    await first.browser.send('GET', `${APP}/auth/logout`, { headers: SAME_ORIGIN });
    const late = instance(list);
    for (const [name, value] of cookies) late.browser.cookies.set(name, value);
    expect(await late.browser.session()).toBeNull();
  });

  it('a subject mark refuses every session of that user issued before it, and none issued after', async () => {
    const list = new MemoryRevocationList();
    const app = instance(list);
    await app.browser.signIn('acme');
    const before = await app.browser.session();
    expect(before).not.toBeNull();
    await list.add({ key: `subject:acme\n${before!.sub}`, revokedAt: Date.now(), until: Date.now() + 3_600_000 });
    expect(await app.browser.session()).toBeNull();
    const again = instance(list);
    await again.browser.signIn('acme');
    expect((await again.browser.session())?.sub).toBe(before!.sub);
  });

  it('a logout whose shared list fails answers 503 ERR_OIDC_STORE_FAILURE with Retry-After, after clearing the cookie', async () => {
    const list = Object.assign(new MemoryRevocationList(), { add: () => Promise.reject(new Error('redis down')) });
    const app = instance(list);
    await app.browser.signIn('acme');
    const response = await app.browser.send('GET', `${APP}/auth/logout`, { headers: SAME_ORIGIN });
    expect(response.status).toBe(503);
    expect(response.headers['Retry-After']).toBe('5');
    expect(await app.browser.session()).toBeNull();
  });
});
