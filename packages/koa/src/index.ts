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
import { cacheControlForCookies, createOidcAuth, fromHeaderMap } from '@oin-oidc/core';
import { readNodeRequestBody, withNodeSignatureVerifier } from '@oin-oidc/core/node';
import type { OidcAuth, OidcAuthOptions, OidcRequest, OidcRequestContext, OidcRequestStep, OidcResponse } from '@oin-oidc/core';
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
  const build = (ctx: Context) => toOidcRequest(ctx, basePath);
  // Core runs the per-request step (routes, the one session read, the cookie rule); this only translates it.
  const handler =
    (step: (req: OidcRequest) => Promise<OidcRequestStep>): Middleware =>
    async (ctx: Context, next: Next) => {
      const result = await step(auth.requestOf(ctx, build));
      if (result.response) return send(ctx, result.response);
      ctx.state.oidc = result.context;
      appendCookies(ctx, result.setCookies);
      await next();
      keepPrivate(ctx, result.setCookies);
    };
  return {
    auth,
    middleware: handler(auth.handleRequest),
    requiresAuth: () => handler(auth.guardSession),
    requireAccessToken: (guardOptions) => handler((req) => auth.guardAccessToken(req, guardOptions)),
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
