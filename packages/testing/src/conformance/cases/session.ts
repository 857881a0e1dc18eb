/**
 * Sessions behind requiresAuth: the guard, rolling and idle expiry, and catalogue §CK (cookies and
 * sessions).
 */
import { describe, expect, it } from 'vitest';
import { driveAuthorization } from '../../index';
import { ROLLING_SEC, SESSION_COOKIE, TX_COOKIE, JSON_ACCEPT, cookiesSet, type App, type Harness } from '../harness';
import { CookieJar, answerSwitch, setCookiesOf, type Browser } from '../http';

/** Registers this section's cases in the suite's `describe` (see `describeAdapterConformance`). */
export function describeSessionCases(h: Harness): void {
  const { t, signIn, pendingCallback, counters, expectRejected } = h;
  const apps = () => h.apps();
  const orgs = () => h.orgs();

  // --- guards ------------------------------------------------------------------------------

  it(t('requiresAuth: 401 JSON for API clients, 302 to login for pages'), async () => {
    const json = await h.plain.browser().fetch(h.plain.url('/me'), { headers: { accept: 'application/json' } });
    expect(json.status).toBe(401);
    expect(json.headers.get('content-type') ?? '').toMatch(/application\/json/);
    expect(((await json.json()) as { error: string }).error).toMatch(/^ERR_OIDC_SESSION_/);
    const page = await h.plain.browser().fetch(h.plain.url('/me'), { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(page.status).toBe(302);
    expect(new URL(page.headers.get('location') ?? '', h.plain.origin).pathname).toBe('/auth/login');
  });

  it(t("requiresAuth does not accept one tenant's session on another tenant's route"), async () => {
    const { b } = await signIn(h.plain, 'acme');
    expect((await b.fetch(`${h.plain.url('/me')}?tenant=acme`, { headers: { accept: 'application/json' } })).status).toBe(200);
    const json = await b.fetch(`${h.plain.url('/me')}?tenant=globex`, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(401);
    const page = await b.fetch(`${h.plain.url('/me')}?tenant=globex`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(302);
    const location = new URL(page.headers.get('location') ?? '', h.plain.origin);
    expect(location.pathname).toBe('/auth/login');
    expect(location.searchParams.get('tenant')).toBe('globex');
  });

  it(t('the middleware re-issues a rolling session on an ordinary page, and an idle one expires'), async () => {
    const { b } = await signIn(h.plain, 'acme');
    let clockOffsetMs = 0;
    try {
      clockOffsetMs = (ROLLING_SEC * 1000 * 2) / 3; // less than half of the idle lifetime left
      h.setClockOffset(clockOffsetMs);
      const home = await b.fetch(h.plain.url('/'));
      expect(home.status).toBe(200);
      expect(cookiesSet(home).length).toBeGreaterThan(0);
      clockOffsetMs += (ROLLING_SEC * 1000 * 2) / 3; // still alive: the re-issued cookie counts from the last visit
      h.setClockOffset(clockOffsetMs);
      expect((await b.fetch(h.plain.url('/me'), { headers: { accept: 'application/json' } })).status).toBe(200);
      clockOffsetMs += ROLLING_SEC * 1000 * 2; // idle for longer than the lifetime
      h.setClockOffset(clockOffsetMs);
      const expired = await b.fetch(h.plain.url('/me'), { headers: { accept: 'application/json' } });
      expect(expired.status).toBe(401);
      expect(setCookiesOf(expired).some((c) => c.deletes)).toBe(true);
    } finally {
      h.setClockOffset(0);
    }
  });

  it(t('requiresAuth refuses a forged session cookie'), async () => {
    const { b } = await signIn(h.plain, 'acme');
    for (const [cookie, value] of b.jar.cookies) b.jar.cookies.set(cookie, `${value.slice(0, -4)}AAAA`);
    const me = await b.fetch(h.plain.url('/me'), { headers: { accept: 'application/json' } });
    expect(me.status).toBe(401);
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
      const { authorize } = await h.login(plain, b, { tenant: 'acme' });
      const response = await h.callback(b, await driveAuthorization(authorize));
      expect(response.status).toBe(302);
      const session = cookiesSet(response).find((c) => SESSION_COOKIE.test(c.name));
      expect(session?.value).toBeDefined();
      expect(session?.value).not.toBe('planted-by-attacker');
      expect((await meJson(b, plain)).status).toBe(200);
    });

    it(t('CK-02/SA-13: a login over another user’s session replaces it entirely, once the app’s own page confirms'), async () => {
      const { plain } = apps();
      const { b } = await h.signIn(plain, 'acme');
      const { authorize } = await h.login(plain, b, { tenant: 'globex' });
      const held = await h.callback(b, await driveAuthorization(authorize));
      expect(held.status).toBe(409);
      expect((await answerSwitch(b, plain.origin, held, 'continue')).status).toBe(302);
      const me = (await (await meJson(b, plain, 'globex')).json()) as { tenant: string; claims: Record<string, unknown> };
      expect(me.tenant).toBe('globex');
      expect(me.claims['email']).toBe(h.users.globex.claims['email']);
      expect(JSON.stringify(me)).not.toContain(String(h.users.acme.claims['email']));
    });

    it(t('CK-03: a transaction cookie value in the session cookie is refused (purpose separation)'), async () => {
      const { plain } = apps();
      const b = plain.browser();
      await h.login(plain, b, { tenant: 'acme' });
      const tx = [...b.jar.cookies].find(([name]) => TX_COOKIE.test(name));
      expect(tx).toBeDefined();
      const jar = new CookieJar();
      jar.cookies.set('oin_session', tx?.[1] ?? '');
      await expectSignedOut(plain, jar, 'transaction as session');
      // … and a session value in a transaction cookie cannot complete a callback.
      const { b: signedIn } = await h.signIn(plain, 'acme');
      const sessionValue = [...signedIn.jar.cookies].find(([name]) => SESSION_COOKIE.test(name))?.[1] ?? '';
      const { b: other, request } = await pendingCallback(plain);
      for (const [name] of other.jar.cookies) if (TX_COOKIE.test(name)) other.jar.cookies.set(name, sessionValue);
      const before = counters();
      const response = await h.callback(other, request);
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_TRANSACTION_INVALID', before, txDeleted: true });
    });

    it(t('CK-04: tampered, truncated, re-padded, foreign or missing-chunk session cookies → signed out, never 500'), async () => {
      const { plain } = apps();
      const { b } = await h.signIn(plain, 'acme');
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
      const { authorize } = await h.login(plain, large, { tenant: 'globex', login_hint: h.users.large.login });
      expect((await h.callback(large, await driveAuthorization(authorize, { login: h.users.large.login, password: h.users.large.password }))).status).toBe(302);
      const chunks = [...large.jar.cookies.keys()].filter((n) => SESSION_COOKIE.test(n));
      expect(chunks.length).toBeGreaterThanOrEqual(2);
      const jar = large.jar.clone();
      jar.cookies.delete(chunks[chunks.length - 1] ?? '');
      await expectSignedOut(plain, jar, 'missing chunk');
    });

    it(t('CK-05/FP-01/SA-08: session cookie attributes: HttpOnly, SameSite=Lax, Path=/, host-only; Secure and __Host- on https via a trusted proxy; transaction cookies SameSite=None only for form_post'), async () => {
      const { plain, proxied } = apps();
      const { response } = await h.signIn(plain, 'acme');
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
      const formPostProxied = await h.start('', true, { responseMode: 'form_post' });
      try {
        await formPostProxied.store.put(h.record(formPostProxied, 'acme', orgs().acme.issuer));
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
      const done = await h.callback(b, await driveAuthorization(login.headers.get('location') ?? ''), { headers: forwarded });
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
      const { b } = await h.signIn(plain, 'acme');
      const rotated = await h.start('', false, { session: { secret: ['conformance-rotated-secret-0123456789abcdef', 'conformance-session-secret-0123456789abcdef'] } });
      const stranger = await h.start('', false, { session: { secret: 'conformance-unknown-secret-0123456789abcdef' } });
      try {
        // The same tenant record on both, or the session would end with its tenant (SA-14), not its key.
        for (const app of [rotated, stranger]) await app.store.put(h.record(app, 'acme', orgs().acme.issuer));
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
      const { b } = await h.signIn(plain, 'acme');
      try {
        for (const offset of [2 * 3600 * 1000, 8 * 24 * 3600 * 1000]) {
          h.setClockOffset(offset);
          const json = await expectSignedOut(plain, b.jar, `+${offset} ms`);
          expect(setCookiesOf(json).some((c) => c.deletes && SESSION_COOKIE.test(c.name))).toBe(true);
        }
      } finally {
        h.setClockOffset(0);
      }
    });

    it(t('CK-11: pages behind requiresAuth and auth responses are not cacheable'), async () => {
      const { plain } = apps();
      const { b, response } = await h.signIn(plain, 'acme');
      expect(response.headers.get('cache-control') ?? '').toMatch(/no-store/);
      const unauthenticated = await plain.browser().fetch(plain.url('/me'), { headers: JSON_ACCEPT });
      expect(unauthenticated.headers.get('cache-control') ?? '').toMatch(/no-store/);
      expect((await b.fetch(plain.url('/auth/logout'))).headers.get('cache-control') ?? '').toMatch(/no-store/);
    });
  });
}
