/**
 * Plumbing every adapter must get right: pass-through, Host syntax, a sub-path mount, and
 * X-Forwarded-* only from a trusted proxy (RFC 9700 §2.1, catalogue AR-05).
 */
import { expect, it } from 'vitest';
import { driveAuthorization } from '../../index';
import { cookiesSet, expectNoSession, type Harness } from '../harness';
import { rawRequest } from '../http';

/** Registers this section's cases in the suite's `describe` (see `describeAdapterConformance`). */
export function describeRouteCases(h: Harness): void {
  const { t, login, callback } = h;

  // --- plumbing ----------------------------------------------------------------------------

  it(t('non-auth routes pass through untouched'), async () => {
    const home = await h.plain.browser().fetch(h.plain.url('/'));
    expect(home.status).toBe(200);
    expectNoSession(home);
    const unknown = await h.plain.browser().fetch(h.plain.url('/auth/unknown'));
    expect(unknown.status).toBe(404);
  });

  it(t('a malformed Host header is refused with 400 and the app keeps serving'), async () => {
    for (const host of ['a b', 'exa mple.com:80', '[::1', 'a/b']) {
      const status = await rawRequest(h.plain.origin, `GET /auth/login?tenant=acme HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(status).toBe(400);
    }
    expect((await h.plain.browser().fetch(h.plain.url('/'))).status).toBe(200);
  });

  it(t('mounted under a sub-path: routes, redirect_uri and sign-in live under it'), async () => {
    const b = h.sub.browser();
    const { authorize } = await login(h.sub, b, { tenant: 'acme' });
    expect(authorize.searchParams.get('redirect_uri')).toBe(h.sub.url('/auth/callback'));
    const response = await callback(b, await driveAuthorization(authorize));
    expect(response.status).toBe(302);
    const me = await b.fetch(h.sub.url('/me'), { headers: { accept: 'application/json' } });
    expect(me.status).toBe(200);
    const page = await h.sub.browser().fetch(h.sub.url('/me'), { headers: { accept: 'text/html' } });
    expect(page.status).toBe(302);
    expect(new URL(page.headers.get('location') ?? '', h.sub.origin).pathname).toBe('/app/auth/login');
    // Outside the mount point the adapter answers nothing.
    const outside = await h.sub.browser().fetch(`${h.sub.origin}/auth/login?tenant=acme`);
    expect(outside.status).toBe(404);
  });

  it(t('X-Forwarded-* are ignored unless the proxy is trusted'), async () => {
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' };
    const response = await h.plain.browser().fetch(`${h.plain.url('/auth/login')}?tenant=acme`, { headers: forwarded });
    expect(response.status).toBe(302);
    const authorize = new URL(response.headers.get('location') ?? '');
    // RFC 9700 §2.1, catalogue AR-05: the registered redirect_uri, never one built from headers.
    expect(authorize.searchParams.get('redirect_uri')).toBe(h.plain.url('/auth/callback'));
    // Plain http on loopback: cookies without Secure, which an honoured X-Forwarded-Proto would add.
    for (const cookie of cookiesSet(response)) expect(cookie.attributes).not.toHaveProperty('secure');
    // An initiate-login target on the forwarded host is off-site for this app.
    const b = h.plain.browser();
    const query = new URLSearchParams({ iss: h.globexOrg.issuer, target_link_uri: 'https://evil.example/reports' });
    const initiated = await b.fetch(`${h.plain.url('/auth/initiate')}?${query}`, { headers: forwarded });
    const done = await callback(b, await driveAuthorization(initiated.headers.get('location') ?? ''));
    expect(new URL(done.headers.get('location') ?? '', h.plain.origin).pathname).not.toBe('/reports');
  });

  it(t('X-Forwarded-* are honoured behind a trusted proxy'), async () => {
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example' };
    const response = await h.proxied.browser().fetch(`${h.proxied.url('/auth/login')}?tenant=acme`, { headers: forwarded });
    expect(response.status).toBe(302);
    const authorize = new URL(response.headers.get('location') ?? '');
    expect(authorize.searchParams.get('redirect_uri')).toBe(h.proxied.url('/auth/callback'));
    // The external URL is https: cookies are Secure.
    const set = cookiesSet(response);
    expect(set.length).toBeGreaterThan(0);
    for (const cookie of set) expect(cookie.attributes).toHaveProperty('secure');
    // And the forwarded host is this app's origin: a target_link_uri on it is followed.
    const b = h.proxied.browser();
    const query = new URLSearchParams({ iss: h.globexOrg.issuer, target_link_uri: 'https://app.example/reports' });
    const initiated = await b.fetch(`${h.proxied.url('/auth/initiate')}?${query}`, { headers: forwarded });
    expect(initiated.status).toBe(302);
    const done = await callback(b, await driveAuthorization(initiated.headers.get('location') ?? ''), { headers: forwarded });
    expect(done.status).toBe(302);
    expect(new URL(done.headers.get('location') ?? '', 'https://app.example').pathname).toBe('/reports');
  });
}
