/**
 * Property-based test of the auth routes as a whole: arbitrary requests (method,
 * path, query, form body, content type, Accept, Cookie) through createOidcAuth's handle(), with a
 * tenant that allows the Okta simplified flow, against the emulator.
 *
 * No hostile request can sign anyone in or make the app answer 500: every answer is null (not an
 * auth route), a redirect (a login start, or home for a stale callback), or an error response with
 * a documented code and its status; no session cookie is ever set, and the answer never echoes
 * the request's parameter values.
 */
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OIDC_ERROR_STATUS, type OidcErrorCode } from '../src/errors';
import { createOidcAuth } from '../src/flow/auth';
import type { OidcAuth, OidcRequest } from '../src/flow/types';
import { setCookieValues } from './support/browser';
import { b64url } from './support/jws';
import { check, hostileString, printRunCounts, sometimesHuge, tally, withTimeout } from './support/properties';

const APP = 'https://app.example.com';
let org: OktaOrg;
let auth: OidcAuth;
let simplifiedIdToken: string;
const errors: unknown[] = [];

beforeAll(async () => {
  org = await startOktaOrg({
    clients: [{ clientId: 'app-acme', clientSecret: 'acme-client-secret', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [`${APP}/auth/callback`] }],
    users: [{ login: 'alice@acme.example', password: 'pw' }],
  });
  auth = createOidcAuth({
    store: [{ id: 'acme', issuer: org.issuer, clientId: 'app-acme', clientSecret: 'acme-client-secret', redirectUris: [`${APP}/auth/callback`], allowSimplifiedFlow: true }],
    session: { secret: 'property-routes-secret-0123456789-abcdefgh' },
    onError: (error) => errors.push(error),
    client: { httpTimeoutMs: 5_000, allowLoopbackIssuers: true },
  });
  // A genuine simplified-flow token, replayed many times below: only its first use could sign in,
  // and the property never sends it first (the replay cache is primed here).
  simplifiedIdToken = (await org.control.simplifiedSignIn('app-acme')).fields.id_token;
  const first = await auth.handle(
    request('POST', `${APP}/auth/callback?tenant=acme`, new URLSearchParams({ id_token: simplifiedIdToken }).toString(), 'application/x-www-form-urlencoded', { origin: org.issuer }),
  );
  expect(first?.status).toBe(302);
});
afterAll(async () => {
  printRunCounts('property-routes.test.ts');
  await org?.close();
});

function request(method: string, url: string, body: string, contentType: string | undefined, headers: Record<string, string> = {}): OidcRequest {
  const h = new Headers(headers);
  if (contentType !== undefined) h.set('content-type', contentType);
  return { method, url: new URL(url), basePath: '', headers: h, readBody: async () => body };
}

const NAMES = ['tenant', 'returnTo', 'login_hint', 'state', 'code', 'iss', 'error', 'error_description', 'id_token', 'target_link_uri', 'response', 'access_token', '__proto__'];
const value = fc.oneof(
  { weight: 4, arbitrary: hostileString({ maxLength: 10 }) },
  { weight: 2, arbitrary: fc.constantFrom('acme', 'other', '', 'https://evil.example', `${APP}/x`, 'access_denied') },
  { weight: 1, arbitrary: fc.constant('ISSUER') },
  { weight: 1, arbitrary: fc.constant('REPLAYED_ID_TOKEN') },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }).map((v) => `${b64url('{"alg":"RS256","kid":"x"}')}.${b64url(JSON.stringify(v))}.${b64url('sig')}`) },
);
const params = fc.array(fc.tuple(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...NAMES) }, { weight: 1, arbitrary: hostileString({ maxLength: 4 }) }), value), { maxLength: 6 });
const encode = (list: [string, string][]) => {
  try {
    return new URLSearchParams(list.map(([n, v]) => [n, v === 'ISSUER' ? org.issuer : v === 'REPLAYED_ID_TOKEN' ? simplifiedIdToken : v])).toString();
  } catch {
    return '';
  }
};

const generalArb = fc.record({
  method: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('GET', 'POST') }, { weight: 1, arbitrary: fc.constantFrom('PUT', 'HEAD', 'DELETE', 'OPTIONS', 'get') }),
  path: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('/auth/login', '/auth/callback', '/auth/initiate', '/auth/logout') },
    { weight: 1, arbitrary: fc.constantFrom('/auth/login/acme', '/auth/callback/', '/AUTH/LOGIN', '/auth/%2e%2e/login', '/auth//callback', '/other') },
  ),
  query: fc.oneof({ weight: 4, arbitrary: params.map(encode) }, { weight: 1, arbitrary: hostileString({ maxLength: 20 }) }),
  body: sometimesHuge(fc.oneof({ weight: 4, arbitrary: params.map(encode) }, { weight: 1, arbitrary: hostileString({ maxLength: 20 }) }), [64 * 1024 + 1]),
  contentType: fc.constantFrom(undefined, 'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=UTF-8', 'text/plain', 'application/json', 'multipart/form-data'),
  accept: fc.constantFrom(undefined, 'text/html', 'application/json', 'application/json, text/plain, */*', 'text/html,*/*;q=0.8', '*/*;q=abc', ',,;;q=', 'application/json;q=2'),
  cookie: fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.array(fc.tuple(fc.constantFrom('__Host-oin_session', '__Host-oin_tx_AAAAAAAA', '__Host-oin_session.1', 'x'), fc.stringMatching(/^[A-Za-z0-9_.-]{0,30}$/)), { maxLength: 3 }).map((p) => p.map(([n, v]) => `${n}=${v}`).join('; ')) },
  ),
  origin: fc.constantFrom(undefined, undefined, undefined, 'ISSUER', 'https://evil.example', 'null'),
});

