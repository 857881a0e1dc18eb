/**
 * `createOidcAuth`: the framework-neutral flow layer (issue 4 §1). It routes the auth endpoints,
 * keeps the login transaction and the session in sealed cookies, and turns every outcome into a
 * plain {@link OidcResponse}. Adapters only translate requests and responses.
 */
import { decodeJwt } from 'jose';
import { sanitizeReturnTo } from '../authorize/return-to';
import { TRANSACTION_TTL_SEC } from '../authorize/transaction';
import { parseCallbackParams } from '../callback/parse-callback';
import { type CallbackParams, createOidcClient, isWarmAccessToken, type OidcClient, type SignInResult } from '../client';
import { createSealer } from '../crypto/seal';
import { isOidcError, OidcError } from '../errors';
import { type OidcSignInFlow, safeEventListener } from '../events';
import { randomToken } from '../internal/random';
import { isBearerTokenSyntax } from '../introspection/token-syntax';
import { DEFAULT_ABSOLUTE_SEC, type NewSession, type SessionRead, SessionManager } from '../session/session-manager';
import { TransactionCookies } from '../session/transaction-cookie';
import type { CookieContext, Session } from '../session/types';
import { MemoryCredentialStore } from '../tenant/credential-store';
import type { Tenant } from '../tenant/tenant';
import { emitWarning } from '../warnings';
import { configuredCookieSecurity, cookieSecurity } from './cookie-security';
import { isCrossSiteRequest, isSameOriginRequest, originHeader } from './fetch-metadata';
import { resolveAuthOptions } from './options';
import { errorResponse, headerOf, json, methodNotAllowed, NO_STORE, prefersJson, redirect } from './responses';
import { createLogoutReceivers } from './logout-receivers';
import { createSessionRevocations } from './session-revocations';
import { DECISION_FIELD, SessionSwitch, SWITCH_FIELD } from './session-switch';
import { createTenantBinding } from './tenant-binding';
import { type RouteTenant, resolveTenantId, routeTenantOf } from './tenant';
import type { OidcAuth, OidcAuthOptions, OidcRequest, OidcResponse } from './types';

type RouteName = 'login' | 'callback' | 'initiate' | 'logout' | 'universalLogout' | 'backchannelLogout';

const ALLOWED_METHODS: Record<RouteName, readonly string[]> = {
  login: ['GET'],
  // GET for response_mode=query, POST for form_post and the Okta simplified flow.
  callback: ['GET', 'POST'],
  // OIDC Core §4: the initiator may use a GET query or an auto-submitted form POST (catalogue TP-07).
  initiate: ['GET', 'POST'],
  // GET per the route contract; POST too, so an app can sign out from a form.
  logout: ['GET', 'POST'],
  // Server-to-server requests from the identity provider (issue 12): POST only.
  universalLogout: ['POST'],
  backchannelLogout: ['POST'],
};

/** `login_hint` is only a hint (OIDC Core §3.1.2.1): an over-long or control-laden one is dropped (catalogue TP-06). */
const MAX_LOGIN_HINT_LENGTH = 256;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

/** A request path URL parsing leaves unchanged (WHATWG URL path state: no `.`, `%`, `\\` or code point to encode). */
const PLAIN_PATH = /^\/[A-Za-z0-9/_~-]*$/;

/** RFC 6750 §3: the realm every `WWW-Authenticate: Bearer` challenge names. */
const REALM = 'oin-oidc';

/**
 * What a sign-in route reports in its `sign-in` event (issue 16 §4); made only when a listener is
 * installed. `flow` is cleared once reported (or when the route turns out not to be a sign-in).
 */
interface SignInAttempt {
  flow: OidcSignInFlow | undefined;
  /** Set from the sealed transaction or the store, never from request input alone. */
  tenantId?: string;
}

/**
 * Create the sign-in flow. Validates the options once (ERR_OIDC_INVALID_OPTIONS naming the field),
 * builds the {@link OidcClient}, and starts deriving the cookie keys, so requests do no setup work.
 *
 * @example
 * ```ts
 * const auth = createOidcAuth({
 *   store: tenants,                                   // TenantRecord[] or a CredentialStore
 *   session: { secret: process.env.SESSION_SECRET!.split(',') },
 * });
 * const response = await auth.handle(fromWebRequest(request));   // null → not an auth route
 * ```
 */
