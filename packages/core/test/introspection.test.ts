import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOidcClient } from '../src/client';
import { createTransport } from '../src/http/transport';
import { createIntrospector, type IntrospectorDeps } from '../src/introspection/introspect';
import { revokeToken } from '../src/revoke';
import { createMemoryCredentialStore } from '../src/tenant/credential-store';
import { parseTenant, type Tenant } from '../src/tenant/tenant';
import { MemoryTtlStore, type TtlStore } from '../src/ttl-store';

const REDIRECT = 'http://localhost:3000/auth/callback';
let org: OktaOrg;
let tenant: Tenant;
let wrongSecretTenant: Tenant;

beforeAll(async () => {
  org = await startOktaOrg({
    clients: [
      { clientId: 'app-a', clientSecret: 'secret-a', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [REDIRECT] },
      { clientId: 'app-b', clientSecret: 'secret-b', tokenEndpointAuthMethod: 'client_secret_post', redirectUris: [REDIRECT] },
    ],
    users: [{ login: 'alice@acme.example', password: 'correct horse' }],
  });
  tenant = parseTenant({ id: 'acme', issuer: org.issuer, clientId: 'app-a', clientSecret: 'secret-a', redirectUris: [REDIRECT] });
  wrongSecretTenant = parseTenant({ id: 'acme-stale', issuer: org.issuer, clientId: 'app-a', clientSecret: 'rotated-away', redirectUris: [REDIRECT] });
});
afterAll(async () => {
  await org?.close();
});
beforeEach(() => {
  org.control.clearFaults();
  org.control.resetCounters();
});

function introspector(options: Partial<IntrospectorDeps> = {}) {
  const transport = options.transport ?? createTransport({ timeoutMs: 2_000 });
  return createIntrospector({ transport, now: Date.now, ...options });
}

const b64url = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

/**
 * A token Okta never issued that triage cannot refuse ("plausible", SA-01): shaped like one of the
 * tenant's access tokens (RS256, right iss and cid, not expired) under a kid no key cache holds,
 * so it reaches /introspect (which answers inactive, or what a test scripts).
 */
function unseenToken(clientId = 'app-a'): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', kid: 'kid-unknown-to-any-cache', typ: 'application/okta-internal-at+jwt' };
  const payload = { ver: 1, jti: `AT.${crypto.randomUUID()}`, iss: org.issuer, aud: org.issuer, cid: clientId, iat: now, exp: now + 3600 };
  return `${b64url(header)}.${b64url(payload)}.c2lnbmF0dXJl`;
}

/** Serve this JSON object as the next /introspect answer. */
function answer(body: Record<string, unknown>): void {
  org.control.fault('introspect', { type: 'status', status: 200, body: JSON.stringify(body) }, { times: 1 });
}

function activeBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { active: true, client_id: 'app-a', iss: org.issuer, jti: 'AT.1', token_type: 'Bearer', sub: 'alice', iat: now, exp: now + 3600, ...overrides };
}

