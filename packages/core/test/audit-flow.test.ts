/**
 * The independent security audit's findings (SA-01 … SA-19, docs/security.md) at the flow layer,
 * end to end over HTTP against the Okta org emulator: every test drives `handle()`, `getSession()`
 * and `requireSession()` the way an adapter does. Catalogue ids SA-NN are the audit's item numbers
 * (docs/security.md).
 */
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOidcAuth } from '../src/flow/auth';
import { cacheControlForCookies } from '../src/flow/cache-control';
import type { OidcAuth, OidcAuthOptions } from '../src/flow/types';
import { MemoryCredentialStore } from '../src/tenant/credential-store';
import type { TenantRecord } from '../src/tenant/tenant';
import { MemoryTtlStore } from '../src/ttl-store';
import type { OidcWarning } from '../src/warnings';
import { errorCode, FlowBrowser, SAME_ORIGIN, sessionCookies } from './support/flow-browser';

const APP = 'http://127.0.0.1:4100';
const SECRET = 'audit-flow-secret-0123456789-0123456789';
const ALICE = { login: 'alice@acme.example', password: 'pw-alice', claims: { name: 'Alice Doe', email: 'alice@acme.example' } };
const BOB = { login: 'bob@acme.example', password: 'pw-bob', claims: { name: 'Bob Roe', email: 'bob@acme.example' } };

let org: OktaOrg;
let clockOffsetMs = 0;

const client = (id: string, extra: Record<string, unknown> = {}) => ({
  clientId: `app-${id}`,
  clientSecret: `${id}-secret-0123456789`,
  tokenEndpointAuthMethod: 'client_secret_basic' as const,
  redirectUris: [`${APP}/auth/callback`],
  postLogoutRedirectUris: [`${APP}/`],
  initiateLoginUri: `${APP}/auth/initiate`,
  ...extra,
});

beforeAll(async () => {
  org = await startOktaOrg({ clients: [client('acme'), client('beta'), client('simple'), client('gamma')], users: [ALICE, BOB] });
});
afterAll(async () => {
  await org?.close();
});
beforeEach(() => {
  clockOffsetMs = 0;
  org.control.clearFaults();
  org.control.resetCounters();
});

function record(id: string, clientName = id, extra: Partial<TenantRecord> = {}): TenantRecord {
  return {
    id,
    issuer: org.issuer,
    clientId: `app-${clientName}`,
    clientSecret: `${clientName}-secret-0123456789`,
    redirectUris: [`${APP}/auth/callback`],
    postLogoutRedirectUris: [`${APP}/`],
    initiateLoginUri: `${APP}/auth/initiate`,
    ...extra,
  };
}

function setup(extra: Partial<OidcAuthOptions> = {}): { auth: OidcAuth; store: MemoryCredentialStore; browser: Browser } {
  const store = new MemoryCredentialStore([record('acme'), record('beta'), record('simple', 'simple', { allowSimplifiedFlow: true })]);
  const auth = createOidcAuth({
    store,
    session: { secret: SECRET },
    ...extra,
    client: { httpTimeoutMs: 2_000, now: () => Date.now() + clockOffsetMs, allowLoopbackIssuers: true, ...(extra.client ?? {}) },
  });
  return { auth, store, browser: new Browser(auth) };
}

class Browser extends FlowBrowser {
  constructor(auth: OidcAuth) {
    super(auth, APP);
  }

  /** Sign in at `tenant` as `user` (the emulator's login form answered with a login hint and password). */
  async signInAs(tenant: string, user = ALICE): Promise<ReturnType<FlowBrowser['send']>> {
    const login = await this.send('GET', `${APP}/auth/login?tenant=${tenant}&login_hint=${encodeURIComponent(user.login)}`);
    return this.completeAs(login, user);
  }

  async completeAs(login: Awaited<ReturnType<FlowBrowser['send']>>, user = ALICE) {
    const { driveAuthorization } = await import('@oin-oidc/testing');
    const callback = await driveAuthorization(login.headers['Location']!, { login: user.login, password: user.password });
    return this.send(callback.method, callback.url, callback.body === undefined ? {} : { body: callback.body });
  }

