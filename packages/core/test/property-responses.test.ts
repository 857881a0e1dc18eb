/**
 * Property-based tests for what Okta sends back on the back channel, served from a
 * real local node:http server: token responses (through handleCallback, with real ID tokens),
 * introspection responses (through the introspector), `X-Rate-Limit-*` headers (through the
 * transport), discovery documents and UserInfo responses. Each is compared with a model of what may succeed; everything else must be a typed
 * error with the model's code — `active` counts only as the JSON boolean `true`.
 */
import type { ServerResponse } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transaction } from '../src/authorize/transaction';
import { handleCallback } from '../src/callback/handle-callback';
import { discover } from '../src/discovery/discover';
import type { OidcErrorCode } from '../src/errors';
import { createTransport } from '../src/http/transport';
import type { RateLimitEvent } from '../src/http/types';
import { createIntrospector } from '../src/introspection/introspect';
import { createJwksRegistry } from '../src/jwks/jwks-registry';
import { parseTenant, type Tenant } from '../src/tenant/tenant';
import { validateIdToken } from '../src/tokens/validate-id-token';
import { fetchUserInfo } from '../src/userinfo';
import { atHash, compactJws, rsaKey, type RsaKey } from './support/jws';
import { check, type LocalServer, outcome, printRunCounts, rateLimitValue, startLocalServer, tally } from './support/properties';

const CLIENT = '0oa-client';
const AT = 'eyJraWQiOiJhdCJ9.access-token-0123456789';
const NOW_MS = 1_790_000_000_500;
const NOW = Math.floor(NOW_MS / 1000);
const ABSENT = Symbol('absent');

let server: LocalServer;
let tenant: Tenant;
let key: RsaKey;
/** What /token, /introspect or /ratelimited answers next. */
let next: { status: number; contentType: string | undefined; body: string; headers?: Record<string, string> } = { status: 500, contentType: undefined, body: '' };

const transaction: Transaction = {
  state: 'S'.repeat(43),
  nonce: 'N'.repeat(43),
  codeVerifier: 'V'.repeat(43),
  tenantId: 'acme',
  redirectUri: 'https://app.example.com/auth/callback',
  returnTo: '/',
  createdAt: NOW_MS,
};
const idTokens: Record<string, string> = {};

beforeAll(async () => {
  key = await rsaKey('op-key');
  server = await startLocalServer();
  server.respond((req, res: ServerResponse) => {
    if (req.url === '/oauth2/v1/keys') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [key.publicJwk] }));
      return;
    }
    const headers: Record<string, string> = { ...(next.headers ?? {}) };
    if (next.contentType !== undefined) headers['content-type'] = next.contentType;
    if (next.status >= 300 && next.status < 400) headers['location'] = '/moved';
    res.writeHead(next.status, headers);
    res.end(next.status === 204 || next.status === 304 ? undefined : next.body);
  });
  tenant = parseTenant({ id: 'acme', issuer: server.origin, clientId: CLIENT, clientSecret: 'client-secret-value', redirectUris: [transaction.redirectUri] });
  const claims = { iss: server.origin, sub: '00u1', aud: CLIENT, iat: NOW - 10, exp: NOW + 3600, nonce: transaction.nonce };
  const sign = (c: Record<string, unknown>, mode: 'valid' | 'random' = 'valid') => compactJws({ alg: 'RS256', kid: 'op-key' }, c, key.privateKey, mode);
  idTokens['VALID_AT'] = await sign({ ...claims, at_hash: await atHash(AT) });
  idTokens['VALID_NO_HASH'] = await sign(claims);
  idTokens['WRONG_NONCE'] = await sign({ ...claims, nonce: 'other' });
  idTokens['EXPIRED'] = await sign({ ...claims, iat: NOW - 7200, exp: NOW - 3600 });
  idTokens['BAD_SIG'] = await sign(claims, 'random');
});
afterAll(async () => {
  printRunCounts('property-responses.test.ts');
  await server?.close();
});

const transport = () => createTransport({ timeoutMs: 5_000, retries: 0, now: () => NOW_MS });

