/**
 * The security catalogue (`security-catalogue.md`) and Okta faults as adapter conformance cases
 * (issue 5 §1, §4). Every browser-facing (REJECT-CB) and API-facing (REJECT-API) entry runs through
 * the adapter under test; each case name starts with its catalogue id.
 *
 * A refused request is checked the same way everywhere ({@link SecurityHelpers.expectRejected}):
 * the status and stable error code, escaped content, no session cookie, the transaction cookie
 * deleted, no further call to Okta after the failing check (emulator counters), `Cache-Control:
 * no-store`, and that the app keeps serving.
 */
import { createMemoryCredentialStore, createOidcClient, type OidcAuthOptions } from '@oin-oidc/core';
import { describe, expect, it } from 'vitest';
import { driveAuthorization, type EmulatorEndpoint, startOktaOrg } from '../index';
import type { App, CallbackRequest, SecurityContext, TenantId } from './harness-types';
import { answerSwitch, type Browser, CookieJar, form, type SetCookie, sameOriginHeaders, setCookiesOf } from './http';
import { junkTokens, plausibleForgery } from './tokens';


type Counters = Record<EmulatorEndpoint, number>;

/** Catalogue §2.5: every one must become a same-origin path (or be ignored), never an off-site redirect. */
export const OPEN_REDIRECT_PAYLOADS = [
  '//evil.com',
  '///evil.com',
  '/\\evil.com',
  '\\\\evil.com',
  '/\\/evil.com',
  'https://evil.com',
  'https:evil.com',
  '//evil.com/%2F..',
  '/%2F%2Fevil.com',
  '/%5Cevil.com',
  'https://app.example.com.evil.com',
  'https://app.example.com@evil.com',
  '//app.example.com@evil.com',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  'java%0ascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  '/%0d%0aSet-Cookie:x=y',
  '/%09/evil.com',
  'http://evil.com',
  'ftp://evil.com',
  '//evil.com:443',
  // Issue 17 item 10 (SA-10): the normalised output (dot-segments, %2e included, removed) decodes to //evil.com.
  '/%2e/%2fevil.com',
  '/x/../%2fevil.com',
  '/./%2f%2fevil.com',
  '/%2e/%252fevil.com',
] as const;

const XSS = '<script>alert(1)</script>';
/**
 * Back-channel timeout of the apps that face hanging endpoints: short, so a hang costs the suite
 * little, yet far above a loopback round trip on a loaded machine (a correct call must never hit it).
 */
const FAULT_TIMEOUT_MS = 1500;
const SESSION_COOKIE = /^(__Host-)?oin_session/;
const TX_COOKIE = /^(__Host-)?oin_tx_/;
const JSON_ACCEPT = { accept: 'application/json' };

function cookiesSet(response: Response): SetCookie[] {
  return setCookiesOf(response).filter((c) => !c.deletes);
}

/** A urlencoded form POST with extra request headers (what an auto-submitting page sends). */
function urlencodedPost(body: string, headers: Record<string, string>): RequestInit & { headers: Record<string, string> } {
  return { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } };
}

/** Does `location` (absolute or relative to `origin`) leave the app's origin, or is it a script/data URL? */
function offSite(location: string, origin: string): boolean {
  if (location.startsWith('//') || location.startsWith('/\\')) return true;
  const url = URL.parse(location, origin);
  return url === null || url.origin !== origin;
}