/** Okta simplified-flow shaped posts: an id_token (random, forged or replayed) and no state. */
const simplifiedArb = fc.record({
  method: fc.constant('POST'),
  path: fc.constant('/auth/callback'),
  query: fc.constantFrom('', 'tenant=acme', 'tenant=other'),
  body: fc.tuple(value, fc.option(fc.tuple(fc.constantFrom('tenant', 'iss', 'foo'), value), { nil: undefined })).map(([idToken, extra]) => encode(extra ? [['id_token', idToken], extra] : [['id_token', idToken]])),
  contentType: fc.constant('application/x-www-form-urlencoded'),
  accept: fc.constantFrom(undefined, 'application/json'),
  cookie: fc.constant(undefined),
  // Okta's page posts from the org; other origins (or none) are refused before any validation (SA-04).
  origin: fc.oneof({ weight: 4, arbitrary: fc.constant('ISSUER') }, { weight: 1, arbitrary: fc.constantFrom(undefined, 'https://evil.example', 'null') }),
});
const requestArb = fc.oneof({ weight: 5, arbitrary: generalArb }, { weight: 1, arbitrary: simplifiedArb });

describe('auth routes (handle) under arbitrary requests', () => {
  it('never signs anyone in, never answers 500, and every error has a documented code and its status', async () => {
    const seen = new Map<string, number>();
    await check(
      'auth routes: arbitrary requests through handle()',
      fc.asyncProperty(requestArb, async (r) => {
        const url = `${APP}${r.path}${r.query === '' ? '' : `?${r.query}`}`;
        let req: OidcRequest;
        try {
          req = request(r.method, url, r.body, r.contentType, {
            ...(r.accept === undefined ? {} : { accept: r.accept }),
            ...(r.cookie === undefined ? {} : { cookie: r.cookie }),
            ...(r.origin === undefined ? {} : { origin: r.origin === 'ISSUER' ? org.issuer : r.origin }),
          });
        } catch {
          return; // not a request a server could receive
        }
        errors.length = 0;
        const response = await withTimeout(auth.handle(req));
        if (response === null) {
          tally(seen, 'null');
          return;
        }
        // No hostile request ends with a session.
        expect(setCookieValues(response.setCookies, /oin_session/).size, `${r.method} ${url} ${r.body}`).toBe(0);
        expect(response.status).not.toBe(500);
        if (response.status === 302) {
          tally(seen, 'redirect');
          const location = new URL(response.headers['Location']!, APP);
          // A login start goes to the tenant's authorize endpoint; anything else stays on the app.
          expect([org.issuer, APP]).toContain(location.origin);
          return;
        }
        const code = /ERR_OIDC_[A-Z_]+/.exec(response.body ?? '')?.[0] as OidcErrorCode | undefined;
        tally(seen, code ?? `status ${response.status}`);
        expect(code, `${response.status} without a code: ${response.body?.slice(0, 200)}`).toBeDefined();
        expect(Object.hasOwn(OIDC_ERROR_STATUS, code!)).toBe(true);
        // The status is the code's (a 503 for an invalid_client is the one documented override).
        if (!(code === 'ERR_OIDC_TOKEN_ENDPOINT_ERROR' && response.status === 503) && !(code === 'ERR_OIDC_CALLBACK_INVALID' && response.status === 415)) {
          expect(response.status).toBe(OIDC_ERROR_STATUS[code!]);
        }
        // No parameter value is echoed (LG-03): the page names the code, never the input.
        for (const [, v] of new URLSearchParams(r.query)) if (v.length >= 12 && /[A-Za-z0-9]{12}/.test(v)) expect(response.body).not.toContain(v);
        for (const error of errors) expect(Object.hasOwn(OIDC_ERROR_STATUS, (error as { code?: string }).code ?? '')).toBe(true);
      }),
      2000,
    );
    for (const key of ['redirect', 'ERR_OIDC_TENANT_UNKNOWN', 'ERR_OIDC_METHOD_NOT_ALLOWED', 'ERR_OIDC_STATE_MISSING', 'ERR_OIDC_ID_TOKEN_INVALID', 'ERR_OIDC_ID_TOKEN_REPLAYED', 'ERR_OIDC_ORIGIN_NOT_ALLOWED']) {
      expect(seen.get(key) ?? 0, key).toBeGreaterThan(5);
    }
  });
});

describe('reflected input (LG-03)', () => {
  it('an unknown tenant id from the query is not shown on the error page or in the JSON error (regression)', async () => {
    for (const accept of ['text/html', 'application/json']) {
      const response = await auth.handle(request('GET', `${APP}/auth/login?tenant=Call-555-0100-for-your-refund`, '', undefined, { accept }));
      expect(response?.status).toBe(404);
      expect(response?.body).toContain('ERR_OIDC_TENANT_UNKNOWN');
      expect(response?.body).not.toContain('Call-555');
    }
  });
});
