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
import { cacheControlForCookies, createOidcAuth, fromWebRequest, toWebResponse } from '@oin-oidc/core';
import type { HeaderMap, OidcAuth, OidcAuthOptions, OidcRequest, OidcRequestContext, OidcRequestStep, WebRequestOptions } from '@oin-oidc/core';
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
   * Take the external scheme and host from `X-Forwarded-Proto` / `X-Forwarded-Host` (first value),
   * and the client address from the last `X-Forwarded-For` entry (the one the proxy added). Only
   * when every request reaches the app through a proxy that overwrites them; default false, because
   * anyone can send these headers (RFC 9700 §4.13). The app then sees the same external URL and
   * `Host` as core: the middleware replaces `c.req.raw` with the request at that URL, so a forged
   * `X-Forwarded-Host` cannot give core one tenant and the app another.
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
 * so the Web `Request` never builds (and re-validates) its `Headers` on a warm request; the
 * socket's address is the client address.
 */
function nodeRequest(c: Context): WebRequestOptions {
  const incoming = (c.env as { incoming?: { headers?: unknown; socket?: { remoteAddress?: unknown } } } | undefined)?.incoming;
  const headers = incoming?.headers;
  const address = incoming?.socket?.remoteAddress;
  return {
    ...(typeof headers === 'object' && headers !== null && !(headers instanceof Headers) ? { headerMap: headers as HeaderMap } : {}),
    ...(typeof address === 'string' ? { clientAddress: address } : {}),
  };
}

/**
 * Behind a trusted proxy: the request at its external URL (scheme and host from the forwarded
 * headers; URL setters parse what they are given, so a host value cannot smuggle in a path or a
 * scheme), with `Host` to match, or `undefined` when nothing changes.
 */
function externalRequest(c: Context): Request | undefined {
  const [proto, host] = ['x-forwarded-proto', 'x-forwarded-host'].map((name) => c.req.header(name)?.split(',')[0]?.trim());
  const url = new URL(c.req.url);
  if (proto === 'http' || proto === 'https') url.protocol = proto;
  if (host) {
    url.port = ''; // the forwarded host names its own port, or none
    url.host = host;
  }
  if (url.href === c.req.url) return undefined;
  const raw = c.req.raw;
  const headers = new Headers(raw.headers);
  headers.set('host', url.host);
  const hasBody = raw.method !== 'GET' && raw.method !== 'HEAD';
  return new Request(url, { method: raw.method, headers, signal: raw.signal, redirect: raw.redirect, ...(hasBody ? { body: raw.body, duplex: 'half' } : {}) } as RequestInit);
}

/** Create the middleware and guards. Options are validated once, here (`ERR_OIDC_INVALID_OPTIONS`). */
export function oidc(options: HonoOidcOptions): HonoOidc {
  const { trustProxy = false, ...authOptions } = options;
  const auth = createOidcAuth(authOptions);

  // One OidcRequest per request (Hono keeps one Context through its middleware chain), so core reads
  // the session once even when the middleware and requiresAuth() both ask.
  const build = (c: Context): OidcRequest => {
    // The mount path of the middleware running now, computed only if core reads it (auth routes,
    // login redirects): pinned to this middleware's route index, not the guard's.
    const index = c.req.routeIndex;
    if (!trustProxy) return fromWebRequest(c.req.raw, () => routeBasePath(c, index), nodeRequest(c));
    // Core and the app must see one host: the app's request becomes the external one too.
    const external = externalRequest(c);
    if (external !== undefined) c.req.raw = external;
    const address = c.req.header('x-forwarded-for')?.split(',').pop()?.trim() || nodeRequest(c).clientAddress;
    return fromWebRequest(c.req.raw, () => routeBasePath(c, index), address === undefined ? {} : { clientAddress: address });
  };
  // Core runs the per-request step (routes, the one session read, the cookie rule); this only translates it.
  const handler = (step: (req: OidcRequest) => Promise<OidcRequestStep>) =>
    createMiddleware(async (c, next) => {
      const result = await step(auth.requestOf(c, build));
      // Through c.newResponse rather than returning the Response itself, so headers and cookies that
      // earlier middleware set on `c` are kept (Hono drops them for a returned Response).
      if (result.response) {
        const web = toWebResponse(result.response);
        return c.newResponse(web.body, web);
      }
      c.set('oidc', result.context);
      for (const cookie of result.setCookies) c.header('Set-Cookie', cookie, { append: true });
      await next();
      if (result.setCookies.length > 0) keepPrivate(c);
      return undefined;
    });
  return {
    auth,
    middleware: handler(auth.handleRequest),
    requiresAuth: () => handler(auth.guardSession),
    requireAccessToken: (guardOptions) => handler((req) => auth.guardAccessToken(req, guardOptions)),
  };
}

/** After the app answered: a response carrying our session cookies must not be stored by a shared cache. */
function keepPrivate(c: Context): void {
  const value = cacheControlForCookies(c.res.headers.get('cache-control'));
  if (value === undefined) return;
  try {
    c.res.headers.set('Cache-Control', value);
  } catch {
    // A Response with immutable headers (one from fetch): answer with a mutable copy.
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set('Cache-Control', value);
  }
}
