/**
 * The adapter conformance suite's shared harness (the model: h3's `test/_setup.ts`): the fixtures
 * every case file uses (the apps under test, two Okta org emulators, the suite's tenants, users and
 * clients), the checks shared by every refusal ({@link Harness.expectRejected}), the "app keeps
 * serving" check, and the rule that a case fails when an unhandled error or rejection is raised
 * while it runs.
 *
 * Case files (`cases/*.ts`, one per section of the hostile-input catalogue) import this module and
 * nothing else of the suite's; `adapter.ts` imports both, so no two modules import each other.
 */
import {
  createMemoryCredentialStore,
  type MemoryCredentialStore,
  MemorySessionStore,
  type OidcAuthOptions,
  type SignatureVerifier,
  type TenantRecord,
} from '@oin-oidc/core';
import { webCryptoVerifier } from '@oin-oidc/core/protocol';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { driveAuthorization, type EmulatorEndpoint, type OktaOrg, startOktaOrg } from '../index';
import { type Browser, browser, type CookieJar, form, type SetCookie, setCookiesOf } from './http';

// --- the adapter's side of the contract ------------------------------------------------------

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

/** Starts the adapter under test with the options the suite gives; called once per app the suite needs. */
export type AdapterMount = (options: AdapterMountOptions) => Promise<MountedAdapter>;

// --- fixtures ----------------------------------------------------------------------------------

/** @internal the suite's tenants (the keys of its client table) */
export type TenantId = 'acme' | 'acme-2' | 'globex';

/** @internal one app under test, as the cases see it */
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

/** @internal the emulators' request counters, per org */
export type OrgCounters = { acme: Record<EmulatorEndpoint, number>; globex: Record<EmulatorEndpoint, number> };

export const SESSION_SECRET = 'conformance-session-secret-0123456789abcdef';
/** Idle session lifetime in the suite; core re-issues the cookie once less than half is left. */
export const ROLLING_SEC = 3600;
export const USER = { login: 'ada@acme.example', password: 'correct horse battery staple', claims: { name: 'Ada Lovelace', email: 'ada@acme.example' } };
export const GLOBEX_USER = { login: 'grace@globex.example', password: 'another horse battery', claims: { name: 'Grace Hopper', email: 'grace@globex.example' } };
/** A user whose claims do not fit one cookie: the session is split into several (core chunks at ~3.8 KB). */
export const LONG_NAME = `Grace Brewster Murray Hopper ${'of the United States Navy, '.repeat(100)}`.trim();
export const LARGE_USER = { login: 'long@globex.example', password: 'a long horse battery', claims: { name: LONG_NAME, email: 'long@globex.example' } };
export const CLIENTS = {
  acme: { clientId: '0oa-acme-app', clientSecret: 'acme-secret-0123456789' },
  'acme-2': { clientId: '0oa-acme-app-2', clientSecret: 'acme-2-secret-0123456789' },
  globex: { clientId: '0oa-globex-app', clientSecret: 'globex-secret-0123456789' },
} as const satisfies Record<TenantId, { clientId: string; clientSecret: string }>;

export const XSS = '<script>alert(1)</script>';
/**
 * Back-channel timeout of the apps that face hanging endpoints: short, so a hang costs the suite
 * little, yet far above a loopback round trip on a loaded machine (a correct call must never hit it).
 */
export const FAULT_TIMEOUT_MS = 1500;
export const SESSION_COOKIE = /^(__Host-)?oin_session/;
export const TX_COOKIE = /^(__Host-)?oin_tx_/;
export const JSON_ACCEPT = { accept: 'application/json' };
export const HTML_ACCEPT = { accept: 'text/html' };

// --- response helpers ----------------------------------------------------------------------------

/** The cookies a response sets (not the ones it deletes). */
export function cookiesSet(response: Response): SetCookie[] {
  return setCookiesOf(response).filter((c) => !c.deletes);
}

/** The session cookies (or chunks) a response sets. */
export function sessionSet(response: Response): SetCookie[] {
  return cookiesSet(response).filter((c) => SESSION_COOKIE.test(c.name));
}

