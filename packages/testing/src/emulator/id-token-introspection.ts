import { compactVerify, decodeProtectedHeader, importJWK } from 'jose';
import { ACCESS_TOKEN_TYP } from './access-token';
import type { KeyRing } from './keys';

/** What the introspection hook sees of oidc-provider's request context. */
export interface IntrospectionContext {
  body?: unknown;
  oidc: {
    params?: { token?: unknown };
    client?: { clientId: string };
    entities?: Record<string, unknown>;
  };
}

/**
 * Okta's `/introspect` for tokens oidc-provider does not introspect, or introspects differently.
 *
 * - **ID tokens.** Okta: "This endpoint takes an access, ID, or refresh token, and returns a
 *   boolean that indicates whether it is active or not. If the token is active, additional data
 *   about the token is also returned … Besides the claims in the token, the possible top-level
 *   members include: active, aud, client_id, device_id, exp, iat, iss, jti, nbf, scope, sub,
 *   token_type (always Bearer), uid (returned only if the token is an access token and the subject
 *   is an end user), username" (Okta developer docs, OpenID Connect & OAuth 2.0 API,
 *   "/introspect"). So an ID token the org signed (signature valid under a published key, not
 *   expired), presented by a client in its `aud`, answers `active: true` with its own claims
 *   (`aud` = the client id, `jti` "ID.…", `sub` = the user id, no `uid`, no `scope`). Any other
 *   client gets `{ active: false }`. oidc-provider does not store ID tokens, so it would answer
 *   inactive for every one.
 * - **Access tokens' `aud`.** The org authorization server names the org URL as the audience of
 *   its access tokens, in the token and in the introspection answer; oidc-provider's opaque tokens
 *   have none, so it is filled in.
 */
export function oktaIntrospection(issuer: string, keys: KeyRing) {
  return async (ctx: IntrospectionContext, next: () => Promise<void>): Promise<void> => {
    const token = ctx.oidc.params?.token;
    const claims = typeof token === 'string' ? await idTokenClaims(token, issuer, keys) : undefined;
    if (claims !== undefined) {
      const clientId = ctx.oidc.client?.clientId;
      const audiences = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
      const live = typeof claims.exp === 'number' && claims.exp > Math.floor(Date.now() / 1000);
      ctx.body = clientId !== undefined && live && audiences.includes(clientId) ? { ...claims, active: true, token_type: 'Bearer', client_id: clientId } : { active: false };
      return;
    }
    await next();
    const body = ctx.body as Record<string, unknown> | undefined;
    if (body?.active === true && ctx.oidc.entities?.AccessToken !== undefined && body.aud === undefined) body.aud = issuer;
  };
}

/** The claims of an ID token this org signed with one of its published keys, or undefined. */
async function idTokenClaims(token: string, issuer: string, keys: KeyRing): Promise<Record<string, unknown> | undefined> {
  if (token.split('.').length !== 3) return undefined;
  try {
    const header = decodeProtectedHeader(token);
    // Access tokens are signed with the same published key (accessTokenSigning 'published'): typ tells them apart.
    if (header.typ === ACCESS_TOKEN_TYP || header.alg !== 'RS256') return undefined;
    const key = keys.published(header.kid);
    if (!key) return undefined;
    const { payload } = await compactVerify(token, await importJWK(key.publicJwk, 'RS256'));
    const claims = JSON.parse(new TextDecoder().decode(payload)) as unknown;
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return undefined;
    const record = claims as Record<string, unknown>;
    return record.iss === issuer ? record : undefined;
  } catch {
    return undefined;
  }
}