function field(valid: unknown[], broken: unknown[], absentWeight = 1) {
  return fc.oneof(
    { weight: 16, arbitrary: fc.constantFrom(...valid) },
    { weight: 2, arbitrary: fc.constantFrom(...broken) },
    { weight: absentWeight, arbitrary: fc.constant(ABSENT) },
  );
}
const statusArb = fc.oneof({ weight: 12, arbitrary: fc.constant(200) }, { weight: 2, arbitrary: fc.constantFrom(201, 204, 302, 400, 401, 404, 429, 500, 503) });
const contentTypeArb = fc.oneof(
  { weight: 12, arbitrary: fc.constant<string | undefined>('application/json') },
  { weight: 2, arbitrary: fc.constantFrom<string | undefined>('application/json;charset=UTF-8', undefined, 'text/html', 'application/x-www-form-urlencoded', 'application/problem+json') },
);
const bodyModeArb = fc.oneof({ weight: 16, arbitrary: fc.constant('as-is') }, { weight: 1, arbitrary: fc.constantFrom('truncated', 'array', 'empty', 'random-json', 'latin1') });
const extraArb = fc.dictionary(fc.constantFrom('foo', 'error_description', 'device_id', '__proto__', 'constructor'), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 });

function build(fields: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(extra)) if (name !== '__proto__') body[name] = value;
  for (const [name, value] of Object.entries(fields)) if (value !== ABSENT) body[name] = value;
  return body;
}

function serialise(body: unknown, mode: string, random: unknown): string {
  const json = JSON.stringify(body);
  switch (mode) {
    case 'truncated':
      return json.slice(0, -2);
    case 'array':
      return JSON.stringify([body]);
    case 'empty':
      return '';
    case 'random-json':
      return JSON.stringify(random);
    case 'latin1':
      return `\u00ff${json}`;
    default:
      return json;
  }
}

/** The transport's verdict on the wire format: the parsed JSON, or the failure. */
function wire(status: number, contentType: string | undefined, text: string): { json: unknown } | { fail: 'transport' } {
  if (status === 429 || status >= 500 || (status >= 300 && status < 400)) return { fail: 'transport' };
  if (text === '' || status === 204) return { json: undefined };
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (!(media === '' || media === 'application/json' || (media.startsWith('application/') && media.endsWith('+json')))) return { fail: 'transport' };
  try {
    return { json: JSON.parse(text) };
  } catch {
    return { fail: 'transport' };
  }
}
const TRANSPORT_CODES: readonly OidcErrorCode[] = ['ERR_OIDC_HTTP_ERROR', 'ERR_OIDC_UNAVAILABLE', 'ERR_OIDC_RATE_LIMITED'];

