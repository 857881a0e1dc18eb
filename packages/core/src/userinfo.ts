/**
 * The UserInfo endpoint (OIDC Core §5.3) of the tenant's org authorization server.
 */
import { z } from 'zod';
import { OidcError } from './errors';
import type { Transport } from './http/types';
import { isBearerTokenSyntax } from './introspection/token-syntax';
import type { Tenant } from './tenant/tenant';

export interface UserInfoDeps {
  transport: Transport;
}

const userInfoResponse = z.looseObject({
  sub: z.string().min(1),
  iss: z.string().optional(),
  aud: z.union([z.string(), z.array(z.string())]).optional(),
});

/** `error="…"` of a `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3), when it is a plain token. */
function bearerError(headers: Headers): string | undefined {
  const match = /\berror="([\x20-\x21\x23-\x5B\x5D-\x7E]{1,64})"/.exec(headers.get('www-authenticate') ?? '');
  return match?.[1];
}

/**
 * Fetch the UserInfo claims for an access token and check they describe the expected user.
 *
 * - The token travels in the `Authorization` header only, never the query (RFC 6750 §2.3, UI-04).
 * - Only a JSON response is accepted: a signed or encrypted (`application/jwt`) response would need
 *   verification this SDK does not do, so it is refused rather than trusted unverified.
 * - `sub` must exactly equal `expectedSub`, the ID token's `sub` (OIDC Core §5.3.2, catalogue UI-01);
 *   an `iss` or `aud` member, when present, must name this tenant (catalogue UI-05).
 * - The result never replaces identity claims: key users by (tenant issuer, ID token `sub`).
 *
 * @throws OidcError `ERR_OIDC_ACCESS_TOKEN_INVALID` (malformed token, no network call),
 *   `ERR_OIDC_ACCESS_TOKEN_INACTIVE` (HTTP 401: the token was revoked or expired),
 *   `ERR_OIDC_SUBJECT_MISMATCH`, `ERR_OIDC_USERINFO_INVALID`, and the transport's errors.
 */
export async function fetchUserInfo(deps: UserInfoDeps, tenant: Tenant, accessToken: string, expectedSub: string): Promise<Record<string, unknown>> {
  if (!isBearerTokenSyntax(accessToken)) {
    throw new OidcError('ERR_OIDC_ACCESS_TOKEN_INVALID', 'The access token is malformed.', { details: { reason: 'syntax' } });
  }
  const response = await deps.transport.request('userinfo', { issuer: tenant.issuer, tenantId: tenant.id }, tenant.endpoints.userinfo, {
    method: 'GET',
    headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
  });
  if (response.status === 401) {
    const error = bearerError(response.headers);
    throw new OidcError('ERR_OIDC_ACCESS_TOKEN_INACTIVE', 'The UserInfo endpoint refused the access token.', {
      details: { status: 401, ...(error ? { error } : {}) },
    });
  }
  if (response.status !== 200) {
    throw new OidcError('ERR_OIDC_USERINFO_INVALID', `The UserInfo endpoint answered HTTP ${response.status}.`, { details: { status: response.status } });
  }
  const contentType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  // The transport already refused non-JSON bodies; this keeps a signed response out even when it
  // arrives with a JSON-ish type. No content type at all is tolerated, as the transport does.
  if (contentType !== 'application/json' && contentType !== '') {
    throw new OidcError('ERR_OIDC_USERINFO_INVALID', 'The UserInfo response is not JSON (signed or encrypted UserInfo responses are not supported).', {
      details: { contentType: contentType.slice(0, 64) },
    });
  }
  const parsed = userInfoResponse.safeParse(response.json);
  if (!parsed.success) {
    throw new OidcError('ERR_OIDC_USERINFO_INVALID', 'The UserInfo response is not a JSON object with a sub claim.');
  }
  const claims = parsed.data;
  if (claims.sub !== expectedSub) {
    throw new OidcError('ERR_OIDC_SUBJECT_MISMATCH', 'The UserInfo sub does not match the ID token sub (OIDC Core §5.3.2).');
  }
  if (claims.iss !== undefined && claims.iss !== tenant.issuer) {
    throw new OidcError('ERR_OIDC_USERINFO_INVALID', 'The UserInfo iss does not match the tenant issuer.');
  }
  if (claims.aud !== undefined && !(Array.isArray(claims.aud) ? claims.aud : [claims.aud]).includes(tenant.clientId)) {
    throw new OidcError('ERR_OIDC_USERINFO_INVALID', 'The UserInfo aud does not include the client id.');
  }
  return { ...claims };
}
