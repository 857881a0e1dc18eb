/**
 * The app's own logout route (RP-initiated logout): catalogue §LO.
 */
import { describe, expect, it } from 'vitest';
import { SESSION_COOKIE, JSON_ACCEPT, cookiesSet, expectNoStore, expectNoSession, type Harness } from '../harness';
import { form, sameOriginHeaders, setCookiesOf } from '../http';

/** Registers this section's cases in the suite's `describe` (see `describeAdapterConformance`). */
export function describeLogoutCases(h: Harness): void {
  const { t, signIn, counters, expectNoOktaCall, expectServing } = h;
  const apps = () => h.apps();
  const orgs = () => h.orgs();

  // --- logout ------------------------------------------------------------------------------

  it(t('logout clears the session and redirects to Okta with id_token_hint'), async () => {
    const { b } = await signIn(h.plain, 'acme');
    // The app's own sign-out link (a browser sends Sec-Fetch-Site: same-origin): only then is the
    // Okta session ended too (SA-06).
    const response = await b.fetch(h.plain.url('/auth/logout'), { headers: sameOriginHeaders(h.plain.origin) });
    expect(response.status).toBe(302);
    expectNoStore(response);
    const target = new URL(response.headers.get('location') ?? '');
    expect(`${target.origin}${target.pathname}`).toBe(`${h.acmeOrg.issuer}/oauth2/v1/logout`);
    expect(target.searchParams.get('id_token_hint')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(target.searchParams.get('post_logout_redirect_uri')).toBe(h.plain.url('/'));
    expect(setCookiesOf(response).some((c) => c.deletes)).toBe(true);
    expectNoSession(response);
    const me = await b.fetch(h.plain.url('/me'), { headers: { accept: 'application/json' } });
    expect(me.status).toBe(401);
  });

  it(t('logout without a session redirects home'), async () => {
    const response = await h.plain.browser().fetch(h.plain.url('/auth/logout'));
    expect(response.status).toBe(302);
    expect(new URL(response.headers.get('location') ?? '', h.plain.origin).href).toBe(h.plain.url('/'));
  });

  // =====================================================================================
  describe('security catalogue: logout (LO)', () => {
    it(t('LO-01: logout deletes every session cookie (same name and Path, no Domain, Max-Age=0) in the response that redirects to Okta'), async () => {
      const { plain } = apps();
      const { b, response: signedIn } = await h.signIn(plain, 'acme');
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
      const { b } = await h.signIn(plain, 'acme');
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
}