describe('token responses (handleCallback)', () => {
  const tokenFields = fc.record({
    access_token: field([AT], ['another-access-token', '', 5, 'x'.repeat(16 * 1024 + 1)]),
    token_type: field(['Bearer', 'bearer', 'BEARER'], ['DPoP', 'mac', '', 5, 'x'.repeat(33)]),
    id_token: field(['VALID_AT', 'VALID_AT', 'VALID_NO_HASH'], ['WRONG_NONCE', 'EXPIRED', 'BAD_SIG', 'garbage', '', 5]),
    expires_in: fc.constantFrom(ABSENT, 3600, 3600, 0, -1, 1.5, '3600', 10 * 365 * 86400 + 1, null),
    scope: fc.constantFrom(ABSENT, 'openid profile', 'openid', 5, 'x'.repeat(4097)),
    refresh_token: fc.constantFrom(ABSENT, ABSENT, ABSENT, 'refresh-token', '', 5),
    error: fc.constantFrom(ABSENT, ABSENT, ABSENT, ABSENT, 'invalid_grant', 'invalid_client', 'bad error'),
  });

  function tokenModel(json: unknown): boolean {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return false;
    const b = json as Record<string, unknown>;
    const str = (v: unknown, min: number, max: number) => typeof v === 'string' && v.length >= min && v.length <= max;
    if (!str(b.access_token, 1, 16 * 1024) || !str(b.token_type, 1, 32) || !str(b.id_token, 1, Number.MAX_SAFE_INTEGER)) return false;
    if ((b.token_type as string).toLowerCase() !== 'bearer') return false;
    if (b.expires_in !== undefined && !(Number.isInteger(b.expires_in) && (b.expires_in as number) >= 0 && (b.expires_in as number) <= 10 * 365 * 86400)) return false;
    if (b.scope !== undefined && !str(b.scope, 0, 4096)) return false;
    if (b.refresh_token !== undefined && !str(b.refresh_token, 1, 16 * 1024)) return false;
    // The ID token: valid, and bound to this access token when it carries at_hash.
    if (b.id_token === idTokens['VALID_NO_HASH']) return true;
    return b.id_token === idTokens['VALID_AT'] && b.access_token === AT;
  }

  it('signs in exactly when the model accepts the token response; otherwise a typed error', async () => {
    const jwks = createJwksRegistry(transport(), { now: () => NOW_MS });
    const deps = {
      transport: transport(),
      now: () => NOW_MS,
      validateIdToken: (t: Tenant, idToken: string, expected: Parameters<typeof validateIdToken>[3]) =>
        validateIdToken({ jwks, now: () => NOW_MS, clockToleranceSec: 30 }, t, idToken, expected),
    };
    const params = { state: transaction.state, code: 'authorization-code', iss: '' };
    const seen = new Map<string, number>();
    await check(
      'token responses: random bodies vs model',
      fc.asyncProperty(statusArb, contentTypeArb, bodyModeArb, tokenFields, extraArb, fc.jsonValue({ maxDepth: 2 }), async (status, contentType, mode, fields, extra, random) => {
        const body = build({ ...fields, id_token: typeof fields.id_token === 'string' && fields.id_token in idTokens ? idTokens[fields.id_token] : fields.id_token }, extra);
        const text = serialise(body, mode, random);
        next = { status, contentType, body: text };
        const parsed = wire(status, contentType, text);
        const expectSuccess = status === 200 && 'json' in parsed && tokenModel(parsed.json);
        const result = await outcome(() => handleCallback(deps, { ...params, iss: tenant.issuer }, transaction, tenant));
        tally(seen, result.ok ? 'signed-in' : result.error.code);
        if (result.ok) {
          expect(expectSuccess, `signed in with ${text.slice(0, 200)}`).toBe(true);
          const b = (parsed as { json: Record<string, unknown> }).json;
          expect(result.value.accessToken).toBe(b.access_token);
          expect(result.value.idToken).toBe(b.id_token);
          expect(result.value.claims.nonce).toBe(transaction.nonce);
          // The OIN profile never keeps a refresh token.
          expect(result.value.refreshToken).toBeUndefined();
          return;
        }
        expect(expectSuccess, `refused (${result.error.code}: ${result.error.message})`).toBe(false);
        const allowed: OidcErrorCode[] =
          'fail' in parsed
            ? [...TRANSPORT_CODES]
            : status !== 200
              ? ['ERR_OIDC_TOKEN_ENDPOINT_ERROR', 'ERR_OIDC_TOKEN_RESPONSE_INVALID']
              : ['ERR_OIDC_TOKEN_RESPONSE_INVALID', 'ERR_OIDC_ID_TOKEN_INVALID', 'ERR_OIDC_ID_TOKEN_EXPIRED', 'ERR_OIDC_NONCE_MISMATCH'];
        expect(allowed).toContain(result.error.code);
        // Nothing from the response body reaches the message.
        for (const secret of [AT, idTokens['VALID_AT']!, idTokens['BAD_SIG']!]) expect(result.error.message).not.toContain(secret);
      }),
      1500,
    );
    expect(seen.get('signed-in') ?? 0).toBeGreaterThan(100);
    for (const code of ['ERR_OIDC_TOKEN_RESPONSE_INVALID', 'ERR_OIDC_ID_TOKEN_INVALID', 'ERR_OIDC_TOKEN_ENDPOINT_ERROR', 'ERR_OIDC_HTTP_ERROR']) expect(seen.get(code) ?? 0, code).toBeGreaterThan(2);
  });
});

