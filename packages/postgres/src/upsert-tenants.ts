/** Seed or update a store from tenant records (the `OIN_TENANTS_FILE` format), validating all of them first. */
import { type CredentialStore, OidcError, type Tenant, type TenantRecord, parseTenant, parseTenantsJson } from '@oin-oidc/core';
import { HOLDS_CURRENT } from './credential-store';
import { tenantToRecord } from './tenant-rows';

/**
 * Validate every record (or the text of a tenants JSON file), refuse duplicate ids and duplicate
 * (issuer, client id) pairs within the input, then `put` each one in order; resolves how many.
 * Nothing is written when any record is invalid. Records already stored unchanged cost no write
 * in the Postgres store, so every process of a fleet can run this at start-up.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * await upsertTenants(store, await readFile(process.env.OIN_TENANTS_FILE!, 'utf8'));
 * ```
 */
export async function upsertTenants(store: CredentialStore, records: string | Iterable<TenantRecord | Tenant>): Promise<number> {
  if (typeof store?.put !== 'function') {
    throw new OidcError('ERR_OIDC_INVALID_OPTIONS', 'upsertTenants: the store has no put()', { details: { option: 'store' } });
  }
  const tenants: Tenant[] =
    typeof records === 'string'
      ? parseTenantsJson(records)
      : Array.from(records, (record, index) => {
          try {
            return parseTenant(tenantToRecord(record));
          } catch (error) {
            if (error instanceof OidcError) {
              throw new OidcError(error.code, `Tenant records, record ${index}: ${error.message}`, { cause: error, details: { ...error.details, index } });
            }
            throw error;
          }
        });
  const ids = new Map<string, number>();
  const pairs = new Map<string, string>();
  for (const [index, tenant] of tenants.entries()) {
    const earlier = ids.get(tenant.id);
    if (earlier !== undefined) {
      throw new OidcError('ERR_OIDC_INVALID_TENANT', `Tenant records, record ${index}: id "${tenant.id}" is also used by record ${earlier}`, {
        details: { field: 'id', index, tenantId: tenant.id },
      });
    }
    ids.set(tenant.id, index);
    const pair = JSON.stringify([tenant.issuer, tenant.clientId]);
    const holder = pairs.get(pair);
    if (holder !== undefined) {
      throw new OidcError('ERR_OIDC_INVALID_TENANT', `Tenant "${tenant.id}": clientId is already registered for this issuer by tenant "${holder}"`, {
        details: { field: 'clientId', index, tenantId: tenant.id, otherTenantId: holder },
      });
    }
    pairs.set(pair, tenant.id);
  }
  const holdsCurrent = (store as { [HOLDS_CURRENT]?: (tenant: Tenant) => boolean })[HOLDS_CURRENT];
  for (const tenant of tenants) {
    if (holdsCurrent?.call(store, tenant)) continue;
    await store.put(tenantToRecord(tenant));
  }
  return tenants.length;
}
