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
import { type CredentialStore, isOidcError, type PrivateJwk, type TenantRecord } from '@oin-oidc/core';
import { exportJWK, generateKeyPair } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { settle, uniq } from './store-fixture';

export interface StoreUnderTest {
  /** An empty store. */
  store: CredentialStore;
  cleanup?: () => Promise<void> | void;
  /**
   * Everything the store keeps at rest as text (e.g. `pg_dump` of its schema, or every Redis
   * value). Given, the suite checks that no client secret and no private-key parameter is
   * readable in it (secrets at rest: a database dump contains no secret in plaintext).
   */
  readAtRest?: () => Promise<string>;
  /**
   * Copies every encrypted field of tenant `fromTenantId`'s stored row onto `toTenantId`'s row,
   * bypassing the store (an attacker with write access to the database). Given, the suite checks
   * that ciphertext is bound to its tenant: `get(to)` rejects or never yields `from`'s secret.
   */
  swapCiphertext?: (fromTenantId: string, toTenantId: string) => Promise<void>;
}

/** Options of {@link describeCredentialStoreConformance}. */
export interface CredentialStoreConformanceOptions {
  /**
   * The factory returns `readAtRest` / `swapCiphertext`: run the at-rest cases. Declared up front
   * because vitest registers cases before any factory runs; a mismatch with what the factory
   * returns fails.
   */
  readAtRest?: boolean;
  swapCiphertext?: boolean;
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

/** A private_key_jwt tenant. */
function keyedRecord(id: string, issuer: string, jwk: PrivateJwk): TenantRecord {
  const { clientSecrets: _none, ...rest } = record(id, issuer);
  return { ...rest, tokenEndpointAuthMethod: 'private_key_jwt', privateJwk: jwk };
}

/** An extractable RSA private JWK, as a tenant using private_key_jwt holds one. */
async function privateJwk(kid: string): Promise<PrivateJwk> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'RS256' } as PrivateJwk;
}

/** The ways a secret could sit in a dump without being encrypted: as text, base64, base64url, hex. */
function encodings(text: string): string[] {
  const bytes = new TextEncoder().encode(text);
  const binary = Array.from(bytes, (b) => String.fromCharCode(b)).join('');
  const base64 = btoa(binary);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return [text, base64, base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), hex];
}

