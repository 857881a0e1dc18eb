/**
 * The framework-neutral flow layer's types (architecture.md, "Flow layer"): what every adapter
 * builds from its native request and copies back onto its native response.
 */
import type { ActiveToken, OidcClient, OidcClientOptions } from '../client';
import type { OidcError } from '../errors';
import type { OidcRequestContext } from './request-context';
import type { Session, SessionStore } from '../session/types';
import type { CredentialStore } from '../tenant/credential-store';
import type { Tenant, TenantRecord } from '../tenant/tenant';
import type { SharedRevocationList } from '../session/revocation-list';
import type { TtlStore } from '../ttl-store';

/** A request as the flow layer sees it. Adapters build one per request (see `fromWebRequest`). */
export interface OidcRequest {
  /** Upper case. */
  method: string;
  /** The external absolute URL: the adapter applies its framework's trust-proxy rules, and nothing else from forwarded headers. */
  url: URL;
  /** Where the adapter is mounted (`''` or `'/app'`); routes are matched under it. */
  basePath: string;
  /** At least `cookie`, `authorization`, `accept`, `content-type`. May be a getter built on first use. */
  headers: Headers;
  /**
   * Optional fast path for one header: what `headers.get(name)` would return (`null` when absent,
   * repeated values joined with `, `), with `name` in lower case. When present, core reads headers
   * only through it, so an adapter can answer from its framework's own header map and build
   * {@link OidcRequest.headers} lazily, only if an application's code (a tenant function) reads it.
   * Set only by `fromWebRequest` / `fromHeaderMap`, so it is left out of the published types.
   * @internal
   */
  header?(name: string): string | null;
  /**
   * Optional: the path of the request target as received (before `?`), starting with `/`. When it
   * holds only `A-Z a-z 0-9 / _ ~ -` it equals `url.pathname` exactly (nothing to normalise or
   * encode), and core matches the auth routes against it without reading `url`, so an adapter can
   * build `url` lazily (a getter). Any other path is matched through `url.pathname`.
   * @internal
   */
  path?: string;
  /**
   * Optional: the external origin, `scheme://host[:port]`, already checked by the adapter (the scheme
   * and host `url` is built from). When present, core decides cookie security and `'host'` /
   * `'subdomain'` tenants from it (parsed once per distinct origin) without reading `url`.
   * @internal
   */
  origin?: string;
  /**
   * Optional: the raw query of the request target, after `?` (without it), `''` when there is none.
   * When it is plain printable ASCII without `#`, core reads `?tenant=` from it without reading `url`
   * (the values decode exactly as `url.searchParams` would give them); anything else goes through `url`.
   * @internal
   */
  query?: string;
  /**
   * Optional: the client's network address as the framework reports it after its own trust-proxy
   * rules (Express `req.ip`, Fastify `request.ip`, Koa `ctx.ip`). Only used to give each caller its
   * own small budget of introspections for tokens only Okta can judge (audit finding SA-01); never
   * logged, never part of a message.
   */
  clientAddress?: string;
  /** The raw urlencoded body (an adapter may re-encode an already-parsed body). Capped by the adapter. */
  readBody(): Promise<string>;
}

/** Plain response data; adapters copy it onto the native response. */
export interface OidcResponse {
  status: number;
  /** Includes `Location`, `Cache-Control`, `Content-Type`, `WWW-Authenticate`, `Retry-After` as needed. */
  headers: Record<string, string>;
  /** Serialised `Set-Cookie` values, one header each. */
  setCookies: string[];
  body: string | null;
}

/** How the tenant of a login (and of `requireSession` / `requireAccessToken`) is found. */
export type TenantResolution =
  /** `?tenant=ID` (default). */
  | 'query'
  /** The whole host name is the tenant id (`acme.example.com`). */
  | 'host'
  /** The first label of the host name (`acme` in `acme.app.example.com`). */
  | 'subdomain'
  /** A path segment after the login route: `/auth/login/:tenant`. */
  | 'path'
  /** Your own function (for example from the route your framework matched). */
  | ((req: OidcRequest) => string | undefined | Promise<string | undefined>);

