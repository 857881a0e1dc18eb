/**
 * Tenant ↔ row. The non-secret fields go to `record` (jsonb), issuer and client id to their own
 * columns (for the unique constraint), and the secrets to their ciphertext columns. On the way
 * out a row is decrypted and validated with `parseTenant` again: whatever a DBA or an attacker
 * with write access put into the table, only a valid record of the shape this package writes
 * becomes a Tenant.
 */
import { parseTenant, type Tenant, type TenantRecord } from '@oin-oidc/core';
import { storeFailure } from './errors';
import type { FieldCipher } from './field-cipher';

/** The columns a tenant is read from. */
export interface TenantRow {
  id: string;
  issuer: string;
  client_id: string;
  record: unknown;
  client_secrets: string | null;
  private_jwk: string | null;
  key_id: string;
  /** bigint, as node-postgres returns it: a decimal string. */
  revision: string;
}

export const TENANT_COLUMNS = 'id, issuer, client_id, record, client_secrets, private_jwk, key_id, revision';

/** The secret-bearing members a record may have; never in `record`. */
const SECRET_MEMBERS = ['clientSecret', 'clientSecrets', 'privateJwk'] as const;

/**
 * A Tenant back as a plain record (the shape `parseTenant` accepts), like core's internal
 * `toRecord` (not exported). Generic on purpose: every own field of the frozen Tenant except
 * `auth` is a normalised input field, so a field core adds later (as `issuerAliases` was) is
 * stored without a change here; `endpoints` is a getter on the prototype and is skipped.
 */
export function tenantToRecord(value: TenantRecord | Tenant): TenantRecord {
  if (!('auth' in value)) return value;
  const tenant = value as unknown as Record<string, unknown> & Tenant;
  const record: Record<string, unknown> = {};
  for (const key of Object.keys(tenant)) {
    if (key === 'auth') continue;
    const field = tenant[key];
    if (field === undefined || (Array.isArray(field) && field.length === 0)) continue;
    record[key] = Array.isArray(field) ? [...field] : field !== null && typeof field === 'object' ? { ...field } : field;
  }
  record['tokenEndpointAuthMethod'] = tenant.auth.method;
  if (tenant.auth.method === 'private_key_jwt') record['privateJwk'] = { ...tenant.auth.privateJwk };
  else record['clientSecrets'] = tenant.auth.secrets.map((s) => ({ value: s.value, active: s.active }));
  return record as unknown as TenantRecord;
}

/** The issuers a tenant is found under: its own, then its `issuerAliases` (custom URL domains). */
export function issuersOf(tenant: Tenant): readonly string[] {
  const aliases = (tenant as { issuerAliases?: readonly string[] }).issuerAliases ?? [];
  return aliases.length === 0 ? [tenant.issuer] : [tenant.issuer, ...aliases];
}

/** What a put writes: every value in it is either non-secret or ciphertext. */
export interface TenantWrite {
  id: string;
  issuer: string;
  clientId: string;
  /** JSON text of the non-secret fields. */
  record: string;
  clientSecrets: string | null;
  privateJwk: string | null;
  keyId: string;
}

/** Encrypt a validated tenant's secrets with the cipher's first key and split it into columns. */
export async function toWrite(tenant: Tenant, cipher: FieldCipher): Promise<TenantWrite> {
  const { id, issuer, clientId, clientSecret, clientSecrets, privateJwk, ...rest } = tenantToRecord(tenant);
  void clientSecret;
  return {
    id,
    issuer,
    clientId,
    record: JSON.stringify(rest),
    clientSecrets: clientSecrets ? await cipher.encrypt(clientSecrets, id, 'clientSecrets') : null,
    privateJwk: privateJwk ? await cipher.encrypt(privateJwk, id, 'privateJwk') : null,
    keyId: cipher.currentKid,
  };
}

function malformed(row: TenantRow, what: string) {
  return storeFailure('malformed', `Postgres credential store: the row of tenant "${row.id}" was refused (${what})`, { details: { tenantId: row.id } });
}

/**
 * Decrypt and validate one row. Throws `ERR_OIDC_STORE_FAILURE` (reasons `unknown-key`,
 * `decrypt-failed`, `bound-elsewhere`, `malformed`) or what `parseTenant` throws
 * (`ERR_OIDC_INVALID_TENANT`, …) for a record that is not valid any more.
 */
export async function rowToTenant(row: TenantRow, cipher: FieldCipher): Promise<Tenant> {
  const stored = row.record;
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) throw malformed(row, 'record is not an object');
  // A secret in plaintext here never comes from this package: refuse it rather than use it.
  if (SECRET_MEMBERS.some((member) => Object.hasOwn(stored, member))) throw malformed(row, 'a secret outside its encrypted column');
  if ((row.client_secrets === null) === (row.private_jwk === null)) throw malformed(row, 'exactly one secret column must be set');
  const record: Record<string, unknown> = { ...(stored as Record<string, unknown>), id: row.id, issuer: row.issuer, clientId: row.client_id };
  if (row.client_secrets !== null) record['clientSecrets'] = await cipher.decrypt(row.client_secrets, row.id, 'clientSecrets');
  else record['privateJwk'] = await cipher.decrypt(row.private_jwk!, row.id, 'privateJwk');
  const tenant = parseTenant(record);
  // The unique constraint compares the raw column: only a normalised issuer makes it mean (issuer, client id).
  if (tenant.issuer !== row.issuer) throw malformed(row, 'issuer is not normalised');
  return tenant;
}
