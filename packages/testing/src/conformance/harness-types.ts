/**
 * The types the adapter conformance suite (adapter.ts) shares with its case files (security.ts,
 * audit.ts, logout.ts). They live here, in a module that imports only types from leaf modules, so
 * the case files need not import adapter.ts, which imports them (an import circle).
 */
import type { MemoryCredentialStore, OidcAuthOptions, TenantRecord } from '@oin-oidc/core';
import type { OktaOrg } from '../emulator/types-org';
import type { Browser, CookieJar } from './http';

/** What the suite asks the adapter's test to start. */
export interface AdapterMountOptions {
  /** Pass unchanged to the adapter's factory (store, session secret, `tenant: 'query'`, maybe `responseMode`). */
  authOptions: OidcAuthOptions;
  /**
   * Mount the auth routes and the app routes under this path prefix ('' or '/app'), in the
   * framework's own idiom (Express `app.use(path, router)`, a Fastify prefix, Hono `app.route`,
   * koa-mount or the adapter's `basePath` option).
   */
  basePath?: string;
  /** Trust `X-Forwarded-Proto`/`X-Forwarded-Host` from the loopback peer, with the framework's own setting. */
  trustProxy?: boolean;
}

/**
 * A running app. Besides the auth routes (defaults `/auth/*`) it serves, under the base path:
 * - `GET /` public: 200 text;
 * - `GET /me` behind `requiresAuth()`: 200 JSON `{ tenant, sub, claims }` (the session's);
 * - `GET /api/me` behind `requireAccessToken()`: 200 JSON `{ tenant, sessionTenant, sub, client_id, scope }`,
 *   where `tenant` is the bearer token's (`accessTokenTenant`), `sessionTenant` the request
 *   context's `tenant` (a session cookie sent along, or `undefined`), and `sub`, `client_id`,
 *   `scope` the token's;
 * - `GET /api/acme` behind `requireAccessToken({ tenantId: 'acme' })` (an API of one tenant whose URL
 *   names none): the same JSON as `/api/me`;
 * - `GET /whoami` with no guard: 200 JSON `{ isAuthenticated, tenant, sub, host }` straight from the
 *   request context (`req.oidc`, `request.oidc`, `c.get('oidc')`, `ctx.state.oidc`; `sub` is the
 *   session's) and `host`, the app's own view of the request's host name (Express `req.hostname`,
 *   Fastify `request.hostname`, Koa `ctx.hostname`, Hono `new URL(c.req.url).hostname`);
 * - `GET /cached` with no guard: 200 text with `Cache-Control: public, max-age=3600` set by the app;
 * - `GET /fresh` with no guard: 200 text with `Cache-Control: no-store, max-age=0` set by the app.
 */
export interface MountedAdapter {
  /** The server's origin, e.g. `http://127.0.0.1:54321` (no base path, no trailing slash). */
  baseUrl: string;
  close(): Promise<void>;
}

export type AdapterMount = (options: AdapterMountOptions) => Promise<MountedAdapter>;

/** @internal the suite's tenants (the keys of its client table) */
export type TenantId = 'acme' | 'acme-2' | 'globex';

/** @internal shared with the security cases */
export interface App {
  origin: string;
  base: string;
  store: MemoryCredentialStore;
  mounted: MountedAdapter;
  /** An absolute URL on this app under its base path. */
  url(path: string): string;
  browser(jar?: CookieJar): Browser;
}

/** @internal the request the org's authorize step sends the browser back with */
export type CallbackRequest = { method: 'GET' | 'POST'; url: URL; body?: string };

/** What `describeAdapterConformance` shares with these cases and the audit's (its apps are started in its beforeAll). */
export interface SecurityContext {
  t(title: string): string;
  /** The apps' idle session lifetime (`session.rollingSec`); a session is re-issued once less than half is left. */
  rollingSec: number;
  apps(): { plain: App; sub: App; proxied: App; formPost: App };
  orgs(): { acme: OktaOrg; globex: OktaOrg };
  start(basePath: string, trustProxy: boolean, extra?: Partial<OidcAuthOptions>): Promise<App>;
  record(app: App, id: TenantId, issuer: string, extra?: Partial<TenantRecord>): TenantRecord;
  /** Shift every app's clock (`client.now`) by `ms` from now on; 0 puts it back. */
  setClockOffset(ms: number): void;
  login(app: App, b: Browser, query: Record<string, string>): Promise<{ response: Response; authorize: URL }>;
  callback(b: Browser, request: CallbackRequest, options?: { jar?: CookieJar; headers?: Record<string, string> }): Promise<Response>;
  signIn(app: App, tenant: TenantId, options?: { returnTo?: string }): Promise<{ b: Browser; request: CallbackRequest; response: Response; beforeCallback: CookieJar }>;
  clients: Record<TenantId, { clientId: string; clientSecret: string }>;
  users: Record<'acme' | 'globex' | 'large', { login: string; password: string; claims: Record<string, unknown> }>;
}
