/**
 * Audit finding SA-01 (docs/security.md): the introspection throttle must not be a
 * denial-of-service switch. Junk is refused before any bucket, a token only Okta could have signed
 * skips the buckets, each caller has its own small bucket before the tenant's, and the cache is on
 * by default. Counted at the emulator over HTTP, with an injected clock (no timing in the tests).
 */
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOidcClient } from '../src/client';
import { isOidcError } from '../src/errors';
import { createTransport } from '../src/http/transport';
import { createIntrospector, type IntrospectorDeps } from '../src/introspection/introspect';
import { createJwksRegistry, type JwksEvent, type JwksRegistry } from '../src/jwks/jwks-registry';
import { createMemoryCredentialStore } from '../src/tenant/credential-store';
import { parseTenant, type Tenant } from '../src/tenant/tenant';
import { webCryptoVerifier } from '../src/tokens/signature-verifier';
import { MemoryTtlStore, type TtlStore } from '../src/ttl-store';

const REDIRECT = 'http://localhost:3000/auth/callback';
let org: OktaOrg;
let privateOrg: OktaOrg;
let tenant: Tenant;
let privateTenant: Tenant;
let clock = 0;
const now = () => clock;

beforeAll(async () => {
  const clients = [
    { clientId: 'app-a', clientSecret: 'secret-a', tokenEndpointAuthMethod: 'client_secret_basic' as const, redirectUris: [REDIRECT] },
    { clientId: 'app-b', clientSecret: 'secret-b', tokenEndpointAuthMethod: 'client_secret_basic' as const, redirectUris: [REDIRECT] },
  ];
  const users = [{ login: 'alice@acme.example', password: 'pw' }];
  [org, privateOrg] = await Promise.all([startOktaOrg({ clients, users }), startOktaOrg({ clients, users, accessTokenSigning: 'private' })]);
  tenant = parseTenant({ id: 'acme', issuer: org.issuer, clientId: 'app-a', clientSecret: 'secret-a', redirectUris: [REDIRECT] });
  privateTenant = parseTenant({ id: 'acme-private', issuer: privateOrg.issuer, clientId: 'app-a', clientSecret: 'secret-a', redirectUris: [REDIRECT] });
});
afterAll(async () => {
  await Promise.all([org?.close(), privateOrg?.close()]);
});
beforeEach(() => {
  clock = Date.now();
  for (const o of [org, privateOrg]) {
    o.control.clearFaults();
    o.control.resetCounters();
  }
});

const transport = () => createTransport({ timeoutMs: 2_000, now });

/** A JWKS registry that already holds the org's published keys (as after a sign-in). */
async function warmRegistry(target: OktaOrg = org): Promise<JwksRegistry> {
  const jwks = createJwksRegistry(transport(), { now });
  const { kid } = (await target.control.signingKeys()).find((k) => k.active)!;
  await jwks.getKey(target.issuer, `${target.issuer}/oauth2/v1/keys`, { alg: 'RS256', kid });
  target.control.resetCounters();
  return jwks;
}

function introspector(options: Partial<IntrospectorDeps> = {}) {
  return createIntrospector({ transport: transport(), now, verifySignature: webCryptoVerifier, ...options });
}

const b64url = (value: unknown) => btoa(typeof value === 'string' ? value : JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

/** A JWT-shaped token: by default one of acme's access tokens in every visible way, under an unknown kid. */
function jwt(payload: Record<string, unknown> = {}, header: Record<string, unknown> = {}, target: OktaOrg = org): string {
  const nowSec = Math.floor(clock / 1000);
  const h = { alg: 'RS256', kid: 'kid-nobody-published', typ: 'application/okta-internal-at+jwt', ...header };
  const p = { ver: 1, jti: `AT.${crypto.randomUUID()}`, iss: target.issuer, aud: target.issuer, cid: 'app-a', iat: nowSec, exp: nowSec + 3600, ...payload };
  return `${b64url(h)}.${b64url(p)}.${b64url(crypto.randomUUID())}`;
}

async function codes(run: (token: string) => Promise<unknown>, tokens: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const token of tokens) {
    try {
      await run(token);
      out.push('ok');
    } catch (error) {
      if (!isOidcError(error)) throw error;
      out.push(error.status === 429 ? `${error.code}/429` : error.code);
    }
  }
  return out;
}

