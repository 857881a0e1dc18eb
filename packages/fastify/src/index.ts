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
import type { IncomingHttpHeaders } from 'node:http';
import { createOidcAuth, OidcError } from '@oin-oidc/core';
import type { ActiveToken, OidcAuth, OidcAuthOptions, OidcRequest, OidcResponse, Session } from '@oin-oidc/core';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';

export { OidcError, isOidcError } from '@oin-oidc/core';
export type {
  ActiveToken, OidcAuth, OidcAuthOptions, OidcErrorCode, OidcRequest, OidcResponse, Session, Tenant, TenantRecord, CredentialStore,
} from '@oin-oidc/core';

/** What the plugin puts on `request.oidc`. */
export interface OidcRequestContext {
  /** The session, or `null` when not signed in. */
  session: Session | null;
  /** The claims kept in the session (a subset of the ID token's), with `sub`. The user is `(tenant, sub)`. */
  user: Record<string, unknown> | undefined;
  /** The tenant id of the session or of the bearer token. */
  tenant: string | undefined;
  isAuthenticated: boolean;
  /** Set by `requireAccessToken()` once the bearer token was introspected as active. */
  accessToken?: ActiveToken;
}

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

/** Largest urlencoded body accepted on the auth routes (the callback's form_post body is far smaller). */
const MAX_BODY_BYTES = 64 * 1024;
const FORM = 'application/x-www-form-urlencoded';

const plugin: FastifyPluginAsync<OidcAuthOptions> = async (fastify, options) => {
  // Fastify hands its own register options to the plugin too; core refuses unknown keys.
  const { prefix: _prefix, logLevel: _logLevel, logSerializers: _logSerializers, ...authOptions } = options as OidcAuthOptions & Record<string, unknown>;
  const auth = createOidcAuth(authOptions);
  // The plugin shares its parent's scope (fastify-plugin), so this is the prefix it was registered under.
  const basePath = fastify.prefix;
  // On the native object under this instance's own symbol: cheaper than a WeakMap entry per request.
  const OIDC_REQUEST = Symbol('oin-oidc.request');
  type Carrier = { [OIDC_REQUEST]?: OidcRequest };
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
      if (!request.oidc && result.setCookies.length > 0) reply.header('set-cookie', result.setCookies);
      request.oidc = sessionContext(result.session);
    },
    requireAccessToken: (guardOptions) => async (request, reply) => {
      const result = await auth.requireAccessToken(requestOf(request), guardOptions);
      if ('response' in result) return send(reply, result.response);
      request.oidc = { ...(request.oidc ?? sessionContext(null)), tenant: result.tenant.id, accessToken: result.token };
    },
  } satisfies FastifyOidc);

  fastify.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.oidcAuthRoute) return;
    const { session, setCookies } = await auth.getSession(requestOf(request));
    request.oidc = sessionContext(session);
    if (setCookies.length > 0) reply.header('set-cookie', setCookies);
  });

  // The auth routes live in a child scope so the form parser below does not leak into the app.
  await fastify.register(async (scope) => {
    if (!scope.hasContentTypeParser(FORM)) {
      scope.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: MAX_BODY_BYTES }, (_request, body, done) => done(null, body));
    }
    // Core's defaults; `/*` too, for `tenant: 'path'` (`/auth/login/:tenant`). Core decides what matches.
    const routes = { login: '/auth/login', callback: '/auth/callback', initiate: '/auth/initiate', logout: '/auth/logout', ...authOptions.routes };
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

function sessionContext(session: Session | null): OidcRequestContext {
  return {
    session,
    user: session ? { ...session.claims, sub: session.sub } : undefined,
    tenant: session?.tenant,
    isAuthenticated: session !== null,
  };
}

/** The request as the browser sent it; `request.protocol`/`request.host` honour Fastify's `trustProxy` and nothing else does. */
function toOidcRequest(request: FastifyRequest, basePath: string, read: () => Promise<string> = () => formBody(request)): OidcRequest {
  const target = request.url;
  const origin = checkedOrigin(request.protocol, request.host, target);
  return new NodeOidcRequest(request.method.toUpperCase(), basePath, origin, target, request.headers, read);
}

