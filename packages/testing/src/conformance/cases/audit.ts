/**
 * The independent audit's findings (catalogue ids SA-01 … SA-19, docs/security.md) as adapter conformance
 * cases: each item that involves a request, through the real framework over HTTP. The flow layer's
 * own tests (packages/core/test/audit-flow.test.ts) show the same behaviours without a framework;
 * these show that no adapter loses them on the way (a context built without the guard's check, a
 * header the framework rewrites, a cookie on a cacheable answer).
 *
 * Items without a request of their own are covered in core only: SA-07 (replay quota), SA-09 (JWKS
 * refetch budgets), SA-12 (issuer policy) and SA-17 (duplicate records, also in the store suite).
 */
import type { OidcAuthOptions, TenantRecord } from '@oin-oidc/core';
import { describe, expect, it } from 'vitest';
import { driveAuthorization, type OktaOrg, startOktaOrg } from '../../index';
import { type App, cookiesSet, type Harness, HTML_ACCEPT, JSON_ACCEPT, SESSION_COOKIE, sessionDeleted, sessionSet, TX_COOKIE } from '../harness';
import { answerSwitch, type Browser, CookieJar, form, hostRequest, type RawResponse, sameOriginHeaders, setCookiesOf, switchDecision, switchFormOf } from '../http';
import { junkTokens, plausibleForgery } from '../tokens';

/** What a browser sends on a request another site started (W3C Fetch Metadata §2.1). */
const CROSS_SITE = { 'sec-fetch-site': 'cross-site' };
const EVIL_ORIGIN = 'https://evil.example';

/** A urlencoded form POST with extra request headers (what a page's form, or Okta's auto-submitting page, sends). */
function post(params: Record<string, string>, headers: Record<string, string>): RequestInit & { headers: Record<string, string> } {
  const init = form(params);
  return { ...init, headers: { ...init.headers, ...headers } };
}

interface WhoAmI {
  isAuthenticated: boolean;
  tenant?: string;
  sub?: string;
  host?: string;
}

