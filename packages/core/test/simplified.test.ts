import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTransport } from '../src/http/transport';
import { createJwksRegistry } from '../src/jwks/jwks-registry';
import { createSimplifiedFlow } from '../src/simplified/simplified-flow';
import { MemoryCredentialStore } from '../src/tenant/credential-store';
import type { Tenant } from '../src/tenant/tenant';
import { validateIdToken } from '../src/tokens/validate-id-token';
import { MemoryTtlStore, PartitionedMemoryTtlStore, type TtlStore } from '../src/ttl-store';
import type { OidcError } from '../src/errors';

const REDIRECT = 'http://localhost:3000/auth/callback';
let org: OktaOrg;
let store: MemoryCredentialStore;

beforeAll(async () => {
  org = await startOktaOrg({
    clients: [
      { clientId: 'app-simple', clientSecret: 's1', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [REDIRECT] },
      { clientId: 'app-strict', clientSecret: 's2', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [REDIRECT] },
      { clientId: 'app-other', clientSecret: 's3', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [REDIRECT] },
    ],
    users: [{ login: 'alice@acme.example', password: 'pw' }],
  });
  store = new MemoryCredentialStore([
    { id: 'simple', issuer: org.issuer, clientId: 'app-simple', clientSecret: 's1', redirectUris: [REDIRECT], allowSimplifiedFlow: true },
    { id: 'strict', issuer: org.issuer, clientId: 'app-strict', clientSecret: 's2', redirectUris: [REDIRECT] },
    { id: 'other', issuer: org.issuer, clientId: 'app-other', clientSecret: 's3', redirectUris: [REDIRECT], allowSimplifiedFlow: true },
  ]);
});
afterAll(async () => {
  await org?.close();
});
beforeEach(() => {
  org.control.clearFaults();
  org.control.resetCounters();
});

function flow(replay: TtlStore = new MemoryTtlStore()) {
  const transport = createTransport({ timeoutMs: 2_000 });
  const jwks = createJwksRegistry(transport);
  return createSimplifiedFlow({
    store,
    replay,
    now: Date.now,
    validate: (tenant: Tenant, idToken, expected) => validateIdToken({ jwks, now: Date.now, clockToleranceSec: 30 }, tenant, idToken, expected),
  });
}