export function describeSecurityConformance(ctx: SecurityContext): void {
  const { t } = ctx;
  const apps = () => ctx.apps();
  const orgs = () => ctx.orgs();

  function counters(): { acme: Counters; globex: Counters } {
    return { acme: orgs().acme.control.counters(), globex: orgs().globex.control.counters() };
  }

  /** No call of any kind reached either org since `before` (catalogue REJECT-CB: "must not call any other endpoints"). */
  function expectNoOktaCall(before: { acme: Counters; globex: Counters }, except: Partial<Record<EmulatorEndpoint, boolean>> = {}) {
    const after = counters();
    for (const org of ['acme', 'globex'] as const) {
      for (const [endpoint, count] of Object.entries(after[org]) as [EmulatorEndpoint, number][]) {
        if (except[endpoint]) continue;
        expect(`${org} ${endpoint}: ${count}`).toBe(`${org} ${endpoint}: ${before[org][endpoint]}`);
      }
    }
  }

  async function expectServing(app: App) {
    const home = await fetch(app.url('/'), { redirect: 'manual' });
    expect(home.status).toBe(200);
    await home.text();
  }

  interface Rejection {
    status: number;
    /** The stable error code the page or JSON names (a RegExp when the catalogue allows several). */
    code: string | RegExp;
    /** Counters taken before the request; omitted only where a back-channel call is part of the check. */
    before?: { acme: Counters; globex: Counters };
    /** Endpoints the failing check itself may call (e.g. `keys` to verify a posted ID token). */
    allow?: Partial<Record<EmulatorEndpoint, boolean>>;
    /** The browser carried a transaction cookie, which must be deleted. */
    txDeleted?: boolean;
    /**
     * The browser's transaction cookies are neither set nor deleted: a callback that names no
     * transaction it holds (a forged or missing state, a request that does not parse) consumes
     * none, so the logins in flight survive it (catalogue SA-08).
     */
    txKept?: boolean;
    /** Text that must not be reflected (besides `<script`). */
    notReflected?: string[];
  }

  /** The REJECT-CB / REJECT-API checks shared by every refusal. Returns the body. */
  async function expectRejected(app: App, response: Response, expected: Rejection): Promise<string> {
    const body = await response.text();
    expect(response.status, body.slice(0, 300)).toBe(expected.status);
    if (typeof expected.code === 'string') expect(body).toContain(expected.code);
    else expect(body).toMatch(expected.code);
    // Nothing reflected unescaped; error pages carry no script at all (CSP default-src 'none').
    expect(body).not.toMatch(/<script/i);
    for (const text of expected.notReflected ?? []) expect(body).not.toContain(text);
    expect(response.headers.get('cache-control') ?? '').toMatch(/no-store/);
    expect(cookiesSet(response).filter((c) => SESSION_COOKIE.test(c.name))).toEqual([]);
    expect(cookiesSet(response).filter((c) => TX_COOKIE.test(c.name))).toEqual([]);
    if (expected.txDeleted) expect(setCookiesOf(response).some((c) => c.deletes && TX_COOKIE.test(c.name))).toBe(true);
    if (expected.txKept) expect(setCookiesOf(response).filter((c) => TX_COOKIE.test(c.name)).map((c) => c.name)).toEqual([]);
    expect(response.headers.get('location')).toBeNull();
    if (expected.before) expectNoOktaCall(expected.before, expected.allow);
    await expectServing(app);
    return body;
  }

  /** login → emulator → the callback request, not sent yet. */
  async function pendingCallback(app: App, tenant: TenantId = 'acme') {
    const b = app.browser();
    const { authorize } = await ctx.login(app, b, { tenant });
    const request = await driveAuthorization(authorize);
    return { b, authorize, request };
  }

  function withQuery(request: CallbackRequest, edit: (q: URLSearchParams) => void): CallbackRequest {
    const url = new URL(request.url);
    edit(url.searchParams);
    return { ...request, url };
  }

  async function bearer(app: App, authorization: string | undefined, tenant = 'acme') {
    return fetch(`${app.url('/api/me')}?tenant=${tenant}`, {
      headers: { ...JSON_ACCEPT, ...(authorization === undefined ? {} : { authorization }) },
      redirect: 'manual',
    });
  }

  async function expectApiRejected(app: App, response: Response, code: string, challenge: RegExp, before: { acme: Counters; globex: Counters }, introspections = 0) {
    expect(response.headers.get('www-authenticate') ?? '').toMatch(challenge);
    expect(response.headers.get('content-type') ?? '').toMatch(/application\/json/);
    const body = await expectRejected(app, response, { status: 401, code, before, allow: { introspect: true } });
    expect((JSON.parse(body) as { error: string }).error).toBe(code);
    expect(counters().acme.introspect + counters().globex.introspect - before.acme.introspect - before.globex.introspect).toBe(introspections);
  }

  /**
   * A new app (cold JWKS/metadata caches) with its own org, so faults and caches of one case do not
   * touch the others. `client` merges into the app's client options (e.g. a short timeout).
   */
  async function isolated(client: NonNullable<OidcAuthOptions['client']> = {}, orgExtra: { rateLimit?: { limit: number; windowSec?: number; enforce?: boolean } } = {}) {
    const app = await ctx.start('', false, { client });
    const org = await startOktaOrg({
      name: 'isolated',
      clients: [
        {
          ...ctx.clients.acme,
          tokenEndpointAuthMethod: 'client_secret_basic',
          redirectUris: [app.url('/auth/callback')],
          postLogoutRedirectUris: [app.url('/')],
        },
      ],
      users: [ctx.users.acme],
      ...orgExtra,
    });
    await app.store.put(ctx.record(app, 'acme', org.issuer));
    return {
      app,
      org,
      close: () => Promise.allSettled([app.mounted.close(), org.close()]),
    };
  }

  // =====================================================================================
  describe('security catalogue: login (AR)', () => {
    it(t('AR-05: Host / X-Forwarded-Host are not trusted: the authorize URL carries the registered redirect_uri'), async () => {
      const { plain, proxied } = apps();
      const { request: raw } = await import('node:http');
      // fetch cannot send a Host header: node:http can.
      const location = await new Promise<string>((resolve, reject) => {
        const target = new URL(`${plain.url('/auth/login')}?tenant=acme`);
        const req = raw(
          { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' } },
          (res) => {
            res.resume();
            resolve(String(res.headers['location'] ?? ''));
          },
        );
        req.on('error', reject);
        req.end();
      });
      const authorize = new URL(location);
      expect(authorize.origin).toBe(orgs().acme.issuer);
      expect(authorize.searchParams.get('redirect_uri')).toBe(plain.url('/auth/callback'));
      // Behind a trusted proxy the forwarded host is believed, yet only a registered redirect_uri is ever sent.
      const registered = [plain, apps().sub, proxied, apps().formPost].map((a) => a.url('/auth/callback'));
      const response = await proxied.browser().fetch(`${proxied.url('/auth/login')}?tenant=acme`, {
        headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' },
      });
      expect(response.status).toBe(302);
      const viaProxy = new URL(response.headers.get('location') ?? '');
      expect(registered).toContain(viaProxy.searchParams.get('redirect_uri'));
      expect(viaProxy.searchParams.get('redirect_uri')).not.toContain('evil.example');
      await expectServing(plain);
    });

    it(t('AR-07/TP-05/SA-10: login returnTo open-redirect payloads (those that normalise to //evil.com too) never leave the origin after sign-in'), async () => {
      const { plain } = apps();
      for (const payload of OPEN_REDIRECT_PAYLOADS) {
        const { response } = await ctx.signIn(plain, 'acme', { returnTo: payload });
        expect(response.status, payload).toBe(302);
        const location = response.headers.get('location') ?? '';
        expect(offSite(location, plain.origin), `${payload} → ${location}`).toBe(false);
        expect(location).not.toMatch(/[\r\n]|evil\.com|javascript:|data:/i);
      }
    });

    it(t('TP-06: a tenant id with markup is refused without reflecting it'), async () => {
      const { plain } = apps();
      const before = counters();
      const response = await plain.browser().fetch(`${plain.url('/auth/login')}?${new URLSearchParams({ tenant: `x"><svg onload=alert(1)>${XSS}` })}`);
      await expectRejected(plain, response, { status: 404, code: 'ERR_OIDC_TENANT_UNKNOWN', before, notReflected: ['<svg', 'onload='] });
    });

    it(t('AR-x: a login with a duplicated tenant or returnTo is refused (RFC 6749 §3.1)'), async () => {
      const { plain } = apps();
      const before = counters();
      const response = await plain.browser().fetch(`${plain.url('/auth/login')}?tenant=acme&tenant=globex`);
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_DUPLICATE_PARAMETER', before });
      const twice = await plain.browser().fetch(`${plain.url('/auth/login')}?tenant=acme&returnTo=/a&returnTo=//evil.com`);
      await expectRejected(plain, twice, { status: 400, code: 'ERR_OIDC_DUPLICATE_PARAMETER', before });
    });

    it(t('AR-09/SA-13: two logins in flight in one browser (two tabs, two tenants) both complete, never crossed; the second replaces the first once confirmed'), async () => {
      const { plain } = apps();
      const b = plain.browser();
      const a = await ctx.login(plain, b, { tenant: 'acme' });
      const g = await ctx.login(plain, b, { tenant: 'globex' });
      const requestA = await driveAuthorization(a.authorize);
      const requestG = await driveAuthorization(g.authorize);
      expect((await ctx.callback(b, requestA)).status).toBe(302);
      expect(((await (await b.fetch(`${plain.url('/me')}?tenant=acme`, { headers: JSON_ACCEPT })).json()) as { tenant: string }).tenant).toBe('acme');
      // Signed in at acme now: the globex sign-in waits for the app's own confirmation page (SA-13).
      const held = await ctx.callback(b, requestG);
      expect(held.status).toBe(409);
      expect((await answerSwitch(b, plain.origin, held, 'continue')).status).toBe(302);
      const me = (await (await b.fetch(`${plain.url('/me')}?tenant=globex`, { headers: JSON_ACCEPT })).json()) as { tenant: string; claims: Record<string, unknown> };
      expect(me.tenant).toBe('globex');
      expect(me.claims['email']).toBe(ctx.users.globex.claims['email']);
      // Crossing them (A's code with B's state) fails closed with no token call.
      const c1 = await ctx.login(plain, b, { tenant: 'acme' });
      const c2 = await ctx.login(plain, b, { tenant: 'globex' });
      const r1 = await driveAuthorization(c1.authorize);
      await driveAuthorization(c2.authorize);
      const before = counters();
      const crossed = await ctx.callback(b, withQuery(r1, (q) => q.set('state', c2.authorize.searchParams.get('state') ?? '')));
      await expectRejected(plain, crossed, { status: 400, code: /ERR_OIDC_(ISSUER_MISMATCH|STATE_MISMATCH)/, before, txDeleted: true });
    });

    it(t('CB-x: a wrong method on the auth routes → 405 with Allow, nothing started'), async () => {
      const { plain } = apps();
      const before = counters();
      for (const [route, method, allow] of [
        ['/auth/login', 'POST', 'GET'],
        ['/auth/login', 'DELETE', 'GET'],
        ['/auth/callback', 'PUT', 'GET, POST'],
        ['/auth/initiate', 'DELETE', 'GET, POST'],
        ['/auth/logout', 'PATCH', 'GET, POST'],
      ] as const) {
        const response = await plain.browser().fetch(`${plain.url(route)}?tenant=acme`, { method, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'tenant=acme' });
        expect(response.headers.get('allow'), `${method} ${route}`).toBe(allow);
        await expectRejected(plain, response, { status: 405, code: 'ERR_OIDC_METHOD_NOT_ALLOWED', before });
      }
    });
  });

  // =====================================================================================
  describe('security catalogue: callback (CB)', () => {
    it(t('CB-01/SA-08: state mismatch → 400, no session, no token call; the login in flight is kept and completes'), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain);
      const before = counters();
      const response = await ctx.callback(b, withQuery(request, (q) => q.set('state', `${q.get('state')}x`)));
      // A state that names no transaction of this browser deletes nothing (SA-08): a forged
      // callback cannot wipe the user's login in flight.
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_STATE_MISMATCH', before, txKept: true });
      expect((await b.fetch(plain.url('/me'), { headers: JSON_ACCEPT })).status).toBe(401);
      expect((await ctx.callback(b, request)).status).toBe(302);
      expect((await b.fetch(plain.url('/me'), { headers: JSON_ACCEPT })).status).toBe(200);
    });

    it(t('IT-13: a hostile ID token with a wrong or missing nonce from /token → 400 ERR_OIDC_NONCE_MISMATCH, no session, nothing after the token call'), async () => {
      const { plain, formPost } = apps();
      for (const app of [plain, formPost]) {
        for (const artefact of ['id-token-nonce-wrong', 'id-token-nonce-missing'] as const) {
          const { b, request } = await pendingCallback(app);
          orgs().acme.control.hostile('token', artefact, { times: 1 });
          try {
            const before = counters();
            const response = await ctx.callback(b, request);
            // The code is redeemed once (that is where the ID token comes from); then only the JWKS may be read.
            const body = await expectRejected(app, response, { status: 400, code: 'ERR_OIDC_NONCE_MISMATCH', before, allow: { token: true, keys: true }, txDeleted: true });
            expect(counters().acme.token - before.acme.token, artefact).toBe(1);
            expect(body).not.toContain(ctx.users.acme.claims['email'] as string);
            expect((await b.fetch(app.url('/me'), { headers: JSON_ACCEPT })).status).toBe(401);
          } finally {
            orgs().acme.control.clearHostile('token');
          }
        }
      }
    });

    it(t('CB-01/FP-04: form_post with a mismatching state → 400, no token call'), async () => {
      const { formPost } = apps();
      const { b, request } = await pendingCallback(formPost);
      const body = new URLSearchParams(request.body);
      body.set('state', 'attacker-state-AAAAAAAAAAAAAAAAAAAAA');
      const before = counters();
      const response = await b.fetch(request.url, form(body));
      await expectRejected(formPost, response, { status: 400, code: 'ERR_OIDC_STATE_MISMATCH', before, txKept: true });
    });

    it(t('CB-02: state absent although one was sent → 400 ERR_OIDC_STATE_MISSING, no token call'), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain);
      const before = counters();
      const response = await ctx.callback(b, withQuery(request, (q) => q.delete('state')));
      // No state names no transaction: none is consumed (SA-08).
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_STATE_MISSING', before, txKept: true });
    });

    it(t('CB-02: an empty state is treated as absent'), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain);
      const before = counters();
      const response = await ctx.callback(b, withQuery(request, (q) => q.set('state', '')));
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_STATE_MISSING', before, txKept: true });
    });

    it(t('CB-03: no transaction cookie → 400, no code exchange'), async () => {
      const { plain } = apps();
      const { request } = await pendingCallback(plain);
      const before = counters();
      const response = await ctx.callback(plain.browser(), request, { jar: new CookieJar() });
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_TRANSACTION_INVALID', before });
    });

    it(t('CB-03: an undecryptable transaction cookie → 400, deleted, no code exchange'), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain);
      for (const [name, value] of b.jar.cookies) if (TX_COOKIE.test(name)) b.jar.cookies.set(name, `${value.slice(0, 20)}A${value.slice(21)}`);
      const before = counters();
      const response = await ctx.callback(b, request);
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_TRANSACTION_INVALID', before, txDeleted: true });
    });

    it(t('CB-03: an expired transaction → 400 ERR_OIDC_TRANSACTION_EXPIRED, no code exchange'), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain);
      const before = counters();
      try {
        ctx.setClockOffset(11 * 60 * 1000); // the transaction lives 10 minutes
        const response = await ctx.callback(b, request);
        await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_TRANSACTION_EXPIRED', before, txDeleted: true });
      } finally {
        ctx.setClockOffset(0);
      }
    });

    it(t('CB-03: a stale callback while signed in goes home without reprocessing'), async () => {
      const { plain } = apps();
      const { b } = await ctx.signIn(plain, 'acme');
      const { request } = await pendingCallback(plain); // another browser's callback, replayed into a signed-in one
      const before = counters();
      const response = await ctx.callback(b, request);
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe('/');
      expect(cookiesSet(response)).toEqual([]);
      expectNoOktaCall(before);
      expect((await b.fetch(plain.url('/me'), { headers: JSON_ACCEPT })).status).toBe(200);
    });

    it(t('CB-04: an unsolicited response (no login started) → 400, no token call'), async () => {
      const { plain } = apps();
      const before = counters();
      const query = new URLSearchParams({ code: 'unsolicited-code', state: 'unsolicited-state-0123456789', iss: orgs().acme.issuer });
      const response = await plain.browser().fetch(`${plain.url('/auth/callback')}?${query}`);
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_TRANSACTION_INVALID', before });
    });

    it(t('CB-06: error=access_denied with a wrong state is a state failure'), async () => {
      const { plain } = apps();
      const b = plain.browser();
      await ctx.login(plain, b, { tenant: 'acme' });
      const before = counters();
      const query = new URLSearchParams({ error: 'access_denied', state: 'WRONG', error_description: XSS });
      const response = await b.fetch(`${plain.url('/auth/callback')}?${query}`);
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_STATE_MISMATCH', before, txKept: true });
    });

    it(t('CB-06: an error response is shown escaped, error_uri is never followed'), async () => {
      const { plain } = apps();
      const b = plain.browser();
      const { authorize } = await ctx.login(plain, b, { tenant: 'acme' });
      const before = counters();
      const query = new URLSearchParams({
        error: `access_denied${XSS}`,
        error_description: `${XSS}<img src=x onerror=alert(1)>`,
        error_uri: 'https://evil.example/phish',
        state: authorize.searchParams.get('state') ?? '',
        iss: orgs().acme.issuer,
      });
      const response = await b.fetch(`${plain.url('/auth/callback')}?${query}`, { headers: { accept: 'text/html' } });
      await expectRejected(plain, response, {
        status: 400,
        code: 'ERR_OIDC_AUTHORIZATION_DENIED',
        before,
        txDeleted: true,
        notReflected: ['<img', 'evil.example'],
      });
    });

    it(t('FP-06: a form_post error response → 400 error page, no token call'), async () => {
      const { formPost } = apps();
      const b = formPost.browser();
      const { authorize } = await ctx.login(formPost, b, { tenant: 'acme' });
      const before = counters();
      const body = { error: 'login_required', error_description: XSS, state: authorize.searchParams.get('state') ?? '', iss: orgs().acme.issuer };
      const response = await b.fetch(formPost.url('/auth/callback'), form(body));
      await expectRejected(formPost, response, { status: 400, code: 'ERR_OIDC_AUTHORIZATION_DENIED', before, txDeleted: true });
    });

    it(t('CB-07: iss of another org, or with a trailing slash → 400 ERR_OIDC_ISSUER_MISMATCH, no token call'), async () => {
      const { plain } = apps();
      for (const iss of [orgs().globex.issuer, `${orgs().acme.issuer}/`, orgs().acme.issuer.replace('127.0.0.1', 'localhost')]) {
        const { b, request } = await pendingCallback(plain);
        const before = counters();
        const response = await ctx.callback(b, withQuery(request, (q) => q.set('iss', iss)));
        await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_ISSUER_MISMATCH', before, txDeleted: true });
      }
    });

    it(t('CB-07: iss absent while the metadata advertises authorization_response_iss_parameter_supported → 400, no token call'), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain);
      const before = counters();
      const response = await ctx.callback(b, withQuery(request, (q) => q.delete('iss')));
      // Reading the (cached) discovery document is the check itself; nothing after it.
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_ISSUER_MISMATCH', before, allow: { discovery: true }, txDeleted: true });
    });

    it(t('CB-08/TK-01: a replayed callback never makes a second token request'), async () => {
      const { plain } = apps();
      const { request, response, beforeCallback } = await ctx.signIn(plain, 'acme');
      expect(response.status).toBe(302);
      // Without a session, with the consumed browser state: REJECT-CB and no Okta call at all.
      const before = counters();
      const fresh = await ctx.callback(plain.browser(), request, { jar: new CookieJar() });
      await expectRejected(plain, fresh, { status: 400, code: 'ERR_OIDC_TRANSACTION_INVALID', before });
      // With the transaction cookie kept by an attacker: Okta refuses the used code (one token call, invalid_grant).
      const kept = await ctx.callback(plain.browser(), request, { jar: beforeCallback.clone() });
      await expectRejected(plain, kept, { status: 400, code: 'ERR_OIDC_TOKEN_ENDPOINT_ERROR', txDeleted: true });
    });

    it(t('CB-10: implicit/hybrid/JARM artefacts on a code callback → 400, no token call'), async () => {
      const { plain } = apps();
      for (const name of ['id_token', 'access_token', 'token', 'response']) {
        const { b, request } = await pendingCallback(plain);
        const before = counters();
        const response = await ctx.callback(b, withQuery(request, (q) => q.set(name, 'eyJhbGciOiJub25lIn0.e30.')));
        await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_CALLBACK_INVALID', before, txDeleted: true });
      }
    });

    it(t('CB-x: the code missing → 400 ERR_OIDC_CALLBACK_INVALID, no token call'), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain);
      const before = counters();
      const response = await ctx.callback(b, withQuery(request, (q) => q.delete('code')));
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_CALLBACK_INVALID', before, txDeleted: true });
    });

    it(t('CB-x: a duplicated parameter in the query → 400 ERR_OIDC_DUPLICATE_PARAMETER, no token call'), async () => {
      const { plain } = apps();
      for (const name of ['code', 'state', 'iss']) {
        const { b, request } = await pendingCallback(plain);
        const before = counters();
        const response = await ctx.callback(b, withQuery(request, (q) => q.append(name, q.get(name) ?? 'x')));
        // A request that does not parse consumes nothing (SA-08).
        await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_DUPLICATE_PARAMETER', before, txKept: true });
      }
    });

    it(t('CB-x: a parameter in both the query and the body → 400, no token call'), async () => {
      const { formPost } = apps();
      const { b, request } = await pendingCallback(formPost);
      const body = new URLSearchParams(request.body);
      const url = new URL(request.url);
      url.searchParams.set('code', 'attacker-code');
      const before = counters();
      const response = await b.fetch(url, form(body));
      await expectRejected(formPost, response, { status: 400, code: 'ERR_OIDC_DUPLICATE_PARAMETER', before, txKept: true });
    });

    it(t('CB-13: a GET callback when form_post was requested → 400, no token call'), async () => {
      const { formPost } = apps();
      const { b, request } = await pendingCallback(formPost);
      expect(request.method).toBe('POST');
      const url = new URL(request.url);
      url.search = request.body ?? '';
      const before = counters();
      const response = await b.fetch(url);
      await expectRejected(formPost, response, { status: 400, code: 'ERR_OIDC_CALLBACK_INVALID', before, txDeleted: true });
    });

    it(t('CB-13: a POST callback when query was requested → 400, no token call'), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain);
      expect(request.method).toBe('GET');
      const url = new URL(request.url);
      const body = url.searchParams.toString();
      url.search = '';
      const before = counters();
      const response = await b.fetch(url, form(body));
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_CALLBACK_INVALID', before, txDeleted: true });
    });

    it(t('CB-13: a POST callback that is not urlencoded → 415, no token call'), async () => {
      const { formPost } = apps();
      const { b, request } = await pendingCallback(formPost);
      const before = counters();
      const json = JSON.stringify(Object.fromEntries(new URLSearchParams(request.body)));
      const response = await b.fetch(request.url, { method: 'POST', body: json, headers: { 'content-type': 'application/json' } });
      await expectRejected(formPost, response, { status: 415, code: 'ERR_OIDC_CALLBACK_INVALID', before, txKept: true });
    });

    it(t('DS-01: an oversized callback body → 413, no session, the app keeps serving'), async () => {
      const { formPost } = apps();
      const { b, request } = await pendingCallback(formPost);
      const body = new URLSearchParams(request.body);
      body.set('padding', 'p'.repeat(300 * 1024));
      const before = counters();
      const response = await b.fetch(request.url, form(body));
      await expectRejected(formPost, response, { status: 413, code: /ERR_OIDC_PAYLOAD_TOO_LARGE|Payload Too Large|too large/i, before });
    });

    it(t('DS-01: a 20 KB posted id_token → 413 before any decode or key fetch'), async () => {
      const { plain } = apps();
      const before = counters();
      const response = await plain.browser().fetch(plain.url('/auth/callback'), form({ id_token: `eyJ${'A'.repeat(20 * 1024)}.e30.sig` }));
      await expectRejected(plain, response, { status: 413, code: 'ERR_OIDC_PAYLOAD_TOO_LARGE', before });
    });

    it(t('DS-01: an oversized initiate POST → 413'), async () => {
      const { plain } = apps();
      const before = counters();
      const response = await plain.browser().fetch(plain.url('/auth/initiate'), form({ iss: orgs().globex.issuer, padding: 'p'.repeat(200 * 1024) }));
      await expectRejected(plain, response, { status: 413, code: /ERR_OIDC_PAYLOAD_TOO_LARGE|Payload Too Large|too large/i, before });
    });
  });

  // =====================================================================================
  describe('security catalogue: initiate login (TP)', () => {
    it(t('TP-01/SA-18: an unknown iss → 404 ERR_OIDC_TENANT_UNKNOWN with no discovery or JWKS fetch anywhere'), async () => {
      const { plain } = apps();
      const before = counters();
      for (const iss of ['https://attacker.example', `${orgs().acme.issuer}/`, `${orgs().acme.issuer}/oauth2/default`]) {
        const response = await plain.browser().fetch(`${plain.url('/auth/initiate')}?${new URLSearchParams({ iss })}`);
        await expectRejected(plain, response, { status: 404, code: 'ERR_OIDC_TENANT_UNKNOWN', before });
      }
    });

    it(t('TP-02: a non-https iss, or none → 400 ERR_OIDC_INVALID_REQUEST'), async () => {
      const { plain } = apps();
      const before = counters();
      for (const query of [`iss=${encodeURIComponent('http://acme.okta.com')}`, `iss=${encodeURIComponent(`javascript:${XSS}`)}`, '']) {
        const response = await plain.browser().fetch(`${plain.url('/auth/initiate')}?${query}`);
        await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_INVALID_REQUEST', before });
      }
    });

    it(t('TP-x: an org with several app instances needs the tenant parameter → 404 ERR_OIDC_TENANT_UNKNOWN, like an unknown iss (SA-18)'), async () => {
      const { plain } = apps();
      const before = counters();
      const response = await plain.browser().fetch(`${plain.url('/auth/initiate')}?${new URLSearchParams({ iss: orgs().acme.issuer })}`);
      await expectRejected(plain, response, { status: 404, code: 'ERR_OIDC_TENANT_UNKNOWN', before });
      const foreign = await plain.browser().fetch(`${plain.url('/auth/initiate')}?${new URLSearchParams({ iss: orgs().acme.issuer, tenant: 'globex' })}`);
      await expectRejected(plain, foreign, { status: 404, code: 'ERR_OIDC_TENANT_UNKNOWN', before });
    });

    it(t('TP-04/TP-05: off-site target_link_uri payloads are never followed'), async () => {
      const { plain } = apps();
      const candidates = [
        'https://evil.example/x',
        ...OPEN_REDIRECT_PAYLOADS,
        // Absolute URLs on this origin whose path is itself a payload.
        ...['//evil.com', '/\\evil.com', '/%2F%2Fevil.com', '/%5Cevil.com', '/%09/evil.com', '/.//evil.com'].map((p) => `${plain.origin}${p}`),
      ];
      for (const target of candidates) {
        const b = plain.browser();
        const initiated = await b.fetch(`${plain.url('/auth/initiate')}?${new URLSearchParams({ iss: orgs().globex.issuer, target_link_uri: target })}`);
        expect(initiated.status, target).toBe(302);
        const done = await ctx.callback(b, await driveAuthorization(initiated.headers.get('location') ?? ''));
        expect(done.status, target).toBe(302);
        const location = done.headers.get('location') ?? '';
        expect(offSite(location, plain.origin), `${target} → ${location}`).toBe(false);
        expect(location).not.toMatch(/evil\.com|evil\.example|javascript:|data:|[\r\n]/i);
      }
    });

    it(t('TP-06: login_hint with markup or CRLF is never reflected raw'), async () => {
      const { plain } = apps();
      const hint = `"><script>alert(1)</script>\r\nSet-Cookie: x=y`;
      const response = await plain.browser().fetch(`${plain.url('/auth/initiate')}?${new URLSearchParams({ iss: orgs().globex.issuer, login_hint: hint })}`);
      expect(response.status).toBe(302);
      const location = response.headers.get('location') ?? '';
      expect(location).not.toMatch(/[<>"\r\n ]/);
      expect(new URL(location).searchParams.get('login_hint')).toBeNull(); // control characters: dropped
      expect(setCookiesOf(response).some((c) => c.name === 'x')).toBe(false);
    });

    it(t("TP-07/FP-01/SA-13: initiate by GET and by a cross-site auto-POST form from Okta both start a login and complete (over another tenant's session once confirmed); the POST changes nothing else"), async () => {
      const { plain } = apps();
      const issuer = orgs().globex.issuer;
      const params = { iss: issuer, target_link_uri: plain.url('/dashboard') };
      // What Okta's auto-submitting page sends from the Okta origin (OIDC Core §4: GET or an auto-submitted form POST).
      const crossSite = { origin: issuer, referer: `${issuer}/`, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
      for (const method of ['GET', 'POST'] as const) {
        // Signed in already (tenant acme): initiation must only add a transaction, never touch the session.
        const { b } = await ctx.signIn(plain, 'acme');
        const before = counters();
        const response =
          method === 'GET'
            ? await b.fetch(`${plain.url('/auth/initiate')}?${new URLSearchParams(params)}`, { headers: crossSite })
            : await b.fetch(plain.url('/auth/initiate'), urlencodedPost(new URLSearchParams(params).toString(), crossSite));
        expect(response.status, method).toBe(302);
        expect(response.headers.get('cache-control') ?? '', method).toMatch(/no-store/);
        const authorize = new URL(response.headers.get('location') ?? '');
        expect(`${authorize.origin}${authorize.pathname}`, method).toBe(`${issuer}/oauth2/v1/authorize`);
        expect(authorize.searchParams.get('client_id'), method).toBe(ctx.clients.globex.clientId);
        // Only a transaction cookie is set; the session cookies are neither set nor deleted.
        const touched = setCookiesOf(response);
        expect(touched.filter((c) => !c.deletes).map((c) => c.name).every((name) => TX_COOKIE.test(name)), method).toBe(true);
        expect(touched.filter((c) => !c.deletes).length, method).toBeGreaterThan(0);
        expect(touched.filter((c) => SESSION_COOKIE.test(c.name)), method).toEqual([]);
        expectNoOktaCall(before);
        expect((await b.fetch(`${plain.url('/me')}?tenant=acme`, { headers: JSON_ACCEPT })).status, method).toBe(200);
        // The started login completes (the browser comes back with the transaction cookie). It would
        // replace the acme session with a globex one: only after the app's own page confirms (SA-13).
        const held = await ctx.callback(b, await driveAuthorization(authorize));
        expect(held.status, method).toBe(409);
        expect(cookiesSet(held).filter((c) => SESSION_COOKIE.test(c.name)), method).toEqual([]);
        const done = await answerSwitch(b, plain.origin, held, 'continue');
        expect(done.status, method).toBe(302);
        expect(new URL(done.headers.get('location') ?? '', plain.origin).pathname, method).toBe('/dashboard');
        const me = (await (await b.fetch(`${plain.url('/me')}?tenant=globex`, { headers: JSON_ACCEPT })).json()) as { tenant: string };
        expect(me.tenant, method).toBe('globex');
      }
      // FP-01: the form_post callback arrives the same way, a cross-site auto-POST from the Okta origin.
      const { formPost } = apps();
      const fb = formPost.browser();
      const { authorize } = await ctx.login(formPost, fb, { tenant: 'acme' });
      const request = await driveAuthorization(authorize);
      expect(request.method).toBe('POST');
      const okta = orgs().acme.issuer;
      const done = await ctx.callback(fb, request, { headers: { ...crossSite, origin: okta, referer: `${okta}/` } });
      expect(done.status).toBe(302);
      expect(cookiesSet(done).filter((c) => SESSION_COOKIE.test(c.name)).length).toBeGreaterThan(0);
    });

    it(t("TP-09/SA-13: initiate while signed in to another tenant starts a fresh transaction and replaces the session once the app's own page confirms"), async () => {
      const { plain } = apps();
      const { b } = await ctx.signIn(plain, 'acme');
      const initiated = await b.fetch(`${plain.url('/auth/initiate')}?${new URLSearchParams({ iss: orgs().globex.issuer })}`);
      expect(initiated.status).toBe(302);
      expect(new URL(initiated.headers.get('location') ?? '').origin).toBe(orgs().globex.issuer);
      const held = await ctx.callback(b, await driveAuthorization(initiated.headers.get('location') ?? ''));
      // Not replaced silently (SA-13): the acme session holds until the switch is confirmed.
      expect(held.status).toBe(409);
      expect((await b.fetch(`${plain.url('/me')}?tenant=acme`, { headers: JSON_ACCEPT })).status).toBe(200);
      const done = await answerSwitch(b, plain.origin, held, 'continue');
      expect(done.status).toBe(302);
      const me = (await (await b.fetch(`${plain.url('/me')}?tenant=globex`, { headers: JSON_ACCEPT })).json()) as { tenant: string; claims: Record<string, unknown> };
      expect(me.tenant).toBe('globex');
      expect(me.claims['email']).toBe(ctx.users.globex.claims['email']);
      expect((await b.fetch(`${plain.url('/me')}?tenant=acme`, { headers: JSON_ACCEPT })).status).toBe(401);
    });
  });

  // =====================================================================================
  describe('security catalogue: Okta simplified flow (FP)', () => {
    /** What Okta's auto-submitting page posts: from the org's origin (`Origin` is required, SA-04). */
    async function post(app: App, idToken: string, query = '', origin = orgs().globex.issuer) {
      return app.browser().fetch(`${app.url('/auth/callback')}${query}`, urlencodedPost(new URLSearchParams({ id_token: idToken }).toString(), { origin }));
    }

    it(t('FP-03: disabled for the tenant → 400 ERR_OIDC_SIMPLIFIED_FLOW_DISABLED, no token call'), async () => {
      const { plain } = apps();
      const { fields } = await orgs().acme.control.simplifiedSignIn(ctx.clients.acme.clientId);
      const before = counters();
      const response = await post(plain, fields.id_token, '', orgs().acme.issuer);
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_SIMPLIFIED_FLOW_DISABLED', before, allow: { keys: true } });
    });

    it(t('FP-07: a replayed posted ID token → 400 ERR_OIDC_ID_TOKEN_REPLAYED'), async () => {
      const { plain } = apps();
      const { fields } = await orgs().globex.control.simplifiedSignIn(ctx.clients.globex.clientId);
      expect((await post(plain, fields.id_token)).status).toBe(302);
      const before = counters();
      const replay = await post(plain, fields.id_token);
      await expectRejected(plain, replay, { status: 400, code: 'ERR_OIDC_ID_TOKEN_REPLAYED', before, allow: { keys: true } });
    });

    it(t('FP-03/IT-01/IT-02/IT-16: a forged posted ID token (bad signature, edited payload, alg none, malformed) → 400, no session'), async () => {
      const { plain } = apps();
      const token = await orgs().globex.control.issueIdToken(ctx.clients.globex.clientId);
      const [header = '', payload = '', signature = ''] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const edited = Buffer.from(JSON.stringify({ ...claims, sub: '00uATTACKER' })).toString('base64url');
      const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
      for (const forged of [`${header}.${payload}.${flipped}`, `${header}.${edited}.${signature}`, `${none}.${payload}.`, `${header}.${payload}`, 'not-a-jwt']) {
        const before = counters();
        const response = await post(plain, forged);
        await expectRejected(plain, response, { status: 400, code: /ERR_OIDC_(ID_TOKEN_INVALID|CALLBACK_INVALID|JWKS_NO_MATCHING_KEY)/, before, allow: { keys: true } });
      }
    });

    it(t('FP-03/IT-05/IT-07/IT-08/IT-10/IT-11/IT-12: wrong iss, aud, aud array, expired, stale, future or subject-less posted ID tokens → 4xx'), async () => {
      const { plain } = apps();
      const now = Math.floor(Date.now() / 1000);
      // The tenant is found from iss + aud: a token naming no configured app instance is refused like any
      // invalid token (400 ID_TOKEN_INVALID, SA-18), so posts cannot tell which orgs are customers.
      const cases: [Record<string, unknown>, number, RegExp][] = [
        [{ aud: 'someone-else' }, 400, /ERR_OIDC_ID_TOKEN_INVALID/],
        [{ aud: [ctx.clients.globex.clientId, 'other-client'] }, 400, /ERR_OIDC_(ID_TOKEN_INVALID|TENANT_AMBIGUOUS)/],
        [{ iss: `${orgs().globex.issuer}/` }, 400, /ERR_OIDC_ID_TOKEN_INVALID/],
        [{ exp: now - 3600, iat: now - 7200, auth_time: now - 7200 }, 400, /ERR_OIDC_ID_TOKEN_(EXPIRED|INVALID)/],
        [{ iat: now - 3 * 3600, exp: now + 3600 }, 400, /ERR_OIDC_ID_TOKEN_(EXPIRED|INVALID)/],
        [{ iat: now + 3600, exp: now + 7200 }, 400, /ERR_OIDC_ID_TOKEN_(EXPIRED|INVALID)/],
        [{ nonce: undefined, sub: '' }, 400, /ERR_OIDC_ID_TOKEN_INVALID/],
      ];
      for (const [claims, status, code] of cases) {
        const token = await orgs().globex.control.issueIdToken(ctx.clients.globex.clientId, { claims });
        const before = counters();
        const response = await post(plain, token);
        await expectRejected(plain, response, { status, code, before, allow: { keys: true } });
      }
    });

    it(t("MT-01: an ID token of tenant A posted to tenant B's callback → 400, no session"), async () => {
      const { plain } = apps();
      const token = await orgs().globex.control.issueIdToken(ctx.clients.globex.clientId);
      const before = counters();
      const response = await post(plain, token, '?tenant=acme');
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_ISSUER_MISMATCH', before, allow: { keys: true } });
    });
  });

  // =====================================================================================
  describe('security catalogue: logout (LO)', () => {
    it(t('LO-01: logout deletes every session cookie (same name and Path, no Domain, Max-Age=0) in the response that redirects to Okta'), async () => {
      const { plain } = apps();
      const { b, response: signedIn } = await ctx.signIn(plain, 'acme');
      const set = cookiesSet(signedIn).filter((c) => SESSION_COOKIE.test(c.name));
      expect(set.length).toBeGreaterThan(0);
      const before = counters();
      // The app's own sign-out link: only a same-origin logout goes on to Okta (SA-06).
      const response = await b.fetch(plain.url('/auth/logout'), { headers: sameOriginHeaders(plain.origin) });
      expect(response.status).toBe(302);
      expect(response.headers.get('cache-control') ?? '').toMatch(/no-store/);
      const target = new URL(response.headers.get('location') ?? '');
      expect(`${target.origin}${target.pathname}`).toBe(`${orgs().acme.issuer}/oauth2/v1/logout`);
      expect(target.searchParams.get('id_token_hint')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      // The same response clears local state (catalogue LO-01: before the browser reaches Okta).
      const deleted = setCookiesOf(response).filter((c) => c.deletes && SESSION_COOKIE.test(c.name));
      for (const cookie of set) {
        const deletion = deleted.find((d) => d.name === cookie.name);
        expect(deletion, `${cookie.name} is deleted`).toBeDefined();
        expect(deletion?.value).toBe('');
        expect(deletion?.attributes['max-age']).toBe('0');
        expect(deletion?.attributes['path']).toBe(cookie.attributes['path']);
        expect(deletion?.attributes).not.toHaveProperty('domain');
      }
      expect(cookiesSet(response)).toEqual([]);
      // Logging out is local plus a front-channel redirect: no back-channel call to Okta.
      expectNoOktaCall(before);
      expect([...b.jar.cookies.keys()].filter((name) => SESSION_COOKIE.test(name))).toEqual([]);
      expect((await b.fetch(plain.url('/me'), { headers: JSON_ACCEPT })).status).toBe(401);
      await expectServing(plain);
    });

    it(t('LO-03: a foreign post_logout_redirect_uri is ignored; only the registered one is sent'), async () => {
      const { plain } = apps();
      const { b } = await ctx.signIn(plain, 'acme');
      const query = new URLSearchParams({ post_logout_redirect_uri: 'https://evil.example/', returnTo: '//evil.com' });
      const response = await b.fetch(`${plain.url('/auth/logout')}?${query}`, { headers: sameOriginHeaders(plain.origin) });
      expect(response.status).toBe(302);
      expect(response.headers.get('cache-control') ?? '').toMatch(/no-store/);
      const target = new URL(response.headers.get('location') ?? '');
      expect(`${target.origin}${target.pathname}`).toBe(`${orgs().acme.issuer}/oauth2/v1/logout`);
      expect(target.searchParams.getAll('post_logout_redirect_uri')).toEqual([plain.url('/')]);
      expect(target.href).not.toContain('evil');
      // LO-01: the local session is gone before the browser reaches Okta.
      expect(setCookiesOf(response).some((c) => c.deletes && SESSION_COOKIE.test(c.name))).toBe(true);
      expect(cookiesSet(response)).toEqual([]);
      expect((await b.fetch(plain.url('/me'), { headers: JSON_ACCEPT })).status).toBe(401);
    });

    it(t('LO-04: logout when not signed in goes home, ignores redirect payloads and calls no Okta endpoint'), async () => {
      const { plain } = apps();
      const before = counters();
      for (const payload of ['https://evil.example/', '//evil.com', 'javascript:alert(1)']) {
        const query = new URLSearchParams({ post_logout_redirect_uri: payload, returnTo: payload });
        for (const init of [{}, form(query)]) {
          const response = await plain.browser().fetch(`${plain.url('/auth/logout')}?${query}`, init);
          expect(response.status).toBe(302);
          expect(response.headers.get('location')).toBe('/');
          expect(response.headers.get('cache-control') ?? '').toMatch(/no-store/);
          expect(cookiesSet(response)).toEqual([]);
        }
      }
      expectNoOktaCall(before);
      await expectServing(plain);
    });

    it(t('LO-05: the post-logout landing with another state or none is a plain page, not an auth event'), async () => {
      const { plain } = apps();
      for (const query of ['?state=forged-state', '', '?state=<script>']) {
        const response = await plain.browser().fetch(`${plain.url('/')}${query}`);
        expect(response.status).toBe(200);
        expect(cookiesSet(response)).toEqual([]);
      }
    });
  });

  // =====================================================================================
  describe('security catalogue: error pages (LG)', () => {
    it(t('LG-03: error pages and JSON errors name the code and the correlation id onError received; no token, claim, upstream body or internal detail'), async () => {
      const INTERNAL = 'db-host-10.9.8.7-password-hunter2';
      const UPSTREAM = 'UPSTREAM-BODY-MARKER-stack-trace';
      const reported: { route: string; correlationId: string }[] = [];
      const app = await ctx.start('', false, {
        onError: (_error, context) => {
          reported.push(context);
        },
        // An app-supplied resolver that fails with an internal message: the page must not show it.
        tenant: (req) => {
          const id = req.url.searchParams.get('tenant') ?? undefined;
          if (id === 'explode') throw new Error(`tenant lookup failed: ${INTERNAL}`);
          return id;
        },
      });
      const org = await startOktaOrg({
        name: 'lg',
        clients: [{ ...ctx.clients.acme, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [app.url('/auth/callback')], postLogoutRedirectUris: [app.url('/')] }],
        users: [ctx.users.acme],
      });
      const reference = (body: string) => /Reference: <code>([^<]*)<\/code>/.exec(body)?.[1];
      const seen = new Set<string>();
      /** The page's (or JSON's) correlation id is opaque, fresh, and the one onError got for this route. */
      const expectCorrelated = (id: string | undefined, route: string) => {
        expect(id).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
        expect(reported.at(-1)).toEqual({ route, correlationId: id });
        expect(seen.has(id ?? '')).toBe(false);
        seen.add(id ?? '');
      };
      try {
        await app.store.put(ctx.record(app, 'acme', org.issuer));
        const pending = async () => {
          const b = app.browser();
          const { authorize } = await ctx.login(app, b, { tenant: 'acme' });
          return { b, request: await driveAuthorization(authorize) };
        };

        // 1. A forged ID token (wrong nonce) at the callback: 400, HTML.
        {
          const { b, request } = await pending();
          org.control.hostile('token', 'id-token-nonce-wrong', { times: 1 });
          const response = await ctx.callback(b, request);
          const body = await expectRejected(app, response, { status: 400, code: 'ERR_OIDC_NONCE_MISMATCH', txDeleted: true });
          expectCorrelated(reference(body), 'callback');
          const q = request.method === 'GET' ? request.url.searchParams : new URLSearchParams(request.body);
          for (const secret of [q.get('code'), q.get('state'), ctx.users.acme.claims['email'], ctx.users.acme.claims['name'], ctx.clients.acme.clientSecret]) {
            expect(body).not.toContain(String(secret));
          }
          expect(body).not.toMatch(/eyJ[\w-]+\./); // no JWT of any kind
        }

        // 2. Okta's /token fails with a detailed body: the page says Okta failed, never what it said.
        {
          const { b, request } = await pending();
          org.control.fault('token', { type: 'status', status: 500, body: JSON.stringify({ error: 'server_error', error_description: UPSTREAM }) }, { times: 1 });
          const response = await ctx.callback(b, request);
          const body = await expectRejected(app, response, { status: response.status === 503 ? 503 : 502, code: /ERR_OIDC_(UNAVAILABLE|HTTP_ERROR|TOKEN_ENDPOINT_ERROR)/, txDeleted: true });
          expect(body).not.toContain(UPSTREAM);
          expect(body).not.toContain('server_error');
          expectCorrelated(reference(body), 'callback');
        }

        // 3. A non-OidcError from app code: a generic 500 with no detail at all, HTML and JSON.
        {
          const html = await app.browser().fetch(`${app.url('/auth/login')}?tenant=explode`, { headers: { accept: 'text/html' } });
          const body = await expectRejected(app, html, { status: 500, code: 'An unexpected error occurred.', notReflected: [INTERNAL, 'tenant lookup failed', 'Error:', ' at '] });
          expectCorrelated(reference(body), 'login');
          const json = await app.browser().fetch(`${app.url('/auth/login')}?tenant=explode`, { headers: JSON_ACCEPT });
          const payload = JSON.parse(await expectRejected(app, json, { status: 500, code: 'internal_error', notReflected: [INTERNAL, 'tenant lookup failed'] })) as Record<string, unknown>;
          expect(Object.keys(payload).sort()).toEqual(['correlationId', 'error', 'message']);
          expectCorrelated(payload['correlationId'] as string, 'login');
        }

        // 4. A JSON client of a browser route gets the same shape for a typed error.
        {
          const { b, request } = await pending();
          const url = new URL(request.url);
          url.searchParams.set('state', 'forged-state');
          const init = request.method === 'GET' ? { headers: JSON_ACCEPT } : urlencodedPost(request.body ?? '', JSON_ACCEPT);
          const response = await b.fetch(request.method === 'GET' ? url : request.url, init);
          const payload = JSON.parse(await expectRejected(app, response, { status: 400, code: /ERR_OIDC_STATE_(MISMATCH|MISSING)/, txKept: true })) as Record<string, unknown>;
          expect(Object.keys(payload).sort()).toEqual(['correlationId', 'error', 'message']);
          expect(String(payload['message'])).not.toContain('forged-state');
          expectCorrelated(payload['correlationId'] as string, 'callback');
        }
      } finally {
        await Promise.allSettled([app.mounted.close(), org.close()]);
      }
    });
  });

  // =====================================================================================
  describe('security catalogue: cookies and sessions (CK)', () => {
    async function meJson(b: Browser, app: App, tenant?: string) {
      return b.fetch(`${app.url('/me')}${tenant ? `?tenant=${tenant}` : ''}`, { headers: JSON_ACCEPT });
    }

    /** A session cookie that is refused: treated as signed out (401 JSON / 302 to login), never a 500, and deleted. */
    async function expectSignedOut(app: App, jar: CookieJar, label: string) {
      const json = await app.browser(jar.clone()).fetch(app.url('/me'), { headers: JSON_ACCEPT });
      expect(json.status, label).toBe(401);
      expect(((await json.json()) as { error: string }).error, label).toMatch(/^ERR_OIDC_SESSION_(MISSING|INVALID|EXPIRED)$/);
      expect(cookiesSet(json).filter((c) => SESSION_COOKIE.test(c.name)), label).toEqual([]);
      const page = await app.browser(jar.clone()).fetch(app.url('/me'), { headers: { accept: 'text/html' } });
      expect(page.status, label).toBe(302);
      expect(new URL(page.headers.get('location') ?? '', app.origin).pathname, label).toBe(`${app.base}/auth/login`);
      const home = await app.browser(jar.clone()).fetch(app.url('/'));
      expect(home.status, label).toBe(200);
      return json;
    }

    it(t('CK-01: a planted session cookie is never authenticated, and sign-in issues a new value'), async () => {
      const { plain } = apps();
      const b = plain.browser();
      b.jar.cookies.set('oin_session', 'planted-by-attacker');
      await expectSignedOut(plain, b.jar, 'planted');
      const { authorize } = await ctx.login(plain, b, { tenant: 'acme' });
      const response = await ctx.callback(b, await driveAuthorization(authorize));
      expect(response.status).toBe(302);
      const session = cookiesSet(response).find((c) => SESSION_COOKIE.test(c.name));
      expect(session?.value).toBeDefined();
      expect(session?.value).not.toBe('planted-by-attacker');
      expect((await meJson(b, plain)).status).toBe(200);
    });

    it(t('CK-02/SA-13: a login over another user’s session replaces it entirely, once the app’s own page confirms'), async () => {
      const { plain } = apps();
      const { b } = await ctx.signIn(plain, 'acme');
      const { authorize } = await ctx.login(plain, b, { tenant: 'globex' });
      const held = await ctx.callback(b, await driveAuthorization(authorize));
      expect(held.status).toBe(409);
      expect((await answerSwitch(b, plain.origin, held, 'continue')).status).toBe(302);
      const me = (await (await meJson(b, plain, 'globex')).json()) as { tenant: string; claims: Record<string, unknown> };
      expect(me.tenant).toBe('globex');
      expect(me.claims['email']).toBe(ctx.users.globex.claims['email']);
      expect(JSON.stringify(me)).not.toContain(String(ctx.users.acme.claims['email']));
    });

    it(t('CK-03: a transaction cookie value in the session cookie is refused (purpose separation)'), async () => {
      const { plain } = apps();
      const b = plain.browser();
      await ctx.login(plain, b, { tenant: 'acme' });
      const tx = [...b.jar.cookies].find(([name]) => TX_COOKIE.test(name));
      expect(tx).toBeDefined();
      const jar = new CookieJar();
      jar.cookies.set('oin_session', tx?.[1] ?? '');
      await expectSignedOut(plain, jar, 'transaction as session');
      // … and a session value in a transaction cookie cannot complete a callback.
      const { b: signedIn } = await ctx.signIn(plain, 'acme');
      const sessionValue = [...signedIn.jar.cookies].find(([name]) => SESSION_COOKIE.test(name))?.[1] ?? '';
      const { b: other, request } = await pendingCallback(plain);
      for (const [name] of other.jar.cookies) if (TX_COOKIE.test(name)) other.jar.cookies.set(name, sessionValue);
      const before = counters();
      const response = await ctx.callback(other, request);
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_TRANSACTION_INVALID', before, txDeleted: true });
    });

    it(t('CK-04: tampered, truncated, re-padded, foreign or missing-chunk session cookies → signed out, never 500'), async () => {
      const { plain } = apps();
      const { b } = await ctx.signIn(plain, 'acme');
      const [name, value] = [...b.jar.cookies].find(([n]) => SESSION_COOKIE.test(n)) ?? ['', ''];
      expect(value.length).toBeGreaterThan(20);
      const variants: Record<string, string> = {
        'bit flip': `${value.slice(0, 30)}${value[30] === 'A' ? 'B' : 'A'}${value.slice(31)}`,
        truncated: value.slice(0, -10),
        'tail changed': `${value.slice(0, -4)}AAAA`,
        'base64 padding': `${value}==`,
        'empty': '',
        'garbage': '%%%not-a-cookie%%%',
        'huge': 'A'.repeat(3500),
        'another secret': 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA',
      };
      for (const [label, tampered] of Object.entries(variants)) {
        const jar = new CookieJar();
        jar.cookies.set(name, tampered);
        await expectSignedOut(plain, jar, label);
      }
      // A chunked (large) session with one chunk missing.
      const large = plain.browser();
      const { authorize } = await ctx.login(plain, large, { tenant: 'globex', login_hint: ctx.users.large.login });
      expect((await ctx.callback(large, await driveAuthorization(authorize, { login: ctx.users.large.login, password: ctx.users.large.password }))).status).toBe(302);
      const chunks = [...large.jar.cookies.keys()].filter((n) => SESSION_COOKIE.test(n));
      expect(chunks.length).toBeGreaterThanOrEqual(2);
      const jar = large.jar.clone();
      jar.cookies.delete(chunks[chunks.length - 1] ?? '');
      await expectSignedOut(plain, jar, 'missing chunk');
    });

    it(t('CK-05/FP-01/SA-08: session cookie attributes: HttpOnly, SameSite=Lax, Path=/, host-only; Secure and __Host- on https via a trusted proxy; transaction cookies SameSite=None only for form_post'), async () => {
      const { plain, proxied } = apps();
      const { response } = await ctx.signIn(plain, 'acme');
      const session = cookiesSet(response).filter((c) => SESSION_COOKIE.test(c.name));
      expect(session.length).toBeGreaterThan(0);
      for (const cookie of session) {
        expect(cookie.attributes).toHaveProperty('httponly');
        expect(cookie.attributes['samesite']?.toLowerCase()).toBe('lax');
        expect(cookie.attributes['path']).toBe('/');
        expect(cookie.attributes).not.toHaveProperty('domain');
        expect(cookie.attributes).not.toHaveProperty('secure'); // plain http on loopback: browsers refuse Secure
      }
      // https, as seen through a trusted proxy.
      const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example' };
      const b = proxied.browser();
      const login = await b.fetch(`${proxied.url('/auth/login')}?tenant=acme`, { headers: forwarded });
      expect(login.status).toBe(302);
      // A query-mode callback is a top-level GET, which carries Lax cookies: the transaction needs no
      // SameSite=None (SA-08), so a cross-site subresource can neither send nor plant it.
      expect(cookiesSet(login).length).toBeGreaterThan(0);
      for (const cookie of cookiesSet(login)) {
        expect(cookie.name).toMatch(/^__Host-oin_tx_/);
        expect(cookie.attributes).toHaveProperty('secure');
        expect(cookie.attributes).toHaveProperty('httponly');
        expect(cookie.attributes['samesite']?.toLowerCase()).toBe('lax');
        expect(cookie.attributes['path']).toBe('/');
        expect(cookie.attributes).not.toHaveProperty('domain');
      }
      // FP-01: a form_post transaction must survive Okta's cross-site POST: SameSite=None; Secure.
      const formPostProxied = await ctx.start('', true, { responseMode: 'form_post' });
      try {
        await formPostProxied.store.put(ctx.record(formPostProxied, 'acme', orgs().acme.issuer));
        const started = await formPostProxied.browser().fetch(`${formPostProxied.url('/auth/login')}?tenant=acme`, { headers: forwarded });
        expect(started.status).toBe(302);
        expect(new URL(started.headers.get('location') ?? '').searchParams.get('response_mode')).toBe('form_post');
        expect(cookiesSet(started).length).toBeGreaterThan(0);
        for (const cookie of cookiesSet(started)) {
          expect(cookie.name).toMatch(/^__Host-oin_tx_/);
          expect(cookie.attributes).toHaveProperty('secure');
          expect(cookie.attributes).toHaveProperty('httponly');
          expect(cookie.attributes['samesite']?.toLowerCase()).toBe('none');
          expect(cookie.attributes['path']).toBe('/');
          expect(cookie.attributes).not.toHaveProperty('domain');
        }
      } finally {
        await formPostProxied.mounted.close();
      }
      const done = await ctx.callback(b, await driveAuthorization(login.headers.get('location') ?? ''), { headers: forwarded });
      expect(done.status).toBe(302);
      const secure = cookiesSet(done).filter((c) => SESSION_COOKIE.test(c.name));
      expect(secure.length).toBeGreaterThan(0);
      for (const cookie of secure) {
        expect(cookie.name).toMatch(/^__Host-/);
        expect(cookie.attributes).toHaveProperty('secure');
        expect(cookie.attributes).toHaveProperty('httponly');
        expect(cookie.attributes['samesite']?.toLowerCase()).toBe('lax');
        expect(cookie.attributes['path']).toBe('/');
        expect(cookie.attributes).not.toHaveProperty('domain');
      }
      // The transaction cookie is deleted with the same attributes it was set with.
      for (const deleted of setCookiesOf(done).filter((c) => c.deletes && TX_COOKIE.test(c.name))) {
        expect(deleted.attributes).toHaveProperty('secure');
        expect(deleted.attributes['path']).toBe('/');
      }
    });

    it(t('CK-07: secret rotation: a cookie sealed with the previous secret is accepted and re-issued; an unknown key is refused'), async () => {
      const { plain } = apps();
      const { b } = await ctx.signIn(plain, 'acme');
      const rotated = await ctx.start('', false, { session: { secret: ['conformance-rotated-secret-0123456789abcdef', 'conformance-session-secret-0123456789abcdef'] } });
      const stranger = await ctx.start('', false, { session: { secret: 'conformance-unknown-secret-0123456789abcdef' } });
      try {
        // The same tenant record on both, or the session would end with its tenant (SA-14), not its key.
        for (const app of [rotated, stranger]) await app.store.put(ctx.record(app, 'acme', orgs().acme.issuer));
        const jar = b.jar.clone();
        const old = [...jar.cookies].filter(([name]) => SESSION_COOKIE.test(name));
        const me = await rotated.browser(jar).fetch(rotated.url('/me'), { headers: JSON_ACCEPT });
        expect(me.status).toBe(200);
        const reissued = cookiesSet(me).filter((c) => SESSION_COOKIE.test(c.name));
        expect(reissued.length).toBeGreaterThan(0);
        for (const cookie of reissued) expect(old.map(([, value]) => value)).not.toContain(cookie.value);
        // The re-issued cookie now opens on the rotated app only with the new secret first.
        expect((await rotated.browser(jar).fetch(rotated.url('/me'), { headers: JSON_ACCEPT })).status).toBe(200);
        await expectSignedOut(stranger, b.jar, 'unknown key');
      } finally {
        await Promise.allSettled([rotated.mounted.close(), stranger.mounted.close()]);
      }
    });

    it(t('CK-08: an expired session cookie (idle past its lifetime, or past the absolute lifetime) → signed out and deleted'), async () => {
      const { plain } = apps();
      const { b } = await ctx.signIn(plain, 'acme');
      try {
        for (const offset of [2 * 3600 * 1000, 8 * 24 * 3600 * 1000]) {
          ctx.setClockOffset(offset);
          const json = await expectSignedOut(plain, b.jar, `+${offset} ms`);
          expect(setCookiesOf(json).some((c) => c.deletes && SESSION_COOKIE.test(c.name))).toBe(true);
        }
      } finally {
        ctx.setClockOffset(0);
      }
    });

    it(t('CK-11: pages behind requiresAuth and auth responses are not cacheable'), async () => {
      const { plain } = apps();
      const { b, response } = await ctx.signIn(plain, 'acme');
      expect(response.headers.get('cache-control') ?? '').toMatch(/no-store/);
      const unauthenticated = await plain.browser().fetch(plain.url('/me'), { headers: JSON_ACCEPT });
      expect(unauthenticated.headers.get('cache-control') ?? '').toMatch(/no-store/);
      expect((await b.fetch(plain.url('/auth/logout'))).headers.get('cache-control') ?? '').toMatch(/no-store/);
    });
  });

  // =====================================================================================
  describe('security catalogue: multi-tenant (MT)', () => {
    it(t("MT-08: a session of tenant A on tenant B's routes counts as signed out"), async () => {
      const { plain } = apps();
      const { b } = await ctx.signIn(plain, 'acme');
      for (const tenant of ['globex', 'acme-2']) {
        const json = await b.fetch(`${plain.url('/me')}?tenant=${tenant}`, { headers: JSON_ACCEPT });
        expect(json.status).toBe(401);
        expect(((await json.json()) as { error: string }).error).toBe('ERR_OIDC_SESSION_MISSING');
        const page = await b.fetch(`${plain.url('/me')}?tenant=${tenant}`, { headers: { accept: 'text/html' } });
        expect(page.status).toBe(302);
        expect(new URL(page.headers.get('location') ?? '', plain.origin).searchParams.get('tenant')).toBe(tenant);
      }
      // The session itself is untouched on its own tenant.
      expect((await b.fetch(`${plain.url('/me')}?tenant=acme`, { headers: JSON_ACCEPT })).status).toBe(200);
    });

    it(t('MT-02: a transaction of tenant A answered with iss of tenant B → 400, no token call to either'), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain, 'acme');
      const before = counters();
      const response = await ctx.callback(b, withQuery(request, (q) => q.set('iss', orgs().globex.issuer)));
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_ISSUER_MISMATCH', before, txDeleted: true });
    });

    it(t("TK-07: the code is redeemed at the transaction's tenant, whatever tenant the callback URL names"), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain, 'acme');
      const before = counters();
      const response = await ctx.callback(b, withQuery(request, (q) => q.set('tenant', 'globex')));
      expect(response.status).toBe(302);
      const after = counters();
      expect(after.globex.token).toBe(before.globex.token);
      expect(after.acme.token).toBe(before.acme.token + 1);
      expect(((await (await b.fetch(`${plain.url('/me')}?tenant=acme`, { headers: JSON_ACCEPT })).json()) as { tenant: string }).tenant).toBe('acme');
    });

    it(t("MT-05/IN-05/SA-01: an access token of client A on tenant B's API → 401 invalid_token, refused before any introspection"), async () => {
      const { plain } = apps();
      // Same org, another app instance: its `cid` names another client, which Okta could only confirm
      // (active, another client_id), so triage refuses it without asking (SA-01).
      const sibling = await orgs().acme.control.issueAccessToken(ctx.clients['acme-2'].clientId, { login: ctx.users.acme.login });
      let before = counters();
      await expectApiRejected(plain, await bearer(plain, `Bearer ${sibling}`, 'acme'), 'ERR_OIDC_ACCESS_TOKEN_INVALID', /^Bearer .*error="invalid_token"/, before, 0);
      // Another org: its `iss` is not this tenant's, so neither org is asked.
      const foreign = await orgs().globex.control.issueAccessToken(ctx.clients.globex.clientId, { login: ctx.users.globex.login });
      before = counters();
      await expectApiRejected(plain, await bearer(plain, `Bearer ${foreign}`, 'acme'), 'ERR_OIDC_ACCESS_TOKEN_INVALID', /^Bearer .*error="invalid_token"/, before, 0);
      expect(counters().globex.introspect).toBe(before.globex.introspect);
    });
  });

  // =====================================================================================
  describe('security catalogue: bearer API (IN, REJECT-API)', () => {
    it(t('REJECT-API: no Authorization header → 401, a bare Bearer challenge (RFC 6750 §3.1), no introspection'), async () => {
      const { plain } = apps();
      const before = counters();
      const response = await bearer(plain, undefined);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="oin-oidc"');
      await expectApiRejected(plain, response, 'ERR_OIDC_ACCESS_TOKEN_MISSING', /^Bearer realm="oin-oidc"$/, before);
    });

    it(t('REJECT-API: another scheme (Basic, DPoP-less Token, empty) → 401 bare Bearer challenge, no introspection'), async () => {
      const { plain } = apps();
      for (const authorization of ['Basic Zm9vOmJhcg==', 'Token abc', '', '   ']) {
        const before = counters();
        await expectApiRejected(plain, await bearer(plain, authorization), 'ERR_OIDC_ACCESS_TOKEN_MISSING', /^Bearer realm="oin-oidc"$/, before);
      }
    });

    it(t('REJECT-API: a malformed bearer token → 401 error="invalid_token", no introspection'), async () => {
      const { plain } = apps();
      for (const authorization of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer <script>alert(1)</script>', 'Bearer a,b', `Bearer ${'a'.repeat(8 * 1024 + 1)}`, 'Bearer  two-spaces']) {
        const before = counters();
        await expectApiRejected(plain, await bearer(plain, authorization), 'ERR_OIDC_ACCESS_TOKEN_INVALID', /^Bearer realm="oin-oidc", error="invalid_token"$/, before);
      }
    });

    it(t('IN-01: an inactive token → 401 error="invalid_token" after exactly one introspection'), async () => {
      const { plain } = apps();
      const before = counters();
      // A token only Okta can judge (right issuer, client and lifetime; a key nobody publishes): a random
      // string would be refused by triage before any introspection (SA-01).
      const token = plausibleForgery(orgs().acme.issuer, ctx.clients.acme.clientId);
      await expectApiRejected(plain, await bearer(plain, `Bearer ${token}`), 'ERR_OIDC_ACCESS_TOKEN_INACTIVE', /^Bearer .*error="invalid_token"/, before, 1);
    });

    it(t('IN-04/SA-11: an ID token presented as a bearer access token → 401'), async () => {
      const { plain } = apps();
      const idToken = await orgs().acme.control.issueIdToken(ctx.clients.acme.clientId);
      const before = counters();
      const response = await bearer(plain, `Bearer ${idToken}`);
      expect(response.headers.get('www-authenticate') ?? '').toMatch(/^Bearer .*error="invalid_token"/);
      await expectRejected(plain, response, { status: 401, code: /ERR_OIDC_ACCESS_TOKEN_(INACTIVE|INVALID)/, before, allow: { introspect: true } });
    });

    it(t('IN-10: a DPoP-bound access token presented with the Bearer scheme → 401 invalid_token after one introspection'), async () => {
      // A real DPoP-bound token: an org whose client requires DPoP-bound tokens, redeemed by core's
      // client with a DPoP key (RFC 9449; the emulator answers use_dpop_nonce first, as Okta does).
      const app = await ctx.start('', false);
      const org = await startOktaOrg({
        name: 'dpop',
        clients: [{ ...ctx.clients.acme, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [app.url('/auth/callback')], dpopBoundAccessTokens: true }],
        users: [ctx.users.acme],
      });
      try {
        const record = ctx.record(app, 'acme', org.issuer, { dpop: true });
        await app.store.put(record);
        const client = createOidcClient({ store: createMemoryCredentialStore([record]), allowLoopbackIssuers: true });
        const tenant = await client.getTenant('acme');
        const { url, transaction } = await client.createAuthorizationRequest(tenant);
        const redirect = await driveAuthorization(url);
        const params = new URLSearchParams(redirect.method === 'GET' ? redirect.url.search : redirect.body);
        const signedIn = await client.handleCallback(Object.fromEntries(params), transaction);
        expect(signedIn.tokenType).toBe('DPoP');
        const token = signedIn.accessToken ?? '';
        expect(token.length).toBeGreaterThan(0);
        const outer = counters();
        const before = org.control.counters();
        const response = await bearer(app, `Bearer ${token}`);
        expect(response.headers.get('www-authenticate') ?? '').toMatch(/^Bearer .*error="invalid_token"/);
        const body = await expectRejected(app, response, { status: 401, code: 'ERR_OIDC_ACCESS_TOKEN_INVALID', before: outer });
        expect((JSON.parse(body) as { error: string }).error).toBe('ERR_OIDC_ACCESS_TOKEN_INVALID');
        expect(body).not.toContain(token);
        // Exactly the one introspection that found the binding, and the one cold fetch of the org's
        // published keys an API with an empty key cache makes before its first token (SA-01: so real
        // tokens can verify locally); nothing else at the org.
        const after = org.control.counters();
        const expected: Partial<Record<EmulatorEndpoint, number>> = { introspect: 1, keys: 1 };
        for (const endpoint of Object.keys(after) as EmulatorEndpoint[]) {
          expect(`${endpoint}: ${after[endpoint] - before[endpoint]}`).toBe(`${endpoint}: ${expected[endpoint] ?? 0}`);
        }
        // The same token is active at Okta: only the scheme/binding mismatch refuses it.
        expect(signedIn.scope ?? '').toMatch(/openid/);
      } finally {
        await Promise.allSettled([app.mounted.close(), org.close()]);
      }
    });

    it(t("IN-08/SA-01: fishing with plausible tokens past the tenant's introspection throttle → 503 with Retry-After and no further /introspect; junk never reaches the bucket; a cached real token keeps working"), async () => {
      // The tenant's bucket alone (the per-caller one has its own case, SA-01 in the audit cases).
      const iso = await isolated({ introspectionThrottle: { ratePerSec: 0.01, burst: 3, perCaller: false }, introspectionCache: { maxTtlSec: 60 } });
      try {
        const real = await iso.org.control.issueAccessToken(ctx.clients.acme.clientId, { login: ctx.users.acme.login });
        const ok = await bearer(iso.app, `Bearer ${real}`);
        expect(ok.status).toBe(200);
        await ok.text();
        // Three tokens only Okta can judge spend the bucket: each one costs one /introspect. (Random
        // strings no longer do: triage refuses them first, SA-01.)
        for (let i = 0; i < 3; i += 1) {
          const fishing = await bearer(iso.app, `Bearer ${plausibleForgery(iso.org.issuer, ctx.clients.acme.clientId)}`);
          expect(fishing.status).toBe(401);
          expect(((await fishing.json()) as { error: string }).error).toBe('ERR_OIDC_ACCESS_TOKEN_INACTIVE');
        }
        expect(iso.org.control.counters().introspect).toBe(4);
        // The bucket is empty now; junk is still refused as junk (401), before the bucket and Okta.
        for (const token of junkTokens(iso.org.issuer, ctx.clients.acme.clientId)) {
          const junk = await bearer(iso.app, `Bearer ${token}`);
          expect(junk.status, token.slice(0, 60)).toBe(401);
          await junk.text();
        }
        expect(iso.org.control.counters().introspect).toBe(4);
        const outer = counters();
        const before = iso.org.control.counters();
        const response = await bearer(iso.app, `Bearer ${plausibleForgery(iso.org.issuer, ctx.clients.acme.clientId)}`);
        expect(response.headers.get('retry-after') ?? '').toMatch(/^[1-9]\d*$/);
        expect(response.headers.get('content-type') ?? '').toMatch(/application\/json/);
        const body = await expectRejected(iso.app, response, { status: 503, code: 'ERR_OIDC_RATE_LIMITED', before: outer });
        expect((JSON.parse(body) as { error: string }).error).toBe('ERR_OIDC_RATE_LIMITED');
        expect(iso.org.control.counters()).toEqual(before);
        // The real token is answered from the cache: no Okta call, nothing taken from the empty bucket.
        const again = await bearer(iso.app, `Bearer ${real}`);
        expect(again.status).toBe(200);
        await again.text();
        expect(iso.org.control.counters()).toEqual(before);
      } finally {
        await iso.close();
      }
    });

    it(t('REJECT-API: the scheme is case-insensitive (RFC 6750 §2.1) and a valid token still works after refusals'), async () => {
      const { plain } = apps();
      const token = await orgs().acme.control.issueAccessToken(ctx.clients.acme.clientId, { login: ctx.users.acme.login });
      for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
        const response = await bearer(plain, `${scheme} ${token}`);
        expect(response.status, scheme).toBe(200);
        await response.text();
      }
    });

    it(t('REJECT-API: a bearer call never creates a session'), async () => {
      const { plain } = apps();
      const token = await orgs().acme.control.issueAccessToken(ctx.clients.acme.clientId, { login: ctx.users.acme.login });
      const response = await bearer(plain, `Bearer ${token}`);
      expect(response.status).toBe(200);
      expect(cookiesSet(response)).toEqual([]);
    });
  });

  // =====================================================================================
  describe('security catalogue: Okta faults (HF, IN-07, JK-04)', () => {
    it(t('HF-01: 429 at /token → 503 with Retry-After derived from X-Rate-Limit-Reset, no session; later sign-ins wait for the reset'), async () => {
      // An app of its own per case: after a 429 the app waits for the reset (issue 11 §1).
      for (const resetInSec of [7, 40]) {
        const iso = await isolated();
        try {
          const b = iso.app.browser();
          const { authorize } = await ctx.login(iso.app, b, { tenant: 'acme' });
          const request = await driveAuthorization(authorize);
          iso.org.control.fault('token', { type: 'rate-limit', resetInSec }, { times: 1 });
          const before = iso.org.control.counters().token;
          const response = await ctx.callback(b, request);
          const retryAfter = Number(response.headers.get('retry-after'));
          expect(response.status).toBe(503);
          expect(await response.text()).toContain('ERR_OIDC_RATE_LIMITED');
          expect(cookiesSet(response).filter((c) => SESSION_COOKIE.test(c.name) && c.value !== '')).toEqual([]);
          expect(retryAfter).toBeGreaterThanOrEqual(1);
          expect(retryAfter).toBeLessThanOrEqual(resetInSec + 1);
          expect(iso.org.control.counters().token).toBe(before + 1); // no immediate retry
          // The next sign-in before the reset is refused here, without spending more of the org's budget.
          const next = await ctx.signIn(iso.app, 'acme');
          expect(next.response.status).toBe(503);
          expect(iso.org.control.counters().token).toBe(before + 1);
        } finally {
          await iso.close();
        }
      }
      expect((await ctx.signIn(apps().plain, 'acme')).response.status).toBe(302);
    });

    it(t('IN-07: 429 at /introspect → 503 with Retry-After derived from X-Rate-Limit-Reset; never fails open, never asks again before the reset'), async () => {
      const iso = await isolated();
      try {
        const token = await iso.org.control.issueAccessToken(ctx.clients.acme.clientId, { login: ctx.users.acme.login });
        iso.org.control.fault('introspect', { type: 'rate-limit', resetInSec: 9 }, { times: 1 });
        const response = await bearer(iso.app, `Bearer ${token}`);
        const retryAfter = Number(response.headers.get('retry-after'));
        expect(response.status).toBe(503);
        expect(await response.text()).toContain('ERR_OIDC_RATE_LIMITED');
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(10);
        const calls = iso.org.control.counters().introspect;
        const again = await bearer(iso.app, `Bearer ${token}`);
        expect(again.status).toBe(503);
        expect(Number(again.headers.get('retry-after'))).toBeLessThanOrEqual(10);
        expect(iso.org.control.counters().introspect).toBe(calls);
      } finally {
        await iso.close();
      }
      // An app that never saw the 429 is served (the back-off is per process without a shared store).
      const token = await orgs().acme.control.issueAccessToken(ctx.clients.acme.clientId, { login: ctx.users.acme.login });
      expect((await bearer(apps().plain, `Bearer ${token}`)).status).toBe(200);
    });

    it(t('HF-01: the emulator enforcing its rate limit at /introspect → 503 with Retry-After, then recovery is Okta’s'), async () => {
      // Every request asks Okta: with the positive cache (on by default since SA-01) the same token would be answered here.
      const iso = await isolated({ introspectionCache: false }, { rateLimit: { limit: 3, windowSec: 30, enforce: true } });
      try {
        const token = await iso.org.control.issueAccessToken(ctx.clients.acme.clientId, { login: ctx.users.acme.login });
        const statuses: number[] = [];
        let retryAfter = Number.NaN;
        for (let i = 0; i < 5; i++) {
          const response = await bearer(iso.app, `Bearer ${token}`);
          statuses.push(response.status);
          if (response.status === 503) {
            retryAfter = Number(response.headers.get('retry-after'));
            expect(await response.text()).toContain('ERR_OIDC_RATE_LIMITED');
          } else await response.text();
        }
        expect(statuses).toEqual([200, 200, 200, 503, 503]);
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(31);
        await expectServing(iso.app);
      } finally {
        await iso.close();
      }
    });

    it(t('JK-04/HF-04: /keys down, hanging, or answering HTML with a cold cache → 503/504, no session, no crash'), async () => {
      for (const [fault, status, code] of [
        [{ type: 'status', status: 500 }, 503, /ERR_OIDC_(JWKS_UNAVAILABLE|UNAVAILABLE|HTTP_ERROR)/],
        [{ type: 'html' }, 503, /ERR_OIDC_(JWKS_UNAVAILABLE|UNAVAILABLE|HTTP_ERROR)/],
        [{ type: 'hang' }, 0, /ERR_OIDC_(HTTP_TIMEOUT|JWKS_UNAVAILABLE)/],
      ] as const) {
        const iso = await isolated({ httpTimeoutMs: FAULT_TIMEOUT_MS });
        try {
          const b = iso.app.browser();
          const { authorize } = await ctx.login(iso.app, b, { tenant: 'acme' });
          const request = await driveAuthorization(authorize);
          iso.org.control.fault('keys', fault);
          const response = await ctx.callback(b, request);
          const body = await response.text();
          expect([status, 502, 503, 504], `${fault.type}: ${response.status} ${body.slice(0, 200)}`).toContain(response.status);
          // A hang is 504 from the transport, or 503 once the key layer gives up on it (both "UPSTREAM").
          if (status === 0) expect([503, 504]).toContain(response.status);
          else expect(response.status, fault.type).toBe(status);
          expect(body).toMatch(code);
          expect(response.headers.get('cache-control') ?? '').toMatch(/no-store/);
          expect(cookiesSet(response).filter((c) => SESSION_COOKIE.test(c.name))).toEqual([]);
          await expectServing(iso.app);
          // Recovery: once /keys answers, a new sign-in works with the same app.
          iso.org.control.clearFaults('keys');
          const again = iso.app.browser();
          const retry = await ctx.login(iso.app, again, { tenant: 'acme' });
          expect((await ctx.callback(again, await driveAuthorization(retry.authorize))).status).toBe(302);
        } finally {
          await iso.close();
        }
      }
    });

    it(t('HF-04/TK-02: /token hanging → 504, 5xx → 502/503, HTML → 502; never retried'), async () => {
      const iso = await isolated({ httpTimeoutMs: FAULT_TIMEOUT_MS });
      try {
        for (const [fault, statuses, code] of [
          [{ type: 'hang' }, [504], 'ERR_OIDC_HTTP_TIMEOUT'],
          [{ type: 'status', status: 500 }, [502, 503], /ERR_OIDC_(HTTP_ERROR|UNAVAILABLE)/],
          [{ type: 'status', status: 503 }, [502, 503], /ERR_OIDC_(HTTP_ERROR|UNAVAILABLE)/],
          [{ type: 'html' }, [502, 503], /ERR_OIDC_(HTTP_ERROR|UNAVAILABLE|TOKEN_RESPONSE_INVALID)/],
          [{ type: 'html', status: 502 }, [502, 503], /ERR_OIDC_(HTTP_ERROR|UNAVAILABLE)/],
          [{ type: 'malformed-json' }, [502, 503], /ERR_OIDC_(HTTP_ERROR|UNAVAILABLE|TOKEN_RESPONSE_INVALID)/],
          [{ type: 'redirect' }, [502], 'ERR_OIDC_HTTP_ERROR'],
          [{ type: 'oversized' }, [502], 'ERR_OIDC_HTTP_RESPONSE_TOO_LARGE'],
        ] as const) {
          const b = iso.app.browser();
          const { authorize } = await ctx.login(iso.app, b, { tenant: 'acme' });
          const request = await driveAuthorization(authorize);
          iso.org.control.fault('token', fault);
          const tokenCalls = iso.org.control.counters().token;
          const response = await ctx.callback(b, request);
          iso.org.control.clearFaults('token');
          const body = await response.text();
          expect(statuses as readonly number[], `${JSON.stringify(fault)}: ${response.status} ${body.slice(0, 200)}`).toContain(response.status);
          if (typeof code === 'string') expect(body).toContain(code);
          else expect(body).toMatch(code);
          expect(body).not.toMatch(/<script/i);
          expect(response.headers.get('cache-control') ?? '').toMatch(/no-store/);
          expect(cookiesSet(response)).toEqual([]);
          expect(setCookiesOf(response).some((c) => c.deletes && TX_COOKIE.test(c.name))).toBe(true);
          expect(iso.org.control.counters().token).toBe(tokenCalls + 1); // the code is single-use: no retry
          await expectServing(iso.app);
        }
        const b = iso.app.browser();
        const { authorize } = await ctx.login(iso.app, b, { tenant: 'acme' });
        expect((await ctx.callback(b, await driveAuthorization(authorize))).status).toBe(302);
      } finally {
        await iso.close();
      }
    });

    it(t('IN-03/IN-07: /introspect hanging → 504, 5xx/HTML/invalid_client → 502/503; never fails open'), async () => {
      const iso = await isolated({ httpTimeoutMs: FAULT_TIMEOUT_MS });
      try {
        const token = await iso.org.control.issueAccessToken(ctx.clients.acme.clientId, { login: ctx.users.acme.login });
        for (const [fault, statuses] of [
          [{ type: 'hang' }, [504]],
          [{ type: 'status', status: 500 }, [502, 503]],
          [{ type: 'html' }, [502, 503]],
          [{ type: 'malformed-json' }, [502, 503]],
          [{ type: 'redirect' }, [502]],
          [{ type: 'status', status: 401, body: '{"error":"invalid_client","error_description":"No client credentials found."}' }, [502, 503]],
        ] as const) {
          iso.org.control.fault('introspect', fault);
          const response = await bearer(iso.app, `Bearer ${token}`);
          iso.org.control.clearFaults('introspect');
          const body = await response.text();
          expect(statuses as readonly number[], `${JSON.stringify(fault)}: ${response.status} ${body}`).toContain(response.status);
          expect((JSON.parse(body) as { error: string }).error).toMatch(/^ERR_OIDC_(HTTP_TIMEOUT|HTTP_ERROR|UNAVAILABLE|INTROSPECTION_INVALID)$/);
          expect(response.headers.get('cache-control') ?? '').toMatch(/no-store/);
        }
        expect((await bearer(iso.app, `Bearer ${token}`)).status).toBe(200);
      } finally {
        await iso.close();
      }
    });

    it(t('AR-06/HF-07: discovery down, hanging or HTML when it decides on an iss-less callback → 502/503/504, fails closed'), async () => {
      for (const [fault, statuses] of [
        [{ type: 'status', status: 500 }, [502, 503]],
        [{ type: 'html' }, [502, 503]],
        [{ type: 'hang' }, [502, 503, 504]],
      ] as const) {
        const iso = await isolated({ httpTimeoutMs: FAULT_TIMEOUT_MS });
        try {
          const b = iso.app.browser();
          const { authorize } = await ctx.login(iso.app, b, { tenant: 'acme' });
          const request = withQuery(await driveAuthorization(authorize), (q) => q.delete('iss'));
          iso.org.control.fault('discovery', fault);
          const response = await ctx.callback(b, request);
          const body = await response.text();
          expect(statuses as readonly number[], `${fault.type}: ${response.status} ${body.slice(0, 200)}`).toContain(response.status);
          expect(body).toMatch(/ERR_OIDC_(DISCOVERY_FAILED|HTTP_ERROR|HTTP_TIMEOUT|UNAVAILABLE)/);
          expect(response.headers.get('cache-control') ?? '').toMatch(/no-store/);
          expect(cookiesSet(response)).toEqual([]);
          expect(iso.org.control.counters().token).toBe(0); // never redeemed without the iss decision
          await expectServing(iso.app);
        } finally {
          await iso.close();
        }
      }
    });
  });

  // =====================================================================================
  describe('faults (issue 5 §4)', () => {
    it(t('/keys down or hanging with warm keys: sign-ins keep working'), async () => {
      const iso = await isolated();
      try {
        const signIn = async () => {
          const b = iso.app.browser();
          const { authorize } = await ctx.login(iso.app, b, { tenant: 'acme' });
          const response = await ctx.callback(b, await driveAuthorization(authorize));
          expect(response.status).toBe(302);
          expect((await b.fetch(iso.app.url('/me'), { headers: JSON_ACCEPT })).status).toBe(200);
        };
        await signIn(); // warms the key cache
        for (const fault of [{ type: 'status', status: 503 }, { type: 'hang' }, { type: 'html' }] as const) {
          iso.org.control.fault('keys', fault);
          await signIn();
          await signIn();
          iso.org.control.clearFaults('keys');
        }
      } finally {
        await iso.close();
      }
    });

    it(t('the per-org concurrency limit keeps a burst of /introspect and /token calls under it'), async () => {
      let inFlight = { token: 0, introspect: 0 };
      const peak = { token: 0, introspect: 0 };
      // A pass-through to the real emulator that only counts what is in flight per endpoint.
      const http = async (url: string, init: RequestInit) => {
        const kind = url.endsWith('/introspect') ? 'introspect' : url.endsWith('/token') ? 'token' : undefined;
        if (kind) {
          inFlight = { ...inFlight, [kind]: inFlight[kind] + 1 };
          peak[kind] = Math.max(peak[kind], inFlight[kind]);
        }
        try {
          return await fetch(url, init);
        } finally {
          if (kind) inFlight = { ...inFlight, [kind]: inFlight[kind] - 1 };
        }
      };
      const iso = await isolated({ maxConcurrentPerOrg: 2, http });
      try {
        const tokens = await Promise.all(Array.from({ length: 8 }, () => iso.org.control.issueAccessToken(ctx.clients.acme.clientId, { login: ctx.users.acme.login })));
        iso.org.control.fault('introspect', { type: 'delay', ms: 60 }, { times: 8 });
        const responses = await Promise.all(tokens.map((token) => bearer(iso.app, `Bearer ${token}`)));
        expect(responses.map((r) => r.status)).toEqual(tokens.map(() => 200));
        expect(peak.introspect).toBeGreaterThanOrEqual(1);
        expect(peak.introspect).toBeLessThanOrEqual(2);
        // Sign-ins: the code exchanges queue the same way.
        const pending = await Promise.all(
          Array.from({ length: 6 }, async () => {
            const b = iso.app.browser();
            const { authorize } = await ctx.login(iso.app, b, { tenant: 'acme' });
            return { b, request: await driveAuthorization(authorize) };
          }),
        );
        iso.org.control.fault('token', { type: 'delay', ms: 60 }, { times: 6 });
        const done = await Promise.all(pending.map(({ b, request }) => ctx.callback(b, request)));
        expect(done.map((r) => r.status)).toEqual(pending.map(() => 302));
        expect(peak.token).toBeGreaterThanOrEqual(1);
        expect(peak.token).toBeLessThanOrEqual(2);
      } finally {
        await iso.close();
      }
    });

    it(t('JK-01: key rotation in the middle of 20 concurrent sign-ins: none fails'), async () => {
      const iso = await isolated();
      try {
        const pending = await Promise.all(
          Array.from({ length: 20 }, async () => {
            const b = iso.app.browser();
            const { authorize } = await ctx.login(iso.app, b, { tenant: 'acme' });
            return { b, request: await driveAuthorization(authorize) };
          }),
        );
        const [firstKid] = (await iso.org.control.signingKeys()).filter((k) => k.active).map((k) => k.kid);
        const first = pending.slice(0, 10).map(({ b, request }) => ctx.callback(b, request));
        await Promise.race(first); // at least one sign-in verified with the old key: the cache is warm
        const rotated = await iso.org.control.rotateSigningKey();
        expect(rotated.kid).not.toBe(firstKid);
        const second = pending.slice(10).map(({ b, request }) => ctx.callback(b, request));
        const responses = await Promise.all([...first, ...second]);
        expect(responses.map((r) => r.status)).toEqual(pending.map(() => 302));
        const me = await Promise.all(pending.map(({ b }) => b.fetch(iso.app.url('/me'), { headers: JSON_ACCEPT })));
        expect(me.map((r) => r.status)).toEqual(pending.map(() => 200));
        // The rotated key was fetched once or a few times (single-flight), not once per sign-in.
        const keys = iso.org.control.counters().keys;
        expect(keys).toBeGreaterThanOrEqual(2);
        expect(keys).toBeLessThanOrEqual(4);
      } finally {
        await iso.close();
      }
    });
  });
}
