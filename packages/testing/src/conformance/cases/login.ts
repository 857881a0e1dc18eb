/**
 * The login route: the redirect to the tenant's authorize endpoint, and catalogue §AR
 * (authorization request: redirect_uri, returnTo, tenant selection, logins in flight).
 */
import { describe, expect, it } from 'vitest';
import { driveAuthorization } from '../../index';
import { OPEN_REDIRECT_PAYLOADS } from '../../open-redirect';
import { CLIENTS, XSS, JSON_ACCEPT, cookiesSet, bodyOf, offSite, expectNoStore, expectNoSession, withQuery, type Harness } from '../harness';
import { answerSwitch } from '../http';

/** Registers this section's cases in the suite's `describe` (see `describeAdapterConformance`). */
export function describeLoginCases(h: Harness): void {
  const { t, login, counters, expectServing, expectRejected } = h;
  const apps = () => h.apps();
  const orgs = () => h.orgs();

  // --- login -------------------------------------------------------------------------------

  it(t('login redirects to the tenant authorize endpoint with state, nonce and PKCE S256'), async () => {
    const b = h.plain.browser();
    const { response, authorize } = await login(h.plain, b, { tenant: 'acme' });
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${h.acmeOrg.issuer}/oauth2/v1/authorize`);
    const q = authorize.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe(CLIENTS.acme.clientId);
    expect(q.get('redirect_uri')).toBe(h.plain.url('/auth/callback'));
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
    const { authorize } = await login(h.plain, h.plain.browser(), { tenant: 'acme-2' });
    expect(authorize.searchParams.get('client_id')).toBe(CLIENTS['acme-2'].clientId);
    expect(authorize.origin).toBe(h.acmeOrg.issuer);
  });

  it(t('login for an unknown tenant answers 4xx naming ERR_OIDC_TENANT_UNKNOWN and sets no cookie'), async () => {
    const response = await h.plain.browser().fetch(`${h.plain.url('/auth/login')}?tenant=nobody`);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await bodyOf(response)).toContain('ERR_OIDC_TENANT_UNKNOWN');
    expectNoStore(response);
    expectNoSession(response);
  });

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
        const { response } = await h.signIn(plain, 'acme', { returnTo: payload });
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
      const a = await h.login(plain, b, { tenant: 'acme' });
      const g = await h.login(plain, b, { tenant: 'globex' });
      const requestA = await driveAuthorization(a.authorize);
      const requestG = await driveAuthorization(g.authorize);
      expect((await h.callback(b, requestA)).status).toBe(302);
      expect(((await (await b.fetch(`${plain.url('/me')}?tenant=acme`, { headers: JSON_ACCEPT })).json()) as { tenant: string }).tenant).toBe('acme');
      // Signed in at acme now: the globex sign-in waits for the app's own confirmation page (SA-13).
      const held = await h.callback(b, requestG);
      expect(held.status).toBe(409);
      expect((await answerSwitch(b, plain.origin, held, 'continue')).status).toBe(302);
      const me = (await (await b.fetch(`${plain.url('/me')}?tenant=globex`, { headers: JSON_ACCEPT })).json()) as { tenant: string; claims: Record<string, unknown> };
      expect(me.tenant).toBe('globex');
      expect(me.claims['email']).toBe(h.users.globex.claims['email']);
      // Crossing them (A's code with B's state) fails closed with no token call.
      const c1 = await h.login(plain, b, { tenant: 'acme' });
      const c2 = await h.login(plain, b, { tenant: 'globex' });
      const r1 = await driveAuthorization(c1.authorize);
      await driveAuthorization(c2.authorize);
      const before = counters();
      const crossed = await h.callback(b, withQuery(r1, (q) => q.set('state', c2.authorize.searchParams.get('state') ?? '')));
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
}
