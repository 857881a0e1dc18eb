/**
 * Sessions end with their tenant (audit finding SA-14, docs/security.md). A session names its
 * tenant by id and carries the issuer and client id it was signed in with; on every read they are
 * compared with the tenant's current record. When the record is gone, or the id now stands for
 * another org or app instance (subdomain ids get re-assigned), the session reads as signed out and
 * its cookie is deleted.
 *
 * Records are remembered per tenant id for {@link TENANT_RECHECK_MS}, so a warm request costs a map
 * lookup and at most one store read per tenant per interval is made: removing a tenant ends its
 * sessions within that time on every process.
 */
import type { CredentialStore } from '../tenant/credential-store';
import type { Tenant } from '../tenant/tenant';
import { OidcError, isOidcError } from '../errors';
import type { Session } from '../session/types';

/** How long a looked-up record (or its absence) answers for its tenant id. */
export const TENANT_RECHECK_MS = 5_000;
const MAX_REMEMBERED = 10_000;

interface Remembered {
  issuer: string | undefined;
  clientId: string | undefined;
  until: number;
}

export interface TenantBinding {
  /** Whether `session` still belongs to the current record of its tenant (a promise when the record must be read). */
  holds(session: Session): boolean | Promise<boolean>;
  /** Remember a record just read elsewhere (a sign-in), so the next read of its sessions needs no lookup. */
  remember(tenant: Tenant): void;
}

export function createTenantBinding(store: CredentialStore, now: () => number): TenantBinding {
  const records = new Map<string, Remembered>();
  const inFlight = new Map<string, Promise<Remembered>>();

  function set(id: string, entry: Remembered): Remembered {
    records.delete(id);
    records.set(id, entry);
    for (const key of records.keys()) {
      if (records.size <= MAX_REMEMBERED) break;
      records.delete(key);
    }
    return entry;
  }

  function lookup(id: string): Promise<Remembered> {
    let pending = inFlight.get(id);
    if (pending === undefined) {
      pending = (async () => {
        let tenant: Tenant | undefined;
        try {
          tenant = await store.get(id);
        } catch (cause) {
          // An unreachable store must not sign everyone out, nor let a removed tenant in: the read fails.
          throw isOidcError(cause) ? cause : new OidcError('ERR_OIDC_STORE_FAILURE', 'The credential store failed to load a tenant.', { cause });
        }
        return set(id, { issuer: tenant?.issuer, clientId: tenant?.clientId, until: now() + TENANT_RECHECK_MS });
      })();
      inFlight.set(id, pending);
      const clear = () => inFlight.delete(id);
      pending.then(clear, clear);
    }
    return pending;
  }

  const matches = (entry: Remembered, session: Session) => entry.issuer === session.issuer && entry.clientId === session.clientId;

  return {
    holds(session) {
      const entry = records.get(session.tenant);
      if (entry !== undefined && entry.until > now()) return matches(entry, session);
      return lookup(session.tenant).then((fresh) => matches(fresh, session));
    },
    remember(tenant) {
      set(tenant.id, { issuer: tenant.issuer, clientId: tenant.clientId, until: now() + TENANT_RECHECK_MS });
    },
  };
}
