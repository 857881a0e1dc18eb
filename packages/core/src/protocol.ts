/**
 * `@oin-oidc/core/protocol`: the protocol building blocks under `createOidcClient` and
 * `createOidcAuth` — PKCE, the authorization request and its transaction cookie, the callback, the
 * ID-token and logout-token checks, the JWKS registry, discovery, the introspector, the HTTP
 * transport, client authentication, DPoP, sealing, userinfo, revocation, logout URLs, initiated and
 * simplified sign-in, and the custom-profile grants.
 *
 * Most applications never import this entry: the client and the flow layer on `@oin-oidc/core` run
 * every step with its checks in the right order. Use it to compose a flow the flow layer does not
 * offer, or to test one step alone. Each function here takes its dependencies explicitly (a
 * transport, a JWKS registry, a clock), where the client wires them once from its validated options.
 *
 * The types a user of the client or the flow layer needs to name (`Transaction`, `SignInResult`,
 * `IdTokenClaims`, `ActiveToken`, `HttpClient`, `SignatureVerifier`, …) stay on `@oin-oidc/core`;
 * this entry adds only the types its own functions take. Curated named exports, no `export *`.
 *
 * @module
 */
// Authorization request, PKCE (RFC 7636) and the transaction it leaves in a sealed cookie
export { buildAuthorizationRequest } from './authorize/build-authorization-request';
export { randomCodeVerifier, computeCodeChallenge } from './authorize/pkce';
export { sanitizeReturnTo } from './authorize/return-to';
export { parseTransaction, TRANSACTION_PURPOSE, TRANSACTION_TTL_SEC } from './authorize/transaction';

// The callback (OIDC Core §3.1.2.5–§3.1.3.7)
export { parseCallbackParams } from './callback/parse-callback';
export type { CallbackRequest } from './callback/parse-callback';
export { handleCallback } from './callback/handle-callback';
export type { HandleCallbackDeps } from './callback/handle-callback';

// Client authentication (OIDC Core §9), DPoP (RFC 9449), sealing
export { authenticatedPost } from './client-auth/authenticated-post';
export type { AuthenticatedPostDeps, AuthenticatedPostKind } from './client-auth/authenticated-post';
export { createDpopKeyPair, createDpopProof } from './dpop/dpop';
export { createSealer } from './crypto/seal';
export type { Sealer, SealerOptions } from './crypto/seal';

// HTTP transport, discovery, JWKS
export { createTransport } from './http/transport';
export type { TransportOptions } from './http/transport';
export type { Transport, TransportResponse, TransportTarget, TransportRequestInit } from './http/types';
export { createDiscoveryCache, discover, discoveryUrl } from './discovery/discover';
export type { DiscoveryCache, DiscoveryOptions } from './discovery/discover';
export type { ProviderMetadata } from './discovery/metadata';
export { createJwksRegistry } from './jwks/jwks-registry';
export type { JwksRegistry, JwksOptions, JwksKeyOptions } from './jwks/jwks-registry';

// ID tokens (OIDC Core §3.1.3.7) and logout tokens (OpenID Back-Channel Logout §2.6, Okta Universal Logout)
export { validateIdToken } from './tokens/validate-id-token';
export type { ValidateIdTokenDeps } from './tokens/validate-id-token';
export { webCryptoVerifier } from './tokens/signature-verifier';
export { validateLogoutJwt, UNIVERSAL_LOGOUT_WINDOW_SEC } from './tokens/validate-logout-jwt';
export type { LogoutJwtDeps } from './tokens/validate-logout-jwt';

// Access tokens (RFC 7662 introspection), userinfo, revocation (RFC 7009), RP-initiated logout
export { createIntrospector } from './introspection/introspect';
export type { IntrospectionBucketOptions, IntrospectionCacheOptions, IntrospectionThrottleOptions, Introspector, IntrospectorDeps } from './introspection/introspect';
export { fetchUserInfo } from './userinfo';
export type { UserInfoDeps } from './userinfo';
export { revokeToken } from './revoke';
export type { RevocationTokenTypeHint } from './revoke';
export { buildLogoutUrl } from './logout/build-logout-url';

// Third-party-initiated login (OIDC Core §4) and the simplified (implicit id_token) flow
export { resolveInitiateLogin } from './initiate/initiate-login';
export type { InitiateLoginResult, InitiateLoginOptions } from './initiate/initiate-login';
export { createSimplifiedFlow } from './simplified/simplified-flow';
export type { SimplifiedFlow, SimplifiedFlowDeps, SimplifiedFlowResult, SimplifiedFlowClaims } from './simplified/simplified-flow';

// Custom (non-OIN) profile grants
export { refreshTokens, clientCredentialsToken } from './custom-profile/grants';
export type { GrantTokens } from './custom-profile/grants';
