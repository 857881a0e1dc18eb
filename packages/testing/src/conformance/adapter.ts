/**
 * One suite every framework adapter runs unchanged (the model: h3's `describeMatrix`; tRPC and
 * Auth.js repeat bespoke tests per framework instead, and drift). Real parts only: the adapter's own
 * framework on a loopback port, the Okta org emulator as the provider, and `fetch` as the browser.
 *
 * @example
 * ```ts
 * import { describeAdapterConformance } from '@oin-oidc/testing/conformance';
 * describeAdapterConformance('express', async ({ authOptions, basePath = '', trustProxy }) => {
 *   const app = express();
 *   if (trustProxy) app.set('trust proxy', 'loopback');
 *   const auth = oidc(authOptions);
 *   // mount auth under basePath, plus GET {basePath}/, /me, /api/me, /whoami, /cached and /fresh (see MountedAdapter)
 *   const server = app.listen(0, '127.0.0.1');
 *   ...
 *   return { baseUrl: `http://127.0.0.1:${port}`, close: () => ... };
 * });
 * ```
 */
import { createMemoryCredentialStore, MemorySessionStore, type OidcAuthOptions, type SignatureVerifier, type TenantRecord, webCryptoVerifier } from '@oin-oidc/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driveAuthorization, type OktaOrg, startOktaOrg } from '../index';
import { type Browser, browser, CookieJar, form, rawRequest, type SetCookie, sameOriginHeaders, setCookiesOf } from './http';
import { describeAuditConformance } from './audit';
import { describeLogoutConformance } from './logout';
import type { AdapterMount, App, SecurityContext, TenantId } from './harness-types';
import { describeSecurityConformance } from './security';
import { plausibleForgery } from './tokens';

export type { AdapterMount, AdapterMountOptions, MountedAdapter } from './harness-types';


const SESSION_SECRET = 'conformance-session-secret-0123456789abcdef';
/** Idle session lifetime in the suite; core re-issues the cookie once less than half is left. */
const ROLLING_SEC = 3600;
const USER = { login: 'ada@acme.example', password: 'correct horse battery staple', claims: { name: 'Ada Lovelace', email: 'ada@acme.example' } };
const GLOBEX_USER = { login: 'grace@globex.example', password: 'another horse battery', claims: { name: 'Grace Hopper', email: 'grace@globex.example' } };
/** A user whose claims do not fit one cookie: the session is split into several (core chunks at ~3.8 KB). */
const LONG_NAME = `Grace Brewster Murray Hopper ${'of the United States Navy, '.repeat(100)}`.trim();
const LARGE_USER = { login: 'long@globex.example', password: 'a long horse battery', claims: { name: LONG_NAME, email: 'long@globex.example' } };
const CLIENTS = {
  acme: { clientId: '0oa-acme-app', clientSecret: 'acme-secret-0123456789' },
  'acme-2': { clientId: '0oa-acme-app-2', clientSecret: 'acme-2-secret-0123456789' },
  globex: { clientId: '0oa-globex-app', clientSecret: 'globex-secret-0123456789' },
} as const satisfies Record<TenantId, { clientId: string; clientSecret: string }>;

/** The cookies a response sets (not the ones it deletes). */
function cookiesSet(response: Response): SetCookie[] {
  return setCookiesOf(response).filter((c) => !c.deletes);
}

async function bodyOf(response: Response): Promise<string> {
  return response.text();
}

/** The Okta simplified flow's auto-submitted form: the ID token, posted from the org's origin. */
function postedByOkta(idToken: string, issuer: string): RequestInit & { headers: Record<string, string> } {
  return { method: 'POST', body: new URLSearchParams({ id_token: idToken }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(issuer).origin } };
}

/**
 * Runs the adapter conformance cases. Case names end with ` (${name})`.
 * `mount` is called four times: plain, under `/app`, behind a trusted proxy, and with `responseMode: 'form_post'`.
 */
