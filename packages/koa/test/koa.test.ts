/**
 * Koa specifics the shared conformance suite cannot know about: `app.proxy`, a body parser that ran
 * before the adapter, koa-mount's `ctx.mountPath`, and cookies other middleware set.
 */
import { createMemoryCredentialStore, type OidcAuthOptions, type TenantRecord } from '@oin-oidc/core';
import { driveAuthorization, type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { browser, form, setCookiesOf } from '@oin-oidc/testing/conformance';
import Koa from 'koa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isOidcError, oidc } from '../src';
import { type Listening, listen as listenOn } from './_support/mount';

const secret = 'koa-adapter-test-secret-0123456789abcd';
const servers: Listening[] = [];

/** Start `app` on a loopback port; it is closed with the others in `keep` (after each test by default). */
async function listen(app: Koa, keep: Listening[] = servers): Promise<string> {
  const server = await listenOn(app);
  keep.push(server);
  return server.origin;
}

async function closeAll(list: Listening[]): Promise<void> {
  await Promise.all(list.splice(0).map((server) => server.close()));
}

afterEach(() => closeAll(servers));

/** A tenant whose org is never contacted: login only builds the authorize URL. */
function offlineTenant(id: string): TenantRecord {
  return { id, issuer: 'http://127.0.0.1:9', clientId: `client-${id}`, clientSecret: 'offline-secret', redirectUris: ['http://127.0.0.1/auth/callback'] };
}

function options(extra: Partial<OidcAuthOptions> = {}): OidcAuthOptions {
  // The offline org is on 127.0.0.1: loopback issuers are allowed explicitly (SA-12).
  return { store: [offlineTenant('acme'), offlineTenant('acme.example')], session: { secret }, client: { allowLoopbackIssuers: true }, ...extra };
}

const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'acme.example' };

describe('koa: app.proxy', () => {
  it('ignores X-Forwarded-* when app.proxy is off', async () => {
    const app = new Koa();
    app.use(oidc(options({ tenant: 'host' })).middleware);
    const response = await browser(await listen(app)).fetch('/auth/login', { headers: forwarded });
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('ERR_OIDC_TENANT_UNKNOWN');
  });

  it('honours X-Forwarded-Host and -Proto when app.proxy is on', async () => {
    const app = new Koa({ proxy: true });
    app.use(oidc(options({ tenant: 'host' })).middleware);
    const response = await browser(await listen(app)).fetch('/auth/login', { headers: forwarded });
    expect(response.status).toBe(302);
    expect(new URL(response.headers.get('location') ?? '').searchParams.get('client_id')).toBe('client-acme.example');
    const cookies = setCookiesOf(response);
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) expect(cookie.attributes).toHaveProperty('secure');
  });
});