export interface OidcAuthOptions {
  /** Where tenants come from: a {@link CredentialStore}, or records for an in-memory store. */
  store: CredentialStore | TenantRecord[];
  session: {
    /** At least 32 characters each. With several, the first seals and all unseal (rotation). */
    secret: string | string[];
    /** Default `oin_session` (`__Host-oin_session` on https). Letters, digits, `_`, `-`. */
    cookieName?: string;
    /** Idle lifetime; extended when less than half is left. Default 86,400 (1 day). */
    rollingSec?: number;
    /** Lifetime from sign-in, whatever the activity. Default 604,800 (7 days). */
    absoluteSec?: number;
    /** Server-side store; the cookie then holds only the sealed session id. */
    store?: SessionStore;
    /** ID token claims kept in the session. Default `name email preferred_username given_name family_name`. */
    claims?: string[];
    /**
     * Where logged-out session ids are remembered until their absolute expiry, so a copy of the
     * cookie taken before logout opens nothing. Default: this process only; share one store (Redis…)
     * across a fleet so a logout on one instance holds on all (docs/sessions.md, "What logout ends").
     */
    revocationStore?: TtlStore;
    /**
     * The fleet-wide list of revocations (`@oin-oidc/redis`'s `revocationList`): a logout, or a
     * Universal Logout of a user, on any process ends the session on every process within the
     * list's delivery time, and reads stay in memory (no store round trip per request).
     * Preferred over `revocationStore`. Default: none (per process).
     */
    revocations?: SharedRevocationList;
  };
  /**
   * The app's external origin (`https://app.example.com`). When set, cookie security (`Secure`,
   * `__Host-`), the callback's redirect URI and same-origin checks follow it rather than each
   * request's `Host`, which a proxy can rewrite. Without it, records given as an array decide
   * cookie security when their redirect URIs are all https (or all loopback http).
   */
  baseUrl?: string;
  /**
   * Route paths under the adapter's mount point. Defaults `/auth/login`, `/auth/callback`,
   * `/auth/initiate`, `/auth/logout`, and the identity provider's logout requests
   * `/auth/universal-logout` (Okta Universal Logout) and `/auth/backchannel-logout` (OIDC
   * Back-Channel Logout 1.0); docs/universal-logout.md.
   */
  routes?: { login?: string; callback?: string; initiate?: string; logout?: string; universalLogout?: string; backchannelLogout?: string };
  /** Default `'query'`. */
  tenant?: TenantResolution;
  /** Where the browser lands after logout when there is no Okta logout to do. Default `'/'`. */
  afterLogoutPath?: string;
  /**
   * The response mode of authorization requests. Default `'query'` (a GET callback); `'form_post'`
   * makes Okta POST the response (OAuth 2.0 Form Post Response Mode). The callback refuses the
   * other method (catalogue CB-13).
   */
  responseMode?: 'query' | 'form_post';
  /**
   * Called with every error the auth routes and the bearer check answer with, for your logging.
   * An {@link OidcError}'s message and details never hold tokens, codes or cookie values; anything
   * else is passed as thrown. `correlationId` is also shown on the error page (catalogue LG-03).
   */
  onError?: (
    error: OidcError | unknown,
    context: { route: 'login' | 'callback' | 'initiate' | 'logout' | 'universalLogout' | 'backchannelLogout' | 'bearer' | 'session'; correlationId: string },
  ) => void;
  /**
   * Called for every authenticated Universal Logout or back-channel logout request before the
   * user's sessions are revoked: end your own state for the user (API keys, websockets). Return
   * `'unknown-user'` (→ 404) or `'failed'` (→ 422) to answer so instead, or `{ subjects }` to
   * revoke more user ids (e.g. the Okta user ids your database maps an e-mail to). Default: revoke.
   */
  onLogoutRequest?: (request: LogoutRequestInfo) => LogoutHookResult | Promise<LogoutHookResult>;
  /** Options for the underlying {@link OidcClient}. `now` also drives session expiry. */
  client?: Omit<OidcClientOptions, 'store'>;
}

/** What {@link OidcAuthOptions.onLogoutRequest} learns about a verified logout request. */
export interface LogoutRequestInfo {
  tenant: Tenant;
  /** Universal Logout's subject format, or `'backchannel'`. */
  format: 'email' | 'iss_sub' | 'backchannel';
  /** The user's id at Okta (the ID token's `sub`), when the request names it. */
  sub?: string;
  /** Universal Logout by e-mail. */
  email?: string;
  /** Back-channel logout by session id. */
  sid?: string;
}

