/** Which auth route a request is for, and the methods each route takes. */
import type { ResolvedRoutes } from './options';
import type { OidcRequest, TenantResolution } from './types';

export type RouteName = 'login' | 'callback' | 'initiate' | 'logout' | 'universalLogout' | 'backchannelLogout';

export const ALLOWED_METHODS: Record<RouteName, readonly string[]> = {
  login: ['GET'],
  // GET for response_mode=query, POST for form_post and the Okta simplified flow.
  callback: ['GET', 'POST'],
  // OIDC Core §4: the initiator may use a GET query or an auto-submitted form POST (catalogue TP-07).
  initiate: ['GET', 'POST'],
  // GET per the route contract; POST too, so an app can sign out from a form.
  logout: ['GET', 'POST'],
  // Server-to-server requests from the identity provider (Universal Logout, Back-Channel Logout 1.0 §2.5): POST only.
  universalLogout: ['POST'],
  backchannelLogout: ['POST'],
};

/** A request path URL parsing leaves unchanged (WHATWG URL path state: no `.`, `%`, `\\` or code point to encode). */
const PLAIN_PATH = /^\/[A-Za-z0-9/_~-]*$/;

export interface RouteMatch {
  route: RouteName;
  /** The tenant segment of `/auth/login/:tenant` in `'path'` mode, decoded. */
  pathTenant?: string;
}

/** The mount point without a trailing `/` (a root mount `'/'` is `''`). */
export function basePathOf(req: OidcRequest): string {
  return req.basePath.endsWith('/') ? req.basePath.slice(0, -1) : req.basePath;
}

/** The route matcher for these routes; `null` when a request is for none of them. */
export function createRouteMatcher(routes: ResolvedRoutes, tenantMode: TenantResolution): (req: OidcRequest) => RouteMatch | null {
  const suffixes = [routes.login, routes.callback, routes.initiate, routes.logout, routes.universalLogout, routes.backchannelLogout];
  const loginSegment = `${routes.login}/`;
  const endsWithRoute = (path: string) => {
    for (const route of suffixes) if (path.endsWith(route)) return true;
    return false;
  };
  return (req) => {
    // A plain raw path is exactly what URL parsing would give (no dot segments, nothing to encode),
    // so most requests are matched by string comparison without parsing a URL.
    const path = req.path !== undefined && PLAIN_PATH.test(req.path) ? req.path : req.url.pathname;
    // Every auth route's path ends with its route (or, in 'path' mode, holds `<login>/`): a request
    // for any other path is answered without reading basePath, which some adapters compute lazily.
    if (!endsWithRoute(path) && !(tenantMode === 'path' && path.includes(loginSegment))) return null;
    const base = basePathOf(req);
    if (base !== '' && !path.startsWith(`${base}/`)) return null;
    const rest = path.slice(base.length);
    if (rest === routes.login) return { route: 'login' };
    if (rest === routes.callback) return { route: 'callback' };
    if (rest === routes.initiate) return { route: 'initiate' };
    if (rest === routes.logout) return { route: 'logout' };
    if (rest === routes.universalLogout) return { route: 'universalLogout' };
    if (rest === routes.backchannelLogout) return { route: 'backchannelLogout' };
    if (tenantMode === 'path' && rest.startsWith(loginSegment)) {
      const segment = rest.slice(loginSegment.length);
      if (segment === '' || segment.includes('/')) return null;
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        decoded = '\u0000'; // refused by the tenant id check
      }
      return { route: 'login', pathTenant: decoded };
    }
    return null;
  };
}