describe('introspect against the Okta org emulator', () => {
  it('accepts an active access token issued to the tenant (IN)', async () => {
    const token = await org.control.issueAccessToken('app-a', { login: 'alice@acme.example', scope: 'openid profile' });
    const result = await introspector().introspect(tenant, token);
    expect(result.active).toBe(true);
    expect(result.client_id).toBe('app-a');
    expect(result.username).toBe('alice@acme.example');
    expect(result.scope).toBe('openid profile');
    expect(result.token_type).toBe('Bearer');
    expect(org.control.counters().introspect).toBe(1);
  });

  it('refuses an active token of another app of the same org (IN-05, MT)', async () => {
    const token = await org.control.issueAccessToken('app-b', { login: 'alice@acme.example' });
    // Triage sees its cid and refuses it locally (SA-01); without triage Okta's answer does.
    await expect(introspector().introspect(tenant, token)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID', details: { reason: 'triage', check: 'cid' } });
    expect(org.control.counters().introspect).toBe(0);
    await expect(introspector({ triage: false }).introspect(tenant, token)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID', details: { reason: 'client_id' } });
    expect(org.control.counters().introspect).toBe(1);
  });

  it('reports a token Okta does not know as inactive (IN-01)', async () => {
    await expect(introspector().introspect(tenant, unseenToken())).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE', status: 401 });
  });

  it('reports a revoked token as inactive (IN-01)', async () => {
    const token = await org.control.issueAccessToken('app-a', { login: 'alice@acme.example' });
    // No cache: the second call must reach Okta to see the revocation (the cache would answer for up to maxTtlSec).
    const client = introspector({ cache: false });
    await client.introspect(tenant, token);
    await revokeToken({ transport: createTransport(), now: Date.now }, tenant, token, 'access_token');
    await expect(client.introspect(tenant, token)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    expect(org.control.counters().revoke).toBe(1);
  });

  it.each([
    ['empty', ''],
    ['over 8 KiB', 'a'.repeat(8 * 1024 + 1)],
    ['a space', 'abc def'],
    ['a control character', 'abc\u0000def'],
    ['non-ASCII', 'tökén'],
    ['a quote', 'abc"def'],
    ['padding in the middle', 'ab=cd'],
  ])('refuses a malformed token (%s) without calling Okta (IN-08, DS-01)', async (_, token) => {
    await expect(introspector().introspect(tenant, token)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID' });
    expect(org.control.counters().introspect).toBe(0);
  });

  it('accepts a token of exactly 8 KiB as syntax (then Okta decides)', async () => {
    // Triage off: an 8 KiB run of "a" is no JWT, so triage would refuse it before Okta (SA-01).
    await expect(introspector({ triage: false }).introspect(tenant, 'a'.repeat(8 * 1024))).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    expect(org.control.counters().introspect).toBe(1);
  });

  it('makes one /introspect call for 1,000 concurrent requests with one unseen token (single-flight) (IN-08)', async () => {
    const token = await org.control.issueAccessToken('app-a', { login: 'alice@acme.example' });
    // No cache: this test is about single flight alone.
    const client = introspector({ cache: false });
    const results = await Promise.all(Array.from({ length: 1_000 }, () => client.introspect(tenant, token)));
    expect(results.every((r) => r.client_id === 'app-a')).toBe(true);
    expect(org.control.counters().introspect).toBe(1);
    // Single-flight is not a cache: without one, a later call asks again.
    await client.introspect(tenant, token);
    expect(org.control.counters().introspect).toBe(2);
  });

  it('shares one failure among concurrent callers and does not remember it', async () => {
    const token = await org.control.issueAccessToken('app-a', { login: 'alice@acme.example' });
    const client = introspector({ cache: { maxTtlSec: 60 } });
    org.control.fault('introspect', { type: 'status', status: 503 }, { times: 1 });
    const settled = await Promise.allSettled(Array.from({ length: 50 }, () => client.introspect(tenant, token)));
    expect(settled.every((s) => s.status === 'rejected' && (s.reason as { code?: string }).code === 'ERR_OIDC_UNAVAILABLE')).toBe(true);
    expect(org.control.counters().introspect).toBe(1);
    expect((await client.introspect(tenant, token)).active).toBe(true);
  });

  it('answers a repeated token from the cache, and without a cache asks every time', async () => {
    const token = await org.control.issueAccessToken('app-a', { login: 'alice@acme.example' });
    const cached = introspector({ cache: { maxTtlSec: 60 } });
    await cached.introspect(tenant, token);
    const second = await cached.introspect(tenant, token);
    expect(second.client_id).toBe('app-a');
    expect(org.control.counters().introspect).toBe(1);

    const uncached = introspector({ cache: false });
    await uncached.introspect(tenant, token);
    await uncached.introspect(tenant, token);
    expect(org.control.counters().introspect).toBe(3);
  });

  it('remembers an inactive token for the negative TTL only (IN-06, IN-08)', async () => {
    let offsetMs = 0;
    const now = () => Date.now() + offsetMs;
    const client = introspector({ now, cache: { maxTtlSec: 60, negativeTtlSec: 5 } });
    const token = unseenToken();
    await expect(client.introspect(tenant, token)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    await expect(client.introspect(tenant, token)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    expect(org.control.counters().introspect).toBe(1);
    offsetMs = 5_000;
    await expect(client.introspect(tenant, token)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    expect(org.control.counters().introspect).toBe(2);
  });

  it('keeps the refusal reason in the negative cache (another client stays INVALID)', async () => {
    const token = await org.control.issueAccessToken('app-b', { login: 'alice@acme.example' });
    // Triage off: it would refuse app-b's token by its cid before Okta, and cache nothing (SA-01).
    const client = introspector({ cache: {}, triage: false });
    await expect(client.introspect(tenant, token)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID' });
    await expect(client.introspect(tenant, token)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID', details: { reason: 'client_id' } });
    expect(org.control.counters().introspect).toBe(1);
  });

  it('bounds a positive entry by maxTtlSec (IN-06)', async () => {
    let offsetMs = 0;
    const client = introspector({ now: () => Date.now() + offsetMs, cache: { maxTtlSec: 30 } });
    const token = await org.control.issueAccessToken('app-a', { login: 'alice@acme.example' });
    await client.introspect(tenant, token);
    offsetMs = 29_000;
    await client.introspect(tenant, token);
    expect(org.control.counters().introspect).toBe(1);
    offsetMs = 30_000;
    await client.introspect(tenant, token);
    expect(org.control.counters().introspect).toBe(2);
  });

  it('answers a warm token from memory without touching the store, and a shared store entry never outlives maxTtlSec from the Okta call (IN-06)', async () => {
    let offsetMs = 0;
    const now = () => Date.now() + offsetMs;
    const inner = new MemoryTtlStore({ now });
    let reads = 0;
    const store: TtlStore = {
      get: (key) => {
        reads++;
        return inner.get(key);
      },
      set: (key, value, ttl) => inner.set(key, value, ttl),
      delete: (key) => inner.delete(key),
      setIfAbsent: (key, value, ttl) => inner.setIfAbsent(key, value, ttl),
      take: (key) => inner.take(key),
    };
    const token = await org.control.issueAccessToken('app-a', { login: 'alice@acme.example' });
    const first = introspector({ now, cache: { maxTtlSec: 30, store } });
    await first.introspect(tenant, token);
    const readsAfterCall = reads;
    expect((await first.introspect(tenant, token)).client_id).toBe('app-a');
    expect(reads).toBe(readsAfterCall); // the hot path: a Map lookup, no hash, no store read
    // Another instance sharing the store, 29 s later: answered from the store...
    offsetMs = 29_000;
    const second = introspector({ now, cache: { maxTtlSec: 30, store } });
    await second.introspect(tenant, token);
    expect(org.control.counters().introspect).toBe(1);
    // ...but at 30 s after the Okta call, both ask Okta again (the store entry was not kept hot).
    offsetMs = 30_000;
    await second.introspect(tenant, token);
    expect(org.control.counters().introspect).toBe(2);
    offsetMs = 30_500;
    await first.introspect(tenant, token);
    expect(org.control.counters().introspect).toBe(2); // second's fresh answer, now in the shared store
  });

  it('a token sharing only the tail of a warm token is a miss, asked at Okta and refused', async () => {
    const token = await org.control.issueAccessToken('app-a', { login: 'alice@acme.example' });
    const client = introspector({ cache: { maxTtlSec: 60 } });
    await client.introspect(tenant, token);
    // Same header, payload and last 32 characters; another first character of the signature.
    const at = token.lastIndexOf('.') + 1;
    const lookalike = `${token.slice(0, at)}${token[at] === 'a' ? 'b' : 'a'}${token.slice(at + 1)}`;
    await expect(client.introspect(tenant, lookalike)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    expect(org.control.counters().introspect).toBe(2);
    expect((await client.introspect(tenant, token)).client_id).toBe('app-a'); // the genuine entry stays
    expect(org.control.counters().introspect).toBe(2);
  });

  it('hands out the active answer deep-frozen, one object for concurrent and warm callers; isWarm knows only the exact active token', async () => {
    const token = await org.control.issueAccessToken('app-a', { login: 'alice@acme.example' });
    const client = introspector({ cache: { maxTtlSec: 60 } });
    expect(client.isWarm(token)).toBe(false);
    const [a, b] = await Promise.all([client.introspect(tenant, token), client.introspect(tenant, token)]);
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
    expect(() => {
      (a as { sub?: string }).sub = 'mallory';
    }).toThrow(TypeError);
    expect(await client.introspect(tenant, token)).toBe(a);
    expect(client.isWarm(token)).toBe(true);
    expect(client.isWarm(`${token[0] === 'a' ? 'b' : 'a'}${token.slice(1)}`)).toBe(false);
    expect(client.isWarm(`${token} `)).toBe(false);
    // Without a cache nothing is ever warm, and answers are still frozen.
    const uncached = introspector({ cache: false });
    expect(Object.isFrozen(await uncached.introspect(tenant, token))).toBe(true);
    expect(uncached.isWarm(token)).toBe(false);
  });

  it('never serves a cached positive result past the token exp (IN-06)', async () => {
    let offsetMs = 0;
    const client = introspector({ now: () => Date.now() + offsetMs, cache: { maxTtlSec: 3600 } });
    // The emulator issues one-hour tokens; move the clock to 20 s before exp.
    const token = await org.control.issueAccessToken('app-a', { login: 'alice@acme.example' });
    offsetMs = 3_580_000;
    await client.introspect(tenant, token);
    offsetMs = 3_601_000;
    await expect(client.introspect(tenant, token)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE', details: { reason: 'expired' } });
    expect(org.control.counters().introspect).toBe(2);
  });

  it('keys the cache by a hash: the store never sees the token (IN-06)', async () => {
    const seen: string[] = [];
    const inner = new MemoryTtlStore();
    const recording: TtlStore = {
      get(key) {
        seen.push(key);
        return inner.get(key);
      },
      set(key, value, ttl) {
        seen.push(key, value);
        return inner.set(key, value, ttl);
      },
      delete(key) {
        seen.push(key);
        return inner.delete(key);
      },
      setIfAbsent(key, value, ttl) {
        seen.push(key, value);
        return inner.setIfAbsent(key, value, ttl);
      },
      take(key) {
        seen.push(key);
        return inner.take(key);
      },
    };
    const token = await org.control.issueAccessToken('app-a', { login: 'alice@acme.example' });
    const client = introspector({ cache: { store: recording } });
    await client.introspect(tenant, token);
    await client.introspect(tenant, token);
    await client.forget(tenant, token);
    expect(seen.length).toBeGreaterThan(0);
    const signature = token.split('.')[2]!;
    expect(seen.some((s) => s.includes(token) || s.includes(signature))).toBe(false);
  });

  it('forget drops the cached result, so a revocation is seen at once', async () => {
    const token = await org.control.issueAccessToken('app-a', { login: 'alice@acme.example' });
    const client = introspector({ cache: { maxTtlSec: 300 } });
    await client.introspect(tenant, token);
    await revokeToken({ transport: createTransport(), now: Date.now }, tenant, token);
    // Documented trade-off: the cached answer survives the revocation until forgotten or expired.
    expect((await client.introspect(tenant, token)).active).toBe(true);
    await client.forget(tenant, token);
    await expect(client.introspect(tenant, token)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
  });

  it('falls back to Okta when the cache store fails (never fails open or closed on a cache fault)', async () => {
    const broken: TtlStore = {
      get: () => Promise.reject(new Error('down')),
      set: () => Promise.reject(new Error('down')),
      delete: () => Promise.reject(new Error('down')),
      setIfAbsent: () => Promise.reject(new Error('down')),
      take: () => Promise.reject(new Error('down')),
    };
    const client = introspector({ cache: { store: broken } });
    const token = await org.control.issueAccessToken('app-a', { login: 'alice@acme.example' });
    expect((await client.introspect(tenant, token)).active).toBe(true);
    await expect(client.introspect(tenant, unseenToken())).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
  });

  it('isolates tenants in the cache: one tenant’s entry never answers for another (MT-06)', async () => {
    const tenantB = parseTenant({ id: 'acme-b', issuer: org.issuer, clientId: 'app-b', clientSecret: 'secret-b', tokenEndpointAuthMethod: 'client_secret_post', redirectUris: [REDIRECT] });
    const store = new MemoryTtlStore();
    const client = introspector({ cache: { store } });
    const token = await org.control.issueAccessToken('app-a', { login: 'alice@acme.example' });
    expect((await client.introspect(tenant, token)).client_id).toBe('app-a');
    await expect(client.introspect(tenantB, token)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID' });
    // Triage refused it for tenant B (cid is app-a) without asking; without triage Okta is asked again.
    expect(org.control.counters().introspect).toBe(1);
    const untriaged = introspector({ cache: { store }, triage: false });
    await expect(untriaged.introspect(tenantB, token)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID', details: { reason: 'client_id' } });
    expect(org.control.counters().introspect).toBe(2);
  });

  it('introspects for a DPoP tenant without a DPoP key: proofs go on token requests only', async () => {
    const dpopTenant = parseTenant({ id: 'acme-dpop', issuer: org.issuer, clientId: 'app-a', clientSecret: 'secret-a', redirectUris: [REDIRECT], dpop: true });
    const token = await org.control.issueAccessToken('app-a', { login: 'alice@acme.example' });
    expect((await introspector().introspect(dpopTenant, token)).client_id).toBe('app-a');
    await revokeToken({ transport: createTransport(), now: Date.now }, dpopTenant, token);
    await expect(introspector().introspect(dpopTenant, token)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
  });

  it('turns 401 invalid_client into ERR_OIDC_UNAVAILABLE, never inactive (IN-03)', async () => {
    const token = await org.control.issueAccessToken('app-a', { login: 'alice@acme.example' });
    await expect(introspector().introspect(wrongSecretTenant, token)).rejects.toMatchObject({
      code: 'ERR_OIDC_UNAVAILABLE',
      status: 503,
      details: { error: 'invalid_client' },
    });
  });

  it('fails with ERR_OIDC_RATE_LIMITED and retryAfter on a 429 (IN-07)', async () => {
    org.control.fault('introspect', { type: 'rate-limit', resetInSec: 30 }, { times: 1 });
    const error = await introspector().introspect(tenant, unseenToken()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', status: 503 });
    expect((error as { retryAfter?: number }).retryAfter).toBeGreaterThan(0);
  });

  it.each([500, 502, 503])('fails with ERR_OIDC_UNAVAILABLE on HTTP %i, never open (IN-07)', async (status) => {
    org.control.fault('introspect', { type: 'status', status }, { times: 1 });
    await expect(introspector().introspect(tenant, unseenToken())).rejects.toMatchObject({ code: 'ERR_OIDC_UNAVAILABLE' });
  });

  it('fails with ERR_OIDC_HTTP_TIMEOUT when Okta hangs', async () => {
    org.control.fault('introspect', { type: 'hang' }, { times: 1 });
    const client = introspector({ transport: createTransport({ timeoutMs: 300 }) });
    await expect(client.introspect(tenant, unseenToken())).rejects.toMatchObject({ code: 'ERR_OIDC_HTTP_TIMEOUT', status: 504 });
  });

  it('fails with ERR_OIDC_HTTP_ERROR on an HTML page', async () => {
    org.control.fault('introspect', { type: 'html' }, { times: 1 });
    await expect(introspector().introspect(tenant, unseenToken())).rejects.toMatchObject({ code: 'ERR_OIDC_HTTP_ERROR', status: 502 });
  });

  describe('response checks (served by the emulator as scripted answers)', () => {
    it('accepts the scripted baseline answer', async () => {
      answer(activeBody());
      expect((await introspector().introspect(tenant, unseenToken())).sub).toBe('alice');
    });

    it('treats "active": "true" (a string) as a malformed answer, never active (IN-07)', async () => {
      answer(activeBody({ active: 'true' }));
      await expect(introspector().introspect(tenant, unseenToken())).rejects.toMatchObject({ code: 'ERR_OIDC_INTROSPECTION_INVALID' });
    });

    it.each([
      ['active missing', { active: undefined }],
      ['active 1', { active: 1 }],
      ['exp a string', { exp: '9999999999' }],
      ['client_id a number', { client_id: 7 }],
    ])('refuses a malformed answer: %s', async (_, overrides) => {
      answer(activeBody(overrides));
      await expect(introspector().introspect(tenant, unseenToken())).rejects.toMatchObject({ code: 'ERR_OIDC_INTROSPECTION_INVALID' });
    });

    it('refuses an answer that is a JSON array', async () => {
      org.control.fault('introspect', { type: 'status', status: 200, body: '[{"active":true}]' }, { times: 1 });
      // The emulator labels only bodies starting with "{" as JSON; the transport refuses the rest.
      await expect(introspector().introspect(tenant, unseenToken())).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_OIDC_(INTROSPECTION_INVALID|HTTP_ERROR)$/) });
    });

    it('refuses active: false', async () => {
      answer({ active: false });
      await expect(introspector().introspect(tenant, unseenToken())).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    });

    it('refuses an answer without client_id', async () => {
      answer(activeBody({ client_id: undefined }));
      await expect(introspector().introspect(tenant, unseenToken())).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID', details: { reason: 'client_id' } });
    });

    it('refuses a token of another issuer (IN-05)', async () => {
      answer(activeBody({ iss: 'https://other.okta.com' }));
      await expect(introspector().introspect(tenant, unseenToken())).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID', details: { reason: 'iss' } });
    });

    it('refuses Okta’s refresh-token answer shape presented as an access token (IN-04)', async () => {
      // Catalogue §2.4: token_type Bearer, no iss, aud or jti.
      answer({ active: true, token_type: 'Bearer', scope: 'openid profile email', client_id: 'app-a', username: 'john.doe@example.com', exp: Math.floor(Date.now() / 1000) + 600, sub: 'john.doe@example.com', device_id: 'q4SZgrA9sOeHkfst5uaa' });
      await expect(introspector().introspect(tenant, unseenToken())).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID', details: { reason: 'not_access_token' } });
    });

    it('refuses a DPoP-bound token presented as a bearer token (IN-10)', async () => {
      answer(activeBody({ token_type: 'DPoP' }));
      await expect(introspector().introspect(tenant, unseenToken())).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID', details: { reason: 'dpop_bound' } });
      answer(activeBody({ cnf: { jkt: 'abc' } }));
      await expect(introspector().introspect(tenant, unseenToken())).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID', details: { reason: 'dpop_bound' } });
    });

    it('refuses a token_type other than Bearer', async () => {
      answer(activeBody({ token_type: 'refresh_token' }));
      await expect(introspector().introspect(tenant, unseenToken())).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID', details: { reason: 'token_type' } });
    });

    it('accepts an answer whose aud is the org URL, as Okta answers for org AS access tokens (SA-11)', async () => {
      answer(activeBody({ aud: org.issuer, uid: '00u1' }));
      expect((await introspector().introspect(tenant, unseenToken())).aud).toBe(org.issuer);
      answer(activeBody({ aud: [org.issuer] }));
      expect((await introspector().introspect(tenant, unseenToken())).client_id).toBe('app-a');
    });

    it('refuses Okta’s answer for an ID token (aud = the client id, jti "ID.…", no uid) as not an access token (SA-11)', async () => {
      // Okta developer docs, "/introspect": it "takes an access, ID, or refresh token" and answers
      // active with the token's own claims, token_type "Bearer", client_id.
      const now = Math.floor(Date.now() / 1000);
      const idTokenAnswer = { active: true, token_type: 'Bearer', client_id: 'app-a', iss: org.issuer, aud: 'app-a', sub: '00u1alice', jti: 'ID.abc', iat: now, exp: now + 3600, ver: 1, amr: ['pwd'], idp: '00o1', auth_time: now };
      answer(idTokenAnswer);
      await expect(introspector().introspect(tenant, unseenToken())).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID', details: { reason: 'not_access_token' } });
      // Each mark alone is enough.
      for (const overrides of [{ aud: 'app-a', jti: 'AT.1' }, { aud: ['app-a', org.issuer] }, { jti: 'ID.abc', aud: undefined }, { aud: 'https://api.example.com' }, { aud: [] }]) {
        answer(activeBody(overrides));
        await expect(introspector().introspect(tenant, unseenToken())).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID', details: { reason: 'not_access_token' } });
      }
    });

    it('custom profile: accepts its authorization server’s own audience, still refuses the client id as audience (SA-11)', async () => {
      const custom = parseTenant({ id: 'acme-custom', issuer: org.issuer, clientId: 'app-a', clientSecret: 'secret-a', redirectUris: [REDIRECT], profile: 'custom' });
      answer(activeBody({ aud: 'api://default' }));
      expect((await introspector().introspect(custom, unseenToken())).aud).toBe('api://default');
      answer(activeBody({ aud: ['api://default', 'app-a'] }));
      await expect(introspector().introspect(custom, unseenToken())).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID', details: { reason: 'not_access_token' } });
    });

    it('treats an active answer with exp in the past as inactive', async () => {
      answer(activeBody({ exp: Math.floor(Date.now() / 1000) - 1 }));
      await expect(introspector().introspect(tenant, unseenToken())).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE', details: { reason: 'expired' } });
    });
  });

  describe('an ID token presented as an access token (SA-11)', () => {
    it('without triage reaches Okta, which answers active with its claims, and is refused as not an access token (SA-11)', async () => {
      const idToken = await org.control.issueIdToken('app-a', { login: 'alice@acme.example' });
      await expect(introspector({ triage: false }).introspect(tenant, idToken)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID', details: { reason: 'not_access_token' } });
      expect(org.control.counters().introspect).toBe(1);
    });

    it('with triage (the default) is refused without a call: an ID token has no cid (SA-11, SA-01)', async () => {
      const idToken = await org.control.issueIdToken('app-a', { login: 'alice@acme.example' });
      await expect(introspector().introspect(tenant, idToken)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID', details: { reason: 'triage', check: 'cid' } });
      expect(org.control.counters().introspect).toBe(0);
    });

    it('a real access token still passes, with aud = the org URL in the emulator’s answer (SA-11)', async () => {
      const token = await org.control.issueAccessToken('app-a', { login: 'alice@acme.example' });
      expect(await introspector().introspect(tenant, token)).toMatchObject({ active: true, aud: org.issuer, client_id: 'app-a' });
    });
  });

  it('validates cache options once, at creation', () => {
    for (const cache of [{ maxTtlSec: 0 }, { maxTtlSec: 1.5 }, { negativeTtlSec: -1 }]) {
      expect(() => introspector({ cache })).toThrow(expect.objectContaining({ code: 'ERR_OIDC_INVALID_OPTIONS' }));
    }
  });

  it('applies the bounds of the client options schema, so createIntrospector and createOidcClient accept the same values (IN-06)', () => {
    const store = createMemoryCredentialStore([]);
    const refused = [
      [{ cache: { maxTtlSec: 3601 } }, { introspectionCache: { maxTtlSec: 3601 } }, 'introspectionCache.maxTtlSec'],
      [{ cache: { negativeTtlSec: 3601 } }, { introspectionCache: { negativeTtlSec: 3601 } }, 'introspectionCache.negativeTtlSec'],
      [{ cache: { keySecret: 'k'.repeat(1025) } }, { introspectionCache: { keySecret: 'k'.repeat(1025) } }, 'introspectionCache.keySecret'],
      [{ throttle: { ratePerSec: 0 } }, { introspectionThrottle: { ratePerSec: 0 } }, 'introspectionThrottle.ratePerSec'],
      [{ throttle: { burst: 1_000_001 } }, { introspectionThrottle: { burst: 1_000_001 } }, 'introspectionThrottle.burst'],
    ] as const;
    for (const [deps, options, field] of refused) {
      expect(() => introspector(deps as Partial<IntrospectorDeps>), field).toThrow(expect.objectContaining({ code: 'ERR_OIDC_INVALID_OPTIONS', details: expect.objectContaining({ field }) }));
      expect(() => createOidcClient({ store, ...options }), field).toThrow(expect.objectContaining({ code: 'ERR_OIDC_INVALID_OPTIONS', details: expect.objectContaining({ field }) }));
    }
    // The largest accepted values are accepted by both.
    expect(() => introspector({ cache: { maxTtlSec: 3600, negativeTtlSec: 3600 }, throttle: { ratePerSec: 1_000_000, burst: 1_000_000 } })).not.toThrow();
    expect(() => createOidcClient({ store, introspectionCache: { maxTtlSec: 3600, negativeTtlSec: 3600 }, introspectionThrottle: { ratePerSec: 1_000_000, burst: 1_000_000 } })).not.toThrow();
  });
});
