/**
 * What every adapter puts on the request (`req.oidc`, `request.oidc`, `c.get('oidc')`,
 * `ctx.state.oidc`): one shape and one set of rules, here, so the adapters only choose the slot.
 */
import type { ActiveToken } from '../introspection/introspect';
import { sessionUser } from '../session/session-user';
import type { Session } from '../session/types';
import type { Tenant } from '../tenant/tenant';

export interface OidcRequestContext {
  /** The session, or `null` when not signed in. */
  session: Session | null;
  /** The claims kept in the session (a subset of the ID token's), with `sub`; frozen, one object per session. The user is `(tenant, sub)`. */
  user: Readonly<Record<string, unknown>> | undefined;
  /** The tenant id of the session (only a session of the route's tenant counts: another tenant's reads as signed out). */
  tenant: string | undefined;
  isAuthenticated: boolean;
  /** Set by the `requireAccessToken()` guard once the bearer token was introspected as active. */
  accessToken?: ActiveToken;
  /**
   * The tenant the bearer token was introspected for, set with {@link accessToken}. Kept apart from
   * {@link tenant}: a request can carry a session cookie and a bearer token of different tenants,
   * and neither may stand for the other (audit finding SA-03, docs/security.md).
   */
  accessTokenTenant?: string;
}

/**
 * The context for `session`. Given the request's `current` context, it is kept when it already
 * stands for this session (a guard after the middleware), so a request builds one context.
 */
export function requestContext(session: Session | null, current?: OidcRequestContext | null): OidcRequestContext {
  if (current != null && current.session === session) return current;
  return {
    session,
    user: session ? sessionUser(session) : undefined,
    tenant: session?.tenant,
    isAuthenticated: session !== null,
    // Always present, so setting them later keeps the object's shape.
    accessToken: undefined,
    accessTokenTenant: undefined,
  };
}

/**
 * The bearer guard's result on the request's own context (made by the middleware for this request,
 * or a new one), set in place: a copy per request cost more than the rest of the guard.
 */
export function withAccessToken(current: OidcRequestContext | null | undefined, result: { tenant: Tenant; token: ActiveToken }): OidcRequestContext {
  const context = current ?? requestContext(null);
  context.accessTokenTenant = result.tenant.id;
  context.accessToken = result.token;
  return context;
}