/** A store that records every write (the cache must hold nothing for junk). */
function recordingStore(): { store: TtlStore; writes: string[] } {
  const inner = new MemoryTtlStore({ now });
  const writes: string[] = [];
  return {
    writes,
    store: {
      get: (key) => inner.get(key),
      set: (key, value, ttl) => {
        writes.push(key);
        return inner.set(key, value, ttl);
      },
      delete: (key) => inner.delete(key),
      setIfAbsent: (key, value, ttl) => inner.setIfAbsent(key, value, ttl),
      take: (key) => inner.take(key),
    },
  };
}

describe('triage before any bucket (SA-01)', () => {
  const JUNK: [string, () => string, string, string][] = [
    ['a random b64token', () => `fish.${crypto.randomUUID()}`, 'format', 'ERR_OIDC_ACCESS_TOKEN_INVALID'],
    ['two segments', () => jwt().split('.').slice(0, 2).join('.'), 'format', 'ERR_OIDC_ACCESS_TOKEN_INVALID'],
    ['four segments', () => `${jwt()}.AAAA`, 'format', 'ERR_OIDC_ACCESS_TOKEN_INVALID'],
    ['b64token characters outside base64url', () => jwt().replace('.', '+.'), 'format', 'ERR_OIDC_ACCESS_TOKEN_INVALID'],
    ['a header that is not JSON', () => `${b64url('not json')}.${jwt().split('.')[1]}.AAAA`, 'header', 'ERR_OIDC_ACCESS_TOKEN_INVALID'],
    ['a header that is a JSON array', () => `${b64url([{ alg: 'RS256' }])}.${jwt().split('.')[1]}.AAAA`, 'header', 'ERR_OIDC_ACCESS_TOKEN_INVALID'],
    ['alg HS256', () => jwt({}, { alg: 'HS256' }), 'alg', 'ERR_OIDC_ACCESS_TOKEN_INVALID'],
    ['alg none', () => jwt({}, { alg: 'none' }), 'alg', 'ERR_OIDC_ACCESS_TOKEN_INVALID'],
    ['a payload that is not a JSON object', () => `${jwt().split('.')[0]}.${b64url('[1]')}.AAAA`, 'payload', 'ERR_OIDC_ACCESS_TOKEN_INVALID'],
    ['another issuer', () => jwt({ iss: 'https://evil.okta.com' }), 'iss', 'ERR_OIDC_ACCESS_TOKEN_INVALID'],
    ['the issuer with a trailing slash', () => jwt({ iss: `${org.issuer}/` }), 'iss', 'ERR_OIDC_ACCESS_TOKEN_INVALID'],
    ['no cid', () => jwt({ cid: undefined }), 'cid', 'ERR_OIDC_ACCESS_TOKEN_INVALID'],
    ['another client’s cid', () => jwt({ cid: 'app-b' }), 'cid', 'ERR_OIDC_ACCESS_TOKEN_INVALID'],
    ['no exp', () => jwt({ exp: undefined }), 'exp', 'ERR_OIDC_ACCESS_TOKEN_INVALID'],
    ['exp a string', () => jwt({ exp: '9999999999' }), 'exp', 'ERR_OIDC_ACCESS_TOKEN_INVALID'],
    ['exp past beyond the clock tolerance', () => jwt({ exp: Math.floor(clock / 1000) - 31 }), 'exp', 'ERR_OIDC_ACCESS_TOKEN_INACTIVE'],
  ];

  it.each(JUNK)('refuses %s locally: no Okta call, no bucket, nothing cached (SA-01)', async (_, make, check, code) => {
    const { store, writes } = recordingStore();
    const client = introspector({ cache: { store }, throttle: { ratePerSec: 0.001, burst: 1, perCaller: { ratePerSec: 0.001, burst: 1 } } });
    for (let i = 0; i < 50; i += 1) {
      await expect(client.introspect(tenant, make(), { caller: '203.0.113.7' })).rejects.toMatchObject({ code, status: 401, details: { reason: 'triage', check } });
    }
    expect(org.control.counters().introspect).toBe(0);
    expect(writes).toEqual([]);
    // Both buckets (burst 1) are still full: the next plausible token from the same caller reaches Okta.
    await expect(client.introspect(tenant, jwt(), { caller: '203.0.113.7' })).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    expect(org.control.counters().introspect).toBe(1);
  });

  it('lets an exp within the clock tolerance through to Okta (SA-01)', async () => {
    await expect(introspector().introspect(tenant, jwt({ exp: Math.floor(clock / 1000) - 29 }))).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    expect(org.control.counters().introspect).toBe(1);
  });

  it('refuses a token whose kid names a cached key but whose signature does not verify, without fetching /keys (SA-01)', async () => {
    const jwks = await warmRegistry();
    const real = await org.control.issueAccessToken('app-a');
    const [h, p] = real.split('.');
    const forged = `${h}.${p}.${b64url(crypto.randomUUID())}`;
    const client = introspector({ jwks, throttle: { ratePerSec: 0.001, burst: 1 } });
    for (let i = 0; i < 20; i += 1) {
      await expect(client.introspect(tenant, i === 0 ? forged : `${h}.${p}.${b64url(crypto.randomUUID())}`)).rejects.toMatchObject({
        code: 'ERR_OIDC_ACCESS_TOKEN_INVALID',
        details: { reason: 'triage', check: 'signature' },
      });
    }
    expect(org.control.counters()).toMatchObject({ introspect: 0, keys: 0 });
    // The real token still goes through (and the bucket was never touched).
    await expect(client.introspect(tenant, real)).resolves.toMatchObject({ active: true, client_id: 'app-a' });
  });

  it('never fetches /keys for an unknown kid: such a token is only plausible and goes through the buckets (SA-01)', async () => {
    const jwks = await warmRegistry();
    const client = introspector({ jwks, throttle: { ratePerSec: 0.001, burst: 3 } });
    const out = await codes((t) => client.introspect(tenant, t), Array.from({ length: 5 }, () => jwt()));
    expect(out).toEqual([...Array(3).fill('ERR_OIDC_ACCESS_TOKEN_INACTIVE'), ...Array(2).fill('ERR_OIDC_RATE_LIMITED')]);
    expect(org.control.counters()).toMatchObject({ introspect: 3, keys: 0 });
  });

  it('sends a token signed with a cached published key to Okta even with both buckets empty (verified) (SA-01)', async () => {
    const jwks = await warmRegistry();
    const client = introspector({ jwks, cache: false, throttle: { ratePerSec: 0.001, burst: 1, perCaller: { ratePerSec: 0.001, burst: 1 } } });
    await codes((t) => client.introspect(tenant, t, { caller: 'x' }), [jwt(), jwt(), jwt()]);
    await expect(client.introspect(tenant, jwt(), { caller: 'x' })).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', status: 429 });
    await expect(client.introspect(tenant, jwt(), { caller: 'y' })).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', status: 503 });
    const before = org.control.counters().introspect;
    const real = await org.control.issueAccessToken('app-a');
    for (const caller of ['x', 'y', undefined]) await expect(client.introspect(tenant, real, caller ? { caller } : {})).resolves.toMatchObject({ active: true });
    expect(org.control.counters().introspect).toBe(before + 3);
    // Acceptance still comes from Okta: a verified but revoked token is refused.
    await client.introspect(tenant, real);
    await fetch(`${org.issuer}/oauth2/v1/revoke`, {
      method: 'POST',
      headers: { authorization: `Basic ${btoa('app-a:secret-a')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: real }).toString(),
    });
    await expect(client.introspect(tenant, real)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
  });

  it('learns the org’s keys from the first token Okta confirms, so later real tokens skip the buckets (SA-01)', async () => {
    const jwks = createJwksRegistry(transport(), { now });
    const client = introspector({ jwks, cache: false, throttle: { ratePerSec: 0.001, burst: 1 } });
    const first = await org.control.issueAccessToken('app-a');
    await expect(client.introspect(tenant, first)).resolves.toMatchObject({ active: true });
    expect(org.control.counters().keys).toBe(1);
    // Drain the tenant bucket (burst 1) with a plausible token.
    await expect(client.introspect(tenant, jwt())).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    await expect(client.introspect(tenant, jwt())).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', details: { reason: 'introspection-throttle' } });
    const second = await org.control.issueAccessToken('app-a');
    await expect(client.introspect(tenant, second)).resolves.toMatchObject({ active: true });
    // Learned once: no further /keys fetch.
    expect(org.control.counters().keys).toBe(1);
  });

  it('with keys Okta never publishes (accessTokenSigning private), real tokens stay plausible: two /keys attempts, then the buckets apply (SA-01)', async () => {
    const events: JwksEvent[] = [];
    const jwks = createJwksRegistry(transport(), { now, onJwks: (event) => events.push(event) });
    const client = introspector({ jwks, cache: false, throttle: { ratePerSec: 0.001, burst: 2 } });
    const real = await privateOrg.control.issueAccessToken('app-a');
    await expect(client.introspect(privateTenant, real)).resolves.toMatchObject({ active: true });
    await expect(client.introspect(privateTenant, real)).resolves.toMatchObject({ active: true });
    // One cold fetch (priming), one refetch for the kid Okta confirmed (learning); neither finds it.
    expect(privateOrg.control.counters().keys).toBe(2);
    expect(events.filter((e) => e.type === 'fetch').map((e) => (e as { reason: string }).reason)).toEqual(['cold', 'unknown-kid']);
    // Real tokens gave their tokens back; two fishing tokens empty the bucket, then a real one waits.
    await codes((t) => client.introspect(privateTenant, t), [jwt({}, {}, privateOrg), jwt({}, {}, privateOrg)]);
    await expect(client.introspect(privateTenant, real)).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', status: 503 });
    expect(privateOrg.control.counters().keys).toBe(2);
  });

  it('primes an empty key cache once (a cold fetch, no refetch budget), so a real token passes while fishing keeps the bucket empty (SA-01)', async () => {
    const events: JwksEvent[] = [];
    const jwks = createJwksRegistry(transport(), { now, onJwks: (event) => events.push(event) });
    const client = introspector({ jwks, cache: false, throttle: { ratePerSec: 0.001, burst: 2 } });
    const out = await codes((t) => client.introspect(tenant, t), Array.from({ length: 30 }, () => jwt()));
    expect(out).toEqual([...Array(2).fill('ERR_OIDC_ACCESS_TOKEN_INACTIVE'), ...Array(28).fill('ERR_OIDC_RATE_LIMITED')]);
    // Thirty fishing tokens with an unknown kid: one /keys fetch, for the empty cache, and no unknown-kid refetch.
    expect(org.control.counters().keys).toBe(1);
    expect(events.filter((e) => e.type === 'fetch').map((e) => (e as { reason: string }).reason)).toEqual(['cold']);
    // The bucket is empty, yet a real token (signed with the published key) verifies and reaches Okta.
    const real = await org.control.issueAccessToken('app-a');
    await expect(client.introspect(tenant, real)).resolves.toMatchObject({ active: true });
    expect(org.control.counters()).toMatchObject({ keys: 1, introspect: 3 });
  });

  it('real tokens arriving together with the first fishing tokens wait for the one priming and pass (SA-01)', async () => {
    const jwks = createJwksRegistry(transport(), { now });
    const client = introspector({ jwks, cache: false, throttle: { ratePerSec: 0.001, burst: 1 } });
    const reals = await Promise.all(Array.from({ length: 3 }, () => org.control.issueAccessToken('app-a')));
    const settled = await Promise.allSettled([...Array.from({ length: 10 }, () => client.introspect(tenant, jwt())), ...reals.map((r) => client.introspect(tenant, r))]);
    expect(settled.slice(10).map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(settled.slice(0, 10).every((s) => s.status === 'rejected')).toBe(true);
    expect(org.control.counters().keys).toBe(1);
  });

  it('introspectionTriage false sends every well-formed token to Okta through the buckets, as before (SA-01)', async () => {
    const client = introspector({ triage: false, throttle: { ratePerSec: 0.001, burst: 3 } });
    const out = await codes((t) => client.introspect(tenant, t), [`fish.${crypto.randomUUID()}`, jwt({ cid: 'app-b' }), jwt({ alg: 'HS256' }), 'abc']);
    expect(out).toEqual(['ERR_OIDC_ACCESS_TOKEN_INACTIVE', 'ERR_OIDC_ACCESS_TOKEN_INACTIVE', 'ERR_OIDC_ACCESS_TOKEN_INACTIVE', 'ERR_OIDC_RATE_LIMITED']);
    expect(org.control.counters().introspect).toBe(3);
  });
});

describe('per-caller bucket (SA-01)', () => {
  it('refuses one caller past its burst with 429 caller-throttle, while other callers and the tenant bucket are untouched (SA-01)', async () => {
    const client = introspector({ throttle: { ratePerSec: 0.001, burst: 5, perCaller: { ratePerSec: 0.001, burst: 2 } } });
    const out = await codes((t) => client.introspect(tenant, t, { caller: '198.51.100.1' }), Array.from({ length: 6 }, () => jwt()));
    expect(out).toEqual([...Array(2).fill('ERR_OIDC_ACCESS_TOKEN_INACTIVE'), ...Array(4).fill('ERR_OIDC_RATE_LIMITED/429')]);
    const refused = await client.introspect(tenant, jwt(), { caller: '198.51.100.1' }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', status: 429, details: { reason: 'caller-throttle', tenantId: 'acme' } });
    expect((refused as { retryAfter?: number }).retryAfter).toBeGreaterThan(0);
    expect(JSON.stringify((refused as { details?: unknown }).details)).not.toContain('198.51.100.1');
    expect(org.control.counters().introspect).toBe(2);
    // The tenant bucket paid only for the 2 calls that reached Okta: 3 more from other callers pass.
    expect(await codes((t) => client.introspect(tenant, t, { caller: '198.51.100.2' }), [jwt(), jwt()])).toEqual(Array(2).fill('ERR_OIDC_ACCESS_TOKEN_INACTIVE'));
    expect(await codes((t) => client.introspect(tenant, t), [jwt(), jwt()])).toEqual(['ERR_OIDC_ACCESS_TOKEN_INACTIVE', 'ERR_OIDC_RATE_LIMITED']);
    expect(org.control.counters().introspect).toBe(5);
  });

  it('gives the caller its token back when the tenant bucket refuses (no call was made) (SA-01)', async () => {
    const client = introspector({ throttle: { ratePerSec: 1, burst: 1, perCaller: { ratePerSec: 0.001, burst: 2 } } });
    expect(await codes((t) => client.introspect(tenant, t, { caller: 'c' }), [jwt(), jwt()])).toEqual(['ERR_OIDC_ACCESS_TOKEN_INACTIVE', 'ERR_OIDC_RATE_LIMITED']);
    const refused = await client.introspect(tenant, jwt(), { caller: 'c' }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', status: 503, details: { reason: 'introspection-throttle', tenantId: 'acme' } });
    clock += 1000; // one tenant token back; the caller still holds its second one
    await expect(client.introspect(tenant, jwt(), { caller: 'c' })).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    clock += 1000;
    await expect(client.introspect(tenant, jwt(), { caller: 'c' })).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', status: 429 });
    expect(org.control.counters().introspect).toBe(2);
  });

  it('an active answer refunds both buckets: a caller with real tokens is never throttled (SA-01)', async () => {
    // No JWKS registry: every token is plausible and pays; no cache, so every call reaches Okta.
    const client = introspector({ cache: false, throttle: { ratePerSec: 0.001, burst: 1, perCaller: { ratePerSec: 0.001, burst: 1 } } });
    const real = await org.control.issueAccessToken('app-a');
    expect(await codes((t) => client.introspect(tenant, t, { caller: 'app-server' }), Array(30).fill(real))).toEqual(Array(30).fill('ok'));
    expect(org.control.counters().introspect).toBe(30);
  });

  it('buckets are per tenant and caller: the same address at another tenant has its own (SA-01)', async () => {
    const other = parseTenant({ id: 'acme-b', issuer: org.issuer, clientId: 'app-b', clientSecret: 'secret-b', redirectUris: [REDIRECT] });
    const client = introspector({ throttle: { ratePerSec: 0.001, burst: 10, perCaller: { ratePerSec: 0.001, burst: 1 } } });
    expect(await codes((t) => client.introspect(tenant, t, { caller: 'c' }), [jwt(), jwt()])).toEqual(['ERR_OIDC_ACCESS_TOKEN_INACTIVE', 'ERR_OIDC_RATE_LIMITED/429']);
    await expect(client.introspect(other, jwt({ cid: 'app-b' }), { caller: 'c' })).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
  });

  it('without a caller only the tenant bucket applies; perCaller false turns the caller bucket off (SA-01)', async () => {
    const client = introspector({ throttle: { ratePerSec: 0.001, burst: 30, perCaller: { ratePerSec: 0.001, burst: 2 } } });
    expect(await codes((t) => client.introspect(tenant, t), Array.from({ length: 10 }, () => jwt()))).toEqual(Array(10).fill('ERR_OIDC_ACCESS_TOKEN_INACTIVE'));
    const off = introspector({ throttle: { ratePerSec: 0.001, burst: 30, perCaller: false } });
    expect(await codes((t) => off.introspect(tenant, t, { caller: 'c' }), Array.from({ length: 10 }, () => jwt()))).toEqual(Array(10).fill('ERR_OIDC_ACCESS_TOKEN_INACTIVE'));
  });

  it('defaults: a caller gets 20 calls for unknown tokens, then 429 (SA-01)', async () => {
    const client = introspector();
    const out = await codes((t) => client.introspect(tenant, t, { caller: 'c' }), Array.from({ length: 22 }, () => jwt()));
    expect(out).toEqual([...Array(20).fill('ERR_OIDC_ACCESS_TOKEN_INACTIVE'), ...Array(2).fill('ERR_OIDC_RATE_LIMITED/429')]);
    expect(org.control.counters().introspect).toBe(20);
  });

  it('refuses invalid perCaller options at creation (SA-01)', () => {
    for (const perCaller of [{ burst: 0 }, { burst: 1.5 }, { ratePerSec: 0 }, { ratePerSec: Number.NaN }]) {
      expect(() => introspector({ throttle: { perCaller } })).toThrow(expect.objectContaining({ code: 'ERR_OIDC_INVALID_OPTIONS' }));
    }
  });
});

describe('through createOidcClient (SA-01)', () => {
  function client(extra: Record<string, unknown> = {}) {
    return createOidcClient({
      store: createMemoryCredentialStore([{ id: 'acme', issuer: org.issuer, clientId: 'app-a', clientSecret: 'secret-a', redirectUris: [REDIRECT] }]),
      allowLoopbackIssuers: true,
      httpTimeoutMs: 2_000,
      now,
      ...extra,
    } as Parameters<typeof createOidcClient>[0]);
  }

  it('caches a positive answer by default: a repeated real token is asked once (SA-01)', async () => {
    const c = client();
    const t = await c.getTenant('acme');
    const real = await org.control.issueAccessToken('app-a');
    for (let i = 0; i < 5; i += 1) await expect(c.introspect(t, real)).resolves.toMatchObject({ active: true });
    expect(org.control.counters().introspect).toBe(1);
    // false still turns it off.
    const uncached = client({ introspectionCache: false });
    for (let i = 0; i < 3; i += 1) await uncached.introspect(t, real);
    expect(org.control.counters().introspect).toBe(4);
  });

  it('passes caller to the per-caller bucket, triages by default, and takes the options (SA-01)', async () => {
    const c = client({ introspectionThrottle: { perCaller: { ratePerSec: 0.001, burst: 1 } } });
    const t = await c.getTenant('acme');
    await expect(c.introspect(t, `fish.${crypto.randomUUID()}`, { caller: 'c' })).rejects.toMatchObject({ details: { reason: 'triage', check: 'format' } });
    await expect(c.introspect(t, jwt(), { caller: 'c' })).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    await expect(c.introspect(t, jwt(), { caller: 'c' })).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', status: 429, details: { reason: 'caller-throttle' } });
    const untriaged = client({ introspectionTriage: false });
    await expect(untriaged.introspect(t, `fish.${crypto.randomUUID()}`)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    expect(org.control.counters().introspect).toBe(2);
  });

  it('refuses invalid triage and perCaller options at start-up (SA-01)', () => {
    for (const extra of [{ introspectionTriage: 'yes' }, { introspectionThrottle: { perCaller: { burst: 0 } } }, { introspectionThrottle: { perCaller: { rate: 1 } } }, { introspectionThrottle: { perCaller: true } }]) {
      expect(() => client(extra)).toThrow(expect.objectContaining({ code: 'ERR_OIDC_INVALID_OPTIONS' }));
    }
  });

  it('the flood: junk of three kinds at the tenant while real tokens keep working (SA-01)', async () => {
    const c = client();
    const t = await c.getTenant('acme');
    const reals = await Promise.all(Array.from({ length: 5 }, () => org.control.issueAccessToken('app-a')));
    let realOk = 0;
    let junkRefused = 0;
    let junkTotal = 0;
    for (let round = 0; round < 20; round += 1) {
      const junk = [
        ...Array.from({ length: 20 }, () => c.introspect(t, `fish.${crypto.randomUUID()}`, { caller: `10.0.${round}.1` })),
        ...Array.from({ length: 20 }, (_, i) => c.introspect(t, jwt(), { caller: `10.1.${round}.${i}` })),
        ...Array.from({ length: 20 }, () => c.introspect(t, jwt(), { caller: '10.2.0.1' })),
      ];
      const real = reals.map((token) => c.introspect(t, token, { caller: '192.0.2.10' }));
      const settledJunk = await Promise.allSettled(junk);
      const settledReal = await Promise.allSettled(real);
      junkTotal += settledJunk.length;
      junkRefused += settledJunk.filter((s) => s.status === 'rejected').length;
      realOk += settledReal.filter((s) => s.status === 'fulfilled').length;
      clock += 100;
    }
    expect(junkRefused).toBe(junkTotal);
    expect(realOk).toBe(100);
  });
});