export function createOidcAuth(options: OidcAuthOptions): OidcAuth {
  const resolved = resolveAuthOptions(options);
  const store = Array.isArray(resolved.store) ? new MemoryCredentialStore(resolved.store) : resolved.store;
  const client: OidcClient = createOidcClient({ ...(resolved.client ?? {}), store });
  const now = resolved.client?.now ?? Date.now;
  const onWarning = resolved.client?.onWarning;
  const onEvent = safeEventListener(resolved.client?.onEvent);
  const warn = (code: string, message: string, tenantId?: string) => emitWarning(onWarning, { code, message, ...(tenantId === undefined ? {} : { tenantId }) });
  const sealer = createSealer(resolved.secrets, { now });
  const absoluteMs = (resolved.session.absoluteSec ?? DEFAULT_ABSOLUTE_SEC) * 1000;
  const revocations = createSessionRevocations({
    ...(resolved.session.revocationStore ? { store: resolved.session.revocationStore } : {}),
    ...(resolved.session.revocations ? { list: resolved.session.revocations } : {}),
    now,
    onLoadFailure: () =>
      warn(
        'WARN_OIDC_REVOCATIONS_NOT_LOADED',
        'The shared revocation list could not be loaded; sessions revoked elsewhere are refused once it reconnects (docs/deployment.md).',
      ),
  });
  const binding = createTenantBinding(store, now);
  const receivers = createLogoutReceivers({
    client,
    revocations,
    sessionStore: resolved.session.store,
    absoluteMs,
    now,
    // The exact URL Okta signs as `aud`: the configured origin (never a Host a proxy rewrote), the mount point, the route.
    endpointUrl: (req) => `${appOrigin(req)}${basePathOf(req)}${routes.universalLogout}`,
    onLogoutRequest: resolved.onLogoutRequest,
  });
  const sessions = new SessionManager({
    sealer,
    cookieName: resolved.session.cookieName,
    rollingSec: resolved.session.rollingSec,
    absoluteSec: resolved.session.absoluteSec,
    store: resolved.session.store,
    claims: resolved.session.claims,
    now,
    // Every read, the warm one included: not logged out (item 5), and still the tenant it was signed in with (item 14).
    accept: (session) => {
      const revoked = revocations.isRevoked(session);
      if (revoked === true) return false;
      if (revoked === false) return binding.holds(session);
      return revoked.then((yes) => (yes ? false : binding.holds(session)));
    },
  });
  const transactions = new TransactionCookies(sealer, { cookieName: resolved.session.cookieName });
  const switches = new SessionSwitch(sealer, resolved.session.cookieName);
  const { routes, tenant: tenantMode, afterLogoutPath, responseMode, onError } = resolved;
  const isSecure = cookieSecurity(configuredCookieSecurity(resolved.baseUrl, Array.isArray(resolved.store) ? resolved.store : undefined));
  // Derive the purposes' keys now rather than on the first request (HKDF through Web Crypto is async).
  sessions.warm();
  sealer.seal({}, 'transaction', 1).catch(() => {});

  function cookieContext(req: OidcRequest, cookieHeader: string | null = headerOf(req, 'cookie')): CookieContext {
    // From configuration when it says (baseUrl, or records that are all https or all loopback http);
    // else secure everywhere except plain http on a loopback host (development).
    return { cookieHeader, secure: isSecure(req) };
  }

  /** The app's external origin: the configured `baseUrl`'s, else the request's. */
  function appOrigin(req: OidcRequest): string {
    return resolved.baseUrl?.origin ?? req.origin ?? req.url.origin;
  }

  function basePathOf(req: OidcRequest): string {
    return req.basePath.endsWith('/') ? req.basePath.slice(0, -1) : req.basePath;
  }

  const routeSuffixes = [routes.login, routes.callback, routes.initiate, routes.logout, routes.universalLogout, routes.backchannelLogout];
  const loginSegment = `${routes.login}/`;
  function endsWithRoute(path: string): boolean {
    for (const route of routeSuffixes) if (path.endsWith(route)) return true;
    return false;
  }

  function match(req: OidcRequest): { route: RouteName; pathTenant?: string } | null {
    // A plain raw path is exactly what URL parsing would give (no dot segments, nothing to encode),
    // so most requests are matched by string comparison without parsing a URL.
    const path = req.path !== undefined && PLAIN_PATH.test(req.path) ? req.path : req.url.pathname;
    // Every auth route's path ends with its route (or, in 'path' mode, holds `<login>/`): a request
    // for any other path is answered without reading basePath, which some adapters compute lazily.
    if (!endsWithRoute(path) && !(tenantMode === 'path' && path.includes(loginSegment))) return null;
    const base = basePathOf(req);
    if (base !== '' && !path.startsWith(`${base}/`)) return null;
    const rest = path.slice(base.length);
    if (rest === routes.login) return { route: 'login' };
    if (rest === routes.callback) return { route: 'callback' };
    if (rest === routes.initiate) return { route: 'initiate' };
    if (rest === routes.logout) return { route: 'logout' };
    if (rest === routes.universalLogout) return { route: 'universalLogout' };
    if (rest === routes.backchannelLogout) return { route: 'backchannelLogout' };
    if (tenantMode === 'path' && rest.startsWith(`${routes.login}/`)) {
      const segment = rest.slice(routes.login.length + 1);
      if (segment === '' || segment.includes('/')) return null;
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        decoded = '\u0000'; // refused by the tenant id check
      }
      return { route: 'login', pathTenant: decoded };
    }
    return null;
  }

  async function getTenant(tenantId: string | undefined): Promise<Tenant> {
    if (tenantId === undefined) {
      throw new OidcError('ERR_OIDC_INVALID_REQUEST', 'No tenant was given: choose an organisation to sign in with.', { details: { parameter: 'tenant' } });
    }
    return client.getTenant(tenantId);
  }

  /** The registered redirect URI that points at this callback route, else the tenant's first. */
  function redirectUriFor(tenant: Tenant, req: OidcRequest): string | undefined {
    const own = `${appOrigin(req)}${basePathOf(req)}${routes.callback}`;
    return tenant.redirectUris.find((uri) => uri === own) ?? tenant.redirectUris[0];
  }

  /** The origins Okta posts from for `tenant`: its issuer's, and any custom domain the record lists (derived once per tenant). */
  const oktaOrigins = new WeakMap<Tenant, ReadonlySet<string>>();
  function oktaOriginsOf(tenant: Tenant): ReadonlySet<string> {
    let origins = oktaOrigins.get(tenant);
    if (origins === undefined) {
      origins = new Set([new URL(tenant.issuer).origin, ...tenant.oktaOrigins]);
      oktaOrigins.set(tenant, origins);
    }
    return origins;
  }

  /**
   * A cross-site POST from Okta (a form_post callback, an auto-submitted initiate form) that carries
   * an `Origin` must carry one of the tenant's Okta origins (issue 17 item 4): a second layer over
   * state and PKCE. Browsers send `Origin` on every cross-origin POST; `null` (a sandboxed frame, a
   * redirect chain) is refused; no `Origin` at all (a non-browser client) is left to the protocol checks.
   */
  function checkPostOrigin(req: OidcRequest, tenant: Tenant): void {
    if (!carriesPostOrigin(req)) return;
    const origin = originHeader(req)!;
    if (origin === 'null' || !oktaOriginsOf(tenant).has(origin)) {
      throw new OidcError('ERR_OIDC_ORIGIN_NOT_ALLOWED', "This sign-in request was not sent by the organisation's Okta sign-in page.", { details: { tenantId: tenant.id } });
    }
  }

  /** Whether {@link checkPostOrigin} has anything to check (so a GET callback never loads the tenant for it). */
  function carriesPostOrigin(req: OidcRequest): boolean {
    return req.method === 'POST' && originHeader(req) !== undefined;
  }

  const warnedInsecure = new Set<string>();
  async function startLogin(req: OidcRequest, tenant: Tenant, returnTo: string, loginHint: string | undefined): Promise<OidcResponse> {
    const hint = loginHint !== undefined && loginHint !== '' && loginHint.length <= MAX_LOGIN_HINT_LENGTH && !CONTROL.test(loginHint) ? loginHint : undefined;
    const redirectUri = redirectUriFor(tenant, req);
    const { url, transaction } = await client.createAuthorizationRequest(tenant, {
      ...(redirectUri === undefined ? {} : { redirectUri }),
      returnTo,
      ...(hint === undefined ? {} : { loginHint: hint }),
      // query is the default response mode of the code flow: only form_post is sent explicitly.
      ...(responseMode === 'form_post' ? { responseMode } : {}),
    });
    const context = cookieContext(req);
    // Development cookies for a tenant registered on https: cookie security followed the Host
    // header, which a proxy may have rewritten (item 19). Said once per tenant.
    if (!context.secure && redirectUri?.startsWith('https:') && !warnedInsecure.has(tenant.id) && warnedInsecure.size < 1000) {
      warnedInsecure.add(tenant.id);
      warn('WARN_OIDC_COOKIES_NOT_SECURE', `Tenant "${tenant.id}" registers https redirect URIs, but this request arrived as plain http on a loopback host, so its cookies are not Secure. Set baseUrl to the app's https origin (or configure trust-proxy).`, tenant.id);
    }
    const pruned = await transactions.prune(context);
    const cookie = await transactions.create(transaction, context.secure, { crossSite: isCrossSiteRequest(req) });
    return redirect(url.href, [...pruned, cookie]);
  }

  async function login(req: OidcRequest, pathTenant: string | undefined): Promise<OidcResponse> {
    const params = req.url.searchParams;
    refuseDuplicates(params, ['tenant', 'returnTo', 'login_hint']);
    const tenant = await getTenant(await resolveTenantId(tenantMode, req, pathTenant));
    return startLogin(req, tenant, sanitizeReturnTo(params.get('returnTo') ?? undefined, '/'), params.get('login_hint') ?? undefined);
  }

  function newSessionOf(result: SignInResult): NewSession {
    return {
      tenant: result.tenant.id,
      issuer: result.tenant.issuer,
      clientId: result.tenant.clientId,
      sub: result.claims.sub,
      claims: sessions.pickClaims(result.claims),
      idToken: result.idToken,
    };
  }

  /** The live session this browser holds now, if any (any failure to read it counts as none). */
  async function liveSession(context: CookieContext): Promise<Session | null> {
    if (context.cookieHeader === null) return null;
    try {
      return (await sessions.read(context)).session;
    } catch {
      return null;
    }
  }

  /** Start the session, ending (and revoking) the one it replaces. */
  async function startSession(context: CookieContext, input: NewSession, returnTo: string, pending: string[], replaced: Session | null): Promise<OidcResponse> {
    if (replaced !== null) await revocations.revoke(replaced.id, replaced.issuedAt + absoluteMs);
    const { setCookies } = await sessions.create(context, input);
    return redirect(sanitizeReturnTo(returnTo, '/'), [...pending, ...setCookies]);
  }

  async function signIn(req: OidcRequest, result: SignInResult, returnTo: string, pending: string[]): Promise<OidcResponse> {
    binding.remember(result.tenant);
    const context = cookieContext(req);
    const input = newSessionOf(result);
    const current = await liveSession(context);
    // Another tenant's or another user's live session is not replaced silently: a malicious tenant
    // could otherwise sign the victim into the attacker's account (item 13). Same user, same
    // tenant: a plain re-login.
    if (current !== null && (current.tenant !== input.tenant || current.sub !== input.sub)) {
      if (prefersJson(req)) {
        const error = new OidcError('ERR_OIDC_SESSION_CONFLICT', 'This browser is signed in as another user; sign out first.');
        return json(409, error.toJSON(), pending);
      }
      const held = await switches.hold(input, returnTo, context.secure);
      return switches.page(`${basePathOf(req)}${routes.callback}`, current, input, held.value, [...pending, held.cookie]);
    }
    return startSession(context, input, returnTo, pending, current);
  }

  /** The confirmation page's POST: switch to the held sign-in, or keep the current session. */
  async function confirmSwitch(req: OidcRequest, params: CallbackParams, pending: string[]): Promise<OidcResponse> {
    // Only the app's own page may confirm (a cross-site form could otherwise press the button).
    if (!isSameOriginRequest(req, appOrigin(req))) {
      throw new OidcError('ERR_OIDC_ORIGIN_NOT_ALLOWED', 'Confirm the account switch from this application.');
    }
    const context = cookieContext(req);
    const taken = await switches.take(context, params[SWITCH_FIELD] ?? '');
    pending.push(...taken.setCookies);
    if (taken.pending === undefined) {
      throw new OidcError('ERR_OIDC_SESSION_CONFLICT', 'The account switch expired or was already answered; sign in again.');
    }
    if (params[DECISION_FIELD] !== 'continue') return redirect('/', pending);
    const { session: input, returnTo } = taken.pending;
    const tenant = await client.getTenant(input.tenant);
    // The record may have changed in the minutes the page was open (item 14).
    if (tenant.issuer !== input.issuer || tenant.clientId !== input.clientId) throw new OidcError('ERR_OIDC_SESSION_CONFLICT', 'The organisation changed since this sign-in; sign in again.');
    return startSession(context, input, returnTo, pending, await liveSession(context));
  }

  /**
   * The Okta simplified flow's form post must come from the org (item 4): browsers always send
   * `Origin` on a cross-origin POST, and Okta's auto-submitted page has the org's origin (or a
   * custom domain the tenant lists). Checked before any key fetch or validation. The allowed set
   * is built from the token's unverified `iss` alone (and the tenants of that issuer), so an
   * unknown issuer is not told apart from a known one here.
   */
  async function checkSimplifiedOrigin(req: OidcRequest, idToken: string): Promise<void> {
    const origin = originHeader(req);
    const refuse = () => new OidcError('ERR_OIDC_ORIGIN_NOT_ALLOWED', "The ID token was not posted by the organisation's Okta sign-in page.");
    if (origin === undefined || origin === 'null') throw refuse();
    let issuer: unknown;
    try {
      issuer = decodeJwt(idToken).iss;
    } catch {
      return; // not a JWT: the simplified flow refuses it with its own error
    }
    const issuerOrigin = typeof issuer === 'string' ? URL.parse(issuer)?.origin : undefined;
    if (issuerOrigin === undefined) return;
    if (origin === issuerOrigin) return;
    const tenants = await client.store.findByIssuer(issuer as string).catch(() => []);
    if (!tenants.some((tenant) => oktaOriginsOf(tenant).has(origin))) throw refuse();
  }

  async function callback(req: OidcRequest, pending: string[], attempt: SignInAttempt | undefined): Promise<OidcResponse> {
    const context = cookieContext(req);
    const contentType = headerOf(req, 'content-type');
    // A request that does not parse consumes nothing: the logins in flight stay (item 8).
    const params: CallbackParams = parseCallbackParams({
      method: req.method,
      url: req.url,
      ...(req.method === 'POST' ? { body: await req.readBody() } : {}),
      ...(contentType === null ? {} : { contentType }),
    });

    if (req.method === 'POST' && params[SWITCH_FIELD] !== undefined) {
      if (attempt !== undefined) attempt.flow = undefined; // the sign-in it confirms was reported when it was validated
      return confirmSwitch(req, params, pending);
    }

    // Okta simplified flow: an ID token form_posted with no state and no code (catalogue FP-03).
    // The client refuses it unless the tenant has allowSimplifiedFlow, validates it fully and
    // records it in the replay cache (FP-07). No transaction is involved, so none is touched.
    if (req.method === 'POST' && params['id_token'] !== undefined && params['state'] === undefined && params['code'] === undefined) {
      if (attempt !== undefined) attempt.flow = 'simplified';
      await checkSimplifiedOrigin(req, params['id_token']);
      const route = await routeTenantOf(tenantMode, req);
      if (route.error !== undefined) throw route.error;
      const result = await client.handleSimplifiedFlow(params['id_token'], route.id === undefined ? undefined : { tenantId: route.id });
      checkPostOrigin(req, result.tenant);
      signInOutcome(attempt, result.tenant.id);
      return signIn(req, result, '/', pending);
    }

    const state = params['state'];
    const taken = await transactions.take(context, state);
    pending.push(...taken.setCookies);
    if (taken.status !== 'ok') {
      // A stale (back button) or replayed callback while signed in: go home, reprocess nothing and
      // call Okta for nothing (catalogue CB-03, CB-08).
      if (state !== undefined && (await liveSession(context)) !== null) return redirect('/', pending);
      if (state === undefined) throw new OidcError('ERR_OIDC_STATE_MISSING', 'The sign-in response carries no state.');
      if (taken.status === 'invalid') {
        throw new OidcError(taken.code, taken.code === 'ERR_OIDC_TRANSACTION_EXPIRED' ? 'The sign-in took too long; start again.' : 'The sign-in transaction is invalid; start again.');
      }
      if (taken.others) throw new OidcError('ERR_OIDC_STATE_MISMATCH', 'The sign-in response does not match a sign-in started in this browser.');
      throw new OidcError('ERR_OIDC_TRANSACTION_INVALID', 'No sign-in is in progress in this browser (the transaction cookie is missing or expired); start again.');
    }
    const transaction = taken.transaction;
    if (attempt !== undefined) attempt.tenantId = transaction.tenantId;
    // The response must arrive the way it was requested (catalogue CB-13, Form Post Response Mode §2).
    const expected = transaction.responseMode === 'form_post' ? 'POST' : 'GET';
    if (req.method !== expected) {
      throw new OidcError('ERR_OIDC_CALLBACK_INVALID', `The sign-in response arrived by ${req.method}, but ${expected} was requested.`);
    }
    // The sealer enforces the TTL with the same clock; this also covers transactions from a longer-TTL sealer.
    if (now() - transaction.createdAt > TRANSACTION_TTL_SEC * 1000) throw new OidcError('ERR_OIDC_TRANSACTION_EXPIRED', 'The sign-in took too long; start again.');
    if (carriesPostOrigin(req)) checkPostOrigin(req, await client.getTenant(transaction.tenantId));
    const result = await client.handleCallback(params, transaction);
    signInOutcome(attempt, result.tenant.id);
    return signIn(req, result, transaction.returnTo, pending);
  }

  async function initiate(req: OidcRequest, attempt: SignInAttempt | undefined): Promise<OidcResponse> {
    const params = req.method === 'POST' ? new URLSearchParams(await req.readBody()) : req.url.searchParams;
    toParams(params); // refuses duplicated parameters
    const { tenant, loginHint, returnTo } = await client.resolveInitiateLogin(params, appOrigin(req));
    if (attempt !== undefined) attempt.tenantId = tenant.id;
    checkPostOrigin(req, tenant);
    const response = await startLogin(req, tenant, sanitizeReturnTo(returnTo, '/'), loginHint);
    signInOutcome(attempt, tenant.id);
    return response;
  }

  async function logout(req: OidcRequest, pending: string[]): Promise<OidcResponse> {
    const context = cookieContext(req);
    // Local state goes first (catalogue LO-01): the deletions are sent even if the store fails.
    pending.push(...sessions.deletions(context));
    const { session } = await sessions.destroy(context);
    if (!session) return redirect(afterLogoutPath, pending);
    // A copy of the cookie taken before logout no longer opens a session (item 5).
    await revocations.revoke(session.id, session.issuedAt + absoluteMs);
    // Without an ID token Okta's /logout shows an error page (catalogue LO-02): stay local.
    if (session.idToken === undefined) return redirect(afterLogoutPath, pending);
    // Ending the user's Okta session ends it for every app of that customer: only when the app's
    // own page asked (item 6). A cross-site link or form logs out of this app only.
    if (!isSameOriginRequest(req, appOrigin(req))) return redirect(afterLogoutPath, pending);
    let tenant: Tenant;
    try {
      tenant = await client.getTenant(session.tenant);
    } catch {
      return redirect(afterLogoutPath, pending); // the tenant was removed since sign-in
    }
    // Only a registered URI, never one from the request (catalogue LO-03).
    const own = new URL(afterLogoutPath, appOrigin(req)).href;
    const postLogoutRedirectUri = tenant.postLogoutRedirectUris.find((uri) => uri === own) ?? tenant.postLogoutRedirectUris[0];
    const url = client.buildLogoutUrl(tenant, {
      idTokenHint: session.idToken,
      ...(postLogoutRedirectUri === undefined ? {} : { postLogoutRedirectUri }),
      // Never checked on return: a post-logout redirect is not an authentication event (LO-05).
      state: randomToken(16),
    });
    return redirect(url.href, pending);
  }

  /**
   * The `sign-in` event, once per attempt: success once the provider's answer is validated (with the
   * tenant it is for), failure with the error's code when the route throws before that.
   */
  function signInOutcome(attempt: SignInAttempt | undefined, tenantId: string | undefined, error?: unknown): void {
    if (onEvent === undefined || attempt?.flow === undefined) return;
    const flow = attempt.flow;
    attempt.flow = undefined;
    onEvent({
      type: 'sign-in',
      flow,
      outcome: error === undefined ? 'success' : 'failure',
      ...(tenantId === undefined ? {} : { tenantId }),
      ...(isOidcError(error) ? { errorCode: error.code } : {}),
    });
  }

  function report(error: unknown, route: RouteName | 'bearer' | 'session', correlationId: string): void {
    if (!onError) return;
    try {
      onError(error, { route, correlationId });
    } catch {
      // A failing logger must not change the response.
    }
  }

  async function handle(req: OidcRequest): Promise<OidcResponse | null> {
    let matched: ReturnType<typeof match>;
    try {
      matched = match(req);
    } catch {
      return null;
    }
    if (matched === null) return null;
    const { route, pathTenant } = matched;
    const correlationId = randomToken(9);
    if (!ALLOWED_METHODS[route].includes(req.method)) return methodNotAllowed(req, ALLOWED_METHODS[route], correlationId);
    const pending: string[] = [];
    // The sign-in routes report their outcome (issue 16 §4), only to a listener.
    const attempt: SignInAttempt | undefined =
      onEvent !== undefined && (route === 'callback' || route === 'initiate') ? { flow: route === 'initiate' ? 'initiate' : 'code' } : undefined;
    try {
      switch (route) {
        case 'login':
          return await login(req, pathTenant);
        case 'callback':
          return await callback(req, pending, attempt);
        case 'initiate':
          return await initiate(req, attempt);
        case 'logout':
          return await logout(req, pending);
        case 'universalLogout':
          return await receivers.universalLogout(req);
        case 'backchannelLogout':
          return await receivers.backchannelLogout(req);
      }
    } catch (error) {
      report(error, route, correlationId);
      signInOutcome(attempt, attempt?.tenantId, error);
      try {
        return errorResponse(req, error, correlationId, pending);
      } catch {
        return { status: 500, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': NO_STORE }, setCookies: pending, body: 'Internal error\n' };
      }
    }
  }

  /**
   * One session read per request: an app's middleware and the `requiresAuth()` guard both ask for the
   * session of the same {@link OidcRequest}, and the second call reuses the first one's result (and
   * its cookies, which the adapter sends once). Keyed weakly: it lives exactly as long as the request.
   */
  // Kept on the request object under this instance's own symbol (a WeakMap entry per request costs
  // ~0.2 µs in ephemeron bookkeeping and GC); a frozen request object falls back to the WeakMap.
  const READ = Symbol('oin-oidc.session-read');
  type RequestSession = { read: Promise<SessionRead>; route: RouteTenant | Promise<RouteTenant> | undefined };
  const sessionReads = new WeakMap<OidcRequest, RequestSession>();
  type Memo = { [READ]?: RequestSession };
  const NO_SESSION: Promise<SessionRead> = Promise.resolve(Object.freeze({ session: null, setCookies: Object.freeze([]) as unknown as string[] }));

  function memoOf(req: OidcRequest): RequestSession {
    let memo = (req as Memo)[READ] ?? sessionReads.get(req);
    if (memo === undefined) {
      memo = { read: NO_SESSION, route: undefined };
      // No Cookie header, no session: answered without the URL (the cookie name depends on its
      // scheme) and without resolving the route's tenant (a tenant function runs only when needed).
      const cookie = headerOf(req, 'cookie');
      if (cookie) {
        try {
          const route = routeOf(req, memo);
          const read = sessions.read(cookieContext(req, cookie));
          // Most requests name no tenant: the session needs no second look, and no promise is added.
          memo.read = route instanceof Promise || route.error !== undefined || route.id !== undefined ? forRoute(read, route) : read;
        } catch (error) {
          memo.read = Promise.reject(error);
        }
      }
      if (Object.isExtensible(req)) (req as Memo)[READ] = memo;
      else sessionReads.set(req, memo);
    }
    return memo;
  }

  /** The tenant the request's route names, resolved at most once per request. */
  function routeOf(req: OidcRequest, memo: RequestSession): RouteTenant | Promise<RouteTenant> {
    memo.route ??= routeTenantOf(tenantMode, req);
    return memo.route;
  }

  /**
   * The request's session as this route may see it: a session of another tenant than the one the
   * route names, or on a route whose tenant cannot be resolved, reads as signed out (catalogue
   * MT-08, items 3 and 15); its cookie is kept, since it is valid on its own tenant's routes.
   */
  function sessionOf(req: OidcRequest): { read: Promise<SessionRead>; route: RouteTenant | Promise<RouteTenant> } {
    const memo = memoOf(req);
    return { read: memo.read, route: routeOf(req, memo) };
  }

  async function forRoute(read: Promise<SessionRead>, route: RouteTenant | Promise<RouteTenant>): Promise<SessionRead> {
    const [result, tenant] = await Promise.all([read, route]);
    if (result.session === null) return result;
    if (tenant.error !== undefined || (tenant.id !== undefined && tenant.id !== result.session.tenant)) return { session: null, setCookies: result.setCookies };
    return result;
  }

  function getSession(req: OidcRequest): Promise<SessionRead> {
    return memoOf(req).read;
  }

  function loginLocation(req: OidcRequest, tenantId: string | undefined): string {
    const returnTo = `${req.url.pathname}${req.url.search}`;
    let path = `${basePathOf(req)}${routes.login}`;
    const query = new URLSearchParams({ returnTo });
    if (tenantId !== undefined) {
      if (tenantMode === 'path') path += `/${encodeURIComponent(tenantId)}`;
      else if (tenantMode !== 'host' && tenantMode !== 'subdomain') query.set('tenant', tenantId);
    }
    return `${path}?${query}`;
  }

  /** API-style: the client prefers JSON, or the method is not one a browser navigates with. */
  function isApiRequest(req: OidcRequest): boolean {
    return prefersJson(req) || (req.method !== 'GET' && req.method !== 'HEAD');
  }

  async function requireSession(req: OidcRequest) {
    let read: SessionRead;
    let route: RouteTenant;
    try {
      const memo = sessionOf(req);
      read = await memo.read;
      route = await memo.route;
    } catch (error) {
      return { response: errorResponse(req, error, randomToken(9)) };
    }
    // A route whose tenant cannot be resolved is refused, never treated as naming none (item 15).
    if (route.error !== undefined) return { response: errorResponse(req, route.error, randomToken(9), read.setCookies) };
    // sessionOf already dropped a session of another tenant than the route's (catalogue MT-08).
    if (read.session) return { session: read.session, setCookies: read.setCookies };
    if (isApiRequest(req)) {
      const error = new OidcError('ERR_OIDC_SESSION_MISSING', 'Sign in first.');
      return { response: json(401, error.toJSON(), read.setCookies) };
    }
    return { response: redirect(loginLocation(req, route.id), read.setCookies) };
  }

  function bearerChallenge(error: OidcError, invalidToken: boolean): OidcResponse {
    // RFC 6750 §3.1: no error attribute when the request carried no credentials at all.
    const challenge = invalidToken ? `Bearer realm="${REALM}", error="invalid_token"` : `Bearer realm="${REALM}"`;
    return json(401, error.toJSON(), [], { 'WWW-Authenticate': challenge });
  }

  async function requireAccessToken(req: OidcRequest, options: { tenantId?: string } = {}) {
    // RFC 6750 §2.1: `Authorization: Bearer <b64token>`, scheme case-insensitive, one space. Several
    // Authorization headers arrive comma-joined from Headers.get and so fail the token syntax.
    const header = headerOf(req, 'authorization');
    const space = header === null ? -1 : header.indexOf(' ');
    const scheme = header === null ? '' : space === -1 ? header : header.slice(0, space);
    if (header === null || header.trim() === '' || scheme.toLowerCase() !== 'bearer') {
      // No credentials, or another scheme we do not support: a bare challenge (RFC 6750 §3.1).
      return { response: bearerChallenge(new OidcError('ERR_OIDC_ACCESS_TOKEN_MISSING', 'A bearer access token is required.'), false) };
    }
    const token = space === -1 ? '' : header.slice(space + 1);
    // A token this process already found active passed the syntax check then: skip the regex.
    if (!isWarmAccessToken(client, token) && !isBearerTokenSyntax(token)) {
      return { response: bearerChallenge(new OidcError('ERR_OIDC_ACCESS_TOKEN_INVALID', 'The bearer access token is malformed.'), true) };
    }
    try {
      const tenantId = options.tenantId ?? (await resolveTenantId(tenantMode, req));
      if (tenantId === undefined) {
        const error = new OidcError('ERR_OIDC_INVALID_REQUEST', 'No tenant was given for this access token.', { details: { parameter: 'tenant' } });
        return { response: json(400, error.toJSON(), [], { 'WWW-Authenticate': `Bearer realm="${REALM}", error="invalid_request"` }) };
      }
      const tenant = await client.getTenant(tenantId);
      // The caller's address gets its own small budget for tokens only Okta can judge (item 1).
      const active = await client.introspect(tenant, token, req.clientAddress === undefined ? undefined : { caller: req.clientAddress });
      return { token: active, tenant };
    } catch (error) {
      // Drawn only on failure: a CSPRNG call per successful request is wasted work.
      const correlationId = randomToken(9);
      report(error, 'bearer', correlationId);
      if (isOidcError(error) && error.code.startsWith('ERR_OIDC_ACCESS_TOKEN_')) return { response: bearerChallenge(error, true) };
      // An API answers JSON whatever it accepts; Okta trouble keeps its 502/503/504 and Retry-After.
      const known = isOidcError(error) ? error : undefined;
      const headers: Record<string, string> = {};
      if (known?.retryAfter !== undefined && Number.isFinite(known.retryAfter)) headers['Retry-After'] = String(Math.max(0, Math.ceil(known.retryAfter)));
      const body = { error: known?.code ?? 'internal_error', message: known?.message ?? 'An unexpected error occurred.', correlationId };
      return { response: json(known?.status ?? 500, body, [], headers) };
    }
  }

  /** What the session middleware answers when `getSession` threw (a session store that failed): reported to `onError`. */
  function errorResponseFor(req: OidcRequest, error: unknown): OidcResponse {
    const correlationId = randomToken(9);
    report(error, 'session', correlationId);
    return errorResponse(req, error, correlationId);
  }

  return Object.freeze({ client, handle, getSession, requireSession, requireAccessToken, errorResponse: errorResponseFor });
}

/**
 * Callback and initiate parameters, one value per name. A duplicated parameter is refused
 * (RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once").
 */
function toParams(source: URLSearchParams): CallbackParams {
  // No prototype: a parameter named __proto__ or constructor is just a name.
  const params = Object.create(null) as CallbackParams;
  for (const [name, value] of source) {
    if (Object.hasOwn(params, name)) {
      throw new OidcError('ERR_OIDC_DUPLICATE_PARAMETER', 'A parameter appears more than once.', { details: { parameter: name.slice(0, 64) } });
    }
    params[name] = value;
  }
  return params;
}

function refuseDuplicates(params: URLSearchParams, names: readonly string[]): void {
  for (const name of names) {
    if (params.getAll(name).length > 1) throw new OidcError('ERR_OIDC_DUPLICATE_PARAMETER', `The ${name} parameter appears more than once.`, { details: { parameter: name } });
  }
}
