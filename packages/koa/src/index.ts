/**
 * Koa adapter for oin-oidc (Koa 3, and 2): translation only. Routing of the auth actions, cookies,
 * sessions, tenant resolution and error mapping all live in `@oin-oidc/core`'s flow layer.
 *
 * @example
 * ```ts
 * import Koa from 'koa';
 * import { oidc } from '@oin-oidc/koa';
 *
 * const app = new Koa();
 * const auth = oidc({ store: tenants, session: { secret: process.env.SESSION_SECRET! }, tenant: 'query' });
 * app.use(auth.middleware);
 * app.use(auth.requiresAuth()); // everything below needs a session
 * ```
 */
import { cacheControlForCookies, createOidcAuth, fromHeaderMap, requestContext, withAccessToken } from '@oin-oidc/core';
import { readNodeRequestBody, withNodeSignatureVerifier } from '@oin-oidc/core/node';
import type { OidcAuth, OidcAuthOptions, OidcRequest, OidcRequestContext, OidcResponse } from '@oin-oidc/core';
import type { Context, Middleware, Next } from 'koa';

export { OidcError, isOidcError } from '@oin-oidc/core';
export type {
  ActiveToken, OidcAuth, OidcAuthOptions, OidcErrorCode, OidcRequest, OidcResponse, Session, Tenant, TenantRecord, CredentialStore,
} from '@oin-oidc/core';

/** What the adapter puts on `ctx.state.oidc`. */
export type OidcState = OidcRequestContext;

declare module 'koa' {
  interface DefaultState {
    oidc?: OidcState;
  }
}

/** Koa options: the core options plus where the auth routes are mounted. */
export interface KoaOidcOptions extends OidcAuthOptions {
  /**
   * Path prefix the app is served under ('' or '/app'). Default: `ctx.mountPath` as set by
   * koa-mount, else ''. The auth routes are matched under it.
   */
  basePath?: string;
}

/** What {@link oidc} returns. */
export interface KoaOidc {
  /** The core flow layer, for anything the guards do not cover. */
  readonly auth: OidcAuth;
  /** Answers the auth routes and sets `ctx.state.oidc` for every other request. */
  readonly middleware: Middleware;
  /** A guard: no session → 302 to the login route for pages, 401 JSON for API clients. */
  requiresAuth(): Middleware;
  /** A guard for bearer APIs: introspects the `Authorization: Bearer` token (RFC 6750); 401 with `WWW-Authenticate` otherwise. */
  requireAccessToken(options?: { tenantId?: string }): Middleware;
}

/** Create the middleware and guards. Options are validated once, here (`ERR_OIDC_INVALID_OPTIONS`). */
export function oidc(options: KoaOidcOptions): KoaOidc {
  const { basePath, ...authOptions } = options;
  // On Node, ID token signatures are checked with node:crypto (synchronous, about twice as fast).
  const auth = createOidcAuth(withNodeSignatureVerifier(authOptions));
  // On the native object under this instance's own symbol: cheaper than a WeakMap entry per request.
  const OIDC_REQUEST = Symbol('oin-oidc.request');
  type Carrier = { [OIDC_REQUEST]?: OidcRequest };
  const requestOf = (ctx: Context) => {
    let req = (ctx as Carrier)[OIDC_REQUEST];
    if (!req) {
      req = toOidcRequest(ctx, basePath);
      (ctx as Carrier)[OIDC_REQUEST] = req;
    }
    return req;
  };

  return {
    auth,
    middleware: async (ctx: Context, next: Next) => {
      const req = requestOf(ctx);
      const response = await auth.handle(req);
      if (response) return send(ctx, response);
      const read = await auth.getSession(req).catch((error: unknown) => ({ error }));
      if ('error' in read) return send(ctx, auth.errorResponse(req, read.error));
      ctx.state.oidc = requestContext(read.session);
      appendCookies(ctx, read.setCookies);
      await next();
      keepPrivate(ctx, read.setCookies);
    },
    requiresAuth: () => async (ctx: Context, next: Next) => {
      const result = await auth.requireSession(requestOf(ctx));
      if ('response' in result) return send(ctx, result.response);
      // The middleware, when it ran, already sent any re-issued session cookie.
      const cookies = ctx.state.oidc ? [] : result.setCookies;
      appendCookies(ctx, cookies);
      ctx.state.oidc = requestContext(result.session, ctx.state.oidc);
      await next();
      keepPrivate(ctx, cookies);
    },
    requireAccessToken: (guardOptions) => async (ctx: Context, next: Next) => {
      const result = await auth.requireAccessToken(requestOf(ctx), guardOptions);
      if ('response' in result) return send(ctx, result.response);
      ctx.state.oidc = withAccessToken(ctx.state.oidc, result);
      await next();
    },
  };
}

/** The request as the browser sent it; `ctx.protocol`/`ctx.host` honour `app.proxy` and nothing else does. */
function toOidcRequest(ctx: Context, basePath: string | undefined): OidcRequest {
  const base = basePath ?? (ctx as { mountPath?: string }).mountPath ?? '';
  return fromHeaderMap({
    method: ctx.method,
    basePath: base,
    protocol: ctx.protocol,
    host: ctx.host,
    target: ctx.originalUrl,
    headers: ctx.req.headers,
    readBody: () => readNodeRequestBody(ctx.req, (ctx.request as { body?: unknown }).body),
    clientAddress: ctx.ip,
  });
}

function appendCookies(ctx: Context, setCookies: string[]): void {
  // One Set-Cookie header per cookie (RFC 6265 §3): never folded into one line.
  if (setCookies.length > 0) ctx.append('Set-Cookie', setCookies);
}

/** A response carrying our session cookies must not be stored by a shared cache (core's `cacheControlForCookies`). */
function keepPrivate(ctx: Context, setCookies: string[]): void {
  if (setCookies.length === 0 || ctx.headerSent) return;
  const value = cacheControlForCookies(ctx.response.get('Cache-Control') || null);
  if (value !== undefined) ctx.set('Cache-Control', value);
}

function send(ctx: Context, response: OidcResponse): void {
  ctx.status = response.status;
  ctx.set(response.headers);
  appendCookies(ctx, response.setCookies);
  // Koa turns a null body into 204, which would swallow a 302: send an empty body instead.
  ctx.body = response.body ?? '';
}
