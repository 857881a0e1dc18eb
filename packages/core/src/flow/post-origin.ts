/**
 * Where a cross-site POST to an auth route may come from: the tenant's Okta org. A second layer
 * over state and PKCE (Fetch Standard §3.2.5: browsers send `Origin` on every cross-origin POST).
 */
import { OidcError } from '../errors';
import type { Tenant } from '../tenant/tenant';
import { originHeader } from './fetch-metadata';
import type { OidcRequest } from './types';

/** The origins Okta posts from for a tenant: its issuer's, and any custom domain the record lists (derived once per tenant). */
const oktaOrigins = new WeakMap<Tenant, ReadonlySet<string>>();

export function oktaOriginsOf(tenant: Tenant): ReadonlySet<string> {
  let origins = oktaOrigins.get(tenant);
  if (origins === undefined) {
    origins = new Set([new URL(tenant.issuer).origin, ...tenant.oktaOrigins]);
    oktaOrigins.set(tenant, origins);
  }
  return origins;
}

/**
 * A cross-site POST from Okta (a form_post callback, an auto-submitted initiate form) that carries
 * an `Origin` must carry one of the tenant's Okta origins. `null` (a sandboxed frame, a redirect
 * chain) is refused; no `Origin` at all (a non-browser client) is left to the protocol checks.
 */
export function checkPostOrigin(req: OidcRequest, tenant: Tenant): void {
  if (!carriesPostOrigin(req)) return;
  const origin = originHeader(req)!;
  if (origin === 'null' || !oktaOriginsOf(tenant).has(origin)) {
    throw new OidcError('ERR_OIDC_ORIGIN_NOT_ALLOWED', "This sign-in request was not sent by the organisation's Okta sign-in page.", { details: { tenantId: tenant.id } });
  }
}

/** Whether {@link checkPostOrigin} has anything to check (so a GET callback never loads the tenant for it). */
export function carriesPostOrigin(req: OidcRequest): boolean {
  return req.method === 'POST' && originHeader(req) !== undefined;
}