/** The private parameters of a JWK, as stored (base64url) and as the raw bytes they encode (hex). */
function privateParts(jwk: PrivateJwk): string[] {
  const parts: string[] = [];
  for (const name of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) {
    const value = (jwk as Record<string, unknown>)[name];
    if (typeof value !== 'string') continue;
    const binary = atob(value.replace(/-/g, '+').replace(/_/g, '/'));
    parts.push(value, btoa(binary), Array.from(binary, (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(''));
  }
  return parts;
}

/** Runs the CredentialStore conformance cases against stores made by `factory`. */
export function describeCredentialStoreConformance(
  name: string,
  factory: () => Promise<StoreUnderTest> | StoreUnderTest,
  options: CredentialStoreConformanceOptions = {},
): void {
  describe(`CredentialStore conformance (${name})`, () => {
    let current: StoreUnderTest | undefined;
    async function fresh(): Promise<CredentialStore & Required<Pick<CredentialStore, 'put' | 'delete' | 'list'>>> {
      current = await factory();
      for (const hook of ['readAtRest', 'swapCiphertext'] as const) {
        const returned = typeof current[hook] === 'function';
        if (returned !== Boolean(options[hook])) {
          throw new Error(
            returned
              ? `${name}: the factory returns ${hook}; pass { ${hook}: true } so its cases run`
              : `${name}: { ${hook}: true } was passed but the factory returns no ${hook}`,
          );
        }
      }
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

    it(`finds a tenant under each of its issuerAliases too, and forgets them with it (${name})`, async () => {
      const store = await fresh();
      const custom = 'https://login.org-a.example';
      await store.put(record('a1', orgA, { issuerAliases: [custom] }));
      await store.put(record('b1', orgB));
      expect((await store.get('a1'))?.issuerAliases).toEqual([custom]);
      expect((await store.findByIssuer(custom)).map((t) => t.id)).toEqual(['a1']);
      expect((await store.findByIssuer(orgA)).map((t) => t.id)).toEqual(['a1']);
      await store.put(record('a1', orgA));
      expect(await store.findByIssuer(custom)).toEqual([]);
      await store.put(record('a1', orgA, { issuerAliases: [custom] }));
      expect(await store.delete('a1')).toBe(true);
      expect(await store.findByIssuer(custom)).toEqual([]);
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
      // first tenant's tokens with a wrong secret (audit finding SA-17, docs/security.md).
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

    if (options.readAtRest) {
      it(`keeps nothing readable at rest: no client secret, no private key parameter (${name})`, async () => {
        const store = await fresh();
        const tag = uniq();
        const secrets = [`at-rest-active-${tag}-Zq9`, `at-rest-previous-${tag}-Xw8`];
        const jwk = await privateJwk(`kid-${tag}`);
        await store.put({ ...record(`rest-s-${tag}`, orgA), clientSecrets: [{ value: secrets[0]!, active: true }, { value: secrets[1]!, active: false }] });
        await store.put(keyedRecord(`rest-k-${tag}`, orgB, jwk));
        // The store still works: what it keeps encrypted, it gives back.
        const stored = await store.get(`rest-s-${tag}`);
        expect(stored?.auth.method !== 'private_key_jwt' && stored?.auth.secrets.map((s) => s.value)).toEqual(secrets);
        const keyed = await store.get(`rest-k-${tag}`);
        expect(keyed?.auth.method === 'private_key_jwt' && keyed.auth.privateJwk.d).toBe(jwk.d);

        const dump = await current!.readAtRest!();
        // A dump of the records: their ids are there (so an empty or unrelated dump cannot pass).
        expect(dump).toContain(`rest-s-${tag}`);
        expect(dump).toContain(`rest-k-${tag}`);
        for (const secret of secrets) {
          for (const encoded of encodings(secret)) expect(dump.includes(encoded), `a client secret is readable at rest (${encoded.slice(0, 12)}…)`).toBe(false);
        }
        for (const part of privateParts(jwk)) {
          expect(dump.includes(part), `a private key parameter is readable at rest (${part.slice(0, 12)}…)`).toBe(false);
        }
      });
    }

    if (options.swapCiphertext) {
      it(`binds a client secret's ciphertext to its tenant: copied onto another tenant it does not decrypt (${name})`, async () => {
        const store = await fresh();
        const tag = uniq();
        const from = `swap-from-${tag}`;
        const to = `swap-to-${tag}`;
        const stolen = [`secret-of-${from}-active`, `secret-of-${from}-old`];
        await store.put({ ...record(from, orgA), clientSecrets: [{ value: stolen[0]!, active: true }, { value: stolen[1]!, active: false }] });
        await store.put(record(to, orgA));
        await current!.swapCiphertext!(from, to);

        const reads = [await settle(store.get(to)), await settle(store.findByIssuer(orgA)), await settle(store.list())];
        for (const outcome of reads) {
          if (!outcome.ok) continue; // refusing to decrypt is the expected answer
          // Whatever the store returns for `to`, it is not `from`'s secret.
          const tenants = ([] as unknown[]).concat(outcome.value ?? []) as Array<{ id: string; auth: { secrets?: Array<{ value: string }> } }>;
          for (const tenant of tenants.filter((t) => t.id === to)) {
            for (const secret of tenant.auth.secrets ?? []) expect(stolen, `${to} yielded ${from}'s secret`).not.toContain(secret.value);
          }
        }
        // The original row is untouched and still decrypts.
        const original = await store.get(from);
        expect(original?.auth.method !== 'private_key_jwt' && original?.auth.secrets.map((s) => s.value)).toEqual(stolen);
      });

      it(`binds a private key's ciphertext to its tenant: copied onto another tenant it does not decrypt (${name})`, async () => {
        const store = await fresh();
        const tag = uniq();
        const from = `swapk-from-${tag}`;
        const to = `swapk-to-${tag}`;
        const [fromJwk, toJwk] = await Promise.all([privateJwk(`kid-from-${tag}`), privateJwk(`kid-to-${tag}`)]);
        await store.put(keyedRecord(from, orgB, fromJwk));
        await store.put(keyedRecord(to, orgB, toJwk));
        await current!.swapCiphertext!(from, to);

        const outcome = await settle(store.get(to));
        if (outcome.ok && outcome.value) {
          const auth = outcome.value.auth;
          expect(auth.method === 'private_key_jwt' ? auth.privateJwk.d : undefined).not.toBe(fromJwk.d);
        }
        const original = await store.get(from);
        expect(original?.auth.method === 'private_key_jwt' && original.auth.privateJwk.d).toBe(fromJwk.d);
      });
    }
  });
}
