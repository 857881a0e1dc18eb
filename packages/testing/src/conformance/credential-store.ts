/**
 * One suite every CredentialStore implementation runs unchanged (the model: Auth.js
 * `runBasicTests`, better-auth `createTestSuite`). Third-party stores (SQL, Redis, a vault)
 * call it from their own tests:
 *
 * @example
 * ```ts
 * import { describeCredentialStoreConformance } from '@oin-oidc/testing/conformance';
 * describeCredentialStoreConformance('postgres', async () => ({ store: await makeStore(), cleanup: () => pool.end() }));
 * ```
 */
import { type CredentialStore, isOidcError, type TenantRecord } from '@oin-oidc/core';
import { afterEach, describe, expect, it } from 'vitest';

export interface StoreUnderTest {
  /** An empty store. */
  store: CredentialStore;
  cleanup?: () => Promise<void> | void;
}

const orgA = 'https://org-a.okta.com';
const orgB = 'https://org-b.okta.com';

function record(id: string, issuer: string, extra: Partial<TenantRecord> = {}): TenantRecord {
  return {
    id,
    issuer,
    clientId: `0oa-${id}`,
    clientSecrets: [
      { value: `secret-${id}-new`, active: true },
      { value: `secret-${id}-old`, active: false },
    ],
    redirectUris: [`https://app.example.com/auth/callback`],
    postLogoutRedirectUris: ['https://app.example.com/'],
    ...extra,
  };
}

