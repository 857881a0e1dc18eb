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
import { cacheControlForCookies, createOidcAuth, DEFAULT_ROUTES, fromHeaderMap, MAX_BODY_BYTES, OidcError, requestContext, withAccessToken } from '@oin-oidc/core';
import { withNodeSignatureVerifier } from '@oin-oidc/core/node';
import type { OidcAuth, OidcAuthOptions, OidcRequest, OidcRequestContext, OidcResponse } from '@oin-oidc/core';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';

export { OidcError, isOidcError } from '@oin-oidc/core';
export type {
  ActiveToken, OidcAuth, OidcAuthOptions, OidcErrorCode, OidcRequest, OidcResponse, Session, Tenant, TenantRecord, CredentialStore,
} from '@oin-oidc/core';

/** What the plugin puts on `request.oidc`. */
export type { OidcRequestContext } from '@oin-oidc/core';

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
  const basePath = fastify.prefix;
  // On the native object under this instance's own symbol: cheaper than a WeakMap entry per request.
  const OIDC_REQUEST = Symbol('oin-oidc.request');
  /** Set when session cookies ride on the app's response (see the onSend hook). */
  const COOKIES = Symbol('oin-oidc.cookies');
  type Carrier = { [OIDC_REQUEST]?: OidcRequest; [COOKIES]?: true };
  const appendSessionCookies = (request: FastifyRequest, reply: FastifyReply, setCookies: string[]) => {
    if (setCookies.length === 0) return;
    reply.header('set-cookie', setCookies);
    (request as Carrier)[COOKIES] = true;
  };
  const requestOf = (request: FastifyRequest) => {
    let req = (request as Carrier)[OIDC_REQUEST];
    if (!req) {
      req = toOidcRequest(request, basePath);
      (request as Carrier)[OIDC_REQUEST] = req;
    }
    return req;
  };

  // null until the onRequest hook below runs (Fastify wants reference-type decorators initialised to null).
  fastify.decorateRequest('oidc', null as unknown as OidcRequestContext);
  fastify.decorate('oidc', {
    auth,
    requiresAuth: () => async (request, reply) => {
      const result = await auth.requireSession(requestOf(request));
      if ('response' in result) return send(reply, result.response);
      // The onRequest hook, when it ran, already sent any re-issued session cookie.
      if (!request.oidc) appendSessionCookies(request, reply, result.setCookies);
      request.oidc = requestContext(result.session, request.oidc);
    },
    requireAccessToken: (guardOptions) => async (request, reply) => {
      const result = await auth.requireAccessToken(requestOf(request), guardOptions);
      if ('response' in result) return send(reply, result.response);
      request.oidc = withAccessToken(request.oidc, result);
    },
  } satisfies FastifyOidc);

  fastify.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.oidcAuthRoute) return;
    const req = requestOf(request);
    const read = await auth.getSession(req).catch((error: unknown) => ({ error }));
    if ('error' in read) return send(reply, auth.errorResponse(req, read.error));
    request.oidc = requestContext(read.session);
    appendSessionCookies(request, reply, read.setCookies);
  });
  // A response carrying our session cookies must not be stored by a shared cache (core's cacheControlForCookies).
  fastify.addHook('onSend', async (request, reply, payload) => {
    if ((request as Carrier)[COOKIES] !== true) return payload;
    const value = cacheControlForCookies(reply.getHeader('cache-control')?.toString() ?? null);
    if (value !== undefined) reply.header('cache-control', value);
    return payload;
  });

  // The auth routes live in a child scope so the form parser below does not leak into the app.
  await fastify.register(async (scope) => {
    if (!scope.hasContentTypeParser(FORM)) {
      scope.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: MAX_BODY_BYTES }, (_request, body, done) => done(null, body));
    }
    // Universal Logout posts JSON: core reads the raw text (Fastify's own parser would hand it an object).
    if (scope.hasContentTypeParser(JSON_TYPE)) scope.removeContentTypeParser(JSON_TYPE);
    scope.addContentTypeParser(JSON_TYPE, { parseAs: 'string', bodyLimit: MAX_BODY_BYTES }, (_request, body, done) => done(null, body));
    // Core's defaults; `/*` too, for `tenant: 'path'` (`/auth/login/:tenant`). Core decides what matches.
    const routes = { ...DEFAULT_ROUTES, ...authOptions.routes };
    // Fastify's own parse failure on an auth route: an oversized body becomes core's 413 (the same
    // page, Cache-Control and transaction-cookie deletion as the other adapters), not Fastify's JSON.
    scope.setErrorHandler(async (error, request, reply) => {
      if ((error as { code?: unknown }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        const tooLarge = new OidcError('ERR_OIDC_PAYLOAD_TOO_LARGE', `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
        const response = await auth.handle(toOidcRequest(request, basePath, () => Promise.reject(tooLarge)));
        if (response) return send(reply, response);
      }
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
          const response = await auth.handle(requestOf(request));
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

/** The request as the browser sent it; `request.protocol`/`request.host` honour Fastify's `trustProxy` and nothing else does. */
function toOidcRequest(request: FastifyRequest, basePath: string, read: () => Promise<string> = () => formBody(request)): OidcRequest {
  return fromHeaderMap({ method: request.method, basePath, protocol: request.protocol, host: request.host, target: request.url, headers: request.headers, readBody: read, clientAddress: request.ip });
}

/** The body: the string our parsers left (form, JSON), or another form parser's object re-encoded. */
async function formBody(request: FastifyRequest): Promise<string> {
  const body: unknown = request.body;
  if (typeof body === 'string') return body;
  if (body === null || typeof body !== 'object') return '';
  // Another form parser (e.g. @fastify/formbody) ran first: re-encode, keeping repeated names
  // repeated so core still refuses duplicate parameters.
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(body)) {
    for (const item of Array.isArray(value) ? value : [value]) form.append(name, String(item));
  }
  return form.toString();
}

function send(reply: FastifyReply, response: OidcResponse): FastifyReply {
  reply.code(response.status).headers(response.headers);
  // One Set-Cookie header per cookie (RFC 6265 §3); Fastify appends rather than replaces.
  if (response.setCookies.length > 0) reply.header('set-cookie', response.setCookies);
  return reply.send(response.body ?? undefined);
}