/** Does the response delete a session cookie? */
export function sessionDeleted(response: Response): boolean {
  return setCookiesOf(response).some((c) => c.deletes && SESSION_COOKIE.test(c.name));
}

export function bodyOf(response: Response): Promise<string> {
  return response.text();
}

/** The Okta simplified flow's auto-submitted form: the ID token, posted from the org's origin. */
export function postedByOkta(idToken: string, issuer: string): RequestInit & { headers: Record<string, string> } {
  return { method: 'POST', body: new URLSearchParams({ id_token: idToken }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(issuer).origin } };
}

/** A urlencoded form POST with extra request headers (what an auto-submitting page sends). */
export function urlencodedPost(body: string, headers: Record<string, string>): RequestInit & { headers: Record<string, string> } {
  return { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } };
}

/** Does `location` (absolute or relative to `origin`) leave the app's origin, or is it a script/data URL? */
export function offSite(location: string, origin: string): boolean {
  if (location.startsWith('//') || location.startsWith('/\\')) return true;
  const url = URL.parse(location, origin);
  return url === null || url.origin !== origin;
}

/** The callback request with its query edited (a copy: the original stays as the org sent it). */
export function withQuery(request: CallbackRequest, edit: (q: URLSearchParams) => void): CallbackRequest {
  const url = new URL(request.url);
  edit(url.searchParams);
  return { ...request, url };
}

/** GET the tenant's bearer API with this Authorization header (none when `undefined`). */
export function bearer(app: App, authorization: string | undefined, tenant = 'acme'): Promise<Response> {
  return fetch(`${app.url('/api/me')}?tenant=${tenant}`, {
    headers: { ...JSON_ACCEPT, ...(authorization === undefined ? {} : { authorization }) },
    redirect: 'manual',
  });
}

export function expectNoStore(response: Response): void {
  expect(response.headers.get('cache-control') ?? '').toMatch(/no-store/);
}

export function expectNoSession(response: Response): void {
  expect(cookiesSet(response)).toEqual([]);
}

/** How a refused request must look (see {@link Harness.expectRejected}). */
export interface Rejection {
  status: number;
  /** The stable error code the page or JSON names (a RegExp when the catalogue allows several). */
  code: string | RegExp;
  /** Counters taken before the request; omitted only where a back-channel call is part of the check. */
  before?: OrgCounters;
  /** Endpoints the failing check itself may call (e.g. `keys` to verify a posted ID token). */
  allow?: Partial<Record<EmulatorEndpoint, boolean>>;
  /** The browser carried a transaction cookie, which must be deleted. */
  txDeleted?: boolean;
  /**
   * The browser's transaction cookies are neither set nor deleted: a callback that names no
   * transaction it holds (a forged or missing state, a request that does not parse) consumes
   * none, so the logins in flight survive it (catalogue SA-08).
   */
  txKept?: boolean;
  /** Text that must not be reflected (besides `<script`). */
  notReflected?: string[];
}

// --- unhandled errors --------------------------------------------------------------------------

/**
 * Collects the unhandled errors and rejections raised in this process (h3's test setup does the
 * same): an adapter that lets a promise reject unobserved, or throws from a callback the framework
 * does not catch, must fail the case that caused it, named, rather than the run as a whole.
 */
export interface UnhandledErrorTracker {
  /** Start listening (`uncaughtException`, `unhandledRejection`). */
  install(): void;
  /** Stop listening. */
  uninstall(): void;
  /** The listener itself (also called directly by the tracker's own tests). */
  record(error: unknown): void;
  /** Forget what was recorded (before each case). */
  reset(): void;
  /** Throws an Error naming `caseName` and every recorded error, if any were recorded. */
  check(caseName: string): void;
}

export function trackUnhandledErrors(): UnhandledErrorTracker {
  let seen: unknown[] = [];
  const record = (error: unknown) => {
    seen.push(error);
  };
  const describeError = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  return {
    install() {
      process.on('uncaughtException', record);
      process.on('unhandledRejection', record);
    },
    uninstall() {
      process.off('uncaughtException', record);
      process.off('unhandledRejection', record);
    },
    record,
    reset() {
      seen = [];
    },
    check(caseName) {
      if (seen.length === 0) return;
      const errors = seen;
      seen = [];
      throw new Error(`${errors.length} unhandled error(s) while "${caseName}" ran: ${errors.map(describeError).join('; ')}`, { cause: errors[0] });
    },
  };
}

