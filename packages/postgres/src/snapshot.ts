/**
 * The in-process copy of every tenant. `get` and `findByIssuer` read only these maps, so the
 * request path never queries the database: an unknown tenant id in a URL costs a map lookup, not
 * a query an attacker could multiply.
 */
import type { Tenant } from '@oin-oidc/core';
import { issuersOf } from './tenant-rows';

const NONE: readonly Tenant[] = Object.freeze([]);

export class Snapshot {
  /** Tenants by id: the hot map, holding nothing else, as MemoryCredentialStore's does. */
  readonly byId = new Map<string, Tenant>();
  /** Frozen, id-sorted lists per issuer and issuer alias, replaced (never mutated) on change. */
  readonly byIssuer = new Map<string, readonly Tenant[]>();
  /** The row revision (and kid) each tenant was read at: skips re-decrypting unchanged rows. */
  readonly revisions = new Map<string, string>();

  findByIssuer(issuer: string): readonly Tenant[] {
    return this.byIssuer.get(issuer) ?? NONE;
  }

  set(tenant: Tenant, revision: string): void {
    this.remove(tenant.id);
    this.byId.set(tenant.id, tenant);
    this.revisions.set(tenant.id, revision);
    for (const issuer of issuersOf(tenant)) {
      const siblings = this.byIssuer.get(issuer) ?? NONE;
      this.byIssuer.set(issuer, Object.freeze([...siblings, tenant].sort(byId)));
    }
  }

  remove(id: string): boolean {
    const existing = this.byId.get(id);
    this.revisions.delete(id);
    if (existing === undefined) return false;
    this.byId.delete(id);
    for (const issuer of issuersOf(existing)) {
      const siblings = (this.byIssuer.get(issuer) ?? NONE).filter((t) => t.id !== id);
      if (siblings.length === 0) this.byIssuer.delete(issuer);
      else this.byIssuer.set(issuer, Object.freeze(siblings));
    }
    return true;
  }

  /** Build from a full load in one pass (sorting each issuer's list once). */
  static from(entries: Iterable<{ tenant: Tenant; revision: string }>): Snapshot {
    const snapshot = new Snapshot();
    const lists = new Map<string, Tenant[]>();
    for (const { tenant, revision } of entries) {
      snapshot.byId.set(tenant.id, tenant);
      snapshot.revisions.set(tenant.id, revision);
      for (const issuer of issuersOf(tenant)) {
        const list = lists.get(issuer);
        if (list) list.push(tenant);
        else lists.set(issuer, [tenant]);
      }
    }
    for (const [issuer, list] of lists) snapshot.byIssuer.set(issuer, Object.freeze(list.sort(byId)));
    return snapshot;
  }
}

function byId(a: Tenant, b: Tenant): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