  async session(path = '/') {
    return (await this.auth.getSession(this.request('GET', `${APP}${path}`))).session;
  }
}

describe('SA-03: the request context honours the route tenant', () => {
  it("reads a session of another tenant as signed out on that tenant's routes, and the guard sends it to sign in there (SA-03)", async () => {
    const { auth, browser } = setup();
    await browser.signInAs('beta');
    expect((await browser.session('/me?tenant=beta'))?.tenant).toBe('beta');
    // The middleware's view (req.oidc.isAuthenticated / user) of acme's route: signed out.
    expect(await browser.session('/me?tenant=acme')).toBeNull();
    const guarded = await auth.requireSession(browser.request('GET', `${APP}/me?tenant=acme`));
    expect('response' in guarded && guarded.response.status).toBe(302);
    // A route that names no tenant accepts the session (the app's own choice of route).
    expect((await browser.session('/me'))?.tenant).toBe('beta');
  });
});

describe('SA-15: an unresolvable route tenant never skips the tenant check', () => {
  it('refuses a duplicated, empty or malformed ?tenant= with a typed error, and reads the session as signed out (SA-15)', async () => {
    const { auth, browser } = setup();
    await browser.signInAs('beta');
    const cases: [string, number, string][] = [
      ['/me?tenant=acme&tenant=acme', 400, 'ERR_OIDC_DUPLICATE_PARAMETER'],
      ['/me?tenant=acme&tenant=beta', 400, 'ERR_OIDC_DUPLICATE_PARAMETER'],
      ['/me?tenant=', 400, 'ERR_OIDC_INVALID_REQUEST'],
      ['/me?tenant=%3Cscript%3E', 404, 'ERR_OIDC_TENANT_UNKNOWN'],
    ];
    for (const [path, status, code] of cases) {
      const guarded = await auth.requireSession(browser.request('GET', `${APP}${path}`, { headers: { accept: 'application/json' } }));
      expect('response' in guarded, path).toBe(true);
      if ('response' in guarded) {
        expect(guarded.response.status, path).toBe(status);
        expect(JSON.parse(guarded.response.body!).error, path).toBe(code);
      }
      expect(await browser.session(path), path).toBeNull();
    }
  });

  it('refuses when a tenant function throws or returns an invalid id, never treating it as "no tenant" (SA-15)', async () => {
    for (const [resolver, status] of [
      [() => { throw new Error('database down'); }, 400],
      [async () => Promise.reject(new Error('database down')), 400],
      [() => '../acme', 404],
    ] as const) {
      const { auth, browser } = setup({ tenant: (req) => (req.url.pathname === '/auth/login' ? req.url.searchParams.get('tenant') ?? undefined : resolver()) });
      await browser.signInAs('beta');
      const guarded = await auth.requireSession(browser.request('GET', `${APP}/me`, { headers: { accept: 'application/json' } }));
      expect('response' in guarded && guarded.response.status).toBe(status);
      expect(await browser.session('/me')).toBeNull();
    }
  });
});

describe('SA-14: sessions end with their tenant record', () => {
  it('ends the session within the recheck interval when the tenant is removed (SA-14)', async () => {
    const { store, browser } = setup();
    await browser.signInAs('acme');
    expect((await browser.session())?.tenant).toBe('acme');
    await store.delete('acme');
    clockOffsetMs = 6_000; // past TENANT_RECHECK_MS
    const read = await browser.auth.getSession(browser.request('GET', `${APP}/`));
    expect(read.session).toBeNull();
    expect(read.setCookies).toEqual([expect.stringMatching(/^oin_session=; Path=\/; Max-Age=0;/)]);
  });

  it('refuses an old session when the tenant id is re-used for another app instance (SA-14)', async () => {
    const { store, browser } = setup();
    await browser.signInAs('acme');
    const before = await browser.session();
    expect(before?.clientId).toBe('app-acme');
    await store.delete('acme');
    await store.put(record('acme', 'gamma')); // the same id, now another app instance of the org
    clockOffsetMs = 6_000;
    expect(await browser.session()).toBeNull();
    // A new sign-in at the re-used id works and is bound to the new record.
    await browser.signInAs('acme');
    expect((await browser.session())?.clientId).toBe('app-gamma');
  });

  it('carries the issuer and client id in the session (SA-14)', async () => {
    const { browser } = setup();
    await browser.signInAs('acme');
    expect(await browser.session()).toMatchObject({ tenant: 'acme', issuer: org.issuer, clientId: 'app-acme' });
  });
});

