// The public API of @oin-oidc/core: curated named exports only (no `export *`), so internals
// (src/internal/*, helpers) never become API by accident.
//
// This entry holds what an application or an adapter uses: the flow layer, the client, errors,
// tenants and the store interfaces with their memory implementations, events and the tenant doctor,
// plus every type needed to name what those return or take. The protocol building blocks the client
// is made of (PKCE, callback, ID-token and logout-token checks, JWKS, discovery, introspector,
// transport, DPoP, sealing, …) are on `@oin-oidc/core/protocol` (src/protocol.ts); Node-only helpers
// are on `@oin-oidc/core/node`. docs/core.md lists both and says why.

// The framework-neutral flow layer adapters call (docs/adapters.md)
export { createOidcAuth, fromWebRequest, fromHeaderMap, toWebResponse, requestContext, withAccessToken, cacheControlForCookies, parsedBodyText, MAX_BODY_BYTES, DEFAULT_ROUTES } from './flow/index';
export type { OidcAuth, OidcAuthOptions, OidcRequest, OidcRequestStep, OidcResponse, TenantResolution, HeaderMap, HeaderMapRequestInit, WebRequestOptions, OidcRequestContext, LogoutRequestInfo, LogoutHookResult } from './flow/index';

// The client, its options, and the types its methods take and return
export { createOidcClient } from './client';
export type { OidcClient } from './client';
export type { OidcClientOptions } from './options';
export { OIDC_WARNING_CODES } from './warnings';
export type { OidcWarning, OidcWarningCode } from './warnings';
export type { AuthorizationRequestOptions } from './authorize/build-authorization-request';
export type { Transaction } from './authorize/transaction';
export type { CallbackParams } from './callback/parse-callback';
export type { SignInResult } from './callback/handle-callback';
export type { IdTokenClaims, IdTokenExpectations } from './tokens/validate-id-token';
export type { LogoutJwtKind, LogoutJwtClaims } from './tokens/validate-logout-jwt';
export type { ActiveToken, IntrospectOptions } from './introspection/introspect';
export type { LogoutUrlOptions } from './logout/build-logout-url';
export type { DpopKeyPair } from './dpop/dpop';
// Pluggable parts of the options: the injectable fetch and the ID-token signature check
export type { HttpClient, HttpRequestInit } from './http/http-client';
export type { SignatureVerifier, SignatureAlgorithm } from './tokens/signature-verifier';

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

// Sessions and the other store interfaces, with their memory implementations
export { isSessionStore } from './session/types';
export type { Session, SessionStore } from './session/types';
export { MemorySessionStore, type MemorySessionStoreOptions } from './session/memory-session-store';
export { sessionUser } from './session/session-user';
export { MemoryRevocationList, isSharedRevocationList } from './session/revocation-list';
export type { SharedRevocationList, RevocationRecord, RevocationListener } from './session/revocation-list';
export { MemoryTtlStore, PartitionedMemoryTtlStore, isTtlStore } from './ttl-store';
export type { TtlStore, MemoryTtlStoreOptions, PartitionedMemoryTtlStoreOptions } from './ttl-store';
export { MemoryRateLimitStore, isRateLimitStore } from './http/rate-limit-store';
export type { RateLimitStore } from './http/rate-limit-store';
export type { EndpointKind, RateLimitInfo, RateLimitEvent } from './http/types';

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
export type { JwksEvent, JwksFetchReason, JwksChannel } from './jwks/jwks-registry';

// Tenant doctor: a live, side-effect-free check of one tenant against its org (docs/doctor.md)
export { checkTenant } from './doctor/check-tenant';
export { TENANT_CHECK_IDS } from './doctor/types';
export type { TenantCheckId, TenantCheck, TenantReport, CheckTenantOptions } from './doctor/types';
