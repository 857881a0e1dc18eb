/**
 * Token revocation (RFC 7009) at the tenant's org authorization server.
 */
import { authenticatedPost, type AuthenticatedPostDeps } from './client-auth/authenticated-post';
import { OidcError } from './errors';
import { codedTypeError } from './internal/misuse';
import { isBearerTokenSyntax } from './introspection/token-syntax';
import type { Tenant } from './tenant/tenant';

export type RevocationTokenTypeHint = 'access_token' | 'refresh_token';

/**
 * Revoke an access or refresh token with the tenant's client authentication.
 *
 * RFC 7009 §2.2: HTTP 200 is success, also for a token the server does not know (already revoked,
 * expired, or never issued), so revoking twice is fine. Any other answer is an error: a failed
 * revocation must not look like a completed logout. Call `Introspector.forget` afterwards when an
 * introspection cache is enabled, or a cached positive result outlives the revocation by up to its TTL.
 *
 * @throws OidcError `ERR_OIDC_INVALID_REQUEST` (malformed token, no network call),
 *   `ERR_OIDC_UNAVAILABLE` (Okta refused our client authentication), `ERR_OIDC_TOKEN_ENDPOINT_ERROR`
 *   (any other OAuth error, e.g. `unsupported_token_type`), and the transport's errors.
 */
export async function revokeToken(deps: AuthenticatedPostDeps, tenant: Tenant, token: string, hint?: RevocationTokenTypeHint): Promise<void> {
  if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token') {
    throw codedTypeError('hint must be "access_token" or "refresh_token"', 'ERR_INVALID_ARG_VALUE');
  }
  if (!isBearerTokenSyntax(token)) {
    throw new OidcError('ERR_OIDC_INVALID_REQUEST', 'The token to revoke is malformed.', { details: { field: 'token' } });
  }
  const params: Record<string, string> = { token };
  if (hint) params['token_type_hint'] = hint;
  const response = await authenticatedPost(deps, tenant, 'revocation', tenant.endpoints.revocation, params);
  if (response.status === 200) return;
  const json = response.json as { error?: unknown } | undefined;
  const error = typeof json?.error === 'string' && /^[\x20-\x7E]{1,64}$/.test(json.error) ? json.error : undefined;
  if (error === 'invalid_client' || response.status === 401) {
    throw new OidcError('ERR_OIDC_UNAVAILABLE', 'Revocation failed: the authorization server refused the client credentials.', {
      details: { status: response.status, ...(error ? { error } : {}), tenantId: tenant.id },
    });
  }
  throw new OidcError('ERR_OIDC_TOKEN_ENDPOINT_ERROR', `Revocation failed with HTTP ${response.status}.`, {
    status: 502,
    details: { status: response.status, ...(error ? { error } : {}) },
  });
}