/** Registers the audit's cases in the suite's `describe` (see `describeAdapterConformance`). */
export function describeAuditCases(h: Harness): void {
  const { t, counters, expectNoOktaCall } = h;
  const apps = () => h.apps();
  const orgs = () => h.orgs();

  async function whoami(b: Browser, app: App, query = ''): Promise<WhoAmI> {
    const response = await b.fetch(`${app.url('/whoami')}${query}`, { headers: JSON_ACCEPT });
    expect(response.status).toBe(200);
    return (await response.json()) as WhoAmI;
  }

  async function meTenant(b: Browser, app: App, query = ''): Promise<string | number> {
    const response = await b.fetch(`${app.url('/me')}${query}`, { headers: JSON_ACCEPT });
    if (response.status !== 200) {
      await response.text();
      return response.status;
    }
    return ((await response.json()) as { tenant: string }).tenant;
  }

  /** The typed refusal of a request: status, error code in the page or JSON, no-store, no session cookie set. */
  async function expectRefused(response: Response, status: number, code: string): Promise<string> {
    const body = await response.text();
    expect(response.status, body.slice(0, 300)).toBe(status);
    expect(body).toContain(code);
    expect(response.headers.get('cache-control') ?? '').toMatch(/no-store/);
    expect(sessionSet(response)).toEqual([]);
    expect(response.headers.get('location')).toBeNull();
    return body;
  }

  /**
   * A new app behind a trusted proxy (so `X-Forwarded-For` names the caller: every framework's
   * trust-proxy then reports it as the client address) with its own org, so buckets, caches and
   * counters of one case touch no other. `client` adds to the app's client options.
   */
  async function ownOrgApp(client: OidcAuthOptions['client'] = {}, accessTokenSigning: 'published' | 'private' = 'published') {
    const app = await h.start('', true, { client });
    const org = await startOktaOrg({
      name: 'audit',
      clients: [{ ...h.clients.acme, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [app.url('/auth/callback')], postLogoutRedirectUris: [app.url('/')] }],
      users: [h.users.acme],
      accessTokenSigning,
    });
    await app.store.put(h.record(app, 'acme', org.issuer));
    /** GET acme's bearer API with `token`, from the client address `caller`. */
    const api = async (token: string, caller: string) => {
      const response = await fetch(`${app.url('/api/me')}?tenant=acme`, {
        headers: { ...JSON_ACCEPT, authorization: `Bearer ${token}`, 'x-forwarded-for': caller },
        redirect: 'manual',
      });
      return { response, body: await response.text() };
    };
    return { app, org, api, close: () => Promise.allSettled([app.mounted.close(), org.close()]) };
  }

  /** A new app with the suite's acme/globex records (same issuers and clients, so the suite's session cookies open on it). */
  async function sideApp(extra: Parameters<Harness['start']>[2] = {}, trustProxy = false): Promise<App> {
    const app = await h.start('', trustProxy, extra);
    await app.store.put(h.record(app, 'acme', orgs().acme.issuer));
    await app.store.put(h.record(app, 'globex', orgs().globex.issuer, { allowSimplifiedFlow: true }));
    return app;
  }

  // =====================================================================================
  describe('independent audit: sessions and cookies', () => {
    it(t('SA-02: a session cookie re-issued on a Cache-Control: public answer makes it private, no-store; a no-store answer keeps its header'), async () => {
      const { plain } = apps();
      const { b } = await h.signIn(plain, 'acme');
      // Without a cookie of ours the app's own header is left alone.
      const anonymous = await plain.browser().fetch(plain.url('/cached'));
      expect(anonymous.status).toBe(200);
      expect(anonymous.headers.get('cache-control')).toBe('public, max-age=3600');
      expect(setCookiesOf(anonymous)).toEqual([]);
      await anonymous.text();
      try {
        h.setClockOffset((h.rollingSec * 1000 * 2) / 3); // less than half of the idle lifetime left: rolled on the next request
        const cached = await plain.browser(b.jar.clone()).fetch(plain.url('/cached'));
        expect(cached.status).toBe(200);
        expect(await cached.text()).toBe('cacheable');
        expect(sessionSet(cached).length).toBeGreaterThan(0);
        const directives = (cached.headers.get('cache-control') ?? '').split(',').map((d) => d.trim().toLowerCase());
        expect(directives).toContain('no-store');
        expect(directives).toContain('private');
        expect(directives).not.toContain('public');
        const fresh = await plain.browser(b.jar.clone()).fetch(plain.url('/fresh'));
        expect(fresh.status).toBe(200);
        await fresh.text();
        expect(sessionSet(fresh).length).toBeGreaterThan(0);
        expect(fresh.headers.get('cache-control')).toBe('no-store, max-age=0');
      } finally {
        h.setClockOffset(0);
      }
      // A secret rotation re-seals every user's cookie at once, on whatever page they open first.
      const rotated = await sideApp({ session: { secret: ['conformance-rotated-secret-0123456789abcdef', 'conformance-session-secret-0123456789abcdef'], rollingSec: h.rollingSec } });
      try {
        const resealed = await rotated.browser(b.jar.clone()).fetch(rotated.url('/cached'));
        expect(resealed.status).toBe(200);
        await resealed.text();
        expect(sessionSet(resealed).length).toBeGreaterThan(0);
        expect(resealed.headers.get('cache-control') ?? '').toMatch(/no-store/);
        expect(resealed.headers.get('cache-control') ?? '').toMatch(/private/);
      } finally {
        await rotated.mounted.close();
      }
    });

    it(t("SA-03: the request context reads a session of another tenant than the route's as signed out; a bearer token's tenant has its own field"), async () => {
      const { plain } = apps();
      const { b } = await h.signIn(plain, 'globex');
      // No guard on /whoami: only the request context the middleware built decides.
      expect(await whoami(b, plain, '?tenant=acme')).toEqual({ isAuthenticated: false, host: expect.any(String) });
      const own = await whoami(b, plain, '?tenant=globex');
      expect(own.isAuthenticated).toBe(true);
      expect(own.tenant).toBe('globex');
      expect(own.sub).toMatch(/.+/);
      // A route that names no tenant shows the session as it is.
      expect((await whoami(b, plain)).tenant).toBe('globex');
      // The cookie stays valid on its own tenant's routes: nothing was deleted.
      expect((await whoami(b, plain, '?tenant=globex')).isAuthenticated).toBe(true);

      const token = await orgs().acme.control.issueAccessToken(h.clients.acme.clientId, { login: h.users.acme.login });
      // acme's API named by the URL: the globex session is not acme's, so it is not on the context at all.
      const named = await b.fetch(`${plain.url('/api/me')}?tenant=acme`, { headers: { ...JSON_ACCEPT, authorization: `Bearer ${token}` } });
      expect(named.status).toBe(200);
      const namedBody = (await named.json()) as { tenant?: string; sessionTenant?: string; client_id?: string };
      expect(namedBody.tenant).toBe('acme');
      expect(namedBody.client_id).toBe(h.clients.acme.clientId);
      expect(namedBody.sessionTenant).toBeUndefined();
      // An API of one tenant whose URL names none: the globex session and the acme token side by side,
      // each under its own name (the token's tenant never overwrites the session's).
      const fixed = await b.fetch(plain.url('/api/acme'), { headers: { ...JSON_ACCEPT, authorization: `Bearer ${token}` } });
      expect(fixed.status).toBe(200);
      const fixedBody = (await fixed.json()) as { tenant?: string; sessionTenant?: string };
      expect(fixedBody.tenant).toBe('acme');
      expect(fixedBody.sessionTenant).toBe('globex');
    });

    it(t('SA-05: a session cookie copied before logout no longer opens the session afterwards'), async () => {
      const { plain } = apps();
      const { b } = await h.signIn(plain, 'acme');
      const copy = b.jar.clone();
      // The copy works while the session lives (and its value is now warm in the process).
      expect(await meTenant(plain.browser(copy.clone()), plain)).toBe('acme');
      const logout = await b.fetch(plain.url('/auth/logout'), { headers: sameOriginHeaders(plain.origin) });
      expect(logout.status).toBe(302);
      await logout.text();
      const json = await plain.browser(copy.clone()).fetch(plain.url('/me'), { headers: JSON_ACCEPT });
      expect(json.status).toBe(401);
      expect(((await json.json()) as { error: string }).error).toMatch(/^ERR_OIDC_SESSION_/);
      expect(sessionSet(json)).toEqual([]);
      const page = await plain.browser(copy.clone()).fetch(plain.url('/me'), { headers: HTML_ACCEPT });
      expect(page.status).toBe(302);
      expect(new URL(page.headers.get('location') ?? '', plain.origin).pathname).toBe('/auth/login');
      expect((await whoami(plain.browser(copy.clone()), plain)).isAuthenticated).toBe(false);
      // … and it does not roll either: aged past half its window it is still refused, not re-issued.
      try {
        h.setClockOffset((h.rollingSec * 1000 * 2) / 3);
        const aged = await plain.browser(copy.clone()).fetch(plain.url('/me'), { headers: JSON_ACCEPT });
        expect(aged.status).toBe(401);
        expect(sessionSet(aged)).toEqual([]);
        await aged.text();
      } finally {
        h.setClockOffset(0);
      }
    });

    it(t('SA-06: a cross-site or unlabelled logout ends the session here only; only a same-origin one goes on to Okta'), async () => {
      const { plain } = apps();
      const acmeOrigin = new URL(orgs().acme.issuer).origin;
      const local = [
        { label: 'cross-site GET', init: { headers: CROSS_SITE } },
        { label: 'same-site GET', init: { headers: { 'sec-fetch-site': 'same-site' } } },
        { label: 'GET without Fetch Metadata', init: {} },
        { label: 'cross-site POST from another origin', init: post({}, { ...CROSS_SITE, origin: EVIL_ORIGIN }) },
        { label: 'POST from another origin without Fetch Metadata', init: post({}, { origin: EVIL_ORIGIN }) },
      ];
      for (const { label, init } of local) {
        const { b } = await h.signIn(plain, 'acme');
        const before = counters();
        const response = await b.fetch(plain.url('/auth/logout'), init);
        expect(response.status, label).toBe(302);
        await response.text();
        const location = new URL(response.headers.get('location') ?? '', plain.origin);
        expect(location.origin, label).toBe(plain.origin);
        expect(location.origin, label).not.toBe(acmeOrigin);
        expect(location.pathname, label).toBe('/');
        expect(response.headers.get('cache-control') ?? '', label).toMatch(/no-store/);
        expect(sessionDeleted(response), label).toBe(true);
        expect(sessionSet(response), label).toEqual([]);
        expectNoOktaCall(before);
        expect(await meTenant(b, plain), label).toBe(401);
      }
      // The app's own sign-out link or form: Okta's logout endpoint, with the ID token hint.
      for (const [label, init] of [
        ['same-origin GET', { headers: { 'sec-fetch-site': 'same-origin' } }],
        ['a typed address (none)', { headers: { 'sec-fetch-site': 'none' } }],
        ['POST with the app origin, no Fetch Metadata', post({}, { origin: plain.origin })],
      ] as const) {
        const { b } = await h.signIn(plain, 'acme');
        const response = await b.fetch(plain.url('/auth/logout'), init);
        expect(response.status, label).toBe(302);
        await response.text();
        const target = new URL(response.headers.get('location') ?? '');
        expect(`${target.origin}${target.pathname}`, label).toBe(`${orgs().acme.issuer}/oauth2/v1/logout`);
        expect(target.searchParams.get('id_token_hint'), label).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
        expect(sessionDeleted(response), label).toBe(true);
      }
    });

    it(t('SA-08: a forged callback leaves the logins in flight; both complete afterwards'), async () => {
      const { plain } = apps();
      const b = plain.browser();
      const first = await h.login(plain, b, { tenant: 'acme' });
      const second = await h.login(plain, b, { tenant: 'acme' });
      const requestFirst = await driveAuthorization(first.authorize);
      const requestSecond = await driveAuthorization(second.authorize);
      const inFlight = [...b.jar.cookies.keys()].filter((name) => TX_COOKIE.test(name));
      expect(inFlight.length).toBe(2);
      const before = counters();
      const forged = new URLSearchParams({ code: 'forged-code', state: 'made-up-state-0123456789abcdef', iss: orgs().acme.issuer });
      const response = await b.fetch(`${plain.url('/auth/callback')}?${forged}`);
      await expectRefused(response, 400, 'ERR_OIDC_STATE_MISMATCH');
      expect(setCookiesOf(response).filter((c) => TX_COOKIE.test(c.name))).toEqual([]);
      expectNoOktaCall(before);
      expect([...b.jar.cookies.keys()].filter((name) => TX_COOKIE.test(name))).toEqual(inFlight);
      expect((await h.callback(b, requestFirst)).status).toBe(302);
      expect((await h.callback(b, requestSecond)).status).toBe(302);
      expect(await meTenant(b, plain)).toBe('acme');
    });

    it(t("SA-08: eight cross-site login navigations after the user's own login do not push it out"), async () => {
      const { plain } = apps();
      const b = plain.browser();
      const own = await b.fetch(`${plain.url('/auth/login')}?tenant=acme`, { headers: { 'sec-fetch-site': 'same-origin' } });
      expect(own.status).toBe(302);
      await own.text();
      const ownRequest = await driveAuthorization(own.headers.get('location') ?? '');
      for (let i = 0; i < 8; i += 1) {
        const hostile = await b.fetch(`${plain.url('/auth/login')}?tenant=${i % 2 === 0 ? 'globex' : 'acme-2'}`, { headers: CROSS_SITE });
        expect(hostile.status).toBe(302);
        await hostile.text();
        // Bounded: the Cookie header cannot grow without limit.
        expect([...b.jar.cookies.keys()].filter((name) => TX_COOKIE.test(name)).length).toBeLessThanOrEqual(5);
      }
      const done = await h.callback(b, ownRequest);
      expect(done.status).toBe(302);
      expect(await meTenant(b, plain)).toBe('acme');
    });

    it(t("SA-08: another app's transaction cookies on the same host (one it cannot open) are never pruned"), async () => {
      const { plain } = apps();
      // Cookies ignore the port: two apps on one host share the browser's cookies (RFC 6265 §8.5).
      const other = await h.start('', false, { session: { secret: 'conformance-other-app-secret-0123456789abcdef' } });
      try {
        await other.store.put(h.record(other, 'acme', orgs().acme.issuer));
        const jar = new CookieJar();
        const b = plain.browser(jar);
        const mine = await h.login(plain, b, { tenant: 'acme' });
        const request = await driveAuthorization(mine.authorize);
        const name = [...jar.cookies.keys()].find((n) => TX_COOKIE.test(n));
        expect(name).toBeDefined();
        for (let i = 0; i < 7; i += 1) {
          const started = await other.browser(jar).fetch(`${other.url('/auth/login')}?tenant=acme`);
          expect(started.status).toBe(302);
          await started.text();
          expect(setCookiesOf(started).some((c) => c.name === name), `login ${i}`).toBe(false);
        }
        expect(jar.cookies.has(name ?? '')).toBe(true);
        expect((await h.callback(b, request)).status).toBe(302);
        expect(await meTenant(b, plain)).toBe('acme');
      } finally {
        await other.mounted.close();
      }
    });

    it(t('SA-14: a session ends once its tenant record is removed or re-used for another app instance (within the recheck interval)'), async () => {
      const { plain } = apps();
      const original = await plain.store.get('acme-2');
      expect(original).toBeDefined();
      const record = h.record(plain, 'acme-2', orgs().acme.issuer, { tokenEndpointAuthMethod: 'client_secret_post' });
      try {
        for (const change of ['removed', 're-used'] as const) {
          const { b } = await h.signIn(plain, 'acme-2');
          expect(await meTenant(b, plain)).toBe('acme-2');
          if (change === 'removed') await plain.store.delete('acme-2');
          else await plain.store.put({ ...record, clientId: '0oa-another-app-instance', clientSecret: 'another-secret-0123456789' });
          h.setClockOffset(6_000); // past the 5 s the record is remembered for
          const json = await b.fetch(plain.url('/me'), { headers: JSON_ACCEPT });
          expect(json.status, change).toBe(401);
          expect(((await json.json()) as { error: string }).error, change).toMatch(/^ERR_OIDC_SESSION_/);
          expect(sessionDeleted(json), change).toBe(true);
          expect(sessionSet(json), change).toEqual([]);
          expect((await whoami(b, plain)).isAuthenticated, change).toBe(false);
          await plain.store.put(record);
          // Restored, and remembered again past the last look-up (a sign-in remembers its record), so
          // that the other cases' acme-2 sessions hold once the clock goes back.
          h.setClockOffset(12_000);
          const fresh = await h.signIn(plain, 'acme-2');
          expect(await meTenant(fresh.b, plain), change).toBe('acme-2');
          h.setClockOffset(0);
        }
      } finally {
        h.setClockOffset(0);
        await plain.store.put(record);
      }
    });

    it(t('SA-15: an unresolvable route tenant (duplicated, empty, outside the syntax, a throwing resolver) is refused by requiresAuth and reads as signed out'), async () => {
      const { plain } = apps();
      const { b } = await h.signIn(plain, 'globex');
      for (const [query, status, code] of [
        ['?tenant=acme&tenant=acme', 400, 'ERR_OIDC_DUPLICATE_PARAMETER'],
        ['?tenant=globex&tenant=globex', 400, 'ERR_OIDC_DUPLICATE_PARAMETER'],
        ['?tenant=', 400, 'ERR_OIDC_INVALID_REQUEST'],
        [`?tenant=${encodeURIComponent('<x y>')}`, 404, 'ERR_OIDC_TENANT_UNKNOWN'],
      ] as const) {
        const json = await b.fetch(`${plain.url('/me')}${query}`, { headers: JSON_ACCEPT });
        const body = await expectRefused(json, status, code);
        expect(json.headers.get('content-type') ?? '', query).toMatch(/application\/json/);
        expect((JSON.parse(body) as { error: string }).error, query).toBe(code);
        expect(body, query).not.toContain(h.users.globex.claims['email'] as string);
        // A page too: never the page, never a redirect to sign in somewhere.
        const page = await b.fetch(`${plain.url('/me')}${query}`, { headers: HTML_ACCEPT });
        await expectRefused(page, status, code);
        const context = await whoami(b, plain, query);
        expect(context.isAuthenticated, query).toBe(false);
        expect(context.tenant, query).toBeUndefined();
      }
      // The session itself is fine: its cookie was neither refused nor deleted.
      expect(await meTenant(b, plain, '?tenant=globex')).toBe('globex');

      // An app's own resolver that throws: the same refusal, never "no tenant named".
      const resolving = await sideApp({
        tenant: (req) => {
          const id = req.url.searchParams.get('tenant') ?? undefined;
          if (id === 'explode') throw new Error('tenant lookup failed');
          return id;
        },
      });
      try {
        const jar = b.jar.clone();
        expect(await meTenant(resolving.browser(jar), resolving, '?tenant=globex')).toBe('globex');
        await expectRefused(await resolving.browser(jar).fetch(`${resolving.url('/me')}?tenant=explode`, { headers: JSON_ACCEPT }), 400, 'ERR_OIDC_INVALID_REQUEST');
        expect((await whoami(resolving.browser(jar), resolving, '?tenant=explode')).isAuthenticated).toBe(false);
      } finally {
        await resolving.mounted.close();
      }
    });

    it(t('SA-19: with baseUrl https, cookies are Secure and __Host- although the request is plain http on 127.0.0.1'), async () => {
      const app = await sideApp({ baseUrl: 'https://app.example.test' });
      try {
        const response = await app.browser().fetch(`${app.url('/auth/login')}?tenant=acme`);
        expect(response.status).toBe(302);
        await response.text();
        const tx = cookiesSet(response).filter((c) => TX_COOKIE.test(c.name));
        expect(tx.length).toBeGreaterThan(0);
        for (const cookie of tx) {
          expect(cookie.name).toMatch(/^__Host-oin_tx_/);
          expect(cookie.attributes).toHaveProperty('secure');
          expect(cookie.attributes).toHaveProperty('httponly');
          expect(cookie.attributes['path']).toBe('/');
          expect(cookie.attributes).not.toHaveProperty('domain');
        }
      } finally {
        await app.mounted.close();
      }
    });
  });

  // =====================================================================================
  describe('independent audit: posts from Okta, initiation and account switches', () => {
    it(t('SA-18: /auth/initiate answers an unknown issuer, an unknown instance and an ambiguous org alike, naming no client id'), async () => {
      const { plain } = apps();
      const before = counters();
      const answers: { status: number; error: string; message: string }[] = [];
      const cases: Record<string, string>[] = [
        { iss: 'https://attacker.example' }, // unknown issuer
        { iss: orgs().acme.issuer, tenant: 'globex' }, // a customer's org, an instance it does not hold
        { iss: orgs().acme.issuer }, // a customer's org with two instances (ambiguous)
        { iss: `${orgs().globex.issuer}/oauth2/default` }, // a customer's org, another authorization server
      ];
      for (const params of cases) {
        for (const method of ['GET', 'POST'] as const) {
          const response =
            method === 'POST'
              ? await plain.browser().fetch(plain.url('/auth/initiate'), post(params, JSON_ACCEPT))
              : await plain.browser().fetch(`${plain.url('/auth/initiate')}?${new URLSearchParams(params)}`, { headers: JSON_ACCEPT });
          const body = await expectRefused(response, 404, 'ERR_OIDC_TENANT_UNKNOWN');
          for (const id of Object.values(h.clients).map((c) => c.clientId)) expect(body).not.toContain(id);
          const { error, message } = JSON.parse(body) as { error: string; message: string };
          answers.push({ status: response.status, error, message });
        }
      }
      expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
      expectNoOktaCall(before);
    });

    it(t('SA-04: a simplified-flow post with a foreign, null or missing Origin → 403 ERR_OIDC_ORIGIN_NOT_ALLOWED before any key fetch; from the org it signs in'), async () => {
      // A new app: its key cache is cold, so a refused post that fetched keys would show at /keys.
      const app = await sideApp();
      try {
        const { fields } = await orgs().globex.control.simplifiedSignIn(h.clients.globex.clientId);
        const refused: [string, Record<string, string>][] = [
          ['foreign', { origin: EVIL_ORIGIN }],
          ['another org', { origin: new URL(orgs().acme.issuer).origin }],
          ['null', { origin: 'null' }],
          ['missing', {}],
        ];
        for (const [label, headers] of refused) {
          const before = counters();
          const b = app.browser();
          const response = await b.fetch(app.url('/auth/callback'), post({ id_token: fields.id_token }, headers));
          await expectRefused(response, 403, 'ERR_OIDC_ORIGIN_NOT_ALLOWED');
          expect(cookiesSet(response), label).toEqual([]);
          expectNoOktaCall(before);
          expect((await whoami(b, app)).isAuthenticated, label).toBe(false);
        }
        // The refusals spent nothing: the same token, posted from the org, signs in (and fetches the keys once).
        const b = app.browser();
        const before = counters();
        const accepted = await b.fetch(app.url('/auth/callback'), post({ id_token: fields.id_token }, { origin: new URL(orgs().globex.issuer).origin }));
        expect(accepted.status).toBe(302);
        await accepted.text();
        expect(sessionSet(accepted).length).toBeGreaterThan(0);
        expect(counters().globex.keys).toBeGreaterThan(before.globex.keys);
        expect(await meTenant(b, app)).toBe('globex');
      } finally {
        await app.mounted.close();
      }
    });

    it(t('SA-04: a form_post callback or an initiate POST from a foreign or null Origin → 403, no /token call, no transaction; from the org (or with no Origin) they work'), async () => {
      const { formPost, plain } = apps();
      for (const origin of [EVIL_ORIGIN, 'null']) {
        const b = formPost.browser();
        const { authorize } = await h.login(formPost, b, { tenant: 'acme' });
        const request = await driveAuthorization(authorize);
        expect(request.method).toBe('POST');
        const before = counters();
        const response = await h.callback(b, request, { headers: { origin, ...CROSS_SITE } });
        await expectRefused(response, 403, 'ERR_OIDC_ORIGIN_NOT_ALLOWED');
        expectNoOktaCall(before);
        expect(counters().acme.token).toBe(before.acme.token);
        expect(await meTenant(b, formPost)).toBe(401);
      }
      const b = formPost.browser();
      const { authorize } = await h.login(formPost, b, { tenant: 'acme' });
      const accepted = await h.callback(b, await driveAuthorization(authorize), { headers: { origin: new URL(orgs().acme.issuer).origin, ...CROSS_SITE } });
      expect(accepted.status).toBe(302);
      expect(await meTenant(b, formPost)).toBe('acme');

      // Okta's auto-submitted initiate form (OIDC Core §4), as a POST.
      const params = { iss: orgs().globex.issuer };
      for (const origin of [EVIL_ORIGIN, 'null', new URL(orgs().acme.issuer).origin]) {
        const before = counters();
        const response = await plain.browser().fetch(plain.url('/auth/initiate'), post(params, { origin, ...CROSS_SITE }));
        await expectRefused(response, 403, 'ERR_OIDC_ORIGIN_NOT_ALLOWED');
        expect(cookiesSet(response).filter((c) => TX_COOKIE.test(c.name)), origin).toEqual([]);
        expectNoOktaCall(before);
      }
      for (const headers of [{ origin: new URL(orgs().globex.issuer).origin, ...CROSS_SITE }, {}]) {
        const response = await plain.browser().fetch(plain.url('/auth/initiate'), post(params, headers));
        expect(response.status, JSON.stringify(headers)).toBe(302);
        await response.text();
        expect(new URL(response.headers.get('location') ?? '').origin).toBe(new URL(orgs().globex.issuer).origin);
        expect(cookiesSet(response).filter((c) => TX_COOKIE.test(c.name)).length).toBeGreaterThan(0);
      }
    });

    it(t("SA-13: a sign-in over another tenant's session shows the switch page; only a same-origin POST switches"), async () => {
      const { plain } = apps();
      const { b } = await h.signIn(plain, 'acme');
      const attempt = async () => {
        const { authorize } = await h.login(plain, b, { tenant: 'globex' });
        return h.callback(b, await driveAuthorization(authorize));
      };
      const held = await attempt();
      expect(held.status).toBe(409);
      expect(held.headers.get('cache-control') ?? '').toMatch(/no-store/);
      expect(held.headers.get('content-security-policy') ?? '').toContain("frame-ancestors 'none'");
      expect(held.headers.get('content-type') ?? '').toMatch(/text\/html/);
      expect(sessionSet(held)).toEqual([]);
      const page = await held.text();
      expect(page).toContain('Switch account?');
      expect(page).not.toMatch(/<script/i);
      const switchForm = switchFormOf(page);
      expect(switchForm).toBeDefined();
      expect(new URL(switchForm?.action ?? '', plain.origin).href).toBe(plain.url('/auth/callback'));
      const value = switchForm?.value ?? '';
      expect(await meTenant(b, plain)).toBe('acme');
      // A cross-site page (or a script without Fetch Metadata or Origin) cannot press "continue".
      const forgers: Record<string, string>[] = [{ ...CROSS_SITE, origin: EVIL_ORIGIN }, { origin: EVIL_ORIGIN }, {}];
      for (const headers of forgers) {
        const forced = await b.fetch(plain.url('/auth/callback'), switchDecision(value, 'continue', headers));
        await expectRefused(forced, 403, 'ERR_OIDC_ORIGIN_NOT_ALLOWED');
        expect(await meTenant(b, plain), JSON.stringify(headers)).toBe('acme');
      }
      // "Stay signed in": the acme session is kept; the held sign-in is used up.
      const cancel = await b.fetch(plain.url('/auth/callback'), switchDecision(value, 'cancel', sameOriginHeaders(plain.origin)));
      expect(cancel.status).toBe(302);
      await cancel.text();
      expect(sessionSet(cancel)).toEqual([]);
      expect(await meTenant(b, plain)).toBe('acme');
      const late = await b.fetch(plain.url('/auth/callback'), switchDecision(value, 'continue', sameOriginHeaders(plain.origin)));
      await expectRefused(late, 409, 'ERR_OIDC_SESSION_CONFLICT');
      expect(await meTenant(b, plain)).toBe('acme');
      // A new attempt, confirmed on the app's own page: now the browser is globex's.
      const again = await attempt();
      const switched = await answerSwitch(b, plain.origin, again, 'continue');
      expect(switched.status).toBe(302);
      expect(sessionSet(switched).length).toBeGreaterThan(0);
      expect(await meTenant(b, plain)).toBe('globex');
      expect(await meTenant(b, plain, '?tenant=acme')).toBe(401);
    });

    it(t('SA-13: an API client gets 409 ERR_OIDC_SESSION_CONFLICT; a simplified-flow post over a live session asks too; the same user signs in again without a page'), async () => {
      const { plain } = apps();
      const { b } = await h.signIn(plain, 'acme');
      const { authorize } = await h.login(plain, b, { tenant: 'globex' });
      const request = await driveAuthorization(authorize);
      const json = await b.fetch(request.url, { headers: JSON_ACCEPT });
      const body = await expectRefused(json, 409, 'ERR_OIDC_SESSION_CONFLICT');
      expect((JSON.parse(body) as { error: string }).error).toBe('ERR_OIDC_SESSION_CONFLICT');
      expect(await meTenant(b, plain)).toBe('acme');
      // Okta's simplified flow posts an ID token for another tenant into the signed-in browser.
      const { fields } = await orgs().globex.control.simplifiedSignIn(h.clients.globex.clientId);
      const posted = await b.fetch(plain.url('/auth/callback'), post({ id_token: fields.id_token }, { origin: new URL(orgs().globex.issuer).origin, ...CROSS_SITE }));
      expect(posted.status).toBe(409);
      expect(sessionSet(posted)).toEqual([]);
      expect(await meTenant(b, plain)).toBe('acme');
      expect((await answerSwitch(b, plain.origin, posted, 'continue')).status).toBe(302);
      expect(await meTenant(b, plain)).toBe('globex');
      // The same user at the same tenant: a plain re-login.
      const { authorize: sameAuthorize } = await h.login(plain, b, { tenant: 'globex' });
      const same = await h.callback(b, await driveAuthorization(sameAuthorize));
      expect(same.status).toBe(302);
      expect(sessionSet(same).length).toBeGreaterThan(0);
    });
  });

  // =====================================================================================
  describe('independent audit: the bearer API', () => {
    const CALLER_A = '203.0.113.7';
    const CALLER_B = '198.51.100.23';

    it(t('SA-01: junk bearer tokens (random strings, JWT-shaped forgeries) are refused without reaching /introspect or any budget; real tokens keep working'), async () => {
      // Small buckets: if junk spent them, the real tokens below would be refused.
      const { app, org, api, close } = await ownOrgApp({ introspectionThrottle: { ratePerSec: 0.001, burst: 5, perCaller: { ratePerSec: 0.001, burst: 3 } } });
      try {
        // A sign-in caches the org's published keys (what a real app has after its first user).
        const b = app.browser();
        const { authorize } = await h.login(app, b, { tenant: 'acme' });
        expect((await h.callback(b, await driveAuthorization(authorize))).status).toBe(302);
        const real = await org.control.issueAccessToken(h.clients.acme.clientId, { login: h.users.acme.login });
        const first = await api(real, CALLER_A);
        expect(first.response.status, first.body).toBe(200);
        const before = org.control.counters();
        const outer = counters();
        const junk = junkTokens(org.issuer, h.clients.acme.clientId, real);
        for (let round = 0; round < 3; round += 1) {
          for (const token of junk) {
            const { response, body } = await api(token, CALLER_A);
            expect(response.status, `${token.slice(0, 60)}: ${body}`).toBe(401);
            expect(response.headers.get('www-authenticate') ?? '').toMatch(/^Bearer .*error="invalid_token"/);
            expect((JSON.parse(body) as { error: string }).error).toMatch(/^ERR_OIDC_ACCESS_TOKEN_(INVALID|INACTIVE)$/);
          }
        }
        // Not one call to Okta for any of them (nor a key fetch), and no bucket spent:
        expect(org.control.counters()).toEqual(before);
        expectNoOktaCall(outer);
        // … so the same caller's real tokens still work: the cached one and a new one.
        expect((await api(real, CALLER_A)).response.status).toBe(200);
        const fresh = await org.control.issueAccessToken(h.clients.acme.clientId, { login: h.users.acme.login });
        const second = await api(fresh, CALLER_A);
        expect(second.response.status, second.body).toBe(200);
        expect((JSON.parse(second.body) as { tenant: string }).tenant).toBe('acme');
      } finally {
        await close();
      }
    });

    it(t("SA-01: plausible forgeries from one caller run out that caller's bucket (429 with Retry-After), not the tenant's: another caller's real token works"), async () => {
      // Access tokens signed with a key /keys does not publish (Okta before March 2024): a real token
      // is as "plausible" as a forgery until Okta answers, so it pays the buckets too.
      const { org, api, close } = await ownOrgApp({ introspectionThrottle: { ratePerSec: 0.001, burst: 5, perCaller: { ratePerSec: 0.001, burst: 3 } } }, 'private');
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 8; i += 1) {
          const before = org.control.counters().introspect;
          const { response, body } = await api(plausibleForgery(org.issuer, h.clients.acme.clientId), CALLER_A);
          statuses.push(response.status);
          const { error } = JSON.parse(body) as { error: string };
          if (response.status === 401) {
            expect(error).toBe('ERR_OIDC_ACCESS_TOKEN_INACTIVE');
            expect(org.control.counters().introspect).toBe(before + 1);
          } else {
            expect(error).toBe('ERR_OIDC_RATE_LIMITED');
            expect(response.headers.get('retry-after') ?? '').toMatch(/^[1-9]\d*$/);
            expect(org.control.counters().introspect).toBe(before); // refused here, Okta not asked
          }
        }
        expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429]);
        // The tenant's bucket was not drained by that caller: another caller's real token is answered.
        const real = await org.control.issueAccessToken(h.clients.acme.clientId, { login: h.users.acme.login });
        const other = await api(real, CALLER_B);
        expect(other.response.status, other.body).toBe(200);
        // … and that caller's own budget is its own.
        const probe = await api(plausibleForgery(org.issuer, h.clients.acme.clientId), CALLER_B);
        expect(probe.response.status, probe.body).toBe(401);
      } finally {
        await close();
      }
    });

    it(t("SA-11: an ID token presented as a bearer access token → 401 invalid_token, whether triage refuses it or Okta's /introspect answer does"), async () => {
      const { plain } = apps();
      const idToken = await orgs().acme.control.issueIdToken(h.clients.acme.clientId);
      const before = counters();
      const refused = await fetch(`${plain.url('/api/me')}?tenant=acme`, { headers: { ...JSON_ACCEPT, authorization: `Bearer ${idToken}` } });
      const body = await expectRefused(refused, 401, 'ERR_OIDC_ACCESS_TOKEN_INVALID');
      expect(refused.headers.get('www-authenticate') ?? '').toMatch(/^Bearer .*error="invalid_token"/);
      expect(body).not.toContain(idToken);
      expectNoOktaCall(before); // no cid: triage knows it is no access token of this client
      // Without triage the token reaches /introspect, which says active for an ID token of its
      // audience (Okta's documented answer); core still refuses it as not an access token.
      const { api, org, close } = await ownOrgApp({ introspectionTriage: false });
      try {
        const own = await org.control.issueIdToken(h.clients.acme.clientId);
        const calls = org.control.counters().introspect;
        const { response, body: answer } = await api(own, CALLER_A);
        expect(response.status, answer).toBe(401);
        expect(response.headers.get('www-authenticate') ?? '').toMatch(/^Bearer .*error="invalid_token"/);
        expect((JSON.parse(answer) as { error: string }).error).toBe('ERR_OIDC_ACCESS_TOKEN_INVALID');
        expect(org.control.counters().introspect).toBe(calls + 1);
        // A real access token of the same org works on the same app.
        const token = await org.control.issueAccessToken(h.clients.acme.clientId, { login: h.users.acme.login });
        expect((await api(token, CALLER_A)).response.status).toBe(200);
      } finally {
        await close();
      }
    });
  });

  // =====================================================================================
  describe("independent audit: host-based tenants behind a proxy", () => {
    const HOSTS = { acme: 'acme.example.test', globex: 'globex.example.test' } as const;

    it(t("SA-16: in host tenant mode the app and core see one host, trusted proxy or not: a forged X-Forwarded-Host never shows a tenant another tenant's session"), async () => {
      const trusted = await h.start('', true, { tenant: 'host' });
      const direct = await h.start('', false, { tenant: 'host' });
      // Two orgs whose app instances are registered at the host names: https (the proxy's external
      // origin, no port); records refuse http redirect URIs off loopback.
      const org = (name: keyof typeof HOSTS) =>
        startOktaOrg({
          name: `host-${name}`,
          clients: [{ ...h.clients[name], tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [`https://${HOSTS[name]}/auth/callback`], postLogoutRedirectUris: [`https://${HOSTS[name]}/`] }],
          users: [h.users[name]],
        });
      const hostOrgs: Partial<Record<keyof typeof HOSTS, OktaOrg>> = {};
      try {
        hostOrgs.acme = await org('acme');
        hostOrgs.globex = await org('globex');
        const records = (Object.keys(HOSTS) as (keyof typeof HOSTS)[]).map(
          (name): TenantRecord => ({
            id: HOSTS[name],
            issuer: hostOrgs[name]?.issuer ?? '',
            ...h.clients[name],
            redirectUris: [`https://${HOSTS[name]}/auth/callback`],
            postLogoutRedirectUris: [`https://${HOSTS[name]}/`],
          }),
        );
        for (const app of [trusted, direct]) for (const record of records) await app.store.put(record);

        /** A request as the framework receives it: this Host, maybe X-Forwarded-Host (with X-Forwarded-Proto: https, as a TLS-terminating proxy sends). */
        const send = (app: App, jar: CookieJar, target: string, host: string, forwardedHost?: string, accept = JSON_ACCEPT) =>
          hostRequest(app.origin, target, {
            host,
            jar,
            headers: { ...accept, ...(forwardedHost === undefined ? {} : { 'x-forwarded-host': forwardedHost, 'x-forwarded-proto': 'https' }) },
          });
        const json = (response: RawResponse) => JSON.parse(response.body) as WhoAmI & { tenant?: string };

        /** Sign in as globex, the external host being globex's (through the proxy, or directly). */
        async function signInGlobex(app: App, viaProxy: boolean): Promise<CookieJar> {
          const jar = new CookieJar();
          const [host, forwarded] = viaProxy ? ['127.0.0.1', HOSTS.globex] : [HOSTS.globex, undefined];
          const login = await send(app, jar, '/auth/login', host, forwarded, HTML_ACCEPT);
          expect(login.status, login.body.slice(0, 200)).toBe(302);
          const authorize = new URL(login.headers['location'] ?? '');
          expect(authorize.origin).toBe(hostOrgs.globex?.issuer);
          expect(authorize.searchParams.get('redirect_uri')).toBe(`https://${HOSTS.globex}/auth/callback`);
          const request = await driveAuthorization(authorize);
          const done = await send(app, jar, `${request.url.pathname}${request.url.search}`, host, forwarded, HTML_ACCEPT);
          expect(done.status, done.body.slice(0, 300)).toBe(302);
          expect(done.setCookies.some((c) => SESSION_COOKIE.test(c.name) && !c.deletes)).toBe(true);
          const own = json(await send(app, jar, '/whoami', host, forwarded));
          expect(own).toMatchObject({ isAuthenticated: true, tenant: HOSTS.globex, host: HOSTS.globex });
          return jar;
        }

        /** The invariant: whenever the context is signed in, the host the app sees is the session's tenant. */
        function expectOneHost(view: WhoAmI, label: string) {
          if (view.isAuthenticated) expect(view.host, label).toBe(view.tenant);
        }

        // Behind the trusted proxy the forwarded host is the external host, for core and for the app.
        const trustedJar = await signInGlobex(trusted, true);
        for (const [host, forwarded, signedIn, seen] of [
          [HOSTS.acme, HOSTS.globex, true, HOSTS.globex],
          [HOSTS.globex, HOSTS.acme, false, HOSTS.acme],
          ['127.0.0.1', HOSTS.acme, false, HOSTS.acme],
        ] as const) {
          const label = `trusted: Host ${host}, X-Forwarded-Host ${forwarded}`;
          const view = json(await send(trusted, trustedJar.clone(), '/whoami', host, forwarded));
          expectOneHost(view, label);
          expect(view.host, label).toBe(seen);
          expect(view.isAuthenticated, label).toBe(signedIn);
          // The guarded page agrees with the context: acme's host never serves the globex session.
          const me = await send(trusted, trustedJar.clone(), '/me', host, forwarded);
          if (signedIn) {
            expect(me.status, label).toBe(200);
            expect(json(me).tenant, label).toBe(seen);
          } else expect(me.status, label).toBe(401);
        }

        // Without trust-proxy nobody reads X-Forwarded-Host: the Host header is the host, for both.
        const directJar = await signInGlobex(direct, false);
        for (const [host, forwarded, signedIn] of [
          [HOSTS.acme, HOSTS.globex, false],
          [HOSTS.globex, HOSTS.acme, true],
        ] as const) {
          const label = `direct: Host ${host}, X-Forwarded-Host ${forwarded}`;
          const view = json(await send(direct, directJar.clone(), '/whoami', host, forwarded));
          expectOneHost(view, label);
          expect(view.host, label).toBe(host);
          expect(view.isAuthenticated, label).toBe(signedIn);
          const me = await send(direct, directJar.clone(), '/me', host, forwarded);
          expect(me.status, label).toBe(signedIn ? 200 : 401);
          if (signedIn) expect(json(me).tenant, label).toBe(host);
        }
      } finally {
        await Promise.allSettled([trusted.mounted.close(), direct.mounted.close(), hostOrgs.acme?.close(), hostOrgs.globex?.close()]);
      }
    });
  });
}
