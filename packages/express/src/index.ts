/**
 * Express adapter for oin-oidc: translation only. Routing of the auth actions, cookies, sessions,
 * tenant resolution and error mapping all live in `@oin-oidc/core`'s flow layer.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { oidc } from '@oin-oidc/express';
 *
 * const app = express();
 * const auth = oidc({ store: tenants, session: { secret: process.env.SESSION_SECRET! }, tenant: 'query' });
 * app.use(auth);
 * app.get('/me', auth.requiresAuth(), (req, res) => res.json(req.oidc.user));
 * ```
 */
import type { ServerResponse } from 'node:http';
import { cacheControlForCookies, createOidcAuth, fromHeaderMap } from '@oin-oidc/core';
import { readNodeRequestBody, withNodeSignatureVerifier } from '@oin-oidc/core/node';
import type { OidcAuth, OidcAuthOptions, OidcRequest, OidcRequestContext, OidcRequestStep, OidcResponse } from '@oin-oidc/core';
import type { Request, RequestHandler, Response } from 'express';
import onHeaders from 'on-headers';

export { OidcError, isOidcError } from '@oin-oidc/core';
export type {
  ActiveToken, OidcAuth, OidcAuthOptions, OidcErrorCode, OidcRequest, OidcResponse, Session, Tenant, TenantRecord, CredentialStore,
} from '@oin-oidc/core';

/** What the adapter puts on `req.oidc`. */
export type { OidcRequestContext } from '@oin-oidc/core';

declare global {
  // Declaration merging is Express's own idiom for typing what middleware adds to `req`.
  namespace Express {
    interface Request {
      oidc: OidcRequestContext;
    }
  }
}

/** The middleware returned by {@link oidc}, with the route guards. */
export interface OidcMiddleware extends RequestHandler {
  /** The core flow layer, for anything the guards do not cover. */
  readonly auth: OidcAuth;
  /** A guard: no session → 302 to the login route for pages, 401 JSON for API clients. */
  requiresAuth(): RequestHandler;
  /** A guard for bearer APIs: introspects the `Authorization: Bearer` token (RFC 6750); 401 with `WWW-Authenticate` otherwise. */
  requireAccessToken(options?: { tenantId?: string }): RequestHandler;
}

/**
 * Mount oin-oidc on an Express app (Express 5, and 4.21+).
 * Options are validated once, here; invalid options throw `ERR_OIDC_INVALID_OPTIONS`.
 */
export function oidc(options: OidcAuthOptions): OidcMiddleware {
  // On Node, ID token signatures are checked with node:crypto (synchronous, about twice as fast).
  const auth = createOidcAuth(withNodeSignatureVerifier(options));
  // Core runs the per-request step (routes, the one session read, the cookie rule); this only translates it.
  const handler =
    (step: (req: OidcRequest) => Promise<OidcRequestStep>): RequestHandler =>
    (req, res, next) => {
      step(auth.requestOf(req, toOidcRequest))
        .then((result) => {
          if (result.response) return send(res, result.response);
          req.oidc = result.context;
          appendSessionCookies(res, result.setCookies);
          next();
        })
        .catch(next);
    };
  const middleware = handler(auth.handleRequest) as OidcMiddleware;
  Object.defineProperty(middleware, 'auth', { value: auth });
  middleware.requiresAuth = () => handler(auth.guardSession);
  middleware.requireAccessToken = (guardOptions) => handler((req) => auth.guardAccessToken(req, guardOptions));
  return middleware;
}

/** The request as the browser sent it, with Express's `trust proxy` rules for the external URL. */
function toOidcRequest(req: Request): OidcRequest {
  return fromHeaderMap({
    method: req.method,
    basePath: req.baseUrl,
    protocol: req.protocol,
    host: externalHost(req),
    target: req.originalUrl,
    headers: req.headers,
    readBody: () => readNodeRequestBody(req, req.body),
    clientAddress: req.ip,
  });
}

function externalHost(req: Request): string | undefined {
  const trust = req.app.get('trust proxy fn') as (address: string | undefined, hop: number) => boolean;
  const forwarded = req.get('x-forwarded-host');
  return forwarded && trust(req.socket.remoteAddress, 0) ? forwarded.split(',')[0]!.trim() : req.get('host');
}

function appendCookies(res: Response, setCookies: string[]): void {
  // One Set-Cookie header per cookie (RFC 6265 §3): never folded into one line.
  if (setCookies.length > 0) res.append('Set-Cookie', setCookies);
}

/**
 * Session cookies on the app's own response: that response must not be stored by a shared cache
 * (core's `cacheControlForCookies`), decided just before the headers go out, after the app set its
 * own Cache-Control (on-headers, the hook express-session uses).
 */
function appendSessionCookies(res: Response, setCookies: string[]): void {
  if (setCookies.length === 0) return;
  appendCookies(res, setCookies);
  onHeaders(res, keepPrivate);
}

function keepPrivate(this: ServerResponse): void {
  const current = this.getHeader('cache-control');
  const value = cacheControlForCookies(Array.isArray(current) ? current.join(', ') : current === undefined ? null : String(current));
  if (value !== undefined) this.setHeader('Cache-Control', value);
}

function send(res: Response, response: OidcResponse): void {
  res.status(response.status);
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  appendCookies(res, response.setCookies);
  res.end(response.body ?? undefined);
}