describe('introspection responses', () => {
  /** Usually `usual`, sometimes one of the others. */
  const mostly = (usual: unknown, ...others: unknown[]) => fc.oneof({ weight: 24, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: fc.constantFrom(...others) });
  const introspectionFields = fc.record({
    active: field([true], [false, 'true', 1, null, 'yes']),
    client_id: field([CLIENT], ['other-client', 5, null]),
    iss: field(['ISSUER'], ['https://evil.example', 5]),
    jti: mostly('AT.1', ABSENT, 5, 'ID.1'),
    uid: mostly(ABSENT, '00u1', 5),
    token_type: mostly('Bearer', ABSENT, 'bearer', 'DPoP', 'dpop', 'refresh_token', 5),
    exp: mostly(NOW + 3600, ABSENT, NOW - 1, NOW, NOW + 0.5, '9999999999', null),
    iat: mostly(NOW - 10, ABSENT, 'x'),
    nbf: mostly(ABSENT, NOW - 10, 'x'),
    sub: mostly('alice', ABSENT, 5),
    username: mostly('alice', ABSENT, 5),
    scope: mostly('openid', ABSENT, 5, ['openid']),
    // An ID token introspects with aud = the client id (SA-11).
    aud: mostly('ISSUER', ABSENT, ['a', 'b'], [5], 5, CLIENT, [CLIENT], []),
    cnf: mostly(ABSENT, { jkt: 'thumbprint' }, 'x', []),
  });

  /** The model's verdict: 'active', or the code the introspector must fail with. */
  function introspectionModel(status: number, parsed: ReturnType<typeof wire>): 'active' | OidcErrorCode | 'transport' {
    if ('fail' in parsed) return 'transport';
    if (status !== 200) return 'ERR_OIDC_UNAVAILABLE';
    const json = parsed.json;
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'ERR_OIDC_INTROSPECTION_INVALID';
    const b = json as Record<string, unknown>;
    const optional = (v: unknown, test: (x: unknown) => boolean) => v === undefined || test(v);
    const isString = (x: unknown) => typeof x === 'string';
    const isNumber = (x: unknown) => typeof x === 'number';
    const shaped =
      typeof b.active === 'boolean' &&
      ['client_id', 'token_type', 'sub', 'scope', 'username', 'iss', 'jti', 'uid'].every((n) => optional(b[n], isString)) &&
      ['exp', 'iat', 'nbf'].every((n) => optional(b[n], isNumber)) &&
      optional(b.aud, (x) => typeof x === 'string' || (Array.isArray(x) && x.every(isString))) &&
      optional(b.cnf, (x) => typeof x === 'object' && x !== null && !Array.isArray(x));
    if (!shaped) return 'ERR_OIDC_INTROSPECTION_INVALID';
    if (b.active !== true) return 'ERR_OIDC_ACCESS_TOKEN_INACTIVE';
    if (b.client_id !== CLIENT) return 'ERR_OIDC_ACCESS_TOKEN_INVALID';
    if (b.iss !== tenant.issuer) return 'ERR_OIDC_ACCESS_TOKEN_INVALID';
    if (b.jti === undefined && b.uid === undefined) return 'ERR_OIDC_ACCESS_TOKEN_INVALID';
    // SA-11: an ID token's answer (jti "ID.…", aud = the client id), or an audience that is not the org (OIN profile).
    if (typeof b.jti === 'string' && b.jti.startsWith('ID.')) return 'ERR_OIDC_ACCESS_TOKEN_INVALID';
    const audiences = b.aud === undefined ? undefined : typeof b.aud === 'string' ? [b.aud] : (b.aud as string[]);
    if (audiences !== undefined && (audiences.length === 0 || audiences.some((a) => a !== tenant.issuer))) return 'ERR_OIDC_ACCESS_TOKEN_INVALID';
    if (b.cnf !== undefined) return 'ERR_OIDC_ACCESS_TOKEN_INVALID';
    if (b.token_type !== undefined && (b.token_type as string).toLowerCase() !== 'bearer') return 'ERR_OIDC_ACCESS_TOKEN_INVALID';
    if (b.exp !== undefined && (b.exp as number) <= NOW) return 'ERR_OIDC_ACCESS_TOKEN_INACTIVE';
    return 'active';
  }

  it('is active exactly when the model says so (active === true, our client, our issuer, an access token); otherwise the model\'s code', async () => {
    // Parsing, not rate: the IN-08 throttle (its own tests in catalogue-in08.test.ts) would refuse runs past its burst.
    // One token for every run: triage would refuse it before the server (SA-01, its own tests in
    // introspection-triage.test.ts), and the default cache would answer runs after the first.
    const introspector = createIntrospector({ transport: transport(), now: () => NOW_MS, throttle: false, triage: false, cache: false });
    const seen = new Map<string, number>();
    await check(
      'introspection responses: random bodies vs model',
      fc.asyncProperty(statusArb, contentTypeArb, bodyModeArb, introspectionFields, extraArb, fc.jsonValue({ maxDepth: 2 }), async (status, contentType, mode, fields, extra, random) => {
        const resolved = Object.fromEntries(Object.entries(fields).map(([n, v]) => [n, v === 'ISSUER' ? tenant.issuer : v]));
        const text = serialise(build(resolved, extra), mode, random);
        next = { status, contentType, body: text };
        const expected = introspectionModel(status, wire(status, contentType, text));
        const result = await outcome(() => introspector.introspect(tenant, 'bearer-token-value'));
        tally(seen, result.ok ? 'active' : result.error.code);
        if (expected === 'active') {
          expect(result.ok, result.ok ? '' : `${result.error.code}: ${result.error.message} for ${text}`).toBe(true);
          if (result.ok) {
            expect(result.value.active).toBe(true);
            expect(result.value.client_id).toBe(CLIENT);
          }
          return;
        }
        expect(result.ok, `active for ${text}`).toBe(false);
        if (result.ok) return;
        if (expected === 'transport') expect(TRANSPORT_CODES).toContain(result.error.code);
        else expect(result.error.code, text).toBe(expected);
      }),
      2000,
    );
    expect(seen.get('active') ?? 0).toBeGreaterThan(100);
    for (const code of ['ERR_OIDC_ACCESS_TOKEN_INACTIVE', 'ERR_OIDC_ACCESS_TOKEN_INVALID', 'ERR_OIDC_INTROSPECTION_INVALID', 'ERR_OIDC_UNAVAILABLE']) expect(seen.get(code) ?? 0, code).toBeGreaterThan(5);
  });
});

