/** Finding the tenant of a request (docs/tenants.md: query parameter, host, subdomain, path, or a function). */
import { isOidcError, OidcError } from '../errors';
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
    value = singleTenantValue(queryValues(req, 'tenant'));
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

/** The one `?tenant=` value, or undefined; a repeated one is refused (RFC 6749 §3.1). */
function singleTenantValue(values: readonly string[]): string | undefined {
  if (values.length > 1) throw new OidcError('ERR_OIDC_DUPLICATE_PARAMETER', 'The tenant parameter appears more than once.', { details: { parameter: 'tenant' } });
  return values[0];
}

function checkedTenantId(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !TENANT_ID.test(value)) throw new OidcError('ERR_OIDC_TENANT_UNKNOWN', 'The requested tenant does not exist.');
  return value;
}

/** The tenant a guarded request names: an id, none (`undefined`), or why it cannot be told. */
export type RouteTenant = { readonly id: string | undefined; readonly error?: undefined } | { readonly id?: undefined; readonly error: OidcError };

const NO_ROUTE_TENANT: RouteTenant = Object.freeze({ id: undefined });

/**
 * The tenant a request for an app page names, for the session checks (catalogue MT-08). Unlike
 * {@link resolveTenantId} it never throws: a tenant that cannot be resolved (a duplicated or empty
 * `?tenant=`, an id outside the syntax, a resolver that throws) comes back as an `error`, which
 * the guard answers with and the request context reads as signed out. Treating it as "no tenant"
 * would let any tenant's session through while the app, reading the first value, serves the
 * named one (audit finding SA-15, docs/security.md).
 */
export function routeTenantOf(mode: TenantResolution, req: OidcRequest): RouteTenant | Promise<RouteTenant> {
  if (typeof mode === 'function') {
    let resolved: unknown;
    try {
      resolved = mode(req);
    } catch (error) {
      return { error: unresolved(error) };
    }
    return Promise.resolve(resolved).then(
      (value) => {
        try {
          const id = checkedTenantId(value);
          return id === undefined ? NO_ROUTE_TENANT : { id };
        } catch (error) {
          return { error: unresolved(error) };
        }
      },
      (error: unknown) => ({ error: unresolved(error) }),
    );
  }
  try {
    let id: string | undefined;
    if (mode === 'query') {
      // Read once: a present but empty value names no tenant for login, but on a guarded route it
      // is refused (the app may read '' and pick a tenant of its own).
      const value = singleTenantValue(queryValues(req, 'tenant'));
      if (value === '') return { error: new OidcError('ERR_OIDC_INVALID_REQUEST', 'The tenant parameter is empty.', { details: { parameter: 'tenant' } }) };
      id = checkedTenantId(value);
    } else {
      // 'path' mode names a tenant only on the login route itself.
      id = mode === 'path' ? undefined : tenantIdOf(mode, req);
    }
    return id === undefined ? NO_ROUTE_TENANT : { id };
  } catch (error) {
    return { error: unresolved(error) };
  }
}

function unresolved(error: unknown): OidcError {
  if (isOidcError(error)) return error;
  return new OidcError('ERR_OIDC_INVALID_REQUEST', 'The tenant of this request could not be determined.', { cause: error });
}
