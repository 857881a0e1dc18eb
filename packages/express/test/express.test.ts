/**
 * Express specifics the shared conformance suite cannot know about: `trust proxy` values, body
 * parsers that ran before the adapter, nested mount paths, and cookies other middleware set.
 */
import { createMemoryCredentialStore, type OidcAuthOptions, type TenantRecord } from '@oin-oidc/core';
import { driveAuthorization, type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { browser, form, setCookiesOf } from '@oin-oidc/testing/conformance';
import express, { type Express } from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isOidcError, oidc } from '../src';
import { type Listening, listen as listenOn } from './_support/mount';

const secret = 'express-adapter-test-secret-0123456789';
const servers: Listening[] = [];
const kept: Listening[] = [];

/** Start `app` on a loopback port; closed after the test, or after its block when `keep` is set. */
async function listen(app: Express, keep = false): Promise<string> {
  const server = await listenOn(app);
  (keep ? kept : servers).push(server);
  return server.origin;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A tenant whose org is never contacted: login only builds the authorize URL. */
function offlineTenant(id: string, redirectUri = 'http://127.0.0.1/auth/callback'): TenantRecord {
  return { id, issuer: 'http://127.0.0.1:9', clientId: `client-${id}`, clientSecret: 'offline-secret', redirectUris: [redirectUri] };
}

function options(extra: Partial<OidcAuthOptions> = {}): OidcAuthOptions {
  // The offline org is on 127.0.0.1: loopback issuers are allowed explicitly (SA-12).
  return { store: [offlineTenant('acme'), offlineTenant('acme.example')], session: { secret }, client: { allowLoopbackIssuers: true }, ...extra };
}

describe('express: trust proxy', () => {
  const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'acme.example' };

  it('ignores X-Forwarded-* when trust proxy is off', async () => {
    const app = express();
    app.use(oidc(options({ tenant: 'host' })));
    const origin = await listen(app);
    const response = await browser(origin).fetch('/auth/login', { headers: forwarded });
    // The host is 127.0.0.1, which is no tenant: the forwarded one was not used.
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('ERR_OIDC_TENANT_UNKNOWN');
  });

  it('ignores X-Forwarded-* when trust proxy names another address', async () => {
    const app = express();
    app.set('trust proxy', '10.0.0.1');
    app.use(oidc(options({ tenant: 'host' })));
    const origin = await listen(app);
    const response = await browser(origin).fetch('/auth/login', { headers: forwarded });
    expect(response.status).toBe(404);
  });

  it('honours the first X-Forwarded-Host and X-Forwarded-Proto from a trusted proxy', async () => {
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(oidc(options({ tenant: 'host' })));
    const origin = await listen(app);
    const response = await browser(origin).fetch('/auth/login', {
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'acme.example, evil.example' },
    });
    expect(response.status).toBe(302);
    expect(new URL(response.headers.get('location') ?? '').searchParams.get('client_id')).toBe('client-acme.example');
    const cookies = setCookiesOf(response);
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) expect(cookie.attributes).toHaveProperty('secure');
  });
});

describe('express: mount paths', () => {
  it('serves the routes under app.use(path) and nested routers, and nowhere else', async () => {
    const auth = oidc(options({ tenant: 'query' }));
    const inner = express.Router();
    inner.use(auth);
    const outer = express.Router();
    outer.use('/inner', inner);
    const app = express();
    app.use('/outer', outer);
    const origin = await listen(app);
    const b = browser(origin);
    expect((await b.fetch('/outer/inner/auth/login?tenant=acme')).status).toBe(302);
    expect((await b.fetch('/auth/login?tenant=acme')).status).toBe(404);
    expect((await b.fetch('/outer/auth/login?tenant=acme')).status).toBe(404);
  });

  it('requiresAuth on a route outside the mounted router redirects to the mounted login route', async () => {
    const auth = oidc(options());
    const app = express();
    app.use('/app', auth);
    app.get('/app/reports', auth.requiresAuth(), (_req, res) => void res.send('secret'));
    const origin = await listen(app);
    const response = await browser(origin).fetch('/app/reports?id=1', { headers: { accept: 'text/html' } });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '', origin);
    expect(location.pathname).toBe('/app/auth/login');
    expect(location.searchParams.get('returnTo')).toBe('/app/reports?id=1');
  });
});