describe('SA-05: logout revokes the cookie session', () => {
  it('refuses a copy of the cookie taken before logout, warm or cold (SA-05)', async () => {
    const { auth, browser } = setup();
    await browser.signInAs('acme');
    expect(await browser.session()).not.toBeNull(); // warm in the cache now
    const thief = new Browser(auth);
    for (const [name, value] of browser.cookies) thief.cookies.set(name, value);
    expect((await thief.session())?.tenant).toBe('acme');
    await browser.send('GET', `${APP}/auth/logout`, { headers: SAME_ORIGIN });
    expect(await thief.session()).toBeNull();
  });

  it('holds across instances that share a revocation store, and only per process without one (SA-05)', async () => {
    const shared = new MemoryTtlStore();
    const first = setup({ session: { secret: SECRET, revocationStore: shared } });
    const second = setup({ session: { secret: SECRET, revocationStore: shared } });
    const lonely = setup();
    await first.browser.signInAs('acme');
    const copies = [second.browser, lonely.browser];
    for (const copy of copies) for (const [name, value] of first.browser.cookies) copy.cookies.set(name, value);
    expect((await second.browser.session())?.tenant).toBe('acme');
    await first.browser.send('GET', `${APP}/auth/logout`, { headers: SAME_ORIGIN });
    expect(await second.browser.session()).toBeNull();
    // Documented limit: an instance that shares nothing cannot know (docs/sessions.md, "What logout ends").
    expect((await lonely.browser.session())?.tenant).toBe('acme');
  });

  it('fails the logout, after deleting the cookies, when the shared revocation store fails (SA-05)', async () => {
    const failing = Object.assign(new MemoryTtlStore(), { set: async () => Promise.reject(new Error('redis down')) });
    const { browser } = setup({ session: { secret: SECRET, revocationStore: failing } });
    await browser.signInAs('acme');
    const response = await browser.send('GET', `${APP}/auth/logout`, { headers: SAME_ORIGIN });
    // 503 + Retry-After (docs/deployment.md, 'What fails how'): a store outage is retryable, never
    // a success.
    expect(response.status).toBe(503);
    expect(response.headers['Retry-After']).toBe('5');
    expect(errorCode(response)).toBe('ERR_OIDC_STORE_FAILURE');
    expect(response.setCookies).toEqual([expect.stringMatching(/^oin_session=; Path=\/; Max-Age=0;/)]);
  });
});

describe('SA-06: only a same-origin logout ends the Okta session', () => {
  it('logs out locally on a cross-site GET, and goes to Okta only for the app\'s own pages (SA-06)', async () => {
    const cases: [Record<string, string>, boolean][] = [
      [{ 'sec-fetch-site': 'cross-site' }, false],
      [{ 'sec-fetch-site': 'same-site' }, false],
      [{}, false], // neither Fetch Metadata nor Origin: not known to be the app
      [{ origin: 'https://evil.example' }, false],
      [{ 'sec-fetch-site': 'same-origin' }, true],
      [{ 'sec-fetch-site': 'none' }, true], // typed into the address bar, a bookmark
      [{ origin: APP }, true],
    ];
    for (const [headers, toOkta] of cases) {
      const { browser } = setup();
      await browser.signInAs('acme');
      const response = await browser.send('GET', `${APP}/auth/logout`, { headers });
      const label = JSON.stringify(headers);
      expect(response.status, label).toBe(302);
      expect(response.headers['Location']!.startsWith(`${org.issuer}/oauth2/v1/logout`), label).toBe(toOkta);
      if (!toOkta) expect(response.headers['Location'], label).toBe('/');
      expect(response.setCookies, label).toEqual([expect.stringMatching(/^oin_session=; Path=\/; Max-Age=0;/)]);
      expect(await browser.session(), label).toBeNull();
    }
  });
});

