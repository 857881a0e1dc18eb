/**
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2) against Okta's
 * `/oauth2/v1/logout`.
 */
import { OidcError } from '../errors';
import type { Tenant } from '../tenant/tenant';

export interface LogoutUrlOptions {
  /**
   * The ID token the session was created with. Okta marks `id_token_hint` required: without it (or
   * with a malformed one) Okta shows its own error page, so the flow layer should finish the local
   * logout and skip the Okta redirect when it has no ID token (catalogue LO-02).
   */
  idTokenHint?: string;
  /** Must be one of the tenant's registered `postLogoutRedirectUris`, exact match. Default: the first registered. */
  postLogoutRedirectUri?: string;
  /** Opaque value Okta echoes back on the post-logout redirect (RP-Initiated Logout §2). */
  state?: string;
}

/** ID tokens are compact JWS (three base64url parts); 16 KiB is far above any Okta ID token. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const MAX_ID_TOKEN_LENGTH = 16 * 1024;
/** Visible ASCII, bounded: `state` ends up in a URL that Okta echoes back. */
const STATE = /^[\x21-\x7E]{1,512}$/;

/**
 * Build the logout URL of the tenant's authorization server.
 *
 * `post_logout_redirect_uri` is never taken from the request: it is the caller's configured value
 * (or the tenant's first registered one) and must exactly match a URI the tenant registered
 * (RP-Initiated Logout §2-3: the OP "MUST NOT perform post-logout redirection if … does not exactly
 * match"; catalogue LO-03). A mismatch throws `ERR_OIDC_REDIRECT_URI_NOT_REGISTERED` rather than
 * sending the user to an Okta error page.
 *
 * @throws OidcError `ERR_OIDC_REDIRECT_URI_NOT_REGISTERED`, `ERR_OIDC_INVALID_REQUEST` (malformed
 *   `idTokenHint` or `state`).
 *
 * @example
 * ```ts
 * const url = buildLogoutUrl(tenant, { idTokenHint: session.idToken, state: randomState() });
 * // → https://acme.okta.com/oauth2/v1/logout?id_token_hint=…&post_logout_redirect_uri=…&state=…
 * ```
 */
export function buildLogoutUrl(tenant: Tenant, options: LogoutUrlOptions = {}): URL {
  const url = new URL(tenant.endpoints.endSession);
  const { idTokenHint, postLogoutRedirectUri, state } = options;

  if (idTokenHint !== undefined) {
    if (typeof idTokenHint !== 'string' || idTokenHint.length > MAX_ID_TOKEN_LENGTH || !COMPACT_JWS.test(idTokenHint)) {
      throw new OidcError('ERR_OIDC_INVALID_REQUEST', 'The ID token hint is not a compact JWS.', { details: { field: 'idTokenHint' } });
    }
    url.searchParams.set('id_token_hint', idTokenHint);
  }

  let redirect: string | undefined;
  if (postLogoutRedirectUri !== undefined) {
    if (!tenant.postLogoutRedirectUris.includes(postLogoutRedirectUri)) {
      throw new OidcError(
        'ERR_OIDC_REDIRECT_URI_NOT_REGISTERED',
        `Tenant "${tenant.id}": the post-logout redirect URI is not one of its registered postLogoutRedirectUris (exact match required).`,
        { details: { field: 'postLogoutRedirectUri' } },
      );
    }
    redirect = postLogoutRedirectUri;
  } else {
    redirect = tenant.postLogoutRedirectUris[0];
  }
  if (redirect !== undefined) {
    url.searchParams.set('post_logout_redirect_uri', redirect);
    // RP-Initiated Logout §2: client_id lets the OP check the redirect when no hint identifies the client.
    if (idTokenHint === undefined) url.searchParams.set('client_id', tenant.clientId);
  }

  if (state !== undefined) {
    if (typeof state !== 'string' || !STATE.test(state)) {
      throw new OidcError('ERR_OIDC_INVALID_REQUEST', 'The logout state must be 1-512 visible ASCII characters.', { details: { field: 'state' } });
    }
    url.searchParams.set('state', state);
  }
  return url;
}