describe('X-Rate-Limit-* headers over HTTP (transport)', () => {
  /** What node:http will put on the wire. */
  const sendable = rateLimitValue.filter((v) => /^[\t\x20-\x7E\x80-\xFF]*$/.test(v));
  const optional = fc.option(sendable, { nil: undefined });

  function count(raw: string | undefined, max: number): number | undefined {
    if (raw === undefined) return undefined;
    const v = raw.replace(/^[\t ]+|[\t ]+$/g, '');
    if (!/^[0-9]{1,11}$/.test(v)) return undefined;
    return Number(v) <= max ? Number(v) : undefined;
  }

  it('reports only plain in-range values, and a 429 always fails fast with a bounded integer retryAfter', async () => {
    const events: RateLimitEvent[] = [];
    await check(
      'X-Rate-Limit-* over HTTP',
      fc.asyncProperty(fc.constantFrom(200, 429, 429), optional, optional, optional, async (status, limit, remaining, reset) => {
        // A transport per case: a 429 or `Remaining: 0` starts a back-off that would refuse the next case locally.
        const t = createTransport({ timeoutMs: 5_000, retries: 0, now: () => NOW_MS, onRateLimit: (event) => events.push(event) });
        const headers: Record<string, string> = {};
        if (limit !== undefined) headers['X-Rate-Limit-Limit'] = limit;
        if (remaining !== undefined) headers['X-Rate-Limit-Remaining'] = remaining;
        if (reset !== undefined) headers['X-Rate-Limit-Reset'] = reset;
        next = { status, contentType: 'application/json', body: '{"ok":true}', headers };
        events.length = 0;
        const expected = { limit: count(limit, 1e9), remaining: count(remaining, 1e9), reset: count(reset, 1e10) || undefined };
        const result = await outcome(() => t.request('token', { issuer: server.origin }, `${server.origin}/oauth2/v1/token`, { method: 'POST', body: 'a=b' }));
        const any = expected.limit !== undefined || expected.remaining !== undefined || expected.reset !== undefined;
        expect(events.length).toBe(any ? 1 : 0);
        if (any) expect({ limit: events[0]!.limit, remaining: events[0]!.remaining, reset: events[0]!.reset }).toEqual(expected);
        if (status === 200) {
          expect(result.ok).toBe(true);
          return;
        }
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect(result.error.code).toBe('ERR_OIDC_RATE_LIMITED');
        const retryAfter = result.error.retryAfter!;
        const model =
          expected.limit === 0 && expected.remaining === 0 ? 1 : expected.reset === undefined ? 1 : Math.min(600, Math.max(1, Math.ceil(expected.reset - NOW_MS / 1000)));
        expect(retryAfter).toBe(model);
      }),
      1000,
    );
  });
});

