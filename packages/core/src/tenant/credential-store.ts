/**
 * The tenant registry behind the SDK. Async so a database or a vault can back it.
 *
 * Implementations return records already validated by {@link parseTenant}; `put` validates on the
 * way in. Run `describeCredentialStoreConformance` from `@oin-oidc/testing` against your own store.
 */
import { OidcError } from '../errors';
import { parseTenant, type Tenant, type TenantRecord } from './tenant';

export interface CredentialStore {
  /** The tenant with this id, or `undefined`. */
  get(tenantId: string): Promise<Tenant | undefined>;
  /**
   * Every app instance registered for this issuer (an org can hold several), in a stable order,
   * including those that list it among their `issuerAliases`.
   */
  findByIssuer(issuer: string): Promise<readonly Tenant[]>;
  /** Admin tools: add or replace a record (validated). */
  put?(record: TenantRecord): Promise<Tenant>;
  /** Admin tools: remove a record; true when it existed. */
  delete?(tenantId: string): Promise<boolean>;
  /** Admin tools: every record. */
  list?(): Promise<readonly Tenant[]>;
}

/** True when `value` has the read side of a {@link CredentialStore}. */
export function isCredentialStore(value: unknown): value is CredentialStore {
  if (typeof value !== 'object' || value === null) return false;
  const store = value as Record<string, unknown>;
  return typeof store['get'] === 'function' && typeof store['findByIssuer'] === 'function';
}

/**
 * An in-memory {@link CredentialStore}: two maps, so `get` and `findByIssuer` are O(1).
 * Records are validated when they enter. Ids are unique, and so is each (issuer, client id) pair:
 * Okta gives every app instance its own client id, so a second record with the same pair is a
 * mistake or a squatter (audit finding SA-17, docs/security.md). It would make IdP-initiated
 * sign-ins of the real tenant ambiguous, and let a record with a wrong secret claim the real
 * tenant's tokens.
 */
export class MemoryCredentialStore implements CredentialStore {
  readonly #byId = new Map<string, Tenant>();
  /** The tenant itself when an issuer has one (most do: one app instance per org), an array for several. */
  readonly #byIssuer = new Map<string, Tenant | readonly Tenant[]>();

  constructor(records: Iterable<TenantRecord | Tenant> = []) {
    for (const record of records) this.#insert(parseTenant(toRecord(record)));
  }

  async get(tenantId: string): Promise<Tenant | undefined> {
    return this.#byId.get(tenantId);
  }

  async findByIssuer(issuer: string): Promise<readonly Tenant[]> {
    const found = this.#byIssuer.get(issuer);
    if (found === undefined) return [];
    return isTenantList(found) ? found : [found];
  }

  async put(record: TenantRecord): Promise<Tenant> {
    const tenant = parseTenant(record);
    // Checked before anything is removed: a refused put leaves the store as it was. Replacing a
    // record under its own id with the same issuer and client id is fine (the clash is with itself).
    this.#refuseDuplicateClient(tenant);
    this.#remove(tenant.id);
    this.#insert(tenant);
    return tenant;
  }

  async delete(tenantId: string): Promise<boolean> {
    return this.#remove(tenantId);
  }

  async list(): Promise<readonly Tenant[]> {
    return [...this.#byId.values()];
  }

  /** Synchronous size, for admin pages and benchmarks. */
  get size(): number {
    return this.#byId.size;
  }

  /** Refuse `tenant` when another record (another id) holds its issuer and client id. */
  #refuseDuplicateClient(tenant: Tenant): void {
    let other: Tenant | undefined;
    for (const issuer of issuersOf(tenant)) {
      const found = this.#byIssuer.get(issuer);
      other ??= found === undefined ? undefined : (isTenantList(found) ? found : [found]).find((t) => t.clientId === tenant.clientId && t.id !== tenant.id);
    }
    if (other === undefined) return;
    // Names the field and the other record's id (configuration, not a secret); never a secret.
    throw new OidcError(
      'ERR_OIDC_INVALID_TENANT',
      `Tenant "${tenant.id}": clientId is already registered for this issuer by tenant "${other.id}"`,
      { details: { field: 'clientId', tenantId: tenant.id, otherTenantId: other.id } },
    );
  }