describe('koa: mounting and responses', () => {
  it("uses koa-mount's ctx.mountPath as the base path", async () => {
    const auth = oidc(options());
    const app = new Koa();
    // What koa-mount does for a prefix: strip it from ctx.path and record it as ctx.mountPath.
    app.use(async (ctx, next) => {
      if (!ctx.path.startsWith('/app/')) return next();
      const original = ctx.path;
      ctx.path = ctx.path.slice('/app'.length);
      (ctx as { mountPath?: string }).mountPath = '/app';
      await auth.middleware(ctx, async () => {
        ctx.path = original;
        await next();
      });
    });
    const origin = await listen(app);
    const login = await browser(origin).fetch('/app/auth/login?tenant=acme');
    expect(login.status).toBe(302);
    expect(login.headers.get('cache-control')).toMatch(/no-store/);
    expect((await browser(origin).fetch('/auth/login?tenant=acme')).status).toBe(404);
  });

  it('answers a redirect with 302, not the 204 Koa gives an empty body', async () => {
    const app = new Koa();
    app.use(oidc(options()).middleware);
    const response = await browser(await listen(app)).fetch('/auth/logout');
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/');
  });

  it('keeps cookies set by earlier middleware next to its own', async () => {
    const app = new Koa();
    app.use(async (ctx, next) => {
      ctx.cookies.set('theme', 'dark', { httpOnly: false });
      await next();
    });
    app.use(oidc(options()).middleware);
    const response = await browser(await listen(app)).fetch('/auth/login?tenant=acme');
    expect(response.status).toBe(302);
    const names = setCookiesOf(response).map((c) => c.name);
    expect(names).toContain('theme');
    expect(names.length).toBeGreaterThanOrEqual(2);
  });

  it('sets ctx.state.oidc on every request, signed out', async () => {
    const app = new Koa();
    app.use(oidc(options()).middleware);
    app.use((ctx) => {
      ctx.body = { isAuthenticated: ctx.state.oidc?.isAuthenticated, session: ctx.state.oidc?.session };
    });
    const response = await browser(await listen(app)).fetch('/');
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

describe('koa: a body parser that ran first', () => {
  const kept: Listening[] = [];
  let org: OktaOrg;
  let origin: string;
  const store = createMemoryCredentialStore();

  beforeAll(async () => {
    const auth = oidc({ store, session: { secret }, tenant: 'query', responseMode: 'form_post', client: { allowLoopbackIssuers: true } });
    const app = new Koa();
    // What @koa/bodyparser does: read the stream, leave an object on ctx.request.body.
    app.use(async (ctx, next) => {
      if (ctx.is('application/x-www-form-urlencoded')) {
        let text = '';
        for await (const chunk of ctx.req) text += chunk;
        const parsed: Record<string, string | string[]> = {};
        for (const [name, value] of new URLSearchParams(text)) {
          const seen = parsed[name];
          parsed[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
        }
        (ctx.request as { body?: unknown }).body = parsed;
      }
      await next();
    });
    app.use(auth.middleware);
    app.use(auth.requiresAuth());
    app.use((ctx) => {
      ctx.body = { tenant: ctx.state.oidc?.tenant, sub: typeof ctx.state.oidc?.user?.['sub'] === 'string' && ctx.state.oidc.user['sub'] === ctx.state.oidc.session?.sub };
    });
    origin = await listen(app, kept);
    org = await startOktaOrg({
      clients: [{ clientId: 'koa-app', clientSecret: 'koa-secret-0123456789', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [`${origin}/auth/callback`] }],
      users: [{ login: 'ada@acme.example', password: 'pw-0123456789' }],
    });
    await store.put({ id: 'acme', issuer: org.issuer, clientId: 'koa-app', clientSecret: 'koa-secret-0123456789', redirectUris: [`${origin}/auth/callback`] });
  });

  afterAll(async () => {
    await org?.close();
    await closeAll(kept);
  });

  it('signs in through form_post with the parsed body', async () => {
    const b = browser(origin);
    const login = await b.fetch('/auth/login?tenant=acme');
    const request = await driveAuthorization(login.headers.get('location') ?? '');
    expect(request.method).toBe('POST');
    const callback = await b.fetch(request.url, form(request.body ?? ''));
    expect(callback.status).toBe(302);
    const me = await b.fetch('/me', { headers: { accept: 'application/json' } });
    expect(await me.json()).toEqual({ tenant: 'acme', sub: true });
  });

  it('keeps a repeated parameter repeated', async () => {
    const b = browser(origin);
    const login = await b.fetch('/auth/login?tenant=acme');
    const request = await driveAuthorization(login.headers.get('location') ?? '');
    const body = new URLSearchParams(request.body);
    body.append('code', 'injected');
    const tokenCalls = org.control.counters().token;
    const callback = await b.fetch(request.url, form(body));
    expect(callback.status).toBe(400);
    expect(await callback.text()).toContain('ERR_OIDC_DUPLICATE_PARAMETER');
    expect(org.control.counters().token).toBe(tokenCalls);
  });
});
