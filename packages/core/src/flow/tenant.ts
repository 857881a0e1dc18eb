/** Finding the tenant of a request (issue 4 §3: query parameter, host, subdomain, path, or a function). */
import { OidcError } from '../errors';
import { originOf, queryValues } from './request-origin';
import type { OidcRequest, TenantResolution } from './types';

/** The tenant record id syntax (`tenant/tenant.ts`); anything else is refused before any store lookup. */
const TENANT_ID = /^[A-Za-z0-9._~-]{1,128}$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * The tenant id the request names, or `undefined` when it names none. `pathTenant` is the segment
 * after the login route in `'path'` mode (`/auth/login/:tenant`); other requests carry no tenant in
 * `'path'` mode. A value that is not a valid tenant id is refused with ERR_OIDC_TENANT_UNKNOWN
 * without echoing it.
 */
export async function resolveTenantId(mode: TenantResolution, req: OidcRequest, pathTenant?: string): Promise<string | undefined> {
  if (typeof mode === 'function') return checkedTenantId(await mode(req));
  return tenantIdOf(mode, req, pathTenant);
}

/**
 * {@link resolveTenantId} for the built-in modes, synchronously: the session guard asks on every
 * request, and a promise per request for a string lookup is wasted work.
 */
export function tenantIdOf(mode: Exclude<TenantResolution, (req: OidcRequest) => unknown>, req: OidcRequest, pathTenant?: string): string | undefined {
  let value: string | undefined;
  if (mode === 'query') {
    const values = queryValues(req, 'tenant');
    if (values.length > 1) throw new OidcError('ERR_OIDC_DUPLICATE_PARAMETER', 'The tenant parameter appears more than once.', { details: { parameter: 'tenant' } });
    value = values[0];
  } else if (mode === 'host') {
    value = originOf(req).hostname;
  } else if (mode === 'subdomain') {
    const host = originOf(req).hostname;
    const labels = host.split('.');
    // An IP address or a bare host name has no subdomain.
    value = IPV4.test(host) || host.startsWith('[') || labels.length < 2 ? undefined : labels[0];
  } else {
    value = pathTenant;
  }
  return checkedTenantId(value);
}

function checkedTenantId(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !TENANT_ID.test(value)) throw new OidcError('ERR_OIDC_TENANT_UNKNOWN', 'The requested tenant does not exist.');
  return value;
}