describe('discovery documents', () => {
  const endpoint = (path: string) =>
    fc.oneof(
      { weight: 30, arbitrary: fc.constant(`ORIGIN${path}`) },
      { weight: 1, arbitrary: fc.constantFrom('https://evil.example/x', 'LOCALHOST/x', `ORIGIN${path}#frag`, 'USERINFO/x', 'relative/path', '', 5, null, 'javascript:alert(1)') },
      { weight: 1, arbitrary: fc.constant(ABSENT) },
    );
  const optionalEndpoint = (path: string) => fc.oneof({ weight: 3, arbitrary: fc.constant(ABSENT) }, { weight: 3, arbitrary: endpoint(path) });
  const documentFields = fc.record({
    issuer: field(['ISSUER'], ['ISSUER/', 'https://evil.example', 5, 'LOCALHOST']),
    authorization_endpoint: endpoint('/oauth2/v1/authorize'),
    token_endpoint: endpoint('/oauth2/v1/token'),
    jwks_uri: endpoint('/oauth2/v1/keys'),
    userinfo_endpoint: optionalEndpoint('/oauth2/v1/userinfo'),
    end_session_endpoint: optionalEndpoint('/oauth2/v1/logout'),
    registration_endpoint: optionalEndpoint('/oauth2/v1/clients'),
    authorization_response_iss_parameter_supported: fc.constantFrom(ABSENT, true, false, 'true'),
    id_token_signing_alg_values_supported: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(ABSENT, ['RS256']) }, { weight: 1, arbitrary: fc.constantFrom(['ES256'], 'RS256', [5], ['RS256', 'ES256']) }),
  });
  const resolve = (value: unknown): unknown => {
    if (typeof value !== 'string') return value;
    const origin = new URL(tenant.issuer);
    return value
      .replace(/^ISSUER\/?/, (m) => (m.endsWith('/') ? `${tenant.issuer}/` : tenant.issuer))
      .replace(/^ORIGIN/, origin.origin)
      .replace(/^LOCALHOST/, `http://localhost:${origin.port}`)
      .replace(/^USERINFO/, `http://user:pw@127.0.0.1:${origin.port}`);
  };

  function discoveryModel(status: number, parsed: ReturnType<typeof wire>): 'ok' | OidcErrorCode | 'transport' {
    if ('fail' in parsed) return 'transport';
    if (status !== 200) return 'ERR_OIDC_DISCOVERY_FAILED';
    const d = parsed.json as Record<string, unknown> | null;
    if (typeof d !== 'object' || d === null || Array.isArray(d)) return 'ERR_OIDC_DISCOVERY_FAILED';
    const isString = (v: unknown) => typeof v === 'string';
    if (!['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri'].every((n) => isString(d[n]))) return 'ERR_OIDC_DISCOVERY_FAILED';
    if (!['userinfo_endpoint', 'introspection_endpoint', 'revocation_endpoint', 'end_session_endpoint'].every((n) => d[n] === undefined || isString(d[n]))) return 'ERR_OIDC_DISCOVERY_FAILED';
    const iss = d.authorization_response_iss_parameter_supported;
    if (iss !== undefined && typeof iss !== 'boolean') return 'ERR_OIDC_DISCOVERY_FAILED';
    const algs = d.id_token_signing_alg_values_supported;
    if (algs !== undefined && !(Array.isArray(algs) && algs.every(isString))) return 'ERR_OIDC_DISCOVERY_FAILED';
    if (d.issuer !== tenant.issuer) return 'ERR_OIDC_DISCOVERY_FAILED';
    // Discovery §4.3 and the SDK's rule: every endpoint on the issuer's own origin, no credentials, no fragment.
    for (const name of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint', 'end_session_endpoint', 'registration_endpoint']) {
      if (d[name] === undefined) continue;
      const url = typeof d[name] === 'string' ? URL.parse(d[name] as string) : null;
      if (url === null || url.origin !== new URL(tenant.issuer).origin || url.hash !== '' || url.username !== '' || url.password !== '') return 'ERR_OIDC_DISCOVERY_FAILED';
    }
    if (Array.isArray(algs) && !algs.includes('RS256')) return 'ERR_OIDC_DISCOVERY_FAILED';
    return 'ok';
  }

  it('trusts a document exactly when the model does (exact issuer, endpoints on its origin, RS256)', async () => {
    const seen = new Map<string, number>();
    await check(
      'discovery documents: random documents vs model',
      fc.asyncProperty(statusArb, contentTypeArb, bodyModeArb, documentFields, extraArb, fc.jsonValue({ maxDepth: 2 }), async (status, contentType, mode, fields, extra, random) => {
        const resolved = Object.fromEntries(Object.entries(fields).map(([n, v]) => [n, resolve(v)]));
        const text = serialise(build(resolved, extra), mode, random);
        next = { status, contentType, body: text };
        const expected = discoveryModel(status, wire(status, contentType, text));
        const result = await outcome(() => discover(transport(), tenant.issuer, tenant.id));
        tally(seen, result.ok ? 'ok' : result.error.code);
        if (expected === 'ok') {
          expect(result.ok, result.ok ? '' : `${result.error.code}: ${result.error.message} for ${text}`).toBe(true);
          if (result.ok) expect(result.value.issuer).toBe(tenant.issuer);
          return;
        }
        expect(result.ok, `trusted ${text}`).toBe(false);
        if (result.ok) return;
        if (expected === 'transport') expect(TRANSPORT_CODES).toContain(result.error.code);
        else expect(result.error.code, text).toBe(expected);
      }),
      1500,
    );
    expect(seen.get('ok') ?? 0).toBeGreaterThan(100);
    expect(seen.get('ERR_OIDC_DISCOVERY_FAILED') ?? 0).toBeGreaterThan(100);
  });
});

