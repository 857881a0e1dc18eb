// The public API of @oin-oidc/core: curated named exports only (no `export *`), so internals
// (src/internal/*, helpers) never become API by accident.

// Errors
export { OidcError, isOidcError, OIDC_ERROR_STATUS } from './errors';
export type { OidcErrorCode, OidcErrorOptions } from './errors';
// Misuse of a function argument: a TypeError with code ERR_INVALID_ARG_TYPE | ERR_INVALID_ARG_VALUE (store packages throw it too)
export { codedTypeError } from './internal/misuse';
export type { CodedTypeError, MisuseErrorCode } from './internal/misuse';

// Tenants and the credential store
export { parseTenant, tenantEndpoints, isLoopbackHost, isTenantIssuer, OIN_SCOPES } from './tenant/tenant';
export type { Tenant, TenantRecord, TenantEndpoints, ClientSecret, PrivateJwk, ClientAuthentication, TokenEndpointAuthMethod } from './tenant/tenant';
export { MemoryCredentialStore, createMemoryCredentialStore, parseTenantsJson, isCredentialStore, toRecord as tenantToRecord } from './tenant/credential-store';
export type { CredentialStore } from './tenant/credential-store';
export { checkIssuerPolicy, OKTA_DOMAINS } from './tenant/issuer-policy';
export type { IssuerPolicy } from './tenant/issuer-policy';

// The client
export { createOidcClient } from './client';
export type { OidcClient } from './client';
export type { OidcClientOptions } from './options';
export { OIDC_WARNING_CODES } from './warnings';
export type { OidcWarning, OidcWarningCode } from './warnings';

// Operational events (the `onEvent` hook, docs/operations.md)
export { formatEventForLog, eventLogLevel } from './events';
export type {
  OidcEvent,
  OidcEventListener,
  OidcEventLogRecord,
  OidcHttpEvent,
  OidcHttpOutcome,
  OidcJwksEvent,
  OidcIntrospectionEvent,
  OidcIntrospectionOutcome,
  OidcSignInEvent,
  OidcSignInFlow,
  OidcRateLimitEvent,
} from './events';

// Authorization request and callback
export { buildAuthorizationRequest } from './authorize/build-authorization-request';
export type { AuthorizationRequestOptions } from './authorize/build-authorization-request';
export { randomCodeVerifier, computeCodeChallenge } from './authorize/pkce';
export { sanitizeReturnTo } from './authorize/return-to';
export { parseTransaction, TRANSACTION_PURPOSE, TRANSACTION_TTL_SEC } from './authorize/transaction';
export type { Transaction } from './authorize/transaction';
export { parseCallbackParams } from './callback/parse-callback';
export type { CallbackParams, CallbackRequest } from './callback/parse-callback';
export { handleCallback } from './callback/handle-callback';
export type { HandleCallbackDeps, SignInResult } from './callback/handle-callback';

// Client authentication, DPoP, sealing
export { authenticatedPost } from './client-auth/authenticated-post';
export type { AuthenticatedPostDeps, AuthenticatedPostKind } from './client-auth/authenticated-post';
export { createDpopKeyPair, createDpopProof } from './dpop/dpop';
export type { DpopKeyPair } from './dpop/dpop';
export { createSealer } from './crypto/seal';
export type { Sealer, SealerOptions } from './crypto/seal';

// HTTP, JWKS, ID tokens, discovery
export { createTransport } from './http/transport';
export type { TransportOptions } from './http/transport';
export { MemoryRateLimitStore, isRateLimitStore } from './http/rate-limit-store';
export type { RateLimitStore } from './http/rate-limit-store';
export type { HttpClient, HttpRequestInit } from './http/http-client';
export type { Transport, TransportResponse, TransportTarget, TransportRequestInit, EndpointKind, RateLimitInfo, RateLimitEvent } from './http/types';
export { createJwksRegistry } from './jwks/jwks-registry';
export type { JwksRegistry, JwksOptions, JwksEvent, JwksFetchReason, JwksChannel, JwksKeyOptions } from './jwks/jwks-registry';
export { validateIdToken } from './tokens/validate-id-token';
export { validateLogoutJwt, UNIVERSAL_LOGOUT_WINDOW_SEC } from './tokens/validate-logout-jwt';
export type { LogoutJwtKind, LogoutJwtClaims, LogoutJwtDeps } from './tokens/validate-logout-jwt';
export type { IdTokenClaims, IdTokenExpectations, ValidateIdTokenDeps } from './tokens/validate-id-token';
export { webCryptoVerifier } from './tokens/signature-verifier';
export type { SignatureVerifier, SignatureAlgorithm } from './tokens/signature-verifier';
export { createDiscoveryCache, discover, discoveryUrl } from './discovery/discover';
export type { DiscoveryCache, DiscoveryOptions } from './discovery/discover';
export type { ProviderMetadata } from './discovery/metadata';

// Access tokens, userinfo, revocation, logout, initiate login, simplified flow, stores
export { createIntrospector } from './introspection/introspect';
export type { ActiveToken, IntrospectionBucketOptions, IntrospectionCacheOptions, IntrospectionThrottleOptions, IntrospectOptions, Introspector, IntrospectorDeps } from './introspection/introspect';
export { fetchUserInfo } from './userinfo';
export type { UserInfoDeps } from './userinfo';
export { revokeToken } from './revoke';
export type { RevocationTokenTypeHint } from './revoke';
export { buildLogoutUrl } from './logout/build-logout-url';
export type { LogoutUrlOptions } from './logout/build-logout-url';
export { resolveInitiateLogin } from './initiate/initiate-login';
export type { InitiateLoginResult, InitiateLoginOptions } from './initiate/initiate-login';
export { createSimplifiedFlow } from './simplified/simplified-flow';
export type { SimplifiedFlow, SimplifiedFlowDeps, SimplifiedFlowResult, SimplifiedFlowClaims } from './simplified/simplified-flow';
export { MemoryTtlStore, PartitionedMemoryTtlStore, isTtlStore } from './ttl-store';
export type { TtlStore, MemoryTtlStoreOptions, PartitionedMemoryTtlStoreOptions } from './ttl-store';

// Custom (non-OIN) profile grants
export { refreshTokens, clientCredentialsToken } from './custom-profile/grants';
export type { GrantTokens } from './custom-profile/grants';

// Tenant doctor: a live, side-effect-free check of one tenant against its org (docs/doctor.md)
export { checkTenant } from './doctor/check-tenant';
export { TENANT_CHECK_IDS } from './doctor/types';
export type { TenantCheckId, TenantCheck, TenantReport, CheckTenantOptions } from './doctor/types';

// The framework-neutral flow layer adapters call (docs/adapters.md)
export { createOidcAuth, fromWebRequest, fromHeaderMap, toWebResponse, requestContext, withAccessToken, cacheControlForCookies, parsedBodyText, MAX_BODY_BYTES, DEFAULT_ROUTES } from './flow/index';
export type { OidcAuth, OidcAuthOptions, OidcRequest, OidcRequestStep, OidcResponse, TenantResolution, HeaderMap, HeaderMapRequestInit, WebRequestOptions, OidcRequestContext, LogoutRequestInfo, LogoutHookResult } from './flow/index';
export { isSessionStore } from './session/types';
export { MemorySessionStore, type MemorySessionStoreOptions } from './session/memory-session-store';
export { sessionUser } from './session/session-user';
export type { Session, SessionStore } from './session/types';
export { MemoryRevocationList, isSharedRevocationList } from './session/revocation-list';
export type { SharedRevocationList, RevocationRecord, RevocationListener } from './session/revocation-list';
