/**
 * Property-based test for the `Authorization` header of the bearer check
 * (`requireAccessToken`): random schemes, spacing and token characters.
 *
 * Model (RFC 6750 §2.1, §3.1): a header is well-formed when it is `Bearer` (any case), one space,
 * and a b64token of at most 8 KiB. A well-formed one costs exactly one introspection call (the
 * local server answers `{"active": false}`, so it is a 401 invalid_token); anything else is a 401
 * with a `WWW-Authenticate` challenge and makes no network call at all.
 *
 * A second property covers triage (SA-01): a well-formed token reaches Okta only
 * when it is shaped like one of the tenant's access tokens (RS256 JWT, its iss and cid, exp not
 * past); every other one is a local 401 with no call.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OIDC_ERROR_STATUS } from '../src/errors';
import { createOidcAuth } from '../src/flow/auth';
import type { OidcAuth, OidcRequest } from '../src/flow/types';
import { MAX_BEARER_TOKEN_LENGTH } from '../src/introspection/token-syntax';
import { check, hostileString, type LocalServer, printRunCounts, startLocalServer, tally, withTimeout } from './support/properties';

const APP = 'https://api.example.com';
let server: LocalServer;
let auth: OidcAuth;
let triaging: OidcAuth;
let calls = 0;
const CLIENT_ID = '0oa-api';
const TOLERANCE_SEC = 30;
/**
 * Triage's clock, and the model's, stands still: a token generated with exp at the tolerance's edge
 * is judged at the same instant it was made, not a (loaded machine's) second later.
 */
const NOW_MS = Date.now();

