/**
 * Fastify 5 plugin for oin-oidc: translation only. Routing of the auth actions, cookies, sessions,
 * tenant resolution and error mapping all live in `@oin-oidc/core`'s flow layer.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { oidcPlugin } from '@oin-oidc/fastify';
 *
 * const app = Fastify({ trustProxy: false });
 * await app.register(oidcPlugin, { store: tenants, session: { secret: process.env.SESSION_SECRET! }, tenant: 'query' });
 * app.get('/me', { preHandler: app.oidc.requiresAuth() }, async (request) => request.oidc?.user);
 * ```
 */
import { cacheControlForCookies, createOidcAuth, DEFAULT_ROUTES, fromHeaderMap, MAX_BODY_BYTES, parsedBodyText } from '@oin-oidc/core';
import { withNodeSignatureVerifier } from '@oin-oidc/core/node';
import type { OidcAuth, OidcAuthOptions, OidcRequest, OidcRequestContext, OidcRequestStep, OidcResponse } from '@oin-oidc/core';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';

export { OidcError, isOidcError } from '@oin-oidc/core';
// `OidcRequestContext` is what the plugin puts on `request.oidc`.
export type {
  ActiveToken, OidcAuth, OidcAuthOptions, OidcErrorCode, OidcRequest, OidcRequestContext, OidcResponse, Session, Tenant, TenantRecord, CredentialStore,
} from '@oin-oidc/core';

/** `fastify.oidc`: the guards, as preHandler hooks. */
export interface FastifyOidc {
  /** The core flow layer, for anything the guards do not cover. */
  readonly auth: OidcAuth;
  /** A guard: no session → 302 to the login route for pages, 401 JSON for API clients. */
  requiresAuth(): preHandlerAsyncHookHandler;
  /** A guard for bearer APIs: introspects the `Authorization: Bearer` token (RFC 6750); 401 with `WWW-Authenticate` otherwise. */
  requireAccessToken(options?: { tenantId?: string }): preHandlerAsyncHookHandler;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set for every request in the plugin's scope (null only on the auth routes themselves). */
    oidc: OidcRequestContext;
  }
  interface FastifyInstance {
    oidc: FastifyOidc;
  }
  interface FastifyContextConfig {
    oidcAuthRoute?: boolean;
  }
}

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