/** What `onLogoutRequest` may answer: nothing (revoke), a refusal, or more user ids to revoke. */
// biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing (`void`) means "revoke"; `undefined` alone would refuse such hooks
export type LogoutHookResult = void | 'unknown-user' | 'failed' | { subjects: string[] };

/** The sign-in and session API adapters call. */
export interface OidcAuth {
  readonly client: OidcClient;
  /** Answer an auth route; `null` when the request is not for one of them. Never throws. */
  handle(req: OidcRequest): Promise<OidcResponse | null>;
  /**
   * The signed-in session, or `null`; `setCookies` re-issues a rolling session or deletes an invalid
   * one (send them with your response). One unseal, plus one store read when a server-side
   * {@link SessionStore} is configured; throws only ERR_OIDC_STORE_FAILURE when that store fails.
   */
  getSession(req: OidcRequest): Promise<{ session: Session | null; setCookies: string[] }>;
  /** The session, or the response to send instead: 401 JSON for API requests, else 302 to login. */
  requireSession(req: OidcRequest): Promise<{ session: Session; setCookies: string[] } | { response: OidcResponse }>;
  /** Check `Authorization: Bearer` by introspection at the tenant's Okta org. */
  requireAccessToken(req: OidcRequest, options?: { tenantId?: string }): Promise<{ token: ActiveToken; tenant: Tenant } | { response: OidcResponse }>;
  /**
   * The response for an error `getSession` threw (`ERR_OIDC_STORE_FAILURE` when a server-side
   * session store or the revocation store fails): its status (503), `Retry-After`, JSON or an HTML
   * page as the request prefers, `no-store`; reported to `onError` with route `'session'`. Adapters
   * send it from their session middleware, so a store outage never becomes a framework's 500.
   */
  errorResponse(req: OidcRequest, error: unknown): OidcResponse;
  /**
   * The whole per-request step of an adapter's middleware: the auth route's response, or (for any
   * other request) the session read once, as the context to attach (`req.oidc`…) and the cookies to
   * add to the app's response. A failing session store is answered here (503, reported to `onError`).
   * Never throws for a request: adapters only translate the result.
   *
   * @example
   * ```ts
   * const step = await auth.handleRequest(auth.requestOf(nativeRequest, toOidcRequest));
   * if (step.response) return send(step.response);
   * nativeRequest.oidc = step.context;   // then append step.setCookies and continue
   * ```
   */
  handleRequest(req: OidcRequest): Promise<OidcRequestStep>;
  /** {@link handleRequest} without the auth routes: for a framework that routes them itself (Fastify). */
  readSession(req: OidcRequest): Promise<OidcRequestStep>;
  /**
   * The `requiresAuth()` guard as a step: the session's context, or the 302 / 401 to send.
   * `setCookies` is empty when this request's cookies already went out with an earlier step.
   */
  guardSession(req: OidcRequest): Promise<OidcRequestStep>;
  /** The `requireAccessToken()` guard as a step: the context with `accessToken` set, or the 401 to send. */
  guardAccessToken(req: OidcRequest, options?: { tenantId?: string }): Promise<OidcRequestStep>;
  /**
   * The auth route's answer when the framework itself refused the body as too large: the route's
   * ERR_OIDC_PAYLOAD_TOO_LARGE (413) response, exactly as when core reads an oversized body;
   * `null` when the request is not for an auth route.
   */
  bodyTooLarge(req: OidcRequest): Promise<OidcResponse | null>;
  /**
   * The one {@link OidcRequest} of a native request object (built by `build` on first call, then
   * kept on it for this instance), so the middleware and the guards share one session read.
   */
  requestOf<T extends object>(native: T, build: (native: T) => OidcRequest): OidcRequest;
}

/**
 * One per-request step's result: send `response`, or put `context` on the request and add
 * `setCookies` (one `Set-Cookie` header each) to the app's response, then continue.
 */
export type OidcRequestStep =
  | { response: OidcResponse; context?: undefined; setCookies?: undefined }
  | { response?: undefined; context: OidcRequestContext; setCookies: string[] };
