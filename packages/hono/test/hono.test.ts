/**
 * Hono specifics the shared conformance suite cannot know about: the adapter's own `trustProxy`
 * option, base paths from Hono's routing, and headers other middleware set on the context.
 * Most run through `app.request()` (no server), as Hono apps do on any runtime.
 */
import type { OidcAuthOptions, TenantRecord } from '@oin-oidc/core';
import { setCookiesOf } from '@oin-oidc/testing/conformance';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { isOidcError, oidc } from '../src';

const secret = 'hono-adapter-test-secret-0123456789abc';

/** A tenant whose org is never contacted: login only builds the authorize URL. */
function offlineTenant(id: string): TenantRecord {
  return { id, issuer: 'http://127.0.0.1:9', clientId: `client-${id}`, clientSecret: 'offline-secret', redirectUris: ['http://127.0.0.1/auth/callback'] };
}

function options(extra: Partial<OidcAuthOptions> = {}): OidcAuthOptions {
  // The offline org is on 127.0.0.1: loopback issuers are allowed explicitly (SA-12).
  return { store: [offlineTenant('acme'), offlineTenant('acme.example')], session: { secret }, client: { allowLoopbackIssuers: true }, ...extra };
}

const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'acme.example, evil.example' };

describe('hono: trustProxy', () => {
  it('ignores X-Forwarded-* by default', async () => {
    const app = new Hono().use(oidc(options({ tenant: 'host' })).middleware);
    const response = await app.request('http://127.0.0.1:3000/auth/login', { headers: forwarded });
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('ERR_OIDC_TENANT_UNKNOWN');
  });

  it('takes the first X-Forwarded-Host and -Proto with trustProxy: true', async () => {
    const app = new Hono().use(oidc({ ...options({ tenant: 'host' }), trustProxy: true }).middleware);
    const response = await app.request('http://127.0.0.1:3000/auth/login', { headers: forwarded });
    expect(response.status).toBe(302);
    expect(new URL(response.headers.get('location') ?? '').searchParams.get('client_id')).toBe('client-acme.example');
    const cookies = setCookiesOf(response);
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) expect(cookie.attributes).toHaveProperty('secure');
  });

  it('keeps the request URL when trusted headers are absent', async () => {
    const app = new Hono().use(oidc({ ...options({ tenant: 'host' }), trustProxy: true }).middleware);
    const response = await app.request('http://acme.example/auth/login');
    expect(response.status).toBe(302);
    expect(new URL(response.headers.get('location') ?? '').searchParams.get('client_id')).toBe('client-acme.example');
  });
});

describe('hono: mounting', () => {
  it('reads the base path from app.route, including nested routes', async () => {
    const auth = oidc(options());
    const inner = new Hono().use(auth.middleware).get('/page', auth.requiresAuth(), (c) => c.text('secret'));
    const app = new Hono().route('/outer', new Hono().route('/inner', inner));
    expect((await app.request('http://127.0.0.1/outer/inner/auth/login?tenant=acme')).status).toBe(302);
    expect((await app.request('http://127.0.0.1/auth/login?tenant=acme')).status).toBe(404);
    const page = await app.request('http://127.0.0.1/outer/inner/page', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(302);
    expect(new URL(page.headers.get('location') ?? '', 'http://127.0.0.1').pathname).toBe('/outer/inner/auth/login');
  });

  it('keeps cookies that earlier middleware set on the context', async () => {
    const app = new Hono()
      .use(async (c, next) => {
        c.header('Set-Cookie', 'theme=dark; Path=/', { append: true });
        await next();
      })
      .use(oidc(options()).middleware);
    const response = await app.request('http://127.0.0.1/auth/login?tenant=acme');
    expect(response.status).toBe(302);
    const names = setCookiesOf(response).map((c) => c.name);
    expect(names).toContain('theme');
    expect(names.length).toBeGreaterThanOrEqual(2);
  });

  it('sets c.get("oidc") on every request, signed out', async () => {
    const auth = oidc(options());
    const app = new Hono().use(auth.middleware).get('/', (c) => c.json({ isAuthenticated: c.get('oidc').isAuthenticated, session: c.get('oidc').session }));
    const response = await app.request('http://127.0.0.1/');
    expect(await response.json()).toEqual({ isAuthenticated: false, session: null });
  });

  it('refuses invalid options at startup with ERR_OIDC_INVALID_OPTIONS', () => {
    let thrown: unknown;
    try {
      oidc({ store: [], session: { secret: 'short' } });
    } catch (error) {
      thrown = error;
    }
    expect(isOidcError(thrown) && thrown.code).toBe('ERR_OIDC_INVALID_OPTIONS');
  });
});
