/**
 * Hono and the independent audit: SA-16 (with trustProxy the app sees the same external URL and
 * Host as core) and SA-02 (a response carrying our session cookies is never cacheable).
 */
import type { OidcAuthOptions, TenantRecord } from '@oin-oidc/core';
import { setCookiesOf } from '@oin-oidc/testing/conformance';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { oidc } from '../src';

const secret = 'hono-audit-test-secret-0123456789abcdef';

function offlineTenant(id: string): TenantRecord {
  return { id, issuer: 'http://127.0.0.1:9', clientId: `client-${id}`, clientSecret: 'offline-secret', redirectUris: ['http://127.0.0.1/auth/callback'] };
}

function options(extra: Partial<OidcAuthOptions> = {}): OidcAuthOptions {
  return { store: [offlineTenant('acme.example'), offlineTenant('beta.example')], session: { secret }, client: { allowLoopbackIssuers: true } as OidcAuthOptions['client'], ...extra };
}

describe('hono: one external host for core and the app (SA-16)', () => {
  const view = (c: { req: { url: string; header(name: string): string | undefined } }) => ({ url: c.req.url, host: c.req.header('host') });

  it('with trustProxy, the app reads the forwarded scheme and host that core decided with (SA-16)', async () => {
    const auth = oidc({ ...options({ tenant: 'host' }), trustProxy: true });
    const app = new Hono().use(auth.middleware).get('/whoami', (c) => c.json(view(c)));
    const response = await app.request('http://acme.example/whoami?x=1', { headers: { 'x-forwarded-host': 'beta.example', 'x-forwarded-proto': 'https' } });
    expect(await response.json()).toEqual({ url: 'https://beta.example/whoami?x=1', host: 'beta.example' });
  });

  it('without trustProxy, neither core nor the app reads the forwarded host (SA-16)', async () => {
    const auth = oidc(options({ tenant: 'host' }));
    const app = new Hono().use(auth.middleware).get('/whoami', (c) => c.json(view(c)));
    const response = await app.request('http://acme.example/whoami', { headers: { 'x-forwarded-host': 'beta.example', host: 'acme.example' } });
    expect(await response.json()).toEqual({ url: 'http://acme.example/whoami', host: 'acme.example' });
  });

  it('keeps the body of a POST the app reads after the rewrite (SA-16)', async () => {
    const auth = oidc({ ...options({ tenant: 'host' }), trustProxy: true });
    const app = new Hono().use(auth.middleware).post('/echo', async (c) => c.text(await c.req.text()));
    const response = await app.request('http://acme.example/echo', { method: 'POST', body: 'a=1&b=2', headers: { 'x-forwarded-host': 'beta.example' } });
    expect(await response.text()).toBe('a=1&b=2');
  });
});

describe('hono: session cookies on cacheable responses (SA-02)', () => {
  it('makes a public response that carries a session cookie deletion private, no-store (SA-02)', async () => {
    const auth = oidc(options());
    const app = new Hono()
      .use(auth.middleware)
      .get('/cached', (c) => c.text('hello', 200, { 'Cache-Control': 'public, max-age=3600' }))
      .get('/fresh', (c) => c.text('hello', 200, { 'Cache-Control': 'no-store, max-age=0' }));
    // A tampered session cookie: the middleware deletes it on whatever the app answers.
    const headers = { cookie: 'oin_session=tampered.value' };
    const cached = await app.request('http://127.0.0.1/cached', { headers });
    expect(setCookiesOf(cached).some((c) => c.name === 'oin_session' && c.deletes)).toBe(true);
    expect(cached.headers.get('cache-control')).toBe('private, no-store');
    expect((await app.request('http://127.0.0.1/fresh', { headers })).headers.get('cache-control')).toBe('no-store, max-age=0');
    // Without a cookie of ours the app's header is left alone.
    expect((await app.request('http://127.0.0.1/cached')).headers.get('cache-control')).toBe('public, max-age=3600');
  });
});