const plugin: FastifyPluginAsync<OidcAuthOptions> = async (fastify, options) => {
  // Fastify hands its own register options to the plugin too; core refuses unknown keys.
  const { prefix: _prefix, logLevel: _logLevel, logSerializers: _logSerializers, ...authOptions } = options as OidcAuthOptions & Record<string, unknown>;
  // On Node, ID token signatures are checked with node:crypto (synchronous, about twice as fast).
  const auth = createOidcAuth(withNodeSignatureVerifier(authOptions));
  // The plugin shares its parent's scope (fastify-plugin), so this is the prefix it was registered under.
  const build = (request: FastifyRequest) => toOidcRequest(request, fastify.prefix);
  /** Set when session cookies ride on the app's response (see the onSend hook). */
  const COOKIES = Symbol('oin-oidc.cookies');
  // Core runs the per-request step (the one session read, the guards, the cookie rule); this only translates it.
  const handler =
    (step: (req: OidcRequest) => Promise<OidcRequestStep>): preHandlerAsyncHookHandler =>
    async (request, reply) => {
      const result = await step(auth.requestOf(request, build));
      if (result.response) return send(reply, result.response);
      request.oidc = result.context;
      if (result.setCookies.length === 0) return;
      reply.header('set-cookie', result.setCookies);
      (request as { [COOKIES]?: true })[COOKIES] = true;
    };

  // null until the onRequest hook below runs (Fastify wants reference-type decorators initialised to null).
  fastify.decorateRequest('oidc', null as unknown as OidcRequestContext);
  fastify.decorate('oidc', {
    auth,
    requiresAuth: () => handler(auth.guardSession),
    requireAccessToken: (guardOptions) => handler((req) => auth.guardAccessToken(req, guardOptions)),
  } satisfies FastifyOidc);

  // The auth routes are Fastify routes of their own (below): every other request gets the session.
  const readSession = handler(auth.readSession);
  fastify.addHook('onRequest', async function (request, reply) {
    return request.routeOptions.config.oidcAuthRoute ? undefined : readSession.call(this, request, reply);
  });
  // A response carrying our session cookies must not be stored by a shared cache (core's cacheControlForCookies).
  fastify.addHook('onSend', async (request, reply, payload) => {
    if ((request as { [COOKIES]?: true })[COOKIES] !== true) return payload;
    const value = cacheControlForCookies(reply.getHeader('cache-control')?.toString() ?? null);
    if (value !== undefined) reply.header('cache-control', value);
    return payload;
  });

  // The auth routes live in a child scope so the form parser below does not leak into the app.
  await fastify.register(async (scope) => {
    // Forms as text, unless the app has its own form parser; Universal Logout posts JSON, and core
    // reads it as text too (Fastify's own JSON parser would hand it an object).
    const types = scope.hasContentTypeParser(FORM) ? [JSON_TYPE] : [FORM, JSON_TYPE];
    if (scope.hasContentTypeParser(JSON_TYPE)) scope.removeContentTypeParser(JSON_TYPE);
    for (const type of types) scope.addContentTypeParser(type, { parseAs: 'string', bodyLimit: MAX_BODY_BYTES }, (_request, body, done) => done(null, body));
    // Core's defaults; `/*` too, for `tenant: 'path'` (`/auth/login/:tenant`). Core decides what matches.
    const routes = { ...DEFAULT_ROUTES, ...authOptions.routes };
    // Fastify's own parse failure on an auth route: an oversized body gets core's 413 (the same
    // page, Cache-Control and transaction-cookie deletion as the other adapters), not Fastify's JSON.
    scope.setErrorHandler(async (error, request, reply) => {
      const response = (error as { code?: unknown }).code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? await auth.bodyTooLarge(auth.requestOf(request, build)) : null;
      if (response) return send(reply, response);
      throw error;
    });
    for (const url of Object.values(routes).flatMap((path) => [path, `${path}/*`])) {
      scope.route({
        // Every method reaches core, which answers the ones a route does not take with 405 and Allow
        // (RFC 9110 §15.5.6) like the other adapters; HEAD comes with GET (exposeHeadRoutes).
        method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
        url,
        config: { oidcAuthRoute: true },
        handler: async (request, reply) => {
          const response = await auth.handle(auth.requestOf(request, build));
          return response ? send(reply, response) : reply.callNotFound();
        },
      });
    }
  });
};

/**
 * Register with `app.register(oidcPlugin, options)`; options are the core `OidcAuthOptions`,
 * validated once at registration (`ERR_OIDC_INVALID_OPTIONS`). Mount under a sub-path by
 * registering it inside a prefixed scope. Behind a proxy, set Fastify's own `trustProxy`.
 */
export const oidcPlugin: FastifyPluginAsync<OidcAuthOptions> = fp(plugin, { fastify: '5.x', name: '@oin-oidc/fastify' });
export default oidcPlugin;

/**
 * The request as the browser sent it; `request.protocol`/`request.host` honour Fastify's `trustProxy`
 * and nothing else does. The body is the string our parsers left, or another form parser's object re-encoded.
 */
function toOidcRequest(request: FastifyRequest, basePath: string): OidcRequest {
  const { method, protocol, host, url: target, headers, ip: clientAddress } = request;
  return fromHeaderMap({ method, basePath, protocol, host, target, headers, readBody: async () => parsedBodyText(request.body), clientAddress });
}

function send(reply: FastifyReply, response: OidcResponse): FastifyReply {
  reply.code(response.status).headers(response.headers);
  // One Set-Cookie header per cookie (RFC 6265 §3); Fastify appends rather than replaces.
  if (response.setCookies.length > 0) reply.header('set-cookie', response.setCookies);
  return reply.send(response.body ?? undefined);
}

