/**
 * The request translation core offers adapters (fromHeaderMap, fromWebRequest) and the URL-free
 * fast paths it takes with them (origin, query): each must answer exactly what the parsed URL
 * would, and hostile Host headers and targets must still fail as ERR_OIDC_INVALID_REQUEST.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isOidcError } from '../src/errors';
import { createOidcAuth } from '../src/flow/auth';
import { fromHeaderMap } from '../src/flow/header-map-request';
import { isSecureRequest, originOf, queryValues } from '../src/flow/request-origin';
import { resolveTenantId } from '../src/flow/tenant';
import type { OidcRequest } from '../src/flow/types';
import { fromWebRequest } from '../src/flow/web';
import { requestContext, withAccessToken } from '../src/flow/request-context';
import { sessionUser } from '../src/session/session-user';
import type { Session } from '../src/session/types';
import { check, hostileString } from './support/properties';

const request = (init: Partial<Parameters<typeof fromHeaderMap>[0]> = {}) =>
  fromHeaderMap({ method: 'get', basePath: '', protocol: 'https', host: 'app.example.com', target: '/api/me?tenant=acme', headers: {}, readBody: async () => '', ...init });

/** The same request without the fast paths: core must read it through `url` and `headers`. */
function slow(req: OidcRequest): OidcRequest {
  return { method: req.method, basePath: req.basePath, url: req.url, headers: req.headers, readBody: () => req.readBody() };
}

describe('fromHeaderMap', () => {
  it('gives method, path, query, origin and headers as the Web objects would', async () => {
    const req = request({ headers: { cookie: 'a=1', accept: [' application/json', 'text/html '], 'x-empty': '' }, readBody: async () => 'a=1' });
    expect(req.method).toBe('GET');
    expect(req.path).toBe('/api/me');
    expect(req.query).toBe('tenant=acme');
    expect(req.origin).toBe('https://app.example.com');
    expect(req.url.href).toBe('https://app.example.com/api/me?tenant=acme');
    for (const name of ['cookie', 'accept', 'x-empty', 'absent']) expect(req.header!(name)).toBe(req.headers.get(name));
    expect(await req.readBody()).toBe('a=1');
    expect(request({ target: '/p' }).query).toBe('');
    expect(request({ target: '/p?' }).query).toBe('');
  });

  it('refuses a missing or malformed Host, a bad scheme and a target that is not origin-form (400, ERR_OIDC_INVALID_REQUEST)', () => {
    const bad: Array<Partial<Parameters<typeof fromHeaderMap>[0]>> = [
      { host: undefined },
      { host: '' },
      { host: 'evil.com/path' },
      { host: 'a b' },
      { host: 'user@evil.com' },
      { host: 'app.example.com:99999999' },
      { protocol: 'javascript' },
      { target: 'http://evil.com/' },
      { target: '*' },
    ];
    for (const init of bad) {
      let thrown: unknown;
      try {
        request(init);
      } catch (error) {
        thrown = error;
      }
      expect(isOidcError(thrown) && thrown.code === 'ERR_OIDC_INVALID_REQUEST' && thrown.status === 400, JSON.stringify(init)).toBe(true);
    }
    // A good origin checked once stays good; the next bad one is still refused.
    expect(request().origin).toBe('https://app.example.com');
    expect(() => request({ host: 'evil.com\\@x' })).toThrow();
  });
});

describe('fromWebRequest', () => {
  it('splits origin, path and query from the href; an href with credentials leaves them to the URL', () => {
    const req = fromWebRequest(new Request('https://app.example.com:8443/a/b?x=1&tenant=acme#frag'));
    expect([req.origin, req.path, req.query]).toEqual(['https://app.example.com:8443', '/a/b', 'x=1&tenant=acme']);
    const plain = fromWebRequest(new Request('http://localhost:3000/'));
    expect([plain.origin, plain.path, plain.query]).toEqual(['http://localhost:3000', '/', '']);
    // Fetch's Request refuses credentials; a runtime's own request object might not.
    const withUser = fromWebRequest({ method: 'GET', url: 'https://u:p@app.example.com/x', headers: new Headers() } as Request);
    expect(withUser.origin).toBeUndefined();
    expect(originOf(withUser).hostname).toBe('app.example.com');
  });

  it('reports the rewritten origin once an adapter changed the URL (trusted proxy headers)', () => {
    const req = fromWebRequest(new Request('http://127.0.0.1:3000/x'));
    req.url.protocol = 'https';
    req.url.port = '';
    req.url.host = 'app.example.com';
    expect(req.origin).toBe('https://app.example.com');
    expect(isSecureRequest(req)).toBe(true);
  });
});

