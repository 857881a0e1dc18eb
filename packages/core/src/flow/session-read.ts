/**
 * One session read per request: an app's middleware and the `requiresAuth()` guard both ask for the
 * session of the same {@link OidcRequest}, and the second call reuses the first one's result (and
 * its cookies, which the adapter sends once). It lives exactly as long as the request object.
 */
import type { SessionRead } from '../session/session-manager';
import type { FlowContext } from './context';
import { headerOf } from './responses';
import { type RouteTenant, routeTenantOf } from './tenant';
import type { OidcRequest } from './types';

/** What one request remembers. */
export interface RequestSession {
  read: Promise<SessionRead>;
  route: RouteTenant | Promise<RouteTenant> | undefined;
}

export interface SessionReads {
  /** The request's memo, made on first use. */
  memoOf(req: OidcRequest): RequestSession;
  /** The tenant the request's route names, resolved at most once per request. */
  routeOf(req: OidcRequest, memo: RequestSession): RouteTenant | Promise<RouteTenant>;
}

const NO_SESSION: Promise<SessionRead> = Promise.resolve(Object.freeze({ session: null, setCookies: Object.freeze([]) as unknown as string[] }));

export function createSessionReads(ctx: FlowContext): SessionReads {
  // Kept on the request object under this instance's own symbol (a WeakMap entry per request costs
  // ~0.2 µs in ephemeron bookkeeping and GC); a frozen request object falls back to the WeakMap.
  const READ = Symbol('oin-oidc.session-read');
  type Memo = { [READ]?: RequestSession };
  const fallback = new WeakMap<OidcRequest, RequestSession>();

  const routeOf = (req: OidcRequest, memo: RequestSession) => {
    memo.route ??= routeTenantOf(ctx.tenantMode, req);
    return memo.route;
  };

  function memoOf(req: OidcRequest): RequestSession {
    let memo = (req as Memo)[READ] ?? fallback.get(req);
    if (memo === undefined) {
      memo = { read: NO_SESSION, route: undefined };
      // No Cookie header, no session: answered without the URL (the cookie name depends on its
      // scheme) and without resolving the route's tenant (a tenant function runs only when needed).
      const cookie = headerOf(req, 'cookie');
      if (cookie) {
        try {
          const route = routeOf(req, memo);
          const read = ctx.sessions.read(ctx.cookieContext(req, cookie));
          // Most requests name no tenant: the session needs no second look, and no promise is added.
          memo.read = route instanceof Promise || route.error !== undefined || route.id !== undefined ? forRoute(read, route) : read;
        } catch (error) {
          memo.read = Promise.reject(error);
        }
      }
      if (Object.isExtensible(req)) (req as Memo)[READ] = memo;
      else fallback.set(req, memo);
    }
    return memo;
  }

  return { memoOf, routeOf };
}

/**
 * The request's session as this route may see it: a session of another tenant than the one the
 * route names, or on a route whose tenant cannot be resolved, reads as signed out (catalogue
 * MT-08); its cookie is kept, since it is valid on its own tenant's routes.
 */
async function forRoute(read: Promise<SessionRead>, route: RouteTenant | Promise<RouteTenant>): Promise<SessionRead> {
  const [result, tenant] = await Promise.all([read, route]);
  if (result.session === null) return result;
  if (tenant.error !== undefined || (tenant.id !== undefined && tenant.id !== result.session.tenant)) return { session: null, setCookies: result.setCookies };
  return result;
}