describe('express: responses', () => {
  it('keeps cookies set by earlier middleware next to its own', async () => {
    const app = express();
    app.use((_req, res, next) => {
      res.cookie('theme', 'dark');
      next();
    });
    app.use(oidc(options()));
    const origin = await listen(app);
    const response = await browser(origin).fetch('/auth/login?tenant=acme');
    expect(response.status).toBe(302);
    const names = setCookiesOf(response).map((c) => c.name);
    expect(names).toContain('theme');
    expect(names.length).toBeGreaterThanOrEqual(2);
  });

  it('sets req.oidc on every request, signed out', async () => {
    const app = express();
    app.use(oidc(options()));
    app.get('/', (req, res) => void res.json({ isAuthenticated: req.oidc.isAuthenticated, session: req.oidc.session }));
    const origin = await listen(app);
    const response = await browser(origin).fetch('/');
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

describe('express: body parsers that ran first', () => {
  let org: OktaOrg;
  let origin: string;
  const store = createMemoryCredentialStore();

  beforeAll(async () => {
    const auth = oidc({ store, session: { secret }, tenant: 'query', responseMode: 'form_post', client: { allowLoopbackIssuers: true } });
    const app = express();
    // Different parsers per path prefix, as apps mix them.
    app.use('/extended', express.urlencoded({ extended: true }));
    app.use('/simple', express.urlencoded({ extended: false }));
    app.use('/text', express.text({ type: 'application/x-www-form-urlencoded' }));
    for (const base of ['/extended', '/simple', '/text', '/raw']) {
      const router = express.Router();
      router.use(auth);
      router.get('/me', auth.requiresAuth(), (req, res) => void res.json({ tenant: req.oidc.tenant, sub: typeof req.oidc.user?.['sub'] === 'string' && req.oidc.user['sub'] === req.oidc.session?.sub }));
      app.use(base, router);
    }
    origin = await listen(app, true); // lives for the whole block
    const bases = ['extended', 'simple', 'text', 'raw'];
    // One app instance per mount: a store refuses two records with one issuer and client id (SA-17).
    org = await startOktaOrg({
      clients: bases.map((base) => ({ clientId: `express-app-${base}`, clientSecret: 'express-secret-0123456789', tokenEndpointAuthMethod: 'client_secret_basic' as const, redirectUris: [`${origin}/${base}/auth/callback`] })),
      users: [{ login: 'ada@acme.example', password: 'pw-0123456789' }],
    });
    for (const base of bases) {
      await store.put({ id: base, issuer: org.issuer, clientId: `express-app-${base}`, clientSecret: 'express-secret-0123456789', redirectUris: [`${origin}/${base}/auth/callback`] });
    }
  });

  afterAll(async () => {
    await org?.close();
    await Promise.all(kept.splice(0).map((server) => server.close()));
  });

  for (const base of ['extended', 'simple', 'text', 'raw']) {
    it(`signs in through form_post after the ${base} parser`, async () => {
      const b = browser(origin);
      const login = await b.fetch(`/${base}/auth/login?tenant=${base}`);
      expect(login.status).toBe(302);
      const request = await driveAuthorization(login.headers.get('location') ?? '');
      expect(request.method).toBe('POST');
      const callback = await b.fetch(request.url, form(request.body ?? ''));
      expect(callback.status).toBe(302);
      const me = await b.fetch(`/${base}/me`, { headers: { accept: 'application/json' } });
      expect(await me.json()).toEqual({ tenant: base, sub: true });
    });

    it(`keeps a repeated parameter repeated after the ${base} parser`, async () => {
      const b = browser(origin);
      const login = await b.fetch(`/${base}/auth/login?tenant=${base}`);
      const request = await driveAuthorization(login.headers.get('location') ?? '');
      const body = new URLSearchParams(request.body);
      body.append('code', 'injected');
      const tokenCalls = org.control.counters().token;
      const callback = await b.fetch(request.url, form(body));
      expect(callback.status).toBe(400);
      expect(await callback.text()).toContain('ERR_OIDC_DUPLICATE_PARAMETER');
      expect(org.control.counters().token).toBe(tokenCalls);
    });
  }
});
