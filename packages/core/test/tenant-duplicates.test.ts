/**
 * Audit finding SA-17 (docs/security.md): duplicate (issuer, client id) records are refused by the
 * store, and the introspection caches are keyed by tenant, so a squatter record with a wrong secret
 * is never answered from the real tenant's cached entries. The squatters here are built with
 * parseTenant directly, since the store now refuses them.
 */
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isOidcError } from '../src/errors';
import { createTransport } from '../src/http/transport';
import { createIntrospector, type IntrospectorDeps } from '../src/introspection/introspect';
import { createMemoryCredentialStore, MemoryCredentialStore, parseTenantsJson } from '../src/tenant/credential-store';
import { parseTenant, type Tenant, type TenantRecord } from '../src/tenant/tenant';
import { MemoryTtlStore } from '../src/ttl-store';

const REDIRECT = 'http://localhost:3000/auth/callback';
const ISSUER = 'https://acme.okta.com';
const record = (id: string, extra: Partial<TenantRecord> = {}): TenantRecord => ({
  id,
  issuer: ISSUER,
  clientId: '0oa-acme',
  clientSecret: `secret-of-${id}-0123456789`,
  redirectUris: [REDIRECT],
  ...extra,
});

async function failure(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('MemoryCredentialStore refuses duplicate (issuer, client id) records (SA-17)', () => {
  it('in the constructor, naming the field and the other tenant, never a secret (SA-17)', async () => {
    const error = await failure(() => new MemoryCredentialStore([record('acme'), record('squatter')]));
    expect(isOidcError(error) && error.code).toBe('ERR_OIDC_INVALID_TENANT');
    const text = `${(error as Error).message} ${JSON.stringify((error as { details?: unknown }).details)}`;
    expect((error as { details?: unknown }).details).toMatchObject({ field: 'clientId', tenantId: 'squatter', otherTenantId: 'acme' });
    expect((error as Error).message).toContain('"acme"');
    expect(text).not.toMatch(/secret-of-/);
  });

  it('in createMemoryCredentialStore from records and from a tenants file (SA-17)', async () => {
    expect(await failure(() => createMemoryCredentialStore([record('acme'), record('squatter')]))).toMatchObject({ code: 'ERR_OIDC_INVALID_TENANT' });
    const file = JSON.stringify([record('acme'), record('squatter')]);
    expect(parseTenantsJson(file)).toHaveLength(2); // the file parses; the store is where duplicates meet
    expect(await failure(() => createMemoryCredentialStore(file))).toMatchObject({ code: 'ERR_OIDC_INVALID_TENANT', details: { otherTenantId: 'acme' } });
  });

  it('in put, leaving the store unchanged; replacing a record with the same pair under its own id is fine (SA-17)', async () => {
    const store = new MemoryCredentialStore([record('acme')]);
    expect(await failure(() => store.put(record('squatter')))).toMatchObject({ code: 'ERR_OIDC_INVALID_TENANT', details: { field: 'clientId', otherTenantId: 'acme' } });
    expect(await store.get('squatter')).toBeUndefined();
    expect((await store.findByIssuer(ISSUER)).map((t) => t.id)).toEqual(['acme']);
    const replaced = await store.put(record('acme', { clientSecret: 'rotated-secret-0123456789' }));
    expect(replaced.auth.method !== 'private_key_jwt' && replaced.auth.secrets[0]?.value).toBe('rotated-secret-0123456789');
    // Another instance of the app in the same org (its own client id), and the same client id at another org: both fine.
    await store.put(record('acme-2', { clientId: '0oa-acme-2' }));
    await store.put(record('elsewhere', { issuer: 'https://other.okta.com' }));
    expect(store.size).toBe(3);
    // Moving a record onto a pair another holds is refused, and the record stays as it was.
    expect(await failure(() => store.put(record('acme-2')))).toMatchObject({ code: 'ERR_OIDC_INVALID_TENANT' });
    expect((await store.get('acme-2'))?.clientId).toBe('0oa-acme-2');
    // Once the first record is gone, the pair is free.
    await store.delete('acme');
    await expect(store.put(record('squatter'))).resolves.toMatchObject({ id: 'squatter' });
  });
});

describe('introspection caches are keyed by tenant (SA-17)', () => {
  let org: OktaOrg;
  let acme: Tenant;
  let squatter: Tenant;
  beforeAll(async () => {
    org = await startOktaOrg({
      clients: [{ clientId: 'app-a', clientSecret: 'secret-a', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [REDIRECT] }],
      users: [{ login: 'alice@acme.example', password: 'pw' }],
    });
    acme = parseTenant({ id: 'acme', issuer: org.issuer, clientId: 'app-a', clientSecret: 'secret-a', redirectUris: [REDIRECT] });
    // Same issuer and client id, another id, a wrong secret: Okta refuses its client authentication.
    squatter = parseTenant({ id: 'squatter', issuer: org.issuer, clientId: 'app-a', clientSecret: 'not-the-secret', redirectUris: [REDIRECT] });
  });
  afterAll(async () => {
    await org?.close();
  });
  beforeEach(() => {
    org.control.resetCounters();
  });

  const introspector = (options: Partial<IntrospectorDeps> = {}) => createIntrospector({ transport: createTransport({ timeoutMs: 2_000 }), now: Date.now, ...options });

  it('the hot cache never answers the squatter with acme’s entry (SA-17)', async () => {
    const token = await org.control.issueAccessToken('app-a');
    const client = introspector();
    await expect(client.introspect(acme, token)).resolves.toMatchObject({ active: true });
    await expect(client.introspect(acme, token)).resolves.toMatchObject({ active: true });
    expect(org.control.counters().introspect).toBe(1);
    // The squatter must ask Okta itself, which refuses its secret.
    await expect(client.introspect(squatter, token)).rejects.toMatchObject({ code: 'ERR_OIDC_UNAVAILABLE', details: { error: 'invalid_client' } });
    expect(org.control.counters().introspect).toBe(2);
  });

  it('a shared cache store never answers the squatter with acme’s entry (SA-17)', async () => {
    const token = await org.control.issueAccessToken('app-a');
    const store = new MemoryTtlStore();
    await introspector({ cache: { store } }).introspect(acme, token);
    // Another process (cold hot cache) sharing the store.
    await expect(introspector({ cache: { store } }).introspect(squatter, token)).rejects.toMatchObject({ code: 'ERR_OIDC_UNAVAILABLE' });
    await expect(introspector({ cache: { store } }).introspect(acme, token)).resolves.toMatchObject({ active: true });
    expect(org.control.counters().introspect).toBe(2);
  });

  it('concurrent calls of acme and the squatter for one token do not share a flight (SA-17)', async () => {
    const token = await org.control.issueAccessToken('app-a');
    const client = introspector();
    const [a, s] = await Promise.allSettled([client.introspect(acme, token), client.introspect(squatter, token)]);
    expect(a).toMatchObject({ status: 'fulfilled', value: { active: true } });
    expect(s).toMatchObject({ status: 'rejected', reason: { code: 'ERR_OIDC_UNAVAILABLE' } });
    expect(org.control.counters().introspect).toBe(2);
  });

  it('the squatter’s throttle bucket is its own: draining it leaves acme’s full (SA-17)', async () => {
    const client = introspector({ triage: false, throttle: { ratePerSec: 0.001, burst: 2 } });
    for (let i = 0; i < 3; i += 1) await client.introspect(squatter, `fish.${crypto.randomUUID()}`).catch(() => undefined);
    await expect(client.introspect(squatter, `fish.${crypto.randomUUID()}`)).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', details: { tenantId: 'squatter' } });
    await expect(client.introspect(acme, `fish.${crypto.randomUUID()}`)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
  });
});