describe('UserInfo responses', () => {
  const userInfoFields = fc.record({
    sub: field(['alice'], ['bob', '', 5, null]),
    iss: fc.oneof({ weight: 6, arbitrary: fc.constant(ABSENT) }, { weight: 2, arbitrary: fc.constantFrom('ISSUER', 'https://evil.example', 5) }),
    aud: fc.oneof({ weight: 6, arbitrary: fc.constant(ABSENT) }, { weight: 2, arbitrary: fc.constantFrom(CLIENT, [CLIENT, 'x'], ['x'], 'x', [5], 5) }),
    email: fc.constantFrom(ABSENT, 'alice@example.com', 5),
  });
  const challenge = fc.constantFrom(undefined, 'Bearer error="invalid_token"', 'Bearer error="a\\"b"', 'Bearer error=""', `Bearer error="${'x'.repeat(80)}"`, 'Bearer realm="x", error="insufficient_scope", error_description="no"', 'garbage');

  function userInfoModel(status: number, contentType: string | undefined, parsed: ReturnType<typeof wire>): 'ok' | OidcErrorCode | 'transport' {
    if ('fail' in parsed) return 'transport';
    if (status === 401) return 'ERR_OIDC_ACCESS_TOKEN_INACTIVE';
    if (status !== 200) return 'ERR_OIDC_USERINFO_INVALID';
    const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (media !== 'application/json' && media !== '') return 'ERR_OIDC_USERINFO_INVALID';
    const b = parsed.json as Record<string, unknown> | null;
    if (typeof b !== 'object' || b === null || Array.isArray(b)) return 'ERR_OIDC_USERINFO_INVALID';
    if (!(typeof b.sub === 'string' && b.sub.length > 0)) return 'ERR_OIDC_USERINFO_INVALID';
    if (b.iss !== undefined && typeof b.iss !== 'string') return 'ERR_OIDC_USERINFO_INVALID';
    if (b.aud !== undefined && !(typeof b.aud === 'string' || (Array.isArray(b.aud) && b.aud.every((a) => typeof a === 'string')))) return 'ERR_OIDC_USERINFO_INVALID';
    // OIDC Core §5.3.2: the sub must be the ID token's.
    if (b.sub !== 'alice') return 'ERR_OIDC_SUBJECT_MISMATCH';
    if (b.iss !== undefined && b.iss !== tenant.issuer) return 'ERR_OIDC_USERINFO_INVALID';
    if (b.aud !== undefined && !(Array.isArray(b.aud) ? b.aud : [b.aud]).includes(CLIENT)) return 'ERR_OIDC_USERINFO_INVALID';
    return 'ok';
  }

  it('returns claims exactly when the model accepts the answer (sub equal to the ID token sub); otherwise the model\'s code', async () => {
    const seen = new Map<string, number>();
    await check(
      'UserInfo responses: random bodies vs model',
      fc.asyncProperty(statusArb, contentTypeArb, bodyModeArb, userInfoFields, extraArb, fc.jsonValue({ maxDepth: 2 }), challenge, async (status, contentType, mode, fields, extra, random, wwwAuthenticate) => {
        const resolved = Object.fromEntries(Object.entries(fields).map(([n, v]) => [n, v === 'ISSUER' ? tenant.issuer : v]));
        const text = serialise(build(resolved, extra), mode, random);
        next = { status, contentType, body: text, headers: wwwAuthenticate === undefined ? {} : { 'www-authenticate': wwwAuthenticate } };
        const expected = userInfoModel(status, contentType, wire(status, contentType, text));
        const result = await outcome(() => fetchUserInfo({ transport: transport() }, tenant, 'bearer-token-value', 'alice'));
        tally(seen, result.ok ? 'ok' : result.error.code);
        if (expected === 'ok') {
          expect(result.ok, result.ok ? '' : `${result.error.code}: ${result.error.message} for ${text}`).toBe(true);
          if (result.ok) expect(result.value.sub).toBe('alice');
          return;
        }
        expect(result.ok, `accepted ${text}`).toBe(false);
        if (result.ok) return;
        if (expected === 'transport') expect(TRANSPORT_CODES).toContain(result.error.code);
        else expect(result.error.code, text).toBe(expected);
        // The relayed OAuth error, when kept, is a short plain token (RFC 6750 §3).
        const relayed = result.error.details?.['error'];
        if (relayed !== undefined) expect(relayed).toMatch(/^[\x20\x21\x23-\x5B\x5D-\x7E]{1,64}$/);
      }),
      1500,
    );
    expect(seen.get('ok') ?? 0).toBeGreaterThan(100);
    for (const code of ['ERR_OIDC_SUBJECT_MISMATCH', 'ERR_OIDC_USERINFO_INVALID', 'ERR_OIDC_ACCESS_TOKEN_INACTIVE']) expect(seen.get(code) ?? 0, code).toBeGreaterThan(5);
  });
});
