/**
 * Grants of the non-OIN ("custom") tenant profile: refresh tokens (RFC 6749 §6) and the client
 * credentials grant (RFC 6749 §4.4). OIN integrations get neither (no `offline_access`, no custom
 * scopes), so both refuse tenants with the default `oin` profile.
 */
import { z } from 'zod';
import { authenticatedPost, type AuthenticatedPostDeps } from '../client-auth/authenticated-post';
import { OidcError } from '../errors';
import { isBearerTokenSyntax } from '../introspection/token-syntax';
import type { Tenant } from '../tenant/tenant';

/** Tokens from a refresh or client-credentials grant. */
export interface GrantTokens {
  accessToken: string;
  /** `Bearer`, or `DPoP` for DPoP-bound tokens. */
  tokenType: string;
  /** Milliseconds since the epoch, when the server sent `expires_in`. */
  expiresAt?: number;
  scope?: string;
  /** A rotated refresh token, when the server issued one: store it in place of the old one (RFC 9700 §4.14.2). */
  refreshToken?: string;
}

const tokenResponse = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().refine((t) => /^(bearer|dpop)$/i.test(t), 'must be Bearer or DPoP'),
  expires_in: z.number().int().positive().optional(),
  scope: z.string().optional(),
  refresh_token: z.string().min(1).optional(),
});

/** RFC 6749 §3.3 scope: space-separated NQCHAR tokens. */
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+(?: [\x21\x23-\x5B\x5D-\x7E]+)*$/;

function requireCustomProfile(tenant: Tenant, grant: string): void {
  if (tenant.profile !== 'custom') {
    throw new OidcError('ERR_OIDC_INVALID_REQUEST', `Tenant "${tenant.id}": the ${grant} grant needs the non-OIN profile (profile: "custom").`, {
      details: { field: 'profile' },
    });
  }
}

async function tokenRequest(deps: AuthenticatedPostDeps, tenant: Tenant, params: Record<string, string>): Promise<GrantTokens> {
  const response = await authenticatedPost(deps, tenant, 'token', tenant.endpoints.token, params);
  if (response.status !== 200) {
    const json = response.json as { error?: unknown } | undefined;
    const error = typeof json?.error === 'string' && /^[\x20-\x7E]{1,64}$/.test(json.error) ? json.error : undefined;
    // invalid_grant: the refresh token expired, was revoked, or was already rotated (reuse detection).
    throw new OidcError('ERR_OIDC_TOKEN_ENDPOINT_ERROR', `The token endpoint refused the ${params['grant_type']} grant${error ? ` (${error})` : ''}.`, {
      details: { status: response.status, ...(error ? { error } : {}) },
    });
  }
  const parsed = tokenResponse.safeParse(response.json);
  if (!parsed.success) {
    throw new OidcError('ERR_OIDC_TOKEN_RESPONSE_INVALID', 'The token response is not a valid RFC 6749 §5.1 response.', {
      details: { issues: parsed.error.issues.map((issue) => ({ path: issue.path.map(String), code: issue.code })) },
    });
  }
  const body = parsed.data;
  const tokens: GrantTokens = { accessToken: body.access_token, tokenType: body.token_type };
  if (body.expires_in !== undefined) tokens.expiresAt = deps.now() + body.expires_in * 1000;
  if (body.scope !== undefined) tokens.scope = body.scope;
  if (body.refresh_token !== undefined) tokens.refreshToken = body.refresh_token;
  return tokens;
}

/**
 * Exchange a refresh token (custom-profile tenants only).
 *
 * An `id_token` in the response is not returned: it would need the OIDC Core §12.2 checks against
 * the original ID token, which this small helper does not do. Keep the user's identity from the
 * original sign-in.
 *
 * @throws OidcError `ERR_OIDC_INVALID_REQUEST` (OIN-profile tenant, malformed token),
 *   `ERR_OIDC_TOKEN_ENDPOINT_ERROR` (e.g. `invalid_grant`), `ERR_OIDC_TOKEN_RESPONSE_INVALID`, and the
 *   transport's errors.
 */
export async function refreshTokens(deps: AuthenticatedPostDeps, tenant: Tenant, refreshToken: string): Promise<GrantTokens> {
  requireCustomProfile(tenant, 'refresh_token');
  if (!isBearerTokenSyntax(refreshToken)) {
    throw new OidcError('ERR_OIDC_INVALID_REQUEST', 'The refresh token is malformed.', { details: { field: 'refreshToken' } });
  }
  return tokenRequest(deps, tenant, { grant_type: 'refresh_token', refresh_token: refreshToken });
}

/**
 * Get an access token for the app itself with the client credentials grant (custom-profile tenants
 * only; Okta custom authorization servers require at least one custom scope).
 *
 * @throws OidcError `ERR_OIDC_INVALID_REQUEST` (OIN-profile tenant, malformed scope),
 *   `ERR_OIDC_TOKEN_ENDPOINT_ERROR`, `ERR_OIDC_TOKEN_RESPONSE_INVALID`, and the transport's errors.
 */
export async function clientCredentialsToken(deps: AuthenticatedPostDeps, tenant: Tenant, scope: string): Promise<GrantTokens> {
  requireCustomProfile(tenant, 'client_credentials');
  if (typeof scope !== 'string' || scope.length > 1024 || !SCOPE.test(scope)) {
    throw new OidcError('ERR_OIDC_INVALID_REQUEST', 'The scope must be space-separated scope tokens.', { details: { field: 'scope' } });
  }
  return tokenRequest(deps, tenant, { grant_type: 'client_credentials', scope });
}
