/**
 * The store conformance suites against core's memory implementations (the reference behaviour
 * every Redis and Postgres store must match), plus two fixtures that exercise the optional cases
 * memory stores cannot: an outage switch for the store-failure cases, and a credential store that
 * seals its secrets "at rest" for the at-rest and tenant-binding cases.
 */
import {
  type CredentialStore,
  MemoryCredentialStore,
  MemoryRateLimitStore,
  MemoryRevocationList,
  MemorySessionStore,
  MemoryTtlStore,
  parseTenant,
  type Tenant,
  type TenantRecord,
} from '@oin-oidc/core';
import { CompactEncrypt, compactDecrypt } from 'jose';
import {
  describeCredentialStoreConformance,
  describeRateLimitStoreConformance,
  describeRevocationListConformance,
  describeSessionStoreConformance,
  describeTtlStoreConformance,
} from '../src/conformance/index';

describeTtlStoreConformance('MemoryTtlStore', () => ({ store: new MemoryTtlStore() }));
describeSessionStoreConformance('MemorySessionStore', () => ({ store: new MemorySessionStore() }));
describeRateLimitStoreConformance('MemoryRateLimitStore', () => ({ store: new MemoryRateLimitStore() }));
describeRevocationListConformance('MemoryRevocationList', () => ({ store: new MemoryRevocationList() }));
describeCredentialStoreConformance('MemoryCredentialStore', () => ({ store: new MemoryCredentialStore() }));

/**
 * A memory store behind an outage switch: after `fault()` every promise-returning method rejects,
 * as a store over a dead connection does. Memory cannot fail by itself; this lets the suites'
 * store-failure cases run here (the Redis and Postgres runs kill a real server instead).
 */
function behindSwitch<S extends object>(inner: S): { store: S; fault: () => Promise<void> } {
  let down = false;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'subscribe') return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) => (down ? Promise.reject(new Error('backend down')) : value.apply(target, args));
    },
  });
  return {
    store,
    fault: async () => {
      down = true;
    },
  };
}

describeTtlStoreConformance('MemoryTtlStore behind an outage switch', () => behindSwitch(new MemoryTtlStore()), { fault: true });
describeSessionStoreConformance('MemorySessionStore behind an outage switch', () => behindSwitch(new MemorySessionStore()), { fault: true });
describeRateLimitStoreConformance('MemoryRateLimitStore behind an outage switch', () => behindSwitch(new MemoryRateLimitStore()), { fault: true });
describeRevocationListConformance('MemoryRevocationList behind an outage switch', () => behindSwitch(new MemoryRevocationList()), { fault: true });

/**
 * A credential store whose "rows" (the at-rest state) hold the non-secret fields in clear and the
 * secrets as JWE `dir` + `A256GCM`, with the key id, tenant id and field in the authenticated
 * protected header: the design asked of `@oin-oidc/postgres`, in a few lines. The inner
 * MemoryCredentialStore plays the process: validation, the (issuer, client id) rule, lookups.
 */
class SealedMemoryCredentialStore implements CredentialStore {
  readonly rows = new Map<string, { record: Omit<TenantRecord, 'clientSecret' | 'clientSecrets' | 'privateJwk'>; sealed: string }>();
  readonly #index = new MemoryCredentialStore();
  readonly #key = crypto.getRandomValues(new Uint8Array(32));
  readonly #kid = 'k1';

  async get(tenantId: string): Promise<Tenant | undefined> {
    const row = this.rows.get(tenantId);
    if (!row) return undefined;
    const { plaintext, protectedHeader } = await compactDecrypt(row.sealed, this.#key);
    // The header is authenticated: a ciphertext copied from another tenant's row names that tenant.
    if (protectedHeader['tid'] !== tenantId || protectedHeader['field'] !== 'credentials' || protectedHeader.kid !== this.#kid) {
      throw new Error('sealed credentials belong to another tenant or field');
    }
    const credentials = JSON.parse(new TextDecoder().decode(plaintext)) as Pick<TenantRecord, 'clientSecrets' | 'privateJwk'>;
    return parseTenant({ ...row.record, ...credentials });
  }

  async findByIssuer(issuer: string): Promise<readonly Tenant[]> {
    const found = await this.#index.findByIssuer(issuer);
    return Promise.all(found.map(async (t) => (await this.get(t.id))!));
  }

  async put(record: TenantRecord): Promise<Tenant> {
    const tenant = await this.#index.put(record);
    const { clientSecret: _one, clientSecrets: _many, privateJwk: _key, ...clear } = record;
    const credentials =
      tenant.auth.method === 'private_key_jwt' ? { privateJwk: tenant.auth.privateJwk } : { clientSecrets: tenant.auth.secrets };
    const sealed = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(credentials)))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: this.#kid, tid: tenant.id, field: 'credentials' })
      .encrypt(this.#key);
    this.rows.set(tenant.id, { record: clear, sealed });
    return tenant;
  }

  async delete(tenantId: string): Promise<boolean> {
    this.rows.delete(tenantId);
    return this.#index.delete(tenantId);
  }

  async list(): Promise<readonly Tenant[]> {
    const all = await this.#index.list();
    return Promise.all(all.map(async (t) => (await this.get(t.id))!));
  }
}

describeCredentialStoreConformance(
  'sealed memory fixture',
  () => {
    const store = new SealedMemoryCredentialStore();
    return {
      store,
      readAtRest: async () => JSON.stringify([...store.rows]),
      swapCiphertext: async (from: string, to: string) => {
        const source = store.rows.get(from);
        const target = store.rows.get(to);
        if (!source || !target) throw new Error('swapCiphertext: both tenants must exist');
        target.sealed = source.sealed;
      },
    };
  },
  { readAtRest: true, swapCiphertext: true },
);