describe('Okta simplified flow against the emulator', () => {
  it('accepts a fresh, signed ID token form_posted by Okta (FP-03)', async () => {
    const { action, fields } = await org.control.simplifiedSignIn('app-simple', { login: 'alice@acme.example' });
    expect(action).toBe(REDIRECT);
    const result = await flow().handle(fields.id_token);
    expect(result.tenant.id).toBe('simple');
    expect(result.claims.iss).toBe(org.issuer);
    expect(result.claims.sub).toBe(org.config.users[0]!.sub);
    expect(result.idToken).toBe(fields.id_token);
  });

  it('refuses the second use of the same ID token (FP-07)', async () => {
    const handler = flow();
    const { fields } = await org.control.simplifiedSignIn('app-simple');
    await handler.handle(fields.id_token);
    await expect(handler.handle(fields.id_token)).rejects.toMatchObject({ code: 'ERR_OIDC_ID_TOKEN_REPLAYED', status: 400 });
  });

  it('lets exactly one of many concurrent posts of one token through (FP-07)', async () => {
    const handler = flow();
    const { fields } = await org.control.simplifiedSignIn('app-simple');
    const settled = await Promise.allSettled(Array.from({ length: 20 }, () => handler.handle(fields.id_token)));
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    expect(settled.filter((s) => s.status === 'rejected' && (s.reason as { code?: string }).code === 'ERR_OIDC_ID_TOKEN_REPLAYED')).toHaveLength(19);
  });

  it('uses a hash of the whole token when there is no jti, and never stores the token (FP-07, DS-05)', async () => {
    const keys: string[] = [];
    const ttls: number[] = [];
    const inner = new MemoryTtlStore();
    const recording: TtlStore = {
      get: (k) => inner.get(k),
      set: (k, v, t) => inner.set(k, v, t),
      delete: (k) => inner.delete(k),
      take: (k) => inner.take(k),
      setIfAbsent(k, v, t) {
        keys.push(k, v);
        ttls.push(t);
        return inner.setIfAbsent(k, v, t);
      },
    };
    const handler = flow(recording);
    const idToken = await org.control.issueIdToken('app-simple', { claims: { jti: undefined } });
    await handler.handle(idToken);
    await expect(handler.handle(idToken)).rejects.toMatchObject({ code: 'ERR_OIDC_ID_TOKEN_REPLAYED' });
    expect(keys.some((k) => k.includes(idToken) || k.includes(idToken.split('.')[2]!))).toBe(false);
    // Kept while the token could pass again: until iat + maxTokenAgeSec (300) plus the clock tolerance, not the token's hour (SA-07).
    expect(ttls[0]).toBeGreaterThanOrEqual(300 + 30);
    expect(ttls[0]).toBeLessThanOrEqual(300 + 30 + 2);
  });

  it('refuses a tenant that did not opt in, before fetching any key (ERR_OIDC_SIMPLIFIED_FLOW_DISABLED)', async () => {
    const { fields } = await org.control.simplifiedSignIn('app-strict');
    await expect(flow().handle(fields.id_token)).rejects.toMatchObject({ code: 'ERR_OIDC_SIMPLIFIED_FLOW_DISABLED' });
    expect(org.control.counters().keys).toBe(0);
  });

  it('refuses a tampered token and does not burn the replay entry of the real one', async () => {
    const handler = flow();
    const idToken = await org.control.issueIdToken('app-simple');
    const [h, p, s] = idToken.split('.') as [string, string, string];
    const flipped = `${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    await expect(handler.handle(flipped)).rejects.toMatchObject({ code: 'ERR_OIDC_ID_TOKEN_INVALID' });
    expect((await handler.handle(idToken)).tenant.id).toBe('simple');
  });

  it('refuses a token issued too long ago, even though it has not expired (FP-03, IT-11)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const idToken = await org.control.issueIdToken('app-simple', { claims: { iat: now - 600, auth_time: now - 600 } });
    await expect(flow().handle(idToken)).rejects.toMatchObject({ code: 'ERR_OIDC_ID_TOKEN_EXPIRED', details: { reason: 'iat' } });
  });

  it('refuses an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const idToken = await org.control.issueIdToken('app-simple', { claims: { iat: now - 120, exp: now - 60, auth_time: now - 120 } });
    await expect(flow().handle(idToken)).rejects.toMatchObject({ code: 'ERR_OIDC_ID_TOKEN_EXPIRED' });
  });

  it('refuses a token that carries a nonce (it belongs to an authorization request)', async () => {
    const idToken = await org.control.issueIdToken('app-simple', { claims: { nonce: 'n-123' } });
    await expect(flow().handle(idToken)).rejects.toMatchObject({ code: 'ERR_OIDC_ID_TOKEN_INVALID', details: { reason: 'nonce' } });
  });

  it('refuses a token for an audience no tenant has like any invalid token, without telling which orgs are customers (SA-18)', async () => {
    const unknownAudience = await org.control.issueIdToken('app-simple', { claims: { aud: 'unknown-client' } });
    const unknownIssuer = await org.control.issueIdToken('app-simple', { claims: { iss: 'https://not-a-customer.okta.com' } });
    const tampered = await org.control.issueIdToken('app-simple');
    const [h, p, sig] = tampered.split('.') as [string, string, string];
    const badSignature = `${h}.${p}.${sig.slice(0, -4)}${sig.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    const answers = [];
    for (const token of [unknownAudience, unknownIssuer, badSignature]) {
      const error = await flow().handle(token).then(
        () => undefined,
        (e: OidcError) => e,
      );
      answers.push({ code: error?.code, status: error?.status });
    }
    expect(answers).toEqual(Array(3).fill({ code: 'ERR_OIDC_ID_TOKEN_INVALID', status: 400 }));
    await expect(flow().handle(unknownAudience)).rejects.toMatchObject({
      message: 'The ID token is not valid for this application.',
      details: { reason: 'unknown-tenant' },
    });
    await expect(flow().handle(unknownIssuer)).rejects.toMatchObject({ details: { reason: 'unknown-tenant' } });
  });

  it('refuses a token whose audience names several tenants with the same answer (SA-18)', async () => {
    const idToken = await org.control.issueIdToken('app-simple', { claims: { aud: ['app-simple', 'app-other'] } });
    await expect(flow().handle(idToken)).rejects.toMatchObject({
      code: 'ERR_OIDC_ID_TOKEN_INVALID',
      message: 'The ID token is not valid for this application.',
      details: { reason: 'ambiguous' },
    });
  });

  it('checks the tenantId hint against the token (MT-01)', async () => {
    const idToken = await org.control.issueIdToken('app-simple');
    await expect(flow().handle(idToken, { tenantId: 'other' })).rejects.toMatchObject({ code: 'ERR_OIDC_ID_TOKEN_INVALID', details: { reason: 'aud' } });
    await expect(flow().handle(idToken, { tenantId: 'nope' })).rejects.toMatchObject({ code: 'ERR_OIDC_TENANT_UNKNOWN' });
    expect((await flow().handle(idToken, { tenantId: 'simple' })).tenant.id).toBe('simple');
  });

  it.each([
    ['empty', ''],
    ['not a JWS', 'hello'],
    ['two parts', 'a.b'],
    ['unsigned (alg none shape)', 'eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.'],
    ['oversized', `${'a'.repeat(17 * 1024)}.b.c`],
    ['undecodable payload', 'eyJhbGciOiJSUzI1NiJ9.!!!.c2ln'],
    ['payload without iss', `eyJhbGciOiJSUzI1NiJ9.${btoa('{"aud":"app-simple"}').replace(/=+$/, '')}.c2ln`],
  ])('refuses a malformed token (%s) with ERR_OIDC_ID_TOKEN_INVALID', async (_, token) => {
    await expect(flow().handle(token)).rejects.toMatchObject({ code: 'ERR_OIDC_ID_TOKEN_INVALID' });
    expect(org.control.counters().keys).toBe(0);
  });

  it('fails closed when the replay store fails (ERR_OIDC_STORE_FAILURE) (FP-03, DS-05)', async () => {
    const broken: TtlStore = {
      get: async () => undefined,
      set: async () => {},
      delete: async () => {},
      take: async () => undefined,
      setIfAbsent: () => Promise.reject(new Error('redis down')),
    };
    const idToken = await org.control.issueIdToken('app-simple');
    await expect(flow(broken).handle(idToken)).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_FAILURE' });
  });

  it('refuses the same token for as long as it could otherwise pass, and keeps it no longer than that (SA-07)', async () => {
    for (const tolerance of [0, 30]) {
      const idToken = await org.control.issueIdToken('app-simple');
      const start = Date.now();
      let clock = start;
      const now = () => clock;
      const jwks = createJwksRegistry(createTransport({ timeoutMs: 2_000 }), { now });
      const make = (replay: TtlStore) =>
        createSimplifiedFlow({
          store,
          replay,
          now,
          clockToleranceSec: tolerance,
          validate: (tenant: Tenant, token, expected) => validateIdToken({ jwks, now, clockToleranceSec: tolerance }, tenant, token, expected),
        });
      const ttls: number[] = [];
      const inner = new MemoryTtlStore({ now });
      const recording: TtlStore = {
        get: (k) => inner.get(k),
        set: (k, v, t) => inner.set(k, v, t),
        delete: (k) => inner.delete(k),
        take: (k) => inner.take(k),
        setIfAbsent(k, v, t) {
          ttls.push(t);
          return inner.setIfAbsent(k, v, t);
        },
      };
      const real = make(recording);
      await real.handle(idToken);
      const storedFor = ttls[0]! * 1000;
      let lastAccepted = -1;
      for (let offset = 0; offset <= 400_000; offset += 250) {
        clock = start + offset;
        // Would the token pass now if it had never been seen? (a fresh replay store)
        const passes = await make(new MemoryTtlStore({ now })).handle(idToken).then(
          () => true,
          () => false,
        );
        const again = await real.handle(idToken).then(
          () => 'accepted',
          (error: OidcError) => error.code,
        );
        expect(again, `${offset} ms after the first use (tolerance ${tolerance})`).not.toBe('accepted');
        if (passes) {
          lastAccepted = offset;
          expect(again).toBe('ERR_OIDC_ID_TOKEN_REPLAYED');
        }
      }
      // The token could pass for about maxTokenAgeSec (300 s); the entry outlives that by the tolerance and a second at most.
      expect(lastAccepted).toBeGreaterThanOrEqual(298_000);
      expect(storedFor).toBeGreaterThan(lastAccepted);
      expect(storedFor).toBeLessThanOrEqual(lastAccepted + (tolerance + 2) * 1000);
    }
  });

  it('gives each tenant its own bounded replay partition: one full tenant fails alone (SA-07)', async () => {
    const partitions = new PartitionedMemoryTtlStore({ maxEntriesPerPartition: 2 });
    const partitioned = createSimplifiedFlow({
      store,
      replay: (tenant) => partitions.partition(tenant.id),
      now: Date.now,
      validate: (tenant: Tenant, idToken, expected) =>
        validateIdToken({ jwks: createJwksRegistry(createTransport({ timeoutMs: 2_000 })), now: Date.now, clockToleranceSec: 30 }, tenant, idToken, expected),
    });
    for (let i = 0; i < 2; i += 1) await partitioned.handle(await org.control.issueIdToken('app-simple'));
    await expect(partitioned.handle(await org.control.issueIdToken('app-simple'))).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_FAILURE' });
    // The other tenant still signs in.
    expect((await partitioned.handle(await org.control.issueIdToken('app-other'))).tenant.id).toBe('other');
    expect(partitions.partitions).toBe(2);
  });

  it('a flood of forged posts cannot spend the /keys refetch a code-flow token needs after a key rotation (SA-09)', async () => {
    const jwks = createJwksRegistry(createTransport({ timeoutMs: 2_000 }));
    const deps = { jwks, now: Date.now, clockToleranceSec: 30 };
    const handler = createSimplifiedFlow({
      store,
      replay: new MemoryTtlStore(),
      now: Date.now,
      validate: (tenant: Tenant, idToken, expected) => validateIdToken(deps, tenant, idToken, expected),
    });
    await handler.handle(await org.control.issueIdToken('app-simple')); // warm: the org's set is cached
    org.control.resetCounters();
    const b64 = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const nowSec = Math.floor(Date.now() / 1000);
    // Only public values: the org's issuer and the app's client id, a random kid, no valid signature.
    for (let i = 0; i < 25; i += 1) {
      const forged = `${b64({ alg: 'RS256', kid: `forged-${i}` })}.${b64({ iss: org.issuer, aud: 'app-simple', sub: 'x', iat: nowSec, exp: nowSec + 300 })}.c2lnbmF0dXJl`;
      await expect(handler.handle(forged)).rejects.toMatchObject({ code: 'ERR_OIDC_JWKS_NO_MATCHING_KEY' });
    }
    expect(org.control.counters().keys).toBe(3); // the front channel's budget, then its cooldown
    await org.control.rotateSigningKey();
    const tenant = (await store.get('simple'))!;
    const fromTokenEndpoint = await org.control.issueIdToken('app-simple', { claims: { nonce: 'n-sa09' } });
    // A token straight from /token (the default, back channel) still gets its refetch, on first use.
    expect((await validateIdToken(deps, tenant, fromTokenEndpoint, { nonce: 'n-sa09' })).iss).toBe(org.issuer);
    expect(org.control.counters().keys).toBe(4);
    // The new key is now cached for every channel: a real simplified sign-in needs no fetch.
    expect((await handler.handle(await org.control.issueIdToken('app-simple'))).tenant.id).toBe('simple');
    expect(org.control.counters().keys).toBe(4);
  });

  it('validates its options once', () => {
    expect(() => createSimplifiedFlow({ store, replay: new MemoryTtlStore(), now: Date.now, validate: async () => ({}) as never, maxTokenAgeSec: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_OIDC_INVALID_OPTIONS' }),
    );
  });
});