/** The urlencoded body: the string our parser left, or another form parser's object re-encoded. */
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

/**
 * The request as core sees it. A class rather than an object literal with getters (V8 creates
 * those slowly): `url` and `headers` are built on first use, which most requests never reach
 * (core reads headers through `header()` and matches routes on `path`).
 */
class NodeOidcRequest implements OidcRequest {
  readonly path: string;
  #url: URL | undefined;
  #headers: Headers | undefined;
  #body: Promise<string> | undefined;

  constructor(
    readonly method: string,
    readonly basePath: string,
    private readonly origin: string,
    private readonly target: string,
    private readonly native: IncomingHttpHeaders,
    private readonly read: () => Promise<string>,
  ) {
    this.path = pathOf(target);
  }

  get url(): URL {
    this.#url ??= externalUrl(this.origin, this.target);
    return this.#url;
  }

  get headers(): Headers {
    this.#headers ??= toHeaders(this.native);
    return this.#headers;
  }

  header(name: string): string | null {
    return nodeHeader(this.native, name);
  }

  readBody(): Promise<string> {
    this.#body ??= this.read();
    return this.#body;
  }
}

/** host[:port] as RFC 9110 §7.2 allows it: a reg-name or IP literal, nothing that could smuggle a path. */
const HOST = /^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * One header from Node's header map, as `Headers.get` would give it (repeated values joined with
 * `, `, surrounding whitespace trimmed), without building a `Headers` object per request.
 */
function nodeHeader(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  if (value === undefined) return null;
  const joined = Array.isArray(value) ? value.join(', ') : String(value);
  return isWhitespace(joined.charCodeAt(0)) || isWhitespace(joined.charCodeAt(joined.length - 1)) ? joined.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '') : joined;
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** The full Web `Headers`, built only when something reads `OidcRequest.headers` (an app's tenant function). */
function toHeaders(native: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(native)) {
    if (name.startsWith(':') || value === undefined) continue; // HTTP/2 pseudo-headers
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}

/** Origins (`scheme://host`) already known to parse: a request then parses its URL only if core reads it. */
const knownOrigins = new Set<string>();
const MAX_KNOWN_ORIGINS = 1024;

/**
 * The external origin, checked now so a bad Host fails this request whether or not core reads the
 * URL. A missing or malformed Host (or scheme, or an absolute-form target) is the client's error:
 * 400 through the framework's error handling, never a 500 or a URL whose path the Host header rewrote.
 */
function checkedOrigin(protocol: string, host: string | undefined, path: string): string {
  if (host && path.startsWith('/')) {
    const origin = `${protocol}://${host}`;
    if (knownOrigins.has(origin)) return origin;
    if (HOST.test(host) && /^https?$/.test(protocol) && URL.parse(`${origin}/`) !== null) {
      if (knownOrigins.size >= MAX_KNOWN_ORIGINS) knownOrigins.clear();
      knownOrigins.add(origin);
      return origin;
    }
  }
  throw invalidTarget();
}

function invalidTarget(): OidcError {
  return new OidcError('ERR_OIDC_INVALID_REQUEST', 'The request has a missing or invalid Host header or target.');
}

/** The external URL from a checked origin and the request target (a path always parses after a valid origin). */
function externalUrl(origin: string, path: string): URL {
  const url = URL.parse(`${origin}${path}`);
  if (url === null) throw invalidTarget();
  return url;
}

/** The target's path, before any query: what core matches the auth routes against without a URL. */
function pathOf(target: string): string {
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}

function send(reply: FastifyReply, response: OidcResponse): FastifyReply {
  reply.code(response.status).headers(response.headers);
  // One Set-Cookie header per cookie (RFC 6265 §3); Fastify appends rather than replaces.
  if (response.setCookies.length > 0) reply.header('set-cookie', response.setCookies);
  return reply.send(response.body ?? undefined);
}

