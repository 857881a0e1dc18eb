/**
 * `createOidcClient`: validates options once and composes the protocol engine (transport, JWKS,
 * discovery, client authentication, DPoP, introspection, …) for every tenant in the store.
 */
import { type AuthorizationRequestOptions, buildAuthorizationRequest } from './authorize/build-authorization-request';
import { parseTransaction, type Transaction } from './authorize/transaction';
import { handleCallback as runCallback, type SignInResult } from './callback/handle-callback';
import type { CallbackParams } from './callback/parse-callback';
import { createDiscoveryCache } from './discovery/discover';
import { createDpopKeyPair, type DpopKeyPair } from './dpop/dpop';
import { OidcError, isOidcError } from './errors';
import { safeEventListener } from './events';
import { createTransport } from './http/transport';
import { type LogoutJwtClaims, type LogoutJwtKind, validateLogoutJwt } from './tokens/validate-logout-jwt';
import { resolveInitiateLogin } from './initiate/initiate-login';
import { type ActiveToken, createIntrospector, type IntrospectOptions } from './introspection/introspect';
import { createJwksRegistry } from './jwks/jwks-registry';
import { buildLogoutUrl, type LogoutUrlOptions } from './logout/build-logout-url';
import { type OidcClientOptions, resolveOptions } from './options';
import { revokeToken } from './revoke';
import { createSimplifiedFlow } from './simplified/simplified-flow';
import type { CredentialStore } from './tenant/credential-store';
import { compileIssuerPolicy } from './tenant/issuer-policy';
import type { Tenant } from './tenant/tenant';
import { webCryptoVerifier } from './tokens/signature-verifier';
import { type IdTokenClaims, type IdTokenExpectations, validateIdToken, validateWellFormedIdToken } from './tokens/validate-id-token';
import { PartitionedMemoryTtlStore, type TtlStore } from './ttl-store';
import { fetchUserInfo } from './userinfo';
import { emitWarning } from './warnings';

export type { OidcClientOptions } from './options';
export type { ActiveToken } from './introspection/introspect';
export type { Transaction } from './authorize/transaction';
export type { CallbackParams } from './callback/parse-callback';
export type { SignInResult } from './callback/handle-callback';

/** The protocol engine for every tenant of one app (see `docs/architecture.md`, "Client"). */
export interface OidcClient {
  readonly store: CredentialStore;
  /** The tenant with this id. Throws ERR_OIDC_TENANT_UNKNOWN, or ERR_OIDC_STORE_FAILURE when the store fails. */
  getTenant(tenantId: string): Promise<Tenant>;
  /** The authorization URL and the transaction to seal until the callback (see `buildAuthorizationRequest`). */
  createAuthorizationRequest(
    tenant: Tenant,
    options?: { redirectUri?: string; returnTo?: string; loginHint?: string; prompt?: string; maxAge?: number; responseMode?: 'query' | 'form_post' },
  ): Promise<{ url: URL; transaction: Transaction }>;
  /** Finish a sign-in; the tenant is the one that started `transaction` (see `handleCallback`). */
  handleCallback(params: CallbackParams, transaction: Transaction): Promise<SignInResult>;
  /** OIDC Core §3.1.3.7 validation with this client's JWKS cache, clock and tolerance. */
  validateIdToken(tenant: Tenant, idToken: string, expected: IdTokenExpectations): Promise<IdTokenClaims>;
  /**
   * Introspect an access token presented to your API; inactive → ERR_OIDC_ACCESS_TOKEN_INACTIVE.
   * `options.caller` (the client's address) keys the per-caller throttle bucket.
   */
  introspect(tenant: Tenant, token: string, options?: IntrospectOptions): Promise<ActiveToken>;
  /**
   * Whether this exact access token is warm: in this client's in-process cache of active
   * introspection answers, so `introspect` will answer it from memory, and it passed the bearer
   * token syntax check (RFC 6750 §2.1) when it was first introspected. Synchronous; no network
   * call, no store read. It does not make the token acceptable: the cached answer is bound to the
   * tenant it was given for, and only `introspect` checks that (and expiry). Always `false` with
   * `introspectionCache: false`, and for any value that is not a string.
   *
   * @example
   * ```ts
   * const warm = client.isAccessTokenWarm(token); // true: no Okta call, no throttle for this request
   * const active = await client.introspect(tenant, token); // still the only way to accept it
   * ```
   */
  isAccessTokenWarm(token: string): boolean;
  /** UserInfo claims; their `sub` must equal `expectedSub` (the ID token's). */
  userinfo(tenant: Tenant, accessToken: string, expectedSub: string): Promise<Record<string, unknown>>;
  /** Revoke a token (RFC 7009) and forget any cached introspection result for it. */
  revoke(tenant: Tenant, token: string, hint?: 'access_token' | 'refresh_token'): Promise<void>;
  /** The RP-initiated logout URL at the tenant's org. */
  buildLogoutUrl(tenant: Tenant, options: { idTokenHint?: string; postLogoutRedirectUri?: string; state?: string }): URL;
  /** Map a third-party-initiated login (`iss`, `login_hint`, `target_link_uri`) to a tenant. */
  resolveInitiateLogin(params: URLSearchParams, appOrigin: string): Promise<{ tenant: Tenant; loginHint?: string; returnTo?: string }>;
  /** Accept an ID token posted by Okta's simplified flow (opt-in per tenant), with replay protection. */
  handleSimplifiedFlow(idToken: string, options?: { tenantId?: string }): Promise<SignInResult>;
  /**
   * Verify a Universal Logout JWT (`audience`: the endpoint's URL) or a back-channel `logout_token`
   * for `tenant` with this client's JWKS cache, clock and replay store (`validateLogoutJwt`;
   * docs/universal-logout.md).
   */
  validateLogoutToken(kind: LogoutJwtKind, tenant: Tenant, jwt: string, options: { audience: string }): Promise<LogoutJwtClaims>;
}

