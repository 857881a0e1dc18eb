/**
 * Initiate login (OIDC Core §4, third-party initiated login): catalogue §TP.
 */
import { describe, expect, it } from 'vitest';
import { driveAuthorization } from '../../index';
import { OPEN_REDIRECT_PAYLOADS } from '../../open-redirect';
import { CLIENTS, USER, XSS, SESSION_COOKIE, TX_COOKIE, JSON_ACCEPT, cookiesSet, bodyOf, urlencodedPost, offSite, expectNoStore, expectNoSession, type Harness } from '../harness';
import { form, answerSwitch, setCookiesOf } from '../http';

/** Registers this section's cases in the suite's `describe` (see `describeAdapterConformance`). */
export function describeInitiateCases(h: Harness): void {
  const { t, callback, counters, expectNoOktaCall, expectRejected } = h;
  const apps = () => h.apps();
  const orgs = () => h.orgs();

  // --- initiate login (OIDC Core §4) --------------------------------------------------------

  it(t('initiate login (GET and POST) redirects to the authorize endpoint of the issuer'), async () => {
    const get = await h.plain.browser().fetch(`${h.plain.url('/auth/initiate')}?${new URLSearchParams({ iss: h.globexOrg.issuer })}`);
    expect(get.status).toBe(302);
    expectNoStore(get);
    const target = new URL(get.headers.get('location') ?? '');
    expect(`${target.origin}${target.pathname}`).toBe(`${h.globexOrg.issuer}/oauth2/v1/authorize`);
    expect(target.searchParams.get('client_id')).toBe(CLIENTS.globex.clientId);
    const post = await h.plain.browser().fetch(h.plain.url('/auth/initiate'), form({ iss: h.acmeOrg.issuer, tenant: 'acme-2', login_hint: USER.login }));
    expect(post.status).toBe(302);
    const postTarget = new URL(post.headers.get('location') ?? '');
    expect(postTarget.searchParams.get('client_id')).toBe(CLIENTS['acme-2'].clientId);
    expect(postTarget.searchParams.get('login_hint')).toBe(USER.login);
  });

  it(t('initiate login with an unknown issuer answers 4xx'), async () => {
    const response = await h.plain.browser().fetch(`${h.plain.url('/auth/initiate')}?iss=${encodeURIComponent('https://unknown.okta.com')}`);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await bodyOf(response)).toMatch(/ERR_OIDC_[A-Z_]+/);
    expectNoSession(response);
  });

  it(t('initiate login follows a same-origin target_link_uri but never an off-site one'), async () => {
    const run = async (targetLinkUri: string) => {
      const b = h.plain.browser();
      const query = new URLSearchParams({ iss: h.globexOrg.issuer, target_link_uri: targetLinkUri });
      const initiated = await b.fetch(`${h.plain.url('/auth/initiate')}?${query}`);
      expect(initiated.status).toBe(302);
      const response = await callback(b, await driveAuthorization(initiated.headers.get('location') ?? ''));
      expect(response.status).toBe(302);
      return new URL(response.headers.get('location') ?? '', h.plain.origin);
    };
    const same = await run(h.plain.url('/reports?id=7'));
    expect(same.origin).toBe(h.plain.origin);
    expect(same.pathname).toBe('/reports');
    const offSite = await run('https://evil.example/steal');
    expect(offSite.origin).toBe(h.plain.origin);
    expect(offSite.host).not.toBe('evil.example');
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
        const done = await h.callback(b, await driveAuthorization(initiated.headers.get('location') ?? ''));
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
        const { b } = await h.signIn(plain, 'acme');
        const before = counters();
        const response =
          method === 'GET'
            ? await b.fetch(`${plain.url('/auth/initiate')}?${new URLSearchParams(params)}`, { headers: crossSite })
            : await b.fetch(plain.url('/auth/initiate'), urlencodedPost(new URLSearchParams(params).toString(), crossSite));
        expect(response.status, method).toBe(302);
        expect(response.headers.get('cache-control') ?? '', method).toMatch(/no-store/);
        const authorize = new URL(response.headers.get('location') ?? '');
        expect(`${authorize.origin}${authorize.pathname}`, method).toBe(`${issuer}/oauth2/v1/authorize`);
        expect(authorize.searchParams.get('client_id'), method).toBe(h.clients.globex.clientId);
        // Only a transaction cookie is set; the session cookies are neither set nor deleted.
        const touched = setCookiesOf(response);
        expect(touched.filter((c) => !c.deletes).map((c) => c.name).every((name) => TX_COOKIE.test(name)), method).toBe(true);
        expect(touched.filter((c) => !c.deletes).length, method).toBeGreaterThan(0);
        expect(touched.filter((c) => SESSION_COOKIE.test(c.name)), method).toEqual([]);
        expectNoOktaCall(before);
        expect((await b.fetch(`${plain.url('/me')}?tenant=acme`, { headers: JSON_ACCEPT })).status, method).toBe(200);
        // The started login completes (the browser comes back with the transaction cookie). It would
        // replace the acme session with a globex one: only after the app's own page confirms (SA-13).
        const held = await h.callback(b, await driveAuthorization(authorize));
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
      const { authorize } = await h.login(formPost, fb, { tenant: 'acme' });
      const request = await driveAuthorization(authorize);
      expect(request.method).toBe('POST');
      const okta = orgs().acme.issuer;
      const done = await h.callback(fb, request, { headers: { ...crossSite, origin: okta, referer: `${okta}/` } });
      expect(done.status).toBe(302);
      expect(cookiesSet(done).filter((c) => SESSION_COOKIE.test(c.name)).length).toBeGreaterThan(0);
    });

    it(t("TP-09/SA-13: initiate while signed in to another tenant starts a fresh transaction and replaces the session once the app's own page confirms"), async () => {
      const { plain } = apps();
      const { b } = await h.signIn(plain, 'acme');
      const initiated = await b.fetch(`${plain.url('/auth/initiate')}?${new URLSearchParams({ iss: orgs().globex.issuer })}`);
      expect(initiated.status).toBe(302);
      expect(new URL(initiated.headers.get('location') ?? '').origin).toBe(orgs().globex.issuer);
      const held = await h.callback(b, await driveAuthorization(initiated.headers.get('location') ?? ''));
      // Not replaced silently (SA-13): the acme session holds until the switch is confirmed.
      expect(held.status).toBe(409);
      expect((await b.fetch(`${plain.url('/me')}?tenant=acme`, { headers: JSON_ACCEPT })).status).toBe(200);
      const done = await answerSwitch(b, plain.origin, held, 'continue');
      expect(done.status).toBe(302);
      const me = (await (await b.fetch(`${plain.url('/me')}?tenant=globex`, { headers: JSON_ACCEPT })).json()) as { tenant: string; claims: Record<string, unknown> };
      expect(me.tenant).toBe('globex');
      expect(me.claims['email']).toBe(h.users.globex.claims['email']);
      expect((await b.fetch(`${plain.url('/me')}?tenant=acme`, { headers: JSON_ACCEPT })).status).toBe(401);
    });
  });
}