// --- the harness ---------------------------------------------------------------------------------

/** What every case file receives: the fixtures (read inside a case: they are started in `beforeAll`) and the shared checks. */
export interface Harness {
  /** The case name with the adapter's suffix: `t('…')` → `'… (express)'`. */
  t(title: string): string;
  /** The apps' idle session lifetime (`session.rollingSec`); a session is re-issued once less than half is left. */
  rollingSec: number;
  /** The plain app at `/`. */
  readonly plain: App;
  /** The app mounted under `/app`. */
  readonly sub: App;
  /** An app behind a trusted proxy. */
  readonly proxied: App;
  /** An app with `responseMode: 'form_post'`. */
  readonly formPost: App;
  /** An app whose options bring their own ID token signature verifier (`client.verifySignature`, see {@link verifier}). */
  readonly ownVerifier: App;
  /**
   * The app the 429 cases use: a 429 makes its client wait for Okta's reset before calling that
   * endpoint of that org again, so those cases must not share an app with the others.
   */
  readonly limited: App;
  /** Server-side sessions in a store the cases can take down ({@link setSessionStoreDown}). */
  readonly storeBacked: App;
  /** The org holding two instances of the app (`acme`, `acme-2`). */
  readonly acmeOrg: OktaOrg;
  /** A second org (`globex`, which allows the simplified flow). */
  readonly globexOrg: OktaOrg;
  apps(): { plain: App; sub: App; proxied: App; formPost: App };
  orgs(): { acme: OktaOrg; globex: OktaOrg };
  /** What `ownVerifier`'s verifier saw, and whether it refuses every signature. */
  verifier: { calls: number; refuse: boolean };
  /** Take the `storeBacked` app's session store down (every call rejects) or bring it back. */
  setSessionStoreDown(down: boolean): void;
  /** Start one more app with the suite's options (the caller closes it). */
  start(basePath: string, trustProxy: boolean, extra?: Partial<OidcAuthOptions>): Promise<App>;
  record(app: App, id: TenantId, issuer: string, extra?: Partial<TenantRecord>): TenantRecord;
  /** Shift every app's clock (`client.now`) by `ms` from now on; 0 puts it back. */
  setClockOffset(ms: number): void;
  /** GET the login route; returns the response and the authorize URL it points to. */
  login(app: App, b: Browser, query: Record<string, string>): Promise<{ response: Response; authorize: URL }>;
  /** Send the callback request the emulator's browser flow produced. */
  callback(b: Browser, request: CallbackRequest, options?: { jar?: CookieJar; headers?: Record<string, string> }): Promise<Response>;
  /** A whole sign-in: login → emulator (auto-login) → callback. */
  signIn(app: App, tenant: TenantId, options?: { returnTo?: string }): Promise<{ b: Browser; request: CallbackRequest; response: Response; beforeCallback: CookieJar }>;
  /** login → emulator → the callback request, not sent yet. */
  pendingCallback(app: App, tenant?: TenantId): Promise<{ b: Browser; authorize: URL; request: CallbackRequest }>;
  clients: typeof CLIENTS;
  users: { acme: typeof USER; globex: typeof GLOBEX_USER; large: typeof LARGE_USER };
  counters(): OrgCounters;
  /** No call of any kind reached either org since `before`, except the endpoints in `except` (catalogue REJECT-CB: "must not call any other endpoints"). */
  expectNoOktaCall(before: OrgCounters, except?: Partial<Record<EmulatorEndpoint, boolean>>): void;
  /** The app still answers its public page. */
  expectServing(app: App): Promise<void>;
  /**
   * The REJECT-CB / REJECT-API checks shared by every refusal: the status and stable error code,
   * escaped content, no session cookie, the transaction cookie deleted or kept as asked, no
   * redirect, no further call to Okta after the failing check, `Cache-Control: no-store`, and that
   * the app keeps serving. Returns the body.
   */
  expectRejected(app: App, response: Response, expected: Rejection): Promise<string>;
  /**
   * A refused bearer call: 401 with this challenge, JSON naming `code`, the REJECT checks, and
   * exactly `introspections` calls to `/introspect` (of either org) since `before`.
   */
  expectApiRejected(app: App, response: Response, code: string, challenge: RegExp, before: OrgCounters, introspections?: number): Promise<void>;
  /**
   * A new app (cold JWKS/metadata caches) with its own org, so faults and caches of one case do not
   * touch the others. `client` merges into the app's client options (e.g. a short timeout).
   */
  isolated(
    client?: NonNullable<OidcAuthOptions['client']>,
    orgExtra?: { rateLimit?: { limit: number; windowSec?: number; enforce?: boolean } },
  ): Promise<{ app: App; org: OktaOrg; close: () => Promise<unknown> }>;
}