export function describeAdapterConformance(name: string, mount: AdapterMount): void {
  const t = (title: string) => `${title} (${name})`;

  describe(`adapter conformance (${name})`, () => {
    let acmeOrg: OktaOrg;
    let globexOrg: OktaOrg;
    let plain: App;
    let sub: App;
    let proxied: App;
    let formPost: App;
    /** An app whose options bring their own ID token signature verifier (`client.verifySignature`). */
    let ownVerifier: App;
    /**
     * The app the 429 cases use: since issue 11, a 429 makes its client wait for Okta's reset before
     * calling that endpoint of that org again, so those cases must not share an app with the others.
     */
    let limited: App;
    /** Server-side sessions in a store the cases can take down (a Redis or Postgres outage). */
    let storeBacked: App;
    const sessions = new MemorySessionStore();
    let sessionStoreDown = false;
    const flakySessions = {
      get: (id: string) => (sessionStoreDown ? Promise.reject(new Error('session store down')) : sessions.get(id)),
      set: (id: string, session: Parameters<MemorySessionStore['set']>[1], ttlSec: number) =>
        sessionStoreDown ? Promise.reject(new Error('session store down')) : sessions.set(id, session, ttlSec),
      delete: (id: string) => (sessionStoreDown ? Promise.reject(new Error('session store down')) : sessions.delete(id)),
    };
    /** Added to the apps' clock (core's `client.now`), to age sessions without waiting. */
    let clockOffsetMs = 0;
    /** What `ownVerifier`'s verifier saw and whether it refuses every signature. */
    const verifier = { calls: 0, refuse: false };
    const countingVerifier: SignatureVerifier = (alg, key, signature, signingInput) => {
      verifier.calls++;
      return verifier.refuse ? false : webCryptoVerifier(alg, key, signature, signingInput);
    };

    async function start(basePath: string, trustProxy: boolean, extra: Partial<OidcAuthOptions> = {}): Promise<App> {
      const store = createMemoryCredentialStore();
      const { client, ...rest } = extra;
      const authOptions: OidcAuthOptions = {
        store,
        session: { secret: SESSION_SECRET, rollingSec: ROLLING_SEC },
        tenant: 'query',
        // The emulator runs on 127.0.0.1: loopback issuers are refused unless allowed (catalogue SA-12).
        // `extra.client` adds to these (its own clock, a verifier, a short timeout), it does not replace them.
        client: { now: () => Date.now() + clockOffsetMs, allowLoopbackIssuers: true, ...client },
        ...rest,
      };
      const mounted = await mount({ authOptions, basePath, trustProxy });
      const origin = mounted.baseUrl.replace(/\/+$/, '');
      const url = (path: string) => `${origin}${basePath}${path}`;
      return { origin, base: basePath, store, mounted, url, browser: (jar) => browser(origin, jar) };
    }

    function record(app: App, id: TenantId, issuer: string, extra: Partial<TenantRecord> = {}): TenantRecord {
      return {
        id,
        issuer,
        ...CLIENTS[id],
        redirectUris: [app.url('/auth/callback')],
        postLogoutRedirectUris: [app.url('/')],
        initiateLoginUri: app.url('/auth/initiate'),
        ...extra,
      };
    }

    beforeAll(async () => {
      plain = await start('', false);
      sub = await start('/app', false);
      proxied = await start('', true);
      formPost = await start('', false, { responseMode: 'form_post' });
      ownVerifier = await start('', false, { client: { verifySignature: countingVerifier } });
      limited = await start('', false);
      storeBacked = await start('', false, { session: { secret: SESSION_SECRET, rollingSec: ROLLING_SEC, store: flakySessions } });
      const apps = [plain, sub, proxied, formPost, ownVerifier, limited, storeBacked];
      // One org holding two instances of the app, and a second org (issue 4 §6).
      const client = (id: TenantId, tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post') => ({
        ...CLIENTS[id],
        tokenEndpointAuthMethod,
        redirectUris: apps.map((a) => a.url('/auth/callback')),
        postLogoutRedirectUris: apps.map((a) => a.url('/')),
        initiateLoginUri: plain.url('/auth/initiate'),
      });
      acmeOrg = await startOktaOrg({ name: 'acme', clients: [client('acme', 'client_secret_basic'), client('acme-2', 'client_secret_post')], users: [USER] });
      globexOrg = await startOktaOrg({ name: 'globex', clients: [client('globex', 'client_secret_basic')], users: [GLOBEX_USER, LARGE_USER] });
      for (const app of apps) {
        await app.store.put(record(app, 'acme', acmeOrg.issuer));
        await app.store.put(record(app, 'acme-2', acmeOrg.issuer, { tokenEndpointAuthMethod: 'client_secret_post' }));
        await app.store.put(record(app, 'globex', globexOrg.issuer, { allowSimplifiedFlow: true }));
      }
    });

    afterAll(async () => {
      const apps = [plain, sub, proxied, formPost, ownVerifier, limited, storeBacked];
      await Promise.allSettled([...apps.map((app) => app?.mounted.close()), acmeOrg?.close(), globexOrg?.close()]);
    });

    /** GET the login route; returns the response and the authorize URL it points to. */
    async function login(app: App, b: Browser, query: Record<string, string>) {
      const response = await b.fetch(`${app.url('/auth/login')}?${new URLSearchParams(query)}`);
      expect(response.status).toBe(302);
      return { response, authorize: new URL(response.headers.get('location') ?? '') };
    }

    /** Send the callback request the emulator's browser flow produced. */
    function callback(
      b: Browser,
      request: { method: 'GET' | 'POST'; url: URL; body?: string },
      options: { jar?: CookieJar; headers?: Record<string, string> } = {},
    ): Promise<Response> {
      const target = options.jar ? browser(request.url.origin, options.jar) : b;
      if (request.method === 'GET') return target.fetch(request.url, { headers: { ...options.headers } });
      const init = form(request.body ?? '');
      return target.fetch(request.url, { ...init, headers: { ...init.headers, ...options.headers } });
    }

    /** A whole sign-in: login → emulator (auto-login) → callback. */
    async function signIn(app: App, tenant: TenantId, options: { returnTo?: string } = {}) {
      const b = app.browser();
      const { authorize } = await login(app, b, { tenant, ...(options.returnTo ? { returnTo: options.returnTo } : {}) });
      const request = await driveAuthorization(authorize);
      const beforeCallback = b.jar.clone();
      const response = await callback(b, request);
      return { b, request, response, beforeCallback };
    }

    function expectNoStore(response: Response) {
      expect(response.headers.get('cache-control') ?? '').toMatch(/no-store/);
    }

    function expectNoSession(response: Response) {
      expect(cookiesSet(response)).toEqual([]);
    }

    // --- login -------------------------------------------------------------------------------

    it(t('login redirects to the tenant authorize endpoint with state, nonce and PKCE S256'), async () => {
      const b = plain.browser();
      const { response, authorize } = await login(plain, b, { tenant: 'acme' });
      expect(`${authorize.origin}${authorize.pathname}`).toBe(`${acmeOrg.issuer}/oauth2/v1/authorize`);
      const q = authorize.searchParams;
      expect(q.get('response_type')).toBe('code');
      expect(q.get('client_id')).toBe(CLIENTS.acme.clientId);
      expect(q.get('redirect_uri')).toBe(plain.url('/auth/callback'));
      expect(q.get('scope')?.split(' ')).toContain('openid');
      expect(q.get('state')?.length).toBeGreaterThanOrEqual(22);
      expect(q.get('nonce')?.length).toBeGreaterThanOrEqual(22);
      expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(q.get('code_challenge_method')).toBe('S256');
      expectNoStore(response);
      // The transaction is kept in a cookie, HttpOnly (the verifier must not reach scripts).
      const set = cookiesSet(response);
      expect(set.length).toBeGreaterThan(0);
      for (const cookie of set) expect(cookie.attributes).toHaveProperty('httponly');
    });

    it(t('login picks the instance by tenant when one org holds two instances'), async () => {
      const { authorize } = await login(plain, plain.browser(), { tenant: 'acme-2' });
      expect(authorize.searchParams.get('client_id')).toBe(CLIENTS['acme-2'].clientId);
      expect(authorize.origin).toBe(acmeOrg.issuer);
    });

    it(t('login for an unknown tenant answers 4xx naming ERR_OIDC_TENANT_UNKNOWN and sets no cookie'), async () => {
      const response = await plain.browser().fetch(`${plain.url('/auth/login')}?tenant=nobody`);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(await bodyOf(response)).toContain('ERR_OIDC_TENANT_UNKNOWN');
      expectNoStore(response);
      expectNoSession(response);
    });

    // --- callback ----------------------------------------------------------------------------

    it(t('sign-in: the callback sets a session and redirects; /me answers the user'), async () => {
      const { b, response } = await signIn(plain, 'acme');
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toMatch(/^(\/|https?:\/\/127\.0\.0\.1:\d+\/)$/);
      expectNoStore(response);
      expect(cookiesSet(response).length).toBeGreaterThan(0);
      const me = await b.fetch(plain.url('/me'), { headers: { accept: 'application/json' } });
      expect(me.status).toBe(200);
      const body = (await me.json()) as { tenant: string; sub: string; claims: Record<string, unknown> };
      expect(body.tenant).toBe('acme');
      expect(body.sub).toMatch(/.+/);
      expect(body.claims['email']).toBe(USER.claims.email);
    });

    it(t('sign-in returns to the requested same-origin path'), async () => {
      const { response } = await signIn(plain, 'acme', { returnTo: '/dashboard?tab=1' });
      expect(response.status).toBe(302);
      expect(new URL(response.headers.get('location') ?? '', plain.origin).pathname).toBe('/dashboard');
    });

    it(t('sign-in through the second instance of the same org keeps the tenants apart'), async () => {
      const { b, response } = await signIn(plain, 'acme-2');
      expect(response.status).toBe(302);
      const me = await b.fetch(plain.url('/me'), { headers: { accept: 'application/json' } });
      expect(((await me.json()) as { tenant: string }).tenant).toBe('acme-2');
    });

    it(t('callback keeps several Set-Cookie headers apart'), async () => {
      const { response } = await signIn(plain, 'acme');
      const all = setCookiesOf(response);
      // At least the new session and the deleted transaction: one header each, never folded.
      expect(all.length).toBeGreaterThanOrEqual(2);
      expect(new Set(all.map((c) => c.name)).size).toBe(all.length);
      expect(all.some((c) => c.deletes)).toBe(true);
      expect(all.some((c) => !c.deletes)).toBe(true);
      for (const raw of response.headers.getSetCookie()) expect(raw.split('=')[0]).not.toMatch(/[,\s]/);
    });

    it(t('a large session is split over several cookies and read back whole'), async () => {
      const b = plain.browser();
      const { authorize } = await login(plain, b, { tenant: 'globex', login_hint: LARGE_USER.login });
      const response = await callback(b, await driveAuthorization(authorize, { login: LARGE_USER.login, password: LARGE_USER.password }));
      expect(response.status).toBe(302);
      expect(cookiesSet(response).length).toBeGreaterThanOrEqual(2);
      const me = await b.fetch(plain.url('/me'), { headers: { accept: 'application/json' } });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { claims: { name?: string } }).claims.name).toBe(LONG_NAME);
    });

    it(t('a state mismatch answers 400 ERR_OIDC_STATE_MISMATCH, sets no session and never calls /token'), async () => {
      const b = plain.browser();
      const { authorize } = await login(plain, b, { tenant: 'acme' });
      const request = await driveAuthorization(authorize);
      request.url.searchParams.set('state', `${request.url.searchParams.get('state')}x`);
      const tokenCalls = acmeOrg.control.counters().token;
      const response = await callback(b, request);
      expect(response.status).toBe(400);
      expect(await bodyOf(response)).toContain('ERR_OIDC_STATE_MISMATCH');
      expectNoSession(response);
      expectNoStore(response);
      expect(acmeOrg.control.counters().token).toBe(tokenCalls);
      const me = await b.fetch(plain.url('/me'), { headers: { accept: 'application/json' } });
      expect(me.status).toBe(401);
    });

    it(t("the options' own client.verifySignature checks the ID token: accepted signs in, refused answers 400 with no session"), async () => {
      verifier.calls = 0;
      verifier.refuse = false;
      const accepted = await signIn(ownVerifier, 'acme');
      expect(accepted.response.status).toBe(302);
      expect(verifier.calls).toBe(1);
      verifier.refuse = true;
      try {
        const { b, response } = await signIn(ownVerifier, 'acme');
        expect(response.status).toBe(400);
        expect(await bodyOf(response)).toContain('ERR_OIDC_ID_TOKEN_INVALID');
        expectNoSession(response);
        expect(verifier.calls).toBe(2);
        expect((await b.fetch(ownVerifier.url('/me'), { headers: { accept: 'application/json' } })).status).toBe(401);
      } finally {
        verifier.refuse = false;
      }
      // The app keeps serving.
      expect((await ownVerifier.browser().fetch(ownVerifier.url('/'))).status).toBe(200);
    });

    it(t('a callback without its transaction cookie is refused without calling /token'), async () => {
      const b = plain.browser();
      const { authorize } = await login(plain, b, { tenant: 'acme' });
      const request = await driveAuthorization(authorize);
      const tokenCalls = acmeOrg.control.counters().token;
      const response = await callback(b, request, { jar: new CookieJar() });
      expect(response.status).toBe(400);
      expect(await bodyOf(response)).toMatch(/ERR_OIDC_(STATE_MISSING|STATE_MISMATCH|TRANSACTION_INVALID)/);
      expectNoSession(response);
      expect(acmeOrg.control.counters().token).toBe(tokenCalls);
    });

    it(t('a replayed callback is refused and creates no session'), async () => {
      const { b, request, response, beforeCallback } = await signIn(plain, 'acme');
      expect(response.status).toBe(302);
      // The same browser (back button; its transaction cookie is consumed): nothing is reprocessed,
      // no new session is issued and Okta is not called again (catalogue CB-03, CB-08).
      const tokenCalls = acmeOrg.control.counters().token;
      const again = await callback(b, request);
      expect(again.status === 302 || (again.status >= 400 && again.status < 500)).toBe(true);
      expectNoSession(again);
      expect(acmeOrg.control.counters().token).toBe(tokenCalls);
      // … and an attacker who kept the transaction cookie: the code is single-use at Okta.
      const replay = await callback(b, request, { jar: beforeCallback });
      expect(replay.status).toBeGreaterThanOrEqual(400);
      expect(replay.status).toBeLessThan(500);
      expect(await bodyOf(replay)).toMatch(/ERR_OIDC_[A-Z_]+/);
      expectNoSession(replay);
    });

    it(t('form_post: the POST callback signs in'), async () => {
      const { b, request, response } = await signIn(formPost, 'acme');
      expect(request.method).toBe('POST');
      expect(response.status).toBe(302);
      expectNoStore(response);
      const me = await b.fetch(formPost.url('/me'), { headers: { accept: 'application/json' } });
      expect(me.status).toBe(200);
    });

    it(t('form_post: a repeated parameter in the body is refused with ERR_OIDC_DUPLICATE_PARAMETER'), async () => {
      const b = formPost.browser();
      const { authorize } = await login(formPost, b, { tenant: 'acme' });
      expect(authorize.searchParams.get('response_mode')).toBe('form_post');
      const request = await driveAuthorization(authorize);
      const body = new URLSearchParams(request.body);
      body.append('state', body.get('state') ?? '');
      const tokenCalls = acmeOrg.control.counters().token;
      const response = await b.fetch(request.url, form(body));
      expect(response.status).toBe(400);
      expect(await bodyOf(response)).toContain('ERR_OIDC_DUPLICATE_PARAMETER');
      expectNoSession(response);
      expect(acmeOrg.control.counters().token).toBe(tokenCalls);
    });

    it(t('an oversized callback body is refused with 413'), async () => {
      const b = formPost.browser();
      await login(formPost, b, { tenant: 'acme' });
      const response = await b.fetch(formPost.url('/auth/callback'), form({ code: 'x', state: 'y', padding: 'p'.repeat(200 * 1024) }));
      expect(response.status).toBe(413);
      expectNoSession(response);
    });

    it(t('an error from Okta is shown escaped with its code'), async () => {
      const b = plain.browser();
      const { authorize } = await login(plain, b, { tenant: 'acme' });
      const state = authorize.searchParams.get('state') ?? '';
      const query = new URLSearchParams({ error: 'access_denied', error_description: '<script>alert(1)</script>', state, iss: acmeOrg.issuer });
      const response = await b.fetch(`${plain.url('/auth/callback')}?${query}`, { headers: { accept: 'text/html' } });
      expect(response.status).toBe(400);
      const body = await bodyOf(response);
      expect(body).toContain('ERR_OIDC_AUTHORIZATION_DENIED');
      expect(body).not.toContain('<script>');
      expectNoSession(response);
      expectNoStore(response);
    });

    // --- trouble at Okta (issue 4 §5: 429, 5xx → 502/503/504, no session, the app keeps serving) ---

    it(t('a 5xx from the token endpoint answers 502/503 with no session'), async () => {
      const b = plain.browser();
      const { authorize } = await login(plain, b, { tenant: 'acme' });
      const request = await driveAuthorization(authorize);
      acmeOrg.control.fault('token', { type: 'status', status: 500 });
      try {
        const response = await callback(b, request);
        expect([502, 503]).toContain(response.status);
        expect(await bodyOf(response)).toMatch(/ERR_OIDC_(HTTP_ERROR|UNAVAILABLE)/);
        expectNoSession(response);
        expectNoStore(response);
      } finally {
        acmeOrg.control.clearFaults('token');
      }
    });

    it(t('a 429 from the token endpoint answers 503 with Retry-After'), async () => {
      const b = limited.browser();
      const { authorize } = await login(limited, b, { tenant: 'acme' });
      const request = await driveAuthorization(authorize);
      acmeOrg.control.fault('token', { type: 'rate-limit', resetInSec: 20 });
      try {
        const response = await callback(b, request);
        expect(response.status).toBe(503);
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(await bodyOf(response)).toContain('ERR_OIDC_RATE_LIMITED');
        expectNoSession(response);
      } finally {
        acmeOrg.control.clearFaults('token');
      }
    });

    it(t("a server-side session store that fails answers 503 with Retry-After on the app's pages, never the framework's 500; the app recovers"), async () => {
      const { b, response } = await signIn(storeBacked, 'acme');
      expect(response.status).toBe(302);
      const whoami = () => b.fetch(storeBacked.url('/whoami'), { headers: { accept: 'application/json' } });
      expect(await (await whoami()).json()).toMatchObject({ isAuthenticated: true, tenant: 'acme' });
      sessionStoreDown = true;
      try {
        const down = await whoami();
        expect(down.status).toBe(503);
        expect(down.headers.get('retry-after')).toBe('5');
        expect(await bodyOf(down)).toContain('ERR_OIDC_STORE_FAILURE');
        expectNoStore(down);
        const page = await b.fetch(storeBacked.url('/'), { headers: { accept: 'text/html' } });
        expect(page.status).toBe(503);
        expect(page.headers.get('retry-after')).toBe('5');
      } finally {
        sessionStoreDown = false;
      }
      expect(await (await whoami()).json()).toMatchObject({ isAuthenticated: true, tenant: 'acme' });
    });

    it(t('an unavailable introspection endpoint answers 503 to the bearer API, then waits for the reset without calling Okta'), async () => {
      const token = await acmeOrg.control.issueAccessToken(CLIENTS.acme.clientId, { login: USER.login });
      const bearerTo = (app: App) => app.browser().fetch(`${app.url('/api/me')}?tenant=acme`, { headers: { authorization: `Bearer ${token}` } });
      acmeOrg.control.fault('introspect', { type: 'rate-limit', resetInSec: 20 });
      try {
        const response = await bearerTo(limited);
        expect(response.status).toBe(503);
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(await bodyOf(response)).toContain('ERR_OIDC_RATE_LIMITED');
      } finally {
        acmeOrg.control.clearFaults('introspect');
      }
      // Okta said the window is spent: until its reset this app does not ask again (issue 11 §1).
      const before = acmeOrg.control.counters().introspect;
      const waiting = await bearerTo(limited);
      expect(waiting.status).toBe(503);
      expect(Number(waiting.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(acmeOrg.control.counters().introspect).toBe(before);
      // Without a shared rate-limit store the back-off is this app's own: another one is served.
      expect((await bearerTo(plain)).status).toBe(200);
    });

    // --- simplified flow (Okta "OIN simplified": ID token form_posted, no state) ---------------

    it(t('simplified flow: a POSTed ID token signs in once, for a tenant that allows it'), async () => {
      const { fields } = await globexOrg.control.simplifiedSignIn(CLIENTS.globex.clientId);
      const b = plain.browser();
      // Okta's auto-submitting page posts from the org's origin; browsers send it as Origin (SA-04).
      const response = await b.fetch(plain.url('/auth/callback'), postedByOkta(fields.id_token, globexOrg.issuer));
      expect(response.status).toBe(302);
      expectNoStore(response);
      const me = await b.fetch(plain.url('/me'), { headers: { accept: 'application/json' } });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { tenant: string }).tenant).toBe('globex');
      const replay = await plain.browser().fetch(plain.url('/auth/callback'), postedByOkta(fields.id_token, globexOrg.issuer));
      expect(replay.status).toBe(400);
      expect(await bodyOf(replay)).toContain('ERR_OIDC_ID_TOKEN_REPLAYED');
      expectNoSession(replay);
    });

    it(t('simplified flow is refused for a tenant that does not allow it'), async () => {
      const { fields } = await acmeOrg.control.simplifiedSignIn(CLIENTS.acme.clientId);
      const response = await plain.browser().fetch(plain.url('/auth/callback'), postedByOkta(fields.id_token, acmeOrg.issuer));
      expect(response.status).toBe(400);
      expect(await bodyOf(response)).toContain('ERR_OIDC_SIMPLIFIED_FLOW_DISABLED');
      expectNoSession(response);
    });

    // --- initiate login (OIDC Core §4) --------------------------------------------------------

    it(t('initiate login (GET and POST) redirects to the authorize endpoint of the issuer'), async () => {
      const get = await plain.browser().fetch(`${plain.url('/auth/initiate')}?${new URLSearchParams({ iss: globexOrg.issuer })}`);
      expect(get.status).toBe(302);
      expectNoStore(get);
      const target = new URL(get.headers.get('location') ?? '');
      expect(`${target.origin}${target.pathname}`).toBe(`${globexOrg.issuer}/oauth2/v1/authorize`);
      expect(target.searchParams.get('client_id')).toBe(CLIENTS.globex.clientId);
      const post = await plain.browser().fetch(plain.url('/auth/initiate'), form({ iss: acmeOrg.issuer, tenant: 'acme-2', login_hint: USER.login }));
      expect(post.status).toBe(302);
      const postTarget = new URL(post.headers.get('location') ?? '');
      expect(postTarget.searchParams.get('client_id')).toBe(CLIENTS['acme-2'].clientId);
      expect(postTarget.searchParams.get('login_hint')).toBe(USER.login);
    });

    it(t('initiate login with an unknown issuer answers 4xx'), async () => {
      const response = await plain.browser().fetch(`${plain.url('/auth/initiate')}?iss=${encodeURIComponent('https://unknown.okta.com')}`);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(await bodyOf(response)).toMatch(/ERR_OIDC_[A-Z_]+/);
      expectNoSession(response);
    });

    it(t('initiate login follows a same-origin target_link_uri but never an off-site one'), async () => {
      const run = async (targetLinkUri: string) => {
        const b = plain.browser();
        const query = new URLSearchParams({ iss: globexOrg.issuer, target_link_uri: targetLinkUri });
        const initiated = await b.fetch(`${plain.url('/auth/initiate')}?${query}`);
        expect(initiated.status).toBe(302);
        const response = await callback(b, await driveAuthorization(initiated.headers.get('location') ?? ''));
        expect(response.status).toBe(302);
        return new URL(response.headers.get('location') ?? '', plain.origin);
      };
      const same = await run(plain.url('/reports?id=7'));
      expect(same.origin).toBe(plain.origin);
      expect(same.pathname).toBe('/reports');
      const offSite = await run('https://evil.example/steal');
      expect(offSite.origin).toBe(plain.origin);
      expect(offSite.host).not.toBe('evil.example');
    });

    // --- logout ------------------------------------------------------------------------------

    it(t('logout clears the session and redirects to Okta with id_token_hint'), async () => {
      const { b } = await signIn(plain, 'acme');
      // The app's own sign-out link (a browser sends Sec-Fetch-Site: same-origin): only then is the
      // Okta session ended too (SA-06).
      const response = await b.fetch(plain.url('/auth/logout'), { headers: sameOriginHeaders(plain.origin) });
      expect(response.status).toBe(302);
      expectNoStore(response);
      const target = new URL(response.headers.get('location') ?? '');
      expect(`${target.origin}${target.pathname}`).toBe(`${acmeOrg.issuer}/oauth2/v1/logout`);
      expect(target.searchParams.get('id_token_hint')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(target.searchParams.get('post_logout_redirect_uri')).toBe(plain.url('/'));
      expect(setCookiesOf(response).some((c) => c.deletes)).toBe(true);
      expectNoSession(response);
      const me = await b.fetch(plain.url('/me'), { headers: { accept: 'application/json' } });
      expect(me.status).toBe(401);
    });

    it(t('logout without a session redirects home'), async () => {
      const response = await plain.browser().fetch(plain.url('/auth/logout'));
      expect(response.status).toBe(302);
      expect(new URL(response.headers.get('location') ?? '', plain.origin).href).toBe(plain.url('/'));
    });

    // --- guards ------------------------------------------------------------------------------

    it(t('requiresAuth: 401 JSON for API clients, 302 to login for pages'), async () => {
      const json = await plain.browser().fetch(plain.url('/me'), { headers: { accept: 'application/json' } });
      expect(json.status).toBe(401);
      expect(json.headers.get('content-type') ?? '').toMatch(/application\/json/);
      expect(((await json.json()) as { error: string }).error).toMatch(/^ERR_OIDC_SESSION_/);
      const page = await plain.browser().fetch(plain.url('/me'), { headers: { accept: 'text/html,application/xhtml+xml' } });
      expect(page.status).toBe(302);
      expect(new URL(page.headers.get('location') ?? '', plain.origin).pathname).toBe('/auth/login');
    });

    it(t("requiresAuth does not accept one tenant's session on another tenant's route"), async () => {
      const { b } = await signIn(plain, 'acme');
      expect((await b.fetch(`${plain.url('/me')}?tenant=acme`, { headers: { accept: 'application/json' } })).status).toBe(200);
      const json = await b.fetch(`${plain.url('/me')}?tenant=globex`, { headers: { accept: 'application/json' } });
      expect(json.status).toBe(401);
      const page = await b.fetch(`${plain.url('/me')}?tenant=globex`, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(302);
      const location = new URL(page.headers.get('location') ?? '', plain.origin);
      expect(location.pathname).toBe('/auth/login');
      expect(location.searchParams.get('tenant')).toBe('globex');
    });

    it(t('the middleware re-issues a rolling session on an ordinary page, and an idle one expires'), async () => {
      const { b } = await signIn(plain, 'acme');
      try {
        clockOffsetMs = (ROLLING_SEC * 1000 * 2) / 3; // less than half of the idle lifetime left
        const home = await b.fetch(plain.url('/'));
        expect(home.status).toBe(200);
        expect(cookiesSet(home).length).toBeGreaterThan(0);
        clockOffsetMs += (ROLLING_SEC * 1000 * 2) / 3; // still alive: the re-issued cookie counts from the last visit
        expect((await b.fetch(plain.url('/me'), { headers: { accept: 'application/json' } })).status).toBe(200);
        clockOffsetMs += ROLLING_SEC * 1000 * 2; // idle for longer than the lifetime
        const expired = await b.fetch(plain.url('/me'), { headers: { accept: 'application/json' } });
        expect(expired.status).toBe(401);
        expect(setCookiesOf(expired).some((c) => c.deletes)).toBe(true);
      } finally {
        clockOffsetMs = 0;
      }
    });

    it(t('requiresAuth refuses a forged session cookie'), async () => {
      const { b } = await signIn(plain, 'acme');
      for (const [cookie, value] of b.jar.cookies) b.jar.cookies.set(cookie, `${value.slice(0, -4)}AAAA`);
      const me = await b.fetch(plain.url('/me'), { headers: { accept: 'application/json' } });
      expect(me.status).toBe(401);
    });

    it(t('requireAccessToken: missing or malformed bearer → 401 with WWW-Authenticate'), async () => {
      for (const authorization of [undefined, 'Basic Zm9vOmJhcg==', 'Bearer']) {
        const response = await plain.browser().fetch(`${plain.url('/api/me')}?tenant=acme`, {
          headers: { accept: 'application/json', ...(authorization ? { authorization } : {}) },
        });
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate') ?? '').toMatch(/^Bearer/);
        expect(await bodyOf(response)).toMatch(/ERR_OIDC_ACCESS_TOKEN_(MISSING|INVALID)/);
      }
    });

    it(t('requireAccessToken: an inactive token → 401 ERR_OIDC_ACCESS_TOKEN_INACTIVE'), async () => {
      const response = await plain.browser().fetch(`${plain.url('/api/me')}?tenant=acme`, {
        // A token only Okta can judge (a random string is refused before any introspection, SA-01).
        headers: { accept: 'application/json', authorization: `Bearer ${plausibleForgery(acmeOrg.issuer, CLIENTS.acme.clientId)}` },
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate') ?? '').toMatch(/^Bearer.*invalid_token/);
      expect(await bodyOf(response)).toContain('ERR_OIDC_ACCESS_TOKEN_INACTIVE');
    });

    it(t('requireAccessToken: an active token → 200 with the token subject'), async () => {
      const token = await acmeOrg.control.issueAccessToken(CLIENTS.acme.clientId, { login: USER.login, scope: 'openid email' });
      const response = await plain.browser().fetch(`${plain.url('/api/me')}?tenant=acme`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { tenant: string; sub: string; client_id: string; scope: string };
      expect(body.tenant).toBe('acme');
      expect(body.client_id).toBe(CLIENTS.acme.clientId);
      expect(body.sub).toMatch(/.+/);
      expect(body.scope).toContain('email');
    });

    it(t('requireAccessToken: a token of another tenant is inactive for this tenant'), async () => {
      const token = await globexOrg.control.issueAccessToken(CLIENTS.globex.clientId, { login: GLOBEX_USER.login });
      const response = await plain.browser().fetch(`${plain.url('/api/me')}?tenant=acme`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate') ?? '').toMatch(/^Bearer/);
    });

    // --- plumbing ----------------------------------------------------------------------------

    it(t('non-auth routes pass through untouched'), async () => {
      const home = await plain.browser().fetch(plain.url('/'));
      expect(home.status).toBe(200);
      expectNoSession(home);
      const unknown = await plain.browser().fetch(plain.url('/auth/unknown'));
      expect(unknown.status).toBe(404);
    });

    it(t('a malformed Host header is refused with 400 and the app keeps serving'), async () => {
      for (const host of ['a b', 'exa mple.com:80', '[::1', 'a/b']) {
        const status = await rawRequest(plain.origin, `GET /auth/login?tenant=acme HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
        expect(status).toBe(400);
      }
      expect((await plain.browser().fetch(plain.url('/'))).status).toBe(200);
    });

    it(t('mounted under a sub-path: routes, redirect_uri and sign-in live under it'), async () => {
      const b = sub.browser();
      const { authorize } = await login(sub, b, { tenant: 'acme' });
      expect(authorize.searchParams.get('redirect_uri')).toBe(sub.url('/auth/callback'));
      const response = await callback(b, await driveAuthorization(authorize));
      expect(response.status).toBe(302);
      const me = await b.fetch(sub.url('/me'), { headers: { accept: 'application/json' } });
      expect(me.status).toBe(200);
      const page = await sub.browser().fetch(sub.url('/me'), { headers: { accept: 'text/html' } });
      expect(page.status).toBe(302);
      expect(new URL(page.headers.get('location') ?? '', sub.origin).pathname).toBe('/app/auth/login');
      // Outside the mount point the adapter answers nothing.
      const outside = await sub.browser().fetch(`${sub.origin}/auth/login?tenant=acme`);
      expect(outside.status).toBe(404);
    });

    it(t('X-Forwarded-* are ignored unless the proxy is trusted'), async () => {
      const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' };
      const response = await plain.browser().fetch(`${plain.url('/auth/login')}?tenant=acme`, { headers: forwarded });
      expect(response.status).toBe(302);
      const authorize = new URL(response.headers.get('location') ?? '');
      // RFC 9700 §2.1, catalogue AR-05: the registered redirect_uri, never one built from headers.
      expect(authorize.searchParams.get('redirect_uri')).toBe(plain.url('/auth/callback'));
      // Plain http on loopback: cookies without Secure, which an honoured X-Forwarded-Proto would add.
      for (const cookie of cookiesSet(response)) expect(cookie.attributes).not.toHaveProperty('secure');
      // An initiate-login target on the forwarded host is off-site for this app.
      const b = plain.browser();
      const query = new URLSearchParams({ iss: globexOrg.issuer, target_link_uri: 'https://evil.example/reports' });
      const initiated = await b.fetch(`${plain.url('/auth/initiate')}?${query}`, { headers: forwarded });
      const done = await callback(b, await driveAuthorization(initiated.headers.get('location') ?? ''));
      expect(new URL(done.headers.get('location') ?? '', plain.origin).pathname).not.toBe('/reports');
    });

    it(t('X-Forwarded-* are honoured behind a trusted proxy'), async () => {
      const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example' };
      const response = await proxied.browser().fetch(`${proxied.url('/auth/login')}?tenant=acme`, { headers: forwarded });
      expect(response.status).toBe(302);
      const authorize = new URL(response.headers.get('location') ?? '');
      expect(authorize.searchParams.get('redirect_uri')).toBe(proxied.url('/auth/callback'));
      // The external URL is https: cookies are Secure.
      const set = cookiesSet(response);
      expect(set.length).toBeGreaterThan(0);
      for (const cookie of set) expect(cookie.attributes).toHaveProperty('secure');
      // And the forwarded host is this app's origin: a target_link_uri on it is followed.
      const b = proxied.browser();
      const query = new URLSearchParams({ iss: globexOrg.issuer, target_link_uri: 'https://app.example/reports' });
      const initiated = await b.fetch(`${proxied.url('/auth/initiate')}?${query}`, { headers: forwarded });
      expect(initiated.status).toBe(302);
      const done = await callback(b, await driveAuthorization(initiated.headers.get('location') ?? ''), { headers: forwarded });
      expect(done.status).toBe(302);
      expect(new URL(done.headers.get('location') ?? '', 'https://app.example').pathname).toBe('/reports');
    });

    // --- the security catalogue and Okta faults (issue 5 §1, §4), the audit's findings (issue 17) ---
    const shared: SecurityContext = {
      t,
      rollingSec: ROLLING_SEC,
      apps: () => ({ plain, sub, proxied, formPost }),
      orgs: () => ({ acme: acmeOrg, globex: globexOrg }),
      start,
      record,
      setClockOffset: (ms) => {
        clockOffsetMs = ms;
      },
      login,
      callback,
      signIn,
      clients: CLIENTS,
      users: { acme: USER, globex: GLOBEX_USER, large: LARGE_USER },
    };
    describeSecurityConformance(shared);
    describeAuditConformance(shared);
    describeLogoutConformance(shared);
  });
}
