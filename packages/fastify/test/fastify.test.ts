/**
 * Fastify specifics the shared conformance suite cannot know about: `trustProxy` values, a form
 * parser registered before the plugin, encapsulation of the plugin's own parser, and prefixes.
 */
import { createMemoryCredentialStore, type OidcAuthOptions, type TenantRecord } from '@oin-oidc/core';
import { driveAuthorization, type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { browser, form, setCookiesOf } from '@oin-oidc/testing/conformance';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isOidcError, oidcPlugin } from '../src';

const secret = 'fastify-adapter-test-secret-0123456789';
const apps: FastifyInstance[] = [];

async function listen(app: FastifyInstance): Promise<string> {
  apps.push(app);
  return app.listen({ port: 0, host: '127.0.0.1' });
}

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

/** A tenant whose org is never contacted: login only builds the authorize URL. */
function offlineTenant(id: string): TenantRecord {
  return { id, issuer: 'http://127.0.0.1:9', clientId: `client-${id}`, clientSecret: 'offline-secret', redirectUris: ['http://127.0.0.1/auth/callback'] };
}

function options(extra: Partial<OidcAuthOptions> = {}): OidcAuthOptions {
  // The offline org is on 127.0.0.1: loopback issuers are allowed explicitly (SA-12).
  return { store: [offlineTenant('acme'), offlineTenant('acme.example')], session: { secret }, client: { allowLoopbackIssuers: true }, ...extra };
}

describe('fastify: trustProxy', () => {
  it('ignores X-Forwarded-* without trustProxy', async () => {
    const app = Fastify();
    await app.register(oidcPlugin, options({ tenant: 'host' }));
    const origin = await listen(app);
    const response = await browser(origin).fetch('/auth/login', { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'acme.example' } });
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('ERR_OIDC_TENANT_UNKNOWN');
  });

  it('ignores X-Forwarded-* when trustProxy names another address', async () => {
    const app = Fastify({ trustProxy: '10.0.0.1' });
    await app.register(oidcPlugin, options({ tenant: 'host' }));
    const origin = await listen(app);
    const response = await browser(origin).fetch('/auth/login', { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'acme.example' } });
    expect(response.status).toBe(404);
  });

  it('honours X-Forwarded-Host and -Proto from a trusted proxy', async () => {
    const app = Fastify({ trustProxy: '127.0.0.1' });
    await app.register(oidcPlugin, options({ tenant: 'host' }));
    const origin = await listen(app);
    const response = await browser(origin).fetch('/auth/login', { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'acme.example' } });
    expect(response.status).toBe(302);
    expect(new URL(response.headers.get('location') ?? '').searchParams.get('client_id')).toBe('client-acme.example');
    for (const cookie of setCookiesOf(response)) expect(cookie.attributes).toHaveProperty('secure');
  });
});

describe('fastify: registration', () => {
  it('keeps its form parser inside its own scope', async () => {
    const app = Fastify();
    await app.register(oidcPlugin, options());
    app.post('/echo', async (request) => ({ body: request.body }));
    const origin = await listen(app);
    // The app never registered a urlencoded parser, and the plugin's did not leak into it.
    const response = await browser(origin).fetch('/echo', form({ a: '1' }));
    expect(response.status).toBe(415);
  });

  it('serves the tenant-in-path login route', async () => {
    const app = Fastify();
    await app.register(oidcPlugin, options({ tenant: 'path' }));
    const origin = await listen(app);
    const response = await browser(origin).fetch('/auth/login/acme');
    expect(response.status).toBe(302);
    expect(new URL(response.headers.get('location') ?? '').searchParams.get('client_id')).toBe('client-acme');
    expect((await browser(origin).fetch('/auth/login/acme/extra')).status).toBe(404);
  });

  it('serves custom route paths under a prefix', async () => {
    const app = Fastify();
    await app.register(
      async (scope) => {
        await scope.register(oidcPlugin, options({ routes: { login: '/sign-in' } }));
        scope.get('/page', { preHandler: scope.oidc.requiresAuth() }, async () => 'secret');
      },
      { prefix: '/app' },
    );
    const origin = await listen(app);
    expect((await browser(origin).fetch('/app/sign-in?tenant=acme')).status).toBe(302);
    expect((await browser(origin).fetch('/sign-in?tenant=acme')).status).toBe(404);
    const page = await browser(origin).fetch('/app/page', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(302);
    expect(new URL(page.headers.get('location') ?? '', origin).pathname).toBe('/app/sign-in');
  });

  it('keeps cookies set by an earlier hook next to its own', async () => {
    const app = Fastify();
    app.addHook('onRequest', async (_request, reply) => {
      reply.header('set-cookie', 'theme=dark; Path=/');
    });
    await app.register(oidcPlugin, options());
    const origin = await listen(app);
    const response = await browser(origin).fetch('/auth/login?tenant=acme');
    expect(response.status).toBe(302);
    const names = setCookiesOf(response).map((c) => c.name);
    expect(names).toContain('theme');
    expect(names.length).toBeGreaterThanOrEqual(2);
  });

  it("accepts Fastify's own register options beside the core options", async () => {
    const app = Fastify();
    await app.register(oidcPlugin, { ...options(), logLevel: 'warn' });
    const origin = await listen(app);
    expect((await browser(origin).fetch('/auth/login?tenant=acme')).status).toBe(302);
  });

  it('refuses invalid options at registration with ERR_OIDC_INVALID_OPTIONS', async () => {
    const app = Fastify();
    apps.push(app);
    let thrown: unknown;
    try {
      await app.register(oidcPlugin, { store: [], session: { secret: 'short' } });
    } catch (error) {
      thrown = error;
    }
    expect(isOidcError(thrown) && thrown.code).toBe('ERR_OIDC_INVALID_OPTIONS');
  });
});

describe('fastify: a form parser registered before the plugin', () => {
  let org: OktaOrg;
  let app: FastifyInstance;
  let origin: string;
  const store = createMemoryCredentialStore();

  beforeAll(async () => {
    app = Fastify();
    // What @fastify/formbody does: parse into an object (repeated names become arrays).
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
      const parsed: Record<string, string | string[]> = {};
      for (const [name, value] of new URLSearchParams(body as string)) {
        const seen = parsed[name];
        parsed[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
      }
      done(null, parsed);
    });
    await app.register(oidcPlugin, { store, session: { secret }, tenant: 'query', responseMode: 'form_post', client: { allowLoopbackIssuers: true } });
    app.get('/me', { preHandler: app.oidc.requiresAuth() }, async (request) => ({ tenant: request.oidc.tenant, sub: typeof request.oidc.user?.['sub'] === 'string' && request.oidc.user['sub'] === request.oidc.session?.sub }));
    origin = await app.listen({ port: 0, host: '127.0.0.1' });
    org = await startOktaOrg({
      clients: [{ clientId: 'fastify-app', clientSecret: 'fastify-secret-0123456789', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [`${origin}/auth/callback`] }],
      users: [{ login: 'ada@acme.example', password: 'pw-0123456789' }],
    });
    await store.put({ id: 'acme', issuer: org.issuer, clientId: 'fastify-app', clientSecret: 'fastify-secret-0123456789', redirectUris: [`${origin}/auth/callback`] });
  });

  afterAll(async () => {
    await Promise.allSettled([app?.close(), org?.close()]);
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