/** Runs the CredentialStore conformance cases against stores made by `factory`. */
export function describeCredentialStoreConformance(name: string, factory: () => Promise<StoreUnderTest> | StoreUnderTest): void {
  describe(`CredentialStore conformance (${name})`, () => {
    let current: StoreUnderTest | undefined;
    async function fresh(): Promise<CredentialStore & Required<Pick<CredentialStore, 'put' | 'delete' | 'list'>>> {
      current = await factory();
      const { store } = current;
      if (!store.put || !store.delete || !store.list) throw new Error(`${name}: the conformance suite needs put, delete and list`);
      return store as CredentialStore & Required<Pick<CredentialStore, 'put' | 'delete' | 'list'>>;
    }
    afterEach(async () => {
      await current?.cleanup?.();
      current = undefined;
    });

    it(`returns undefined and [] for unknown tenants and issuers (${name})`, async () => {
      const store = await fresh();
      expect(await store.get('nobody')).toBeUndefined();
      expect(await store.findByIssuer(orgA)).toEqual([]);
    });

    it(`stores validated, normalised tenants (${name})`, async () => {
      const store = await fresh();
      const put = await store.put(record('a1', `${orgA}/`));
      expect(put.issuer).toBe(orgA);
      const got = await store.get('a1');
      expect(got?.clientId).toBe('0oa-a1');
      expect(got?.issuer).toBe(orgA);
      expect(got?.auth.method).toBe('client_secret_basic');
      expect(got?.auth.method !== 'private_key_jwt' && got?.auth.secrets.map((s) => s.active)).toEqual([true, false]);
    });

    it(`finds every instance of one org by issuer, and only that org (${name})`, async () => {
      const store = await fresh();
      await store.put(record('a1', orgA));
      await store.put(record('a2', orgA));
      await store.put(record('b1', orgB));
      expect((await store.findByIssuer(orgA)).map((t) => t.id).sort()).toEqual(['a1', 'a2']);
      expect((await store.findByIssuer(orgB)).map((t) => t.id)).toEqual(['b1']);
      // Issuers match exactly: no prefix, case or trailing-slash games (catalogue MT).
      expect(await store.findByIssuer(`${orgA}/`)).toEqual([]);
      expect(await store.findByIssuer('https://org-a.okta.com.evil.example')).toEqual([]);
      expect(await store.findByIssuer('https://ORG-A.okta.com')).toEqual([]);
    });

    it(`replaces a record on put with the same id, moving it between orgs (${name})`, async () => {
      const store = await fresh();
      await store.put(record('a1', orgA));
      await store.put(record('a1', orgB, { clientId: '0oa-moved' }));
      expect((await store.get('a1'))?.clientId).toBe('0oa-moved');
      expect(await store.findByIssuer(orgA)).toEqual([]);
      expect((await store.findByIssuer(orgB)).map((t) => t.id)).toEqual(['a1']);
    });

    it(`deletes records (${name})`, async () => {
      const store = await fresh();
      await store.put(record('a1', orgA));
      await store.put(record('a2', orgA));
      expect(await store.delete('a1')).toBe(true);
      expect(await store.delete('a1')).toBe(false);
      expect(await store.get('a1')).toBeUndefined();
      expect((await store.findByIssuer(orgA)).map((t) => t.id)).toEqual(['a2']);
      expect((await store.list()).map((t) => t.id)).toEqual(['a2']);
    });

    it(`refuses invalid records with a typed error and stores nothing (${name})`, async () => {
      const store = await fresh();
      const bad: unknown[] = [
        record('x1', 'https://org-a.okta.com/oauth2/default'),
        record('x2', 'http://org-a.okta.com'),
        record('x3', orgA, { scopes: ['openid', 'offline_access'] }),
        { ...record('x4', orgA), clientSecrets: [{ value: 's', active: false }] },
        { ...record('x5', orgA), redirectUris: [] },
        { id: 'x6' },
      ];
      for (const input of bad) {
        const error = await store.put(input as TenantRecord).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isOidcError(error), `expected an OidcError for ${JSON.stringify((input as { id?: string }).id)}`).toBe(true);
      }
      expect(await store.list()).toEqual([]);
    });

    it(`refuses a second record with the same issuer and client id, naming the other tenant, never a secret (SA-17) (${name})`, async () => {
      // Okta gives every app instance its own client id: a second record with the same pair is a
      // mistake or a squatter that would make IdP-initiated sign-ins ambiguous and could claim the
      // first tenant's tokens with a wrong secret (issue 17 item 17).
      const store = await fresh();
      await store.put(record('acme', orgA));
      const squatter = record('squatter', orgA, { clientId: '0oa-acme', clientSecrets: [{ value: 'squatter-secret-value', active: true }] });
      const error = await store.put(squatter).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isOidcError(error), 'expected an OidcError for a duplicate (issuer, client id)').toBe(true);
      expect(error).toMatchObject({ code: 'ERR_OIDC_INVALID_TENANT' });
      const text = `${(error as Error).message} ${JSON.stringify((error as { details?: unknown }).details ?? {})}`;
      expect(text).toContain('acme');
      expect(text).toMatch(/clientId/);
      expect(text).not.toContain('squatter-secret-value');
      expect(text).not.toContain('secret-acme-new');
      expect(await store.get('squatter')).toBeUndefined();
      expect((await store.findByIssuer(orgA)).map((t) => t.id)).toEqual(['acme']);
      // A record that moves onto the pair is refused too, and stays as it was.
      await store.put(record('other', orgA));
      await expect(store.put(record('other', orgA, { clientId: '0oa-acme' }))).rejects.toMatchObject({ code: 'ERR_OIDC_INVALID_TENANT' });
      expect((await store.get('other'))?.clientId).toBe('0oa-other');
      // The same client id at another issuer is another app, and replacing a record in place is fine.
      await store.put(record('acme-b', orgB, { clientId: '0oa-acme' }));
      await store.put(record('acme', orgA, { redirectUris: ['https://app.example.com/auth/callback2'] }));
      expect((await store.get('acme'))?.redirectUris).toEqual(['https://app.example.com/auth/callback2']);
    });

    it(`keeps rotated secrets in order, active first (${name})`, async () => {
      const store = await fresh();
      await store.put({ ...record('a1', orgA), clientSecrets: [{ value: 'old', active: false }, { value: 'new', active: true }] });
      const tenant = await store.get('a1');
      expect(tenant?.auth.method !== 'private_key_jwt' && tenant?.auth.secrets.map((s) => s.value)).toEqual(['new', 'old']);
    });
  });
}