beforeAll(async () => {
  server = await startLocalServer();
  server.respond((req, res) => {
    const body = req.url === '/oauth2/v1/introspect' ? '{"active":false}' : '{}';
    res.writeHead(req.url === '/oauth2/v1/introspect' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(body);
  });
  // Introspections only: with triage on, the first plausible token also primes the (empty) key
  // cache once with a GET of /keys (SA-01), which is not an introspection.
  const http = (url: string, init: RequestInit) => {
    if (url.endsWith('/introspect')) calls += 1;
    return fetch(url, init);
  };
  const common = {
    store: [{ id: 'acme', issuer: server.origin, clientId: CLIENT_ID, clientSecret: 'api-client-secret', redirectUris: [`${APP}/auth/callback`] }],
    session: { secret: 'property-bearer-secret-0123456789-abcdef' },
  };
  auth = createOidcAuth({
    ...common,
    client: {
      allowLoopbackIssuers: true,
      httpTimeoutMs: 5_000,
      // The model is "one well-formed token, one call": the IN-08 throttle (catalogue-in08.test.ts)
      // would refuse runs past its burst, triage (SA-01) would refuse most random tokens before
      // Okta, and the default cache would answer a repeated token without a call.
      introspectionThrottle: false,
      introspectionTriage: false,
      introspectionCache: false,
      http,
    },
  });
  // Triage on (the default); the throttle and cache off so that the only thing deciding whether a
  // call is made is triage.
  triaging = createOidcAuth({
    ...common,
    client: { allowLoopbackIssuers: true, httpTimeoutMs: 5_000, introspectionThrottle: false, introspectionCache: false, clockToleranceSec: TOLERANCE_SEC, now: () => NOW_MS, http },
  });
});
afterAll(async () => {
  printRunCounts('property-bearer.test.ts');
  await server?.close();
});

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const TOKEN_CHARS = fc.constantFrom(...'ABCXYZabcxyz0189-._~+/'.split(''));

const scheme = fc.oneof(
  { weight: 5, arbitrary: fc.mixedCase(fc.constant('bearer')) },
  { weight: 2, arbitrary: fc.constantFrom('Basic', 'DPoP', 'Bearer:', 'Bearerx', 'Bear', 'Token', 'bearer\u00A0', 'Bearer,', '') },
  { weight: 1, arbitrary: hostileString({ maxLength: 3 }) },
);
const separator = fc.constantFrom(' ', ' ', ' ', '  ', '\t', '', ' \t', ',', '=');
const token = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.string({ unit: TOKEN_CHARS, minLength: 1, maxLength: 60 }), fc.constantFrom('', '=', '==', '=a')).map(([t, pad]) => `${t}${pad}`) },
  { weight: 1, arbitrary: fc.constant('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln') },
  { weight: 2, arbitrary: hostileString({ maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom(MAX_BEARER_TOKEN_LENGTH, MAX_BEARER_TOKEN_LENGTH + 1, 64 * 1024).map((n) => 'A'.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'a b', 'a,b', 'a;b', '"abc"', 'abc=def', '=abc') },
);
const suffix = fc.constantFrom('', '', '', ' ', ' extra', ', Bearer abc', '\t');

/** What a server can put in a header (Headers refuses CR, LF and NUL). */
const header = fc
  .oneof(
    { weight: 6, arbitrary: fc.tuple(scheme, separator, token, suffix).map(([s, sep, t, x]) => `${s}${sep}${t}${x}`) },
    { weight: 2, arbitrary: fc.tuple(fc.mixedCase(fc.constant('bearer')), token).map(([s, t]) => `${s} ${t}`) },
    { weight: 1, arbitrary: hostileString() },
    { weight: 1, arbitrary: fc.constant(undefined) },
  )
  .filter((value) => {
    if (value === undefined) return true;
    try {
      new Headers({ authorization: value });
      return true;
    } catch {
      return false;
    }
  });

function request(authorization: string | undefined): OidcRequest {
  const headers = new Headers({ accept: 'application/json' });
  if (authorization !== undefined) headers.set('authorization', authorization);
  return { method: 'GET', url: new URL(`${APP}/api/orders`), basePath: '', headers, readBody: async () => '' };
}

describe('Authorization header (requireAccessToken)', () => {
  it('answers 401 with a challenge, and calls Okta only for a well-formed bearer token', async () => {
    const seen = new Map<string, number>();
    await check(
      'Authorization header: bearer check',
      fc.asyncProperty(header, fc.boolean(), async (value, withTenantOption) => {
        const req = request(value);
        const normalised = req.headers.get('authorization');
        const match = normalised === null ? null : /^bearer (.*)$/is.exec(normalised);
        const wellFormed = match !== null && B64TOKEN.test(match[1]!) && match[1]!.length <= MAX_BEARER_TOKEN_LENGTH;
        const bearerScheme = normalised !== null && normalised.trim() !== '' && normalised.split(' ')[0]!.toLowerCase() === 'bearer';

        const before = calls;
        const query = withTenantOption ? { tenantId: 'acme' } : {};
        if (!withTenantOption) req.url.searchParams.set('tenant', 'acme');
        const result = await withTimeout(auth.requireAccessToken(req, query));
        const made = calls - before;
        tally(seen, wellFormed ? 'well-formed' : bearerScheme ? 'malformed' : 'no-bearer');

        // Never a success: the server never says active.
        expect('response' in result).toBe(true);
        if (!('response' in result)) return;
        const response = result.response;
        expect(response.status).toBe(401);
        const challenge = response.headers['WWW-Authenticate'];
        expect(challenge).toBeDefined();
        const body = JSON.parse(response.body ?? 'null') as { error: string };
        expect(Object.hasOwn(OIDC_ERROR_STATUS, body.error)).toBe(true);
        if (wellFormed) {
          expect(made).toBe(1);
          expect(body.error).toBe('ERR_OIDC_ACCESS_TOKEN_INACTIVE');
          expect(challenge).toBe('Bearer realm="oin-oidc", error="invalid_token"');
        } else {
          // Malformed input never costs an Okta call (RFC 7662 §4: no token fishing through us).
          expect(made).toBe(0);
          if (bearerScheme) {
            expect(body.error).toBe('ERR_OIDC_ACCESS_TOKEN_INVALID');
            expect(challenge).toBe('Bearer realm="oin-oidc", error="invalid_token"');
          } else {
            // RFC 6750 §3.1: no error attribute when no (supported) credentials were sent.
            expect(body.error).toBe('ERR_OIDC_ACCESS_TOKEN_MISSING');
            expect(challenge).toBe('Bearer realm="oin-oidc"');
          }
        }
        // The token is never echoed.
        if (match !== null && match[1]!.length >= 8) expect(response.body).not.toContain(match[1]!);
      }),
      3000,
    );
    for (const key of ['well-formed', 'malformed', 'no-bearer']) expect(seen.get(key) ?? 0, key).toBeGreaterThan(200);
  });
});

const b64json = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

/** JWT-shaped bearer tokens: mostly near-misses of one of the tenant's access tokens. */
/** Mostly `valid`, sometimes one of `others`. */
const mostly = <T>(valid: T, ...others: T[]) => fc.oneof({ weight: 6, arbitrary: fc.constant(valid) }, { weight: 1, arbitrary: fc.constantFrom(...others) });

const jwtToken = fc
  .record({
    alg: mostly<unknown>('RS256', 'HS256', 'none', 'ES256', 'rs256', undefined, 1),
    kid: fc.constantFrom<unknown>('kid-1', undefined, '', 7),
    iss: mostly<unknown>('ORIGIN', 'ORIGIN/', 'https://evil.okta.com', undefined, ['ORIGIN']),
    cid: mostly<unknown>(CLIENT_ID, '0oa-other', '', undefined, [CLIENT_ID]),
    exp: fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: -3600, max: 7200 }) },
      { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, 'soon', null, Number.MAX_VALUE) },
    ),
    shape: mostly('jwt', 'array-payload', 'header-not-object', 'two-parts', 'four-parts', 'padded'),
  })
  .map((t) => {
    const nowSec = Math.floor(NOW_MS / 1000);
    const iss = typeof t.iss === 'string' ? t.iss.replace('ORIGIN', server.origin) : Array.isArray(t.iss) ? [server.origin] : t.iss;
    // A fresh jti per token, so two runs never present the same token.
    const payload = { jti: `AT.${crypto.randomUUID()}`, iss, cid: t.cid, exp: typeof t.exp === 'number' && Math.abs(t.exp) <= 7200 ? nowSec + t.exp : t.exp };
    const header = { alg: t.alg, kid: t.kid, typ: 'application/okta-internal-at+jwt' };
    const sig = b64json(crypto.randomUUID());
    switch (t.shape) {
      case 'array-payload':
        return { token: `${b64json(header)}.${b64json([payload])}.${sig}`, plausible: false };
      case 'header-not-object':
        return { token: `${b64json('RS256')}.${b64json(payload)}.${sig}`, plausible: false };
      case 'two-parts':
        return { token: `${b64json(header)}.${b64json(payload)}`, plausible: false };
      case 'four-parts':
        return { token: `${b64json(header)}.${b64json(payload)}.${sig}.${sig}`, plausible: false };
      case 'padded':
        return { token: `${b64json(header)}.${b64json(payload)}.${sig}=`, plausible: false };
      default: {
        const plausible =
          t.alg === 'RS256' &&
          iss === server.origin &&
          t.cid === CLIENT_ID &&
          typeof payload.exp === 'number' &&
          Number.isFinite(payload.exp) &&
          payload.exp > nowSec - TOLERANCE_SEC;
        return { token: `${b64json(header)}.${b64json(payload)}.${sig}`, plausible };
      }
    }
  });