describe('SA-04: posts from Okta must come from Okta', () => {
  it('refuses a simplified-flow post from a foreign, null or missing Origin before any key fetch (SA-04)', async () => {
    for (const origin of ['https://evil.example', 'null', undefined]) {
      const { browser } = setup();
      const { fields } = await org.control.simplifiedSignIn('app-simple');
      org.control.resetCounters();
      const response = await browser.send('POST', `${APP}/auth/callback`, {
        body: new URLSearchParams(fields).toString(),
        headers: origin === undefined ? {} : { origin },
      });
      expect(response.status, String(origin)).toBe(403);
      expect(errorCode(response), String(origin)).toBe('ERR_OIDC_ORIGIN_NOT_ALLOWED');
      expect(sessionCookies(response)).toEqual([]);
      expect(org.control.counters().keys, String(origin)).toBe(0);
    }
    const { browser } = setup();
    const { fields } = await org.control.simplifiedSignIn('app-simple');
    const ok = await browser.send('POST', `${APP}/auth/callback`, { body: new URLSearchParams(fields).toString(), headers: { origin: org.issuer } });
    expect(ok.status).toBe(302);
    expect((await browser.session())?.tenant).toBe('simple');
  });

  it('refuses a form_post callback and an initiate POST from a foreign or null Origin, and accepts the org or none (SA-04)', async () => {
    for (const [origin, status] of [['https://evil.example', 403], ['null', 403], [undefined, 302]] as const) {
      const { browser } = setup({ responseMode: 'form_post' });
      const login = await browser.send('GET', `${APP}/auth/login?tenant=acme`);
      const { driveAuthorization } = await import('@oin-oidc/testing');
      const callback = await driveAuthorization(login.headers['Location']!, { login: ALICE.login, password: ALICE.password });
      org.control.resetCounters();
      const response = await browser.send('POST', callback.url, { body: callback.body!, headers: origin === undefined ? {} : { origin } });
      expect(response.status, String(origin)).toBe(status);
      if (status === 403) {
        expect(errorCode(response)).toBe('ERR_OIDC_ORIGIN_NOT_ALLOWED');
        expect(org.control.counters().token).toBe(0);
        expect(sessionCookies(response)).toEqual([]);
      }
    }
    const { browser } = setup({ responseMode: 'form_post' });
    const login = await browser.send('GET', `${APP}/auth/login?tenant=acme`);
    const { driveAuthorization } = await import('@oin-oidc/testing');
    const callback = await driveAuthorization(login.headers['Location']!, { login: ALICE.login, password: ALICE.password });
    expect((await browser.send('POST', callback.url, { body: callback.body!, headers: { origin: org.issuer } })).status).toBe(302);

    const body = new URLSearchParams({ iss: org.issuer, tenant: 'acme' }).toString();
    const refused = await setup().browser.send('POST', `${APP}/auth/initiate`, { body, headers: { origin: 'https://evil.example' } });
    expect(refused.status).toBe(403);
    expect(refused.setCookies).toEqual([]);
    expect((await setup().browser.send('POST', `${APP}/auth/initiate`, { body, headers: { origin: org.issuer } })).status).toBe(302);
  });
});