describe('URL-free fast paths', () => {
  it('decide cookie security and host tenants from the origin exactly as from the URL', () => {
    for (const [protocol, host, secure] of [
      ['http', '127.0.0.1:3000', false],
      ['http', 'localhost', false],
      ['http', '[::1]:8080', false],
      ['http', 'app.example.com', true],
      ['https', 'localhost', true],
      ['https', 'ACME.App.Example.com', true],
    ] as const) {
      const req = request({ protocol, host });
      expect(isSecureRequest(req), `${protocol}://${host}`).toBe(secure);
      expect(isSecureRequest(slow(req))).toBe(secure);
      expect(originOf(req).hostname).toBe(req.url.hostname);
    }
  });

  it('read ?tenant= from the raw query exactly as url.searchParams would, for any target (property)', async () => {
    const piece = fc.oneof(fc.constantFrom('tenant', 'tenant=', '=', '&', '%', '%74enant', '%2', '%zz', '+', '#', ' ', '"', "'", '<', '?', 'é', '\u0000'), fc.string({ maxLength: 5 }), hostileString({ maxLength: 6 }));
    await check(
      'query fast path = url.searchParams',
      fc.asyncProperty(fc.array(piece, { maxLength: 8 }), async (pieces) => {
        const query = pieces.join('');
        let req: OidcRequest;
        try {
          req = request({ target: `/p?${query}` });
        } catch {
          return; // a target URL parsing refuses is refused before any tenant lookup
        }
        expect(queryValues(req, 'tenant')).toEqual(req.url.searchParams.getAll('tenant'));
        const fast = await resolveTenantId('query', req).then((v) => ({ v }), (e: unknown) => ({ e: isOidcError(e) ? e.code : 'other' }));
        const viaUrl = await resolveTenantId('query', slow(req)).then((v) => ({ v }), (e: unknown) => ({ e: isOidcError(e) ? e.code : 'other' }));
        expect(fast).toEqual(viaUrl);
      }),
      2000,
    );
  });

  it('the session guard finds the same session and route tenant with and without the fast paths', async () => {
    const auth = createOidcAuth({
      store: [{ id: 'acme', issuer: 'https://acme.okta.example', clientId: 'c', clientSecret: 's', redirectUris: ['https://app.example.com/auth/callback'] }],
      session: { secret: 'request-translation-secret-0123456789-abc' },
    });
    for (const target of ['/api/me', '/api/me?tenant=acme', '/api/me?tenant=a&tenant=b', '/api/me?tenant=%zz', '/api/me?tenant=a%20b']) {
      const fast = await auth.requireSession(request({ target, headers: { accept: 'text/html' } }));
      const viaUrl = await auth.requireSession(slow(request({ target, headers: { accept: 'text/html' } })));
      // Error pages carry a fresh correlation id each; everything else must be identical.
      const normalised = (result: typeof fast) => JSON.parse(JSON.stringify(result).replace(/Reference: <code>[A-Za-z0-9_-]+<\/code>/, 'Reference'));
      expect(normalised(fast), target).toEqual(normalised(viaUrl));
    }
  });
});

describe('sessionUser', () => {
  it('is the claims plus sub, frozen, one object per session', () => {
    const session: Session = Object.freeze({ id: 'i', tenant: 't', issuer: 'https://t.okta.com', clientId: '0oa-t', sub: '00u1', claims: Object.freeze({ name: 'Alice', sub: 'spoofed' }), issuedAt: 0, expiresAt: 1 });
    const user = sessionUser(session);
    expect(user).toEqual({ name: 'Alice', sub: '00u1' });
    expect(Object.isFrozen(user)).toBe(true);
    expect(sessionUser(session)).toBe(user);
    expect(sessionUser({ ...session })).not.toBe(user);
  });
});

describe('requestContext and withAccessToken', () => {
  const session: Session = Object.freeze({ id: 'i', tenant: 'acme', issuer: 'https://acme.okta.com', clientId: '0oa-acme', sub: '00u1', claims: Object.freeze({ name: 'Alice' }), issuedAt: 0, expiresAt: 1 });

  it('describes the session, keeps the current context when it stands for the same session, and a new one otherwise', () => {
    const signedOut = requestContext(null);
    expect(signedOut).toEqual({ session: null, user: undefined, tenant: undefined, isAuthenticated: false, accessToken: undefined, accessTokenTenant: undefined });
    const context = requestContext(session);
    expect(context).toEqual({ session, user: sessionUser(session), tenant: 'acme', isAuthenticated: true, accessToken: undefined, accessTokenTenant: undefined });
    expect(requestContext(session, context)).toBe(context);
    expect(requestContext(session, signedOut)).not.toBe(signedOut);
    expect(requestContext(null, context).session).toBeNull();
  });

  it('sets the bearer result on the request context in place, or on a new one', () => {
    const tenant = { id: 'acme' } as Parameters<typeof withAccessToken>[1]['tenant'];
    const token = Object.freeze({ active: true as const, client_id: 'c', sub: 'alice' });
    const context = requestContext(null);
    expect(withAccessToken(context, { tenant, token })).toBe(context);
    expect(context).toMatchObject({ tenant: undefined, accessTokenTenant: 'acme', accessToken: token, isAuthenticated: false });
    expect(withAccessToken(undefined, { tenant, token })).toMatchObject({ accessTokenTenant: 'acme', accessToken: token, session: null });
  });

  it("keeps the session's tenant when a bearer token of another tenant is checked on the same request (SA-03)", () => {
    const beta = { id: 'beta' } as Parameters<typeof withAccessToken>[1]['tenant'];
    const token = Object.freeze({ active: true as const, client_id: 'c', sub: 'bob' });
    const context = withAccessToken(requestContext(session), { tenant: beta, token });
    // The cookie's user stays acme's; the token's tenant has its own field.
    expect(context).toMatchObject({ tenant: 'acme', accessTokenTenant: 'beta', user: { name: 'Alice', sub: '00u1' } });
  });
});