describe('triage of well-formed bearer tokens (SA-01)', () => {
  it('calls Okta only for tokens shaped like one of the tenant’s access tokens; refuses the rest locally with 401 invalid_token (SA-01)', async () => {
    const seen = new Map<string, number>();
    await check(
      'Authorization header: triage',
      fc.asyncProperty(fc.oneof({ weight: 4, arbitrary: jwtToken }, { weight: 1, arbitrary: token.filter((t) => B64TOKEN.test(t) && t.length <= MAX_BEARER_TOKEN_LENGTH).map((t) => ({ token: t, plausible: false })) }), async (candidate) => {
        const req = request(`Bearer ${candidate.token}`);
        const wellFormed = B64TOKEN.test(candidate.token) && candidate.token.length <= MAX_BEARER_TOKEN_LENGTH;
        const before = calls;
        const result = await withTimeout(triaging.requireAccessToken(req, { tenantId: 'acme' }));
        const made = calls - before;
        expect('response' in result).toBe(true);
        if (!('response' in result)) return;
        expect(result.response.status).toBe(401);
        const body = JSON.parse(result.response.body ?? 'null') as { error: string };
        if (!wellFormed) {
          expect(made).toBe(0);
          return;
        }
        tally(seen, candidate.plausible ? 'plausible' : 'refused');
        expect(made, candidate.plausible ? 'a plausible token reaches Okta' : 'triage refuses locally').toBe(candidate.plausible ? 1 : 0);
        expect(body.error).toMatch(candidate.plausible ? /^ERR_OIDC_ACCESS_TOKEN_INACTIVE$/ : /^ERR_OIDC_ACCESS_TOKEN_(INVALID|INACTIVE)$/);
        expect(result.response.headers['WWW-Authenticate']).toBe('Bearer realm="oin-oidc", error="invalid_token"');
        if (candidate.token.length >= 8) expect(result.response.body).not.toContain(candidate.token);
      }),
      1500,
    );
    for (const key of ['plausible', 'refused']) expect(seen.get(key) ?? 0, key).toBeGreaterThan(150);
  });
});