/** Printable and short enough to repeat in error details (ids are request input on some routes). */
const ECHOABLE_ID = /^[\x21-\x7E]{1,64}$/;

/**
 * Create the client. Options are validated once (ERR_OIDC_INVALID_OPTIONS names the field), then
 * frozen; the returned object holds the per-issuer JWKS and discovery caches, the per-org
 * concurrency limits and the DPoP key, so create one per app and share it.
 *
 * @example
 * ```ts
 * const client = createOidcClient({ store: createMemoryCredentialStore(records) });
 * const tenant = await client.getTenant('acme');
 * const { url, transaction } = await client.createAuthorizationRequest(tenant, { returnTo: '/home' });
 * // …seal transaction into a cookie, redirect to url; at the callback:
 * const result = await client.handleCallback(parseCallbackParams(request), transaction);
 * ```
 */
export function createOidcClient(options: OidcClientOptions): OidcClient {
  const resolved = resolveOptions(options);
  const { store, now, clockToleranceSec } = resolved;
  const onEvent = safeEventListener(resolved.onEvent);
  const transport = createTransport({
    timeoutMs: resolved.httpTimeoutMs,
    maxRateLimitWaitMs: resolved.maxRateLimitWaitMs,
    maxConcurrentPerOrg: resolved.maxConcurrentPerOrg,
    now,
    ...(resolved.http ? { http: resolved.http } : {}),
    ...(resolved.onRateLimit ? { onRateLimit: resolved.onRateLimit } : {}),
    ...(onEvent ? { onEvent } : {}),
    ...(resolved.rateLimitStore ? { rateLimitStore: resolved.rateLimitStore } : {}),
  });
  const jwks = createJwksRegistry(transport, { now, ...(resolved.onJwks ? { onJwks: resolved.onJwks } : {}), ...(onEvent ? { onEvent } : {}) });
  const discovery = createDiscoveryCache(transport, { now });
  // One deps object for the client's lifetime: validation runs per sign-in and allocates nothing it can share.
  const idTokenDeps = Object.freeze({ jwks, now, clockToleranceSec, verifySignature: resolved.verifySignature });
  const validate = (tenant: Tenant, idToken: string, expected: IdTokenExpectations): Promise<IdTokenClaims> =>
    validateIdToken(idTokenDeps, tenant, idToken, expected);
  // The simplified flow checks a posted token's compact-JWS syntax before anything else (it reads the
  // unverified iss/aud to pick the tenant): validation then skips that one check, so it runs once.
  const validateWellFormed = (tenant: Tenant, idToken: string, expected: IdTokenExpectations): Promise<IdTokenClaims> =>
    validateWellFormedIdToken(idTokenDeps, tenant, idToken, expected);
  const introspector = createIntrospector({
    transport,
    now,
    cache: resolved.introspectionCache,
    throttle: resolved.introspectionThrottle,
    ...(resolved.rateLimitStore ? { rateLimitStore: resolved.rateLimitStore } : {}),
    // Triage peeks at this client's JWKS cache (never fetches) and checks signatures with its verifier.
    triage: resolved.introspectionTriage,
    jwks,
    verifySignature: resolved.verifySignature ?? webCryptoVerifier,
    clockToleranceSec,
    ...(onEvent ? { onEvent } : {}),
  });
  // Issuer policy (audit finding SA-12, docs/security.md): compiled once; each Tenant object is
  // checked once (WeakSet), so the warm path pays one WeakSet lookup. Tenants are frozen, so a
  // checked one cannot change.
  const checkIssuer = compileIssuerPolicy({
    allowLoopbackIssuers: resolved.allowLoopbackIssuers,
    ...(resolved.allowedIssuerHosts === undefined ? {} : { allowedIssuerHosts: resolved.allowedIssuerHosts }),
  });
  const allowedTenants = new WeakSet<Tenant>();
  const checkTenant = (tenant: Tenant): void => {
    if (allowedTenants.has(tenant)) return;
    try {
      checkIssuer(tenant.issuer);
    } catch (error) {
      // The tenant id is a configured record's (it came out of the store): safe in details, for logs.
      if (isOidcError(error)) throw new OidcError(error.code, error.message, { details: { ...error.details, tenantId: tenant.id } });
      throw error;
    }
    allowedTenants.add(tenant);
  };

  let replayWarned = false;
  const warnPerProcessReplay = (tenantId?: string): void => {
    if (replayWarned) return;
    replayWarned = true;
    emitWarning(resolved.onWarning, {
      code: 'WARN_OIDC_REPLAY_STORE_PER_PROCESS',
      message:
        'The Okta simplified flow records used ID tokens in this process only: behind several processes a captured token can be used once per process. Pass a shared replayStore (docs/access-tokens-and-initiated-login.md).',
      ...(tenantId === undefined ? {} : { tenantId }),
    });
  };
  let replay: TtlStore | ((tenant: Tenant) => TtlStore);
  if (resolved.replayStore !== undefined) {
    replay = resolved.replayStore;
  } else {
    // One bounded partition per tenant (SA-07): a tenant that fills its quota fails only
    // its own simplified sign-ins; writes past a bound fail closed, never evicting a live entry (DS-05).
    const partitions = new PartitionedMemoryTtlStore({
      maxEntriesPerPartition: resolved.replayQuotaPerTenant,
      now,
      full: (scope, retryAfter) =>
        new OidcError(
          'ERR_OIDC_RATE_LIMITED',
          scope === 'partition'
            ? 'Too many simplified sign-ins for this organisation in the last few minutes; try again shortly.'
            : 'Too many simplified sign-ins in the last few minutes; try again shortly.',
          { details: { reason: scope === 'partition' ? 'replay-quota' : 'replay-capacity' }, retryAfter },
        ),
    });
    replay = (tenant: Tenant) => {
      warnPerProcessReplay(tenant.id);
      return partitions.partition(tenant.id);
    };
    // Say it at start-up when the store can tell us a tenant uses the flow (list() is optional).
    if (typeof store.list === 'function') {
      store.list().then(
        (tenants) => {
          const first = tenants.find((tenant) => tenant.allowSimplifiedFlow);
          if (first !== undefined) warnPerProcessReplay(first.id);
        },
        () => undefined, // a failing store shows up on the first request, with its own error
      );
    }
  }
  const logoutJwtDeps = { jwks, now, clockToleranceSec, replay: typeof replay === 'function' ? replay : () => replay as TtlStore };
  const simplified = createSimplifiedFlow({
    store,
    validate: validateWellFormed,
    replay,
    checkTenant,
    now,
    clockToleranceSec,
  });

  // One DPoP key per client instance (RFC 9449 §11.4), generated on first use by a DPoP tenant.
  let dpopKey: Promise<DpopKeyPair> | undefined;
  const dpop = (): Promise<DpopKeyPair> => {
    dpopKey ??= createDpopKeyPair().catch((cause) => {
      dpopKey = undefined;
      throw new OidcError('ERR_OIDC_DPOP_ERROR', 'The DPoP key pair could not be generated.', { cause });
    });
    return dpopKey;
  };

  const requireIssParameter =
    resolved.requireIssParameter === 'discovery'
      ? async (tenant: Tenant) => (await discovery.get(tenant.issuer, tenant.id)).authorization_response_iss_parameter_supported === true
      : resolved.requireIssParameter;

  async function getTenant(tenantId: string): Promise<Tenant> {
    const shown = typeof tenantId === 'string' && ECHOABLE_ID.test(tenantId);
    let tenant: Tenant | undefined;
    if (typeof tenantId === 'string' && tenantId.length > 0 && tenantId.length <= 256) {
      try {
        tenant = await store.get(tenantId);
      } catch (cause) {
        if (isOidcError(cause)) throw cause;
        throw new OidcError('ERR_OIDC_STORE_FAILURE', 'The credential store failed to load a tenant.', { cause });
      }
    }
    // The id is request input on some routes (`?tenant=`): never in the message, which error pages
    // show (catalogue LG-03: no reflected input); only in details, for the logs.
    if (tenant === undefined) throw new OidcError('ERR_OIDC_TENANT_UNKNOWN', 'Unknown tenant.', shown ? { details: { tenantId } } : {});
    checkTenant(tenant);
    return tenant;
  }

  const client: OidcClient = Object.freeze({
    store,
    getTenant,

    // Tenants a caller passes in directly get the same issuer policy as those from the store.
    async createAuthorizationRequest(tenant: Tenant, requestOptions: Omit<AuthorizationRequestOptions, 'now'> = {}) {
      checkTenant(tenant);
      return buildAuthorizationRequest(tenant, { ...requestOptions, now });
    },

    async handleCallback(params: CallbackParams, unchecked: Transaction): Promise<SignInResult> {
      // Transactions usually come straight out of a cookie: check the shape before trusting it.
      const transaction = parseTransaction(unchecked);
      // The tenant comes from the sealed transaction, never from the callback request (TK-07).
      const tenant = await getTenant(transaction.tenantId);
      return runCallback(
        { transport, now, validateIdToken: validate, requireIssParameter, ...(tenant.dpop ? { dpop: await dpop() } : {}) },
        params,
        transaction,
        tenant,
      );
    },

    async validateIdToken(tenant: Tenant, idToken: string, expected: IdTokenExpectations): Promise<IdTokenClaims> {
      checkTenant(tenant);
      return validate(tenant, idToken, expected);
    },

    introspect(tenant: Tenant, token: string, introspectOptions?: IntrospectOptions) {
      // Synchronous on the warm path: a WeakSet lookup, then the introspector's own promise.
      try {
        checkTenant(tenant);
      } catch (error) {
        return Promise.reject(error);
      }
      return introspector.introspect(tenant, token, introspectOptions);
    },

    isAccessTokenWarm: (token: string): boolean => introspector.isWarm(token),

    async userinfo(tenant: Tenant, accessToken: string, expectedSub: string) {
      checkTenant(tenant);
      return fetchUserInfo({ transport }, tenant, accessToken, expectedSub);
    },

    async revoke(tenant: Tenant, token: string, hint?: 'access_token' | 'refresh_token'): Promise<void> {
      checkTenant(tenant);
      await revokeToken({ transport, now }, tenant, token, hint);
      await introspector.forget(tenant, token);
    },

    buildLogoutUrl: (tenant: Tenant, logoutOptions: LogoutUrlOptions) => buildLogoutUrl(tenant, logoutOptions),

    async resolveInitiateLogin(params: URLSearchParams, appOrigin: string) {
      const result = await resolveInitiateLogin(store, params, appOrigin, { issuerPolicy: checkIssuer });
      checkTenant(result.tenant);
      return result;
    },

    async validateLogoutToken(kind: LogoutJwtKind, tenant: Tenant, jwt: string, logoutOptions: { audience: string }): Promise<LogoutJwtClaims> {
      checkTenant(tenant);
      return validateLogoutJwt(logoutJwtDeps, kind, tenant, jwt, logoutOptions);
    },

    async handleSimplifiedFlow(idToken: string, flowOptions: { tenantId?: string } = {}): Promise<SignInResult> {
      const { tenant, claims, idToken: token } = await simplified.handle(idToken, flowOptions);
      return { tenant, claims, idToken: token };
    },
  });
  return client;
}
