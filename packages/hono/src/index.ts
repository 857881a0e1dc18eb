/**
 * Hono 4 middleware for oin-oidc, for any runtime: translation only. Routing of the auth actions,
 * cookies, sessions, tenant resolution and error mapping all live in `@oin-oidc/core`'s flow layer.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { oidc } from '@oin-oidc/hono';
 *
 * const auth = oidc({ store: tenants, session: { secret: env.SESSION_SECRET }, tenant: 'query' });
 * const app = new Hono();
 * app.use(auth.middleware);
 * app.get('/me', auth.requiresAuth(), (c) => c.json(c.get('oidc').user));
 * ```
 */
import { createOidcAuth, fromWebRequest, requestContext, toWebResponse, withAccessToken } from '@oin-oidc/core';
import type { HeaderMap, OidcAuth, OidcAuthOptions, OidcRequest, OidcRequestContext, OidcResponse, WebRequestOptions } from '@oin-oidc/core';
import type { Context, MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { basePath as routeBasePath } from 'hono/route';

export { OidcError, isOidcError } from '@oin-oidc/core';
export type {
  ActiveToken, OidcAuth, OidcAuthOptions, OidcErrorCode, OidcRequest, OidcResponse, Session, Tenant, TenantRecord, CredentialStore,
} from '@oin-oidc/core';

/** What the middleware puts on `c.get('oidc')`. */
export type OidcContext = OidcRequestContext;

declare module 'hono' {
  interface ContextVariableMap {
    oidc: OidcContext;
  }
}

/** Hono options: the core options plus the proxy setting Hono itself does not have. */
export interface HonoOidcOptions extends OidcAuthOptions {
  /**
   * Take the external scheme and host from `X-Forwarded-Proto` / `X-Forwarded-Host` (first value).
   * Only when every request reaches the app through a proxy that overwrites both; default false,
   * because anyone can send these headers (RFC 9700 §4.13).
   */
  trustProxy?: boolean;
}

/** What {@link oidc} returns. */
export interface HonoOidc {
  /** The core flow layer, for anything the guards do not cover. */
  readonly auth: OidcAuth;
  /** Answers the auth routes and sets `c.get('oidc')` for every other request. */
  readonly middleware: MiddlewareHandler;
  /** A guard: no session → 302 to the login route for pages, 401 JSON for API clients. */
  requiresAuth(): MiddlewareHandler;
  /** A guard for bearer APIs: introspects the `Authorization: Bearer` token (RFC 6750); 401 with `WWW-Authenticate` otherwise. */
  requireAccessToken(options?: { tenantId?: string }): MiddlewareHandler;
}

/**
 * On `@hono/node-server` the Node request is at `c.env.incoming`: core reads headers from its map,
 * so the Web `Request` never builds (and re-validates) its `Headers` on a warm request.
 */
function nodeHeaders(c: Context): WebRequestOptions {
  const headers = (c.env as { incoming?: { headers?: unknown } } | undefined)?.incoming?.headers;
  return typeof headers === 'object' && headers !== null && !(headers instanceof Headers) ? { headerMap: headers as HeaderMap } : {};
}

/** Create the middleware and guards. Options are validated once, here (`ERR_OIDC_INVALID_OPTIONS`). */
export function oidc(options: HonoOidcOptions): HonoOidc {
  const { trustProxy = false, ...authOptions } = options;
  const auth = createOidcAuth(authOptions);

  // One OidcRequest per request (Hono keeps one Context through its middleware chain), so core reads
  // the session once even when the middleware and requiresAuth() both ask.
  // On the native object under this instance's own symbol: cheaper than a WeakMap entry per request.
  const OIDC_REQUEST = Symbol('oin-oidc.request');
  type Carrier = { [OIDC_REQUEST]?: OidcRequest };
  const toOidcRequest = (c: Context): OidcRequest => {
    let req = (c as Carrier)[OIDC_REQUEST];
    if (req === undefined) {
      req = buildRequest(c);
      (c as Carrier)[OIDC_REQUEST] = req;
    }
    return req;
  };
  const buildRequest = (c: Context): OidcRequest => {
    // The mount path of the middleware running now; computed only if core reads it (auth routes,
    // login redirects), so pinned to this middleware's route index, not the guard's. Core drops the
    // trailing '/' of a root mount ('/'), as it does for every adapter.
    const index = c.req.routeIndex;
    const req = fromWebRequest(c.req.raw, () => routeBasePath(c, index), nodeHeaders(c));
    if (trustProxy) {
      // URL setters parse what they are given: a host value cannot smuggle in a path or a scheme.
      const [proto, host] = ['x-forwarded-proto', 'x-forwarded-host'].map((name) => c.req.header(name)?.split(',')[0]?.trim());
      if (proto === 'http' || proto === 'https') req.url.protocol = proto;
      if (host) {
        req.url.port = ''; // the forwarded host names its own port, or none
        req.url.host = host;
      }
    }
    return req;
  };
  // Through c.newResponse rather than returning the Response itself, so headers and cookies that
  // earlier middleware set on `c` are kept (Hono drops them for a returned Response).
  const send = (c: Context, response: OidcResponse) => {
    const web = toWebResponse(response);
    return c.newResponse(web.body, web);
  };
  const withCookies = (c: Context, setCookies: string[]) => {
    for (const cookie of setCookies) c.header('Set-Cookie', cookie, { append: true });
  };
  return {
    auth,
    middleware: createMiddleware(async (c, next) => {
      const req = toOidcRequest(c);
      const response = await auth.handle(req);
      if (response) return send(c, response);
      const { session, setCookies } = await auth.getSession(req);
      c.set('oidc', requestContext(session));
      withCookies(c, setCookies);
      return next();
    }),
    requiresAuth: () =>
      createMiddleware(async (c, next) => {
        const result = await auth.requireSession(toOidcRequest(c));
        if ('response' in result) return send(c, result.response);
        // The middleware, when it ran, already sent any re-issued session cookie.
        if (!c.get('oidc')) withCookies(c, result.setCookies);
        c.set('oidc', requestContext(result.session, c.get('oidc')));
        return next();
      }),
    requireAccessToken: (guardOptions) =>
      createMiddleware(async (c, next) => {
        const result = await auth.requireAccessToken(toOidcRequest(c), guardOptions);
        if ('response' in result) return send(c, result.response);
        c.set('oidc', withAccessToken(c.get('oidc'), result));
        return next();
      }),
  };
}