/**
 * Registers the suite's `beforeAll`/`afterAll` (start and stop the apps and orgs) and the
 * unhandled-error rule's `beforeEach`/`afterEach` in the calling `describe`, and returns the
 * harness the case files run on. `mount` is called once per app.
 */
export function createHarness(name: string, mount: AdapterMount): Harness {
  const t = (title: string) => `${title} (${name})`;
  let acmeOrg: OktaOrg | undefined;
  let globexOrg: OktaOrg | undefined;
  const fixed: Partial<Record<'plain' | 'sub' | 'proxied' | 'formPost' | 'ownVerifier' | 'limited' | 'storeBacked', App>> = {};
  const sessions = new MemorySessionStore();
  let sessionStoreDown = false;
  const down = () => Promise.reject(new Error('session store down'));
  const flakySessions = {
    get: (id: string) => (sessionStoreDown ? down() : sessions.get(id)),
    set: (id: string, session: Parameters<MemorySessionStore['set']>[1], ttlSec: number) => (sessionStoreDown ? down() : sessions.set(id, session, ttlSec)),
    delete: (id: string) => (sessionStoreDown ? down() : sessions.delete(id)),
  };
  /** Added to the apps' clock (core's `client.now`), to age sessions without waiting. */
  let clockOffsetMs = 0;
  const verifier = { calls: 0, refuse: false };
  const countingVerifier: SignatureVerifier = (alg, key, signature, signingInput) => {
    verifier.calls++;
    return verifier.refuse ? false : webCryptoVerifier(alg, key, signature, signingInput);
  };

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the conformance fixture ${what} is read before the suite's beforeAll started it`);
    return value;
  };
  const app = (key: keyof typeof fixed) => need(fixed[key], key);
  const orgs = () => ({ acme: need(acmeOrg, 'acmeOrg'), globex: need(globexOrg, 'globexOrg') });

  async function start(basePath: string, trustProxy: boolean, extra: Partial<OidcAuthOptions> = {}): Promise<App> {
    const store = createMemoryCredentialStore();
    const { client, ...rest } = extra;
    const authOptions: OidcAuthOptions = {
      store,
      session: { secret: SESSION_SECRET, rollingSec: ROLLING_SEC },
      tenant: 'query',
      // The emulator runs on 127.0.0.1: loopback issuers are refused unless allowed (catalogue SA-12).
      // `extra.client` adds to these (its own clock, a verifier, a short timeout), it does not replace them.
      client: { now: () => Date.now() + clockOffsetMs, allowLoopbackIssuers: true, ...client },
      ...rest,
    };
    const mounted = await mount({ authOptions, basePath, trustProxy });
    const origin = mounted.baseUrl.replace(/\/+$/, '');
    const url = (path: string) => `${origin}${basePath}${path}`;
    return { origin, base: basePath, store, mounted, url, browser: (jar) => browser(origin, jar) };
  }

  function record(target: App, id: TenantId, issuer: string, extra: Partial<TenantRecord> = {}): TenantRecord {
    return {
      id,
      issuer,
      ...CLIENTS[id],
      redirectUris: [target.url('/auth/callback')],
      postLogoutRedirectUris: [target.url('/')],
      initiateLoginUri: target.url('/auth/initiate'),
      ...extra,
    };
  }

  beforeAll(async () => {
    fixed.plain = await start('', false);
    fixed.sub = await start('/app', false);
    fixed.proxied = await start('', true);
    fixed.formPost = await start('', false, { responseMode: 'form_post' });
    fixed.ownVerifier = await start('', false, { client: { verifySignature: countingVerifier } });
    fixed.limited = await start('', false);
    fixed.storeBacked = await start('', false, { session: { secret: SESSION_SECRET, rollingSec: ROLLING_SEC, store: flakySessions } });
    const apps = Object.values(fixed);
    // One org holding two instances of the app (one client each, told apart by the tenant), and a second org.
    const client = (id: TenantId, tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post') => ({
      ...CLIENTS[id],
      tokenEndpointAuthMethod,
      redirectUris: apps.map((a) => a.url('/auth/callback')),
      postLogoutRedirectUris: apps.map((a) => a.url('/')),
      initiateLoginUri: app('plain').url('/auth/initiate'),
    });
    acmeOrg = await startOktaOrg({ name: 'acme', clients: [client('acme', 'client_secret_basic'), client('acme-2', 'client_secret_post')], users: [USER] });
    globexOrg = await startOktaOrg({ name: 'globex', clients: [client('globex', 'client_secret_basic')], users: [GLOBEX_USER, LARGE_USER] });
    for (const a of apps) {
      await a.store.put(record(a, 'acme', acmeOrg.issuer));
      await a.store.put(record(a, 'acme-2', acmeOrg.issuer, { tokenEndpointAuthMethod: 'client_secret_post' }));
      await a.store.put(record(a, 'globex', globexOrg.issuer, { allowSimplifiedFlow: true }));
    }
  });

  afterAll(async () => {
    await Promise.allSettled([...Object.values(fixed).map((a) => a.mounted.close()), acmeOrg?.close(), globexOrg?.close()]);
  });

  const unhandled = trackUnhandledErrors();
  beforeAll(() => unhandled.install());
  afterAll(() => unhandled.uninstall());
  beforeEach(() => unhandled.reset());
  afterEach(async (context) => {
    // A rejection left unobserved by the case's last step is reported once the microtasks drain.
    await new Promise<void>((resolve) => setImmediate(resolve));
    unhandled.check(context.task.name);
  });

  async function login(target: App, b: Browser, query: Record<string, string>) {
    const response = await b.fetch(`${target.url('/auth/login')}?${new URLSearchParams(query)}`);
    expect(response.status).toBe(302);
    return { response, authorize: new URL(response.headers.get('location') ?? '') };
  }

  function callback(b: Browser, request: CallbackRequest, options: { jar?: CookieJar; headers?: Record<string, string> } = {}): Promise<Response> {
    const target = options.jar ? browser(request.url.origin, options.jar) : b;
    if (request.method === 'GET') return target.fetch(request.url, { headers: { ...options.headers } });
    const init = form(request.body ?? '');
    return target.fetch(request.url, { ...init, headers: { ...init.headers, ...options.headers } });
  }

  async function signIn(target: App, tenant: TenantId, options: { returnTo?: string } = {}) {
    const b = target.browser();
    const { authorize } = await login(target, b, { tenant, ...(options.returnTo ? { returnTo: options.returnTo } : {}) });
    const request = await driveAuthorization(authorize);
    const beforeCallback = b.jar.clone();
    const response = await callback(b, request);
    return { b, request, response, beforeCallback };
  }

  async function pendingCallback(target: App, tenant: TenantId = 'acme') {
    const b = target.browser();
    const { authorize } = await login(target, b, { tenant });
    const request = await driveAuthorization(authorize);
    return { b, authorize, request };
  }

  function counters(): OrgCounters {
    const { acme, globex } = orgs();
    return { acme: acme.control.counters(), globex: globex.control.counters() };
  }

  function expectNoOktaCall(before: OrgCounters, except: Partial<Record<EmulatorEndpoint, boolean>> = {}) {
    const after = counters();
    for (const org of ['acme', 'globex'] as const) {
      for (const [endpoint, count] of Object.entries(after[org]) as [EmulatorEndpoint, number][]) {
        if (except[endpoint]) continue;
        expect(`${org} ${endpoint}: ${count}`).toBe(`${org} ${endpoint}: ${before[org][endpoint]}`);
      }
    }
  }

  async function expectServing(target: App) {
    const home = await fetch(target.url('/'), { redirect: 'manual' });
    expect(home.status).toBe(200);
    await home.text();
  }

  async function expectRejected(target: App, response: Response, expected: Rejection): Promise<string> {
    const body = await response.text();
    expect(response.status, body.slice(0, 300)).toBe(expected.status);
    if (typeof expected.code === 'string') expect(body).toContain(expected.code);
    else expect(body).toMatch(expected.code);
    // Nothing reflected unescaped; error pages carry no script at all (CSP default-src 'none').
    expect(body).not.toMatch(/<script/i);
    for (const text of expected.notReflected ?? []) expect(body).not.toContain(text);
    expect(response.headers.get('cache-control') ?? '').toMatch(/no-store/);
    expect(cookiesSet(response).filter((c) => SESSION_COOKIE.test(c.name))).toEqual([]);
    expect(cookiesSet(response).filter((c) => TX_COOKIE.test(c.name))).toEqual([]);
    if (expected.txDeleted) expect(setCookiesOf(response).some((c) => c.deletes && TX_COOKIE.test(c.name))).toBe(true);
    if (expected.txKept) expect(setCookiesOf(response).filter((c) => TX_COOKIE.test(c.name)).map((c) => c.name)).toEqual([]);
    expect(response.headers.get('location')).toBeNull();
    if (expected.before) expectNoOktaCall(expected.before, expected.allow);
    await expectServing(target);
    return body;
  }

  async function expectApiRejected(target: App, response: Response, code: string, challenge: RegExp, before: OrgCounters, introspections = 0) {
    expect(response.headers.get('www-authenticate') ?? '').toMatch(challenge);
    expect(response.headers.get('content-type') ?? '').toMatch(/application\/json/);
    const body = await expectRejected(target, response, { status: 401, code, before, allow: { introspect: true } });
    expect((JSON.parse(body) as { error: string }).error).toBe(code);
    expect(counters().acme.introspect + counters().globex.introspect - before.acme.introspect - before.globex.introspect).toBe(introspections);
  }

  async function isolated(client: NonNullable<OidcAuthOptions['client']> = {}, orgExtra: { rateLimit?: { limit: number; windowSec?: number; enforce?: boolean } } = {}) {
    const target = await start('', false, { client });
    const org = await startOktaOrg({
      name: 'isolated',
      clients: [
        {
          ...CLIENTS.acme,
          tokenEndpointAuthMethod: 'client_secret_basic',
          redirectUris: [target.url('/auth/callback')],
          postLogoutRedirectUris: [target.url('/')],
        },
      ],
      users: [USER],
      ...orgExtra,
    });
    await target.store.put(record(target, 'acme', org.issuer));
    return { app: target, org, close: () => Promise.allSettled([target.mounted.close(), org.close()]) };
  }

  return {
    t,
    rollingSec: ROLLING_SEC,
    get plain() {
      return app('plain');
    },
    get sub() {
      return app('sub');
    },
    get proxied() {
      return app('proxied');
    },
    get formPost() {
      return app('formPost');
    },
    get ownVerifier() {
      return app('ownVerifier');
    },
    get limited() {
      return app('limited');
    },
    get storeBacked() {
      return app('storeBacked');
    },
    get acmeOrg() {
      return orgs().acme;
    },
    get globexOrg() {
      return orgs().globex;
    },
    apps: () => ({ plain: app('plain'), sub: app('sub'), proxied: app('proxied'), formPost: app('formPost') }),
    orgs,
    verifier,
    setSessionStoreDown: (value) => {
      sessionStoreDown = value;
    },
    start,
    record,
    setClockOffset: (ms) => {
      clockOffsetMs = ms;
    },
    login,
    callback,
    signIn,
    pendingCallback,
    clients: CLIENTS,
    users: { acme: USER, globex: GLOBEX_USER, large: LARGE_USER },
    counters,
    expectNoOktaCall,
    expectServing,
    expectRejected,
    expectApiRejected,
    isolated,
  };
}