describe('SA-13: a sign-in never silently replaces another live session', () => {
  it('asks before replacing a session of another tenant; cancel keeps it, continue switches (SA-13)', async () => {
    const { browser } = setup();
    await browser.signInAs('acme');
    const first = await browser.session();
    const held = await browser.signInAs('beta');
    expect(held.status).toBe(409);
    expect(held.headers['Content-Security-Policy']).toContain("frame-ancestors 'none'");
    expect(held.headers['Cache-Control']).toBe('no-store');
    expect(held.body).toContain('Switch account?');
    expect(sessionCookies(held)).toEqual([]);
    expect((await browser.session())?.id).toBe(first?.id);

    const kept = await browser.decideSwitch(held, 'cancel');
    expect(kept.status).toBe(302);
    expect((await browser.session())?.tenant).toBe('acme');
    // The held sign-in is gone: the same page cannot be used again.
    const again = await browser.decideSwitch(held, 'continue');
    expect(again.status).toBe(409);
    expect(errorCode(again)).toBe('ERR_OIDC_SESSION_CONFLICT');
    expect((await browser.session())?.tenant).toBe('acme');

    const switched = await browser.decideSwitch(await browser.signInAs('beta'), 'continue');
    expect(switched.status).toBe(302);
    const now = await browser.session();
    expect(now?.tenant).toBe('beta');
    expect(now?.id).not.toBe(first?.id);
  });

  it('asks before replacing the session of another user of the same tenant, and not for the same user (SA-13)', async () => {
    const { browser } = setup();
    await browser.signInAs('acme', ALICE);
    expect((await browser.signInAs('acme', ALICE)).status).toBe(302); // re-login: no question
    expect((await browser.signInAs('acme', BOB)).status).toBe(409);
    expect((await browser.session())?.claims['email']).toBe(ALICE.login);
  });

  it('refuses a confirmation that is cross-site or carries another value (SA-13)', async () => {
    const { browser } = setup();
    await browser.signInAs('acme');
    const held = await browser.signInAs('beta');
    const value = /name="oin_switch" value="([^"]+)"/.exec(held.body!)![1]!;
    const crossSite = await browser.send('POST', `${APP}/auth/callback`, {
      body: new URLSearchParams({ oin_switch: value, oin_decision: 'continue' }).toString(),
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);
    expect(errorCode(crossSite)).toBe('ERR_OIDC_ORIGIN_NOT_ALLOWED');
    const forged = await browser.send('POST', `${APP}/auth/callback`, {
      body: new URLSearchParams({ oin_switch: 'A'.repeat(32), oin_decision: 'continue' }).toString(),
      headers: SAME_ORIGIN,
    });
    expect(forged.status).toBe(409);
    expect((await browser.session())?.tenant).toBe('acme');
  });

  it('escapes what a hostile tenant puts in the names it shows (SA-13)', async () => {
    const { browser, store } = setup();
    await browser.signInAs('acme');
    const hostile = '<img src=x onerror=alert(1)>';
    const idToken = await org.control.issueIdToken('app-simple', { login: BOB.login, claims: { name: hostile } });
    void store;
    const page = await browser.send('POST', `${APP}/auth/callback`, { body: new URLSearchParams({ id_token: idToken }).toString(), headers: { origin: org.issuer } });
    expect(page.status).toBe(409);
    expect(page.body).not.toContain('<img');
    expect(page.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});

describe('SA-08: logins in flight are not wiped', () => {
  it('keeps the own login through a burst of cross-site /auth/login navigations (SA-08)', async () => {
    const { browser } = setup();
    const own = await browser.send('GET', `${APP}/auth/login?tenant=acme&login_hint=${encodeURIComponent(ALICE.login)}`, { headers: SAME_ORIGIN });
    for (let i = 0; i < 8; i++) await browser.send('GET', `${APP}/auth/login?tenant=beta`, { headers: { 'sec-fetch-site': 'cross-site' } });
    expect((await browser.completeAs(own)).status).toBe(302);
    expect((await browser.session())?.tenant).toBe('acme');
  });
});

describe('SA-19: cookie security comes from configuration, not the Host header', () => {
  it('with baseUrl https, a request that arrives as loopback http still gets Secure __Host- cookies (SA-19)', async () => {
    const { browser } = setup({ baseUrl: 'https://app.example.com' });
    const login = await browser.send('GET', `${APP}/auth/login?tenant=acme`);
    expect(login.setCookies).toEqual([expect.stringMatching(/^__Host-oin_tx_[^;]+; Path=\/; Max-Age=600; HttpOnly; Secure; SameSite=Lax$/)]);
  });

  it('with records all on https, cookies are Secure whatever the Host (SA-19)', async () => {
    const records = [{ ...record('acme'), redirectUris: ['https://app.example.com/auth/callback'] }];
    const auth = createOidcAuth({ store: records, session: { secret: SECRET }, client: { allowLoopbackIssuers: true } });
    const login = await new Browser(auth).send('GET', `${APP}/auth/login?tenant=acme`);
    expect(login.setCookies[0]).toMatch(/^__Host-oin_tx_[^;]+;.* Secure;/);
  });

  it('warns once when cookies follow a loopback Host for a tenant registered on https (SA-19)', async () => {
    const warnings: OidcWarning[] = [];
    const store = new MemoryCredentialStore([{ ...record('acme'), redirectUris: ['https://app.example.com/auth/callback'] }]);
    const auth = createOidcAuth({ store, session: { secret: SECRET }, client: { allowLoopbackIssuers: true, onWarning: (warning: OidcWarning) => warnings.push(warning) } });
    const browser = new Browser(auth);
    await browser.send('GET', `${APP}/auth/login?tenant=acme`);
    await browser.send('GET', `${APP}/auth/login?tenant=acme`);
    expect(warnings).toEqual([expect.objectContaining({ code: 'WARN_OIDC_COOKIES_NOT_SECURE', tenantId: 'acme' })]);
  });

  it('refuses a baseUrl that is not https (or loopback http) at start-up (SA-19)', () => {
    for (const baseUrl of ['http://app.example.com', 'ftp://app.example.com', 'not a url', 'https://app.example.com/?q=1']) {
      expect(() => setup({ baseUrl }), baseUrl).toThrow(expect.objectContaining({ code: 'ERR_OIDC_INVALID_OPTIONS' }));
    }
  });
});

describe('SA-01: the bearer guard gives each caller its own budget', () => {
  const b64 = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  /** A JWT only Okta could judge: this org's iss and this client's cid, a kid the app has never seen, a bad signature. */
  const plausible = (n: number) =>
    `${b64({ alg: 'RS256', kid: `unknown-kid-${n}` })}.${b64({ iss: org.issuer, cid: 'app-acme', exp: Math.floor(Date.now() / 1000) + 3600, jti: `AT.${n}` })}.${'A'.repeat(342)}`;

  it("passes the request's client address: one caller's forgeries run out its own bucket, not another caller's (SA-01)", async () => {
    const { auth } = setup({ client: { introspectionThrottle: { perCaller: { ratePerSec: 0.001, burst: 3 } } } as OidcAuthOptions['client'] });
    const call = (token: string, clientAddress: string) =>
      auth.requireAccessToken({ ...new Browser(auth).request('GET', `${APP}/api?tenant=acme`, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } }), clientAddress });
    for (let i = 0; i < 3; i++) {
      const refused = await call(plausible(i), '203.0.113.7');
      expect('response' in refused && refused.response.status).toBe(401); // Okta says inactive
    }
    const limited = await call(plausible(99), '203.0.113.7');
    expect('response' in limited && limited.response.status).toBe(429);
    expect('response' in limited && limited.response.headers['Retry-After']).toMatch(/^\d+$/);
    // Another caller is not affected: its real token is introspected and accepted.
    const real = await org.control.issueAccessToken('app-acme', { login: ALICE.login });
    const accepted = await call(real, '198.51.100.2');
    expect('token' in accepted && accepted.token.active).toBe(true);
  });
});

describe('SA-02: session cookies on cacheable responses', () => {
  it('makes a response that carries a session cookie private and uncacheable unless it already is no-store (SA-02)', () => {
    expect(cacheControlForCookies(null)).toBe('private, no-store');
    expect(cacheControlForCookies('public, max-age=3600')).toBe('private, no-store');
    expect(cacheControlForCookies('max-age=60, s-maxage=600')).toBe('private, no-store');
    expect(cacheControlForCookies('no-cache')).toBe('private, no-store');
    expect(cacheControlForCookies('no-store')).toBeUndefined();
    expect(cacheControlForCookies('private, No-Store')).toBeUndefined();
  });
});