  #insert(tenant: Tenant): void {
    if (this.#byId.has(tenant.id)) {
      throw new OidcError('ERR_OIDC_INVALID_TENANT', `Tenant "${tenant.id}": id is used by more than one record`, { details: { field: 'id' } });
    }
    this.#refuseDuplicateClient(tenant);
    this.#byId.set(tenant.id, tenant);
    // Indexed under its aliases too: a logout JWT from a custom URL domain finds it.
    for (const issuer of issuersOf(tenant)) {
      const found = this.#byIssuer.get(issuer);
      // Arrays are replaced, never mutated: a list handed out by findByIssuer stays as it was.
      if (found === undefined) this.#byIssuer.set(issuer, tenant);
      else this.#byIssuer.set(issuer, Object.freeze(isTenantList(found) ? [...found, tenant] : [found, tenant]));
    }
  }

  #remove(tenantId: string): boolean {
    const existing = this.#byId.get(tenantId);
    if (!existing) return false;
    this.#byId.delete(tenantId);
    for (const issuer of issuersOf(existing)) {
      const found = this.#byIssuer.get(issuer);
      const siblings = found === undefined || !isTenantList(found) ? [] : found.filter((t) => t.id !== tenantId);
      if (siblings.length === 0) this.#byIssuer.delete(issuer);
      else this.#byIssuer.set(issuer, siblings.length === 1 ? siblings[0]! : Object.freeze(siblings));
    }
    return true;
  }
}

/** The issuers a tenant is found under: its own, then its aliases (the same object when there are none). */
function issuersOf(tenant: Tenant): readonly string[] {
  return tenant.issuerAliases.length === 0 ? [tenant.issuer] : [tenant.issuer, ...tenant.issuerAliases];
}

function isTenantList(value: Tenant | readonly Tenant[]): value is readonly Tenant[] {
  return Array.isArray(value);
}

/** Turn an already-parsed {@link Tenant} back into a record so it can be re-validated. */
export function toRecord(value: TenantRecord | Tenant): TenantRecord {
  if (!('auth' in value)) return value;
  const tenant = value;
  return {
    id: tenant.id,
    issuer: tenant.issuer,
    clientId: tenant.clientId,
    tokenEndpointAuthMethod: tenant.auth.method,
    ...(tenant.auth.method === 'private_key_jwt'
      ? { privateJwk: { ...tenant.auth.privateJwk } }
      : { clientSecrets: tenant.auth.secrets.map((s) => ({ ...s })) }),
    redirectUris: [...tenant.redirectUris],
    postLogoutRedirectUris: [...tenant.postLogoutRedirectUris],
    ...(tenant.initiateLoginUri ? { initiateLoginUri: tenant.initiateLoginUri } : {}),
    scopes: [...tenant.scopes],
    allowSimplifiedFlow: tenant.allowSimplifiedFlow,
    dpop: tenant.dpop,
    profile: tenant.profile,
    ...(tenant.oktaOrigins.length > 0 ? { oktaOrigins: [...tenant.oktaOrigins] } : {}),
    ...(tenant.issuerAliases.length > 0 ? { issuerAliases: [...tenant.issuerAliases] } : {}),
  };
}

/**
 * Parse the text of a JSON file holding an array of tenant records (the `OIN_TENANTS_FILE`
 * format). Throws `ERR_OIDC_INVALID_TENANT` naming the record index and field.
 * Reading the file is left to the caller, so this stays free of Node APIs.
 */
export function parseTenantsJson(text: string): Tenant[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // No cause: V8's SyntaxError quotes the text around the error, which may be a client secret (catalogue LG-01).
    throw new OidcError('ERR_OIDC_INVALID_TENANT', 'Tenants file: not valid JSON');
  }
  if (!Array.isArray(data)) throw new OidcError('ERR_OIDC_INVALID_TENANT', 'Tenants file: must hold a JSON array of tenant records');
  return data.map((record, index) => {
    try {
      return parseTenant(record);
    } catch (error) {
      if (error instanceof OidcError) {
        throw new OidcError(error.code, `Tenants file, record ${index}: ${error.message}`, { cause: error, details: { ...error.details, index } });
      }
      throw error;
    }
  });
}

/** Build a {@link MemoryCredentialStore} from the text of a tenants JSON file. */
export function createMemoryCredentialStore(records: Iterable<TenantRecord | Tenant> | string = []): MemoryCredentialStore {
  return new MemoryCredentialStore(typeof records === 'string' ? parseTenantsJson(records) : records);
}
