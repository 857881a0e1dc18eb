import { compactVerify, decodeJwt, decodeProtectedHeader, importJWK, SignJWT } from 'jose';
import type { KeyRing } from './keys';
import type { OidcProvider } from './oidc-provider';

/** The payload oidc-provider stores for an opaque access token (models/formats/opaque.js). */
interface StoredAccessToken {
  jti: string;
  iat: number;
  exp: number;
  clientId: string;
  accountId?: string;
  scope?: string;
  extra?: Record<string, unknown>;
  jkt?: string;
}

interface IdTokenLike {
  ctx?: { oidc?: { entities?: Record<string, unknown> } };
  extra: Record<string, unknown>;
  set(key: string, value: unknown): void;
}

/**
 * The `typ` header of Okta org authorization server access tokens since Okta's March 2024 release
 * (Okta support article "Validation Failed on Access Token Issued by the Org Authorization
 * Server": "the typ header being changed when Okta started to use an externally published signing
 * key"). ID token validation refuses it (RFC 8725 §3.11: explicit typing keeps one kind of JWT from
 * being taken for another).
 */
export const ACCESS_TOKEN_TYP = 'application/okta-internal-at+jwt';

/**
 * Makes oidc-provider's access tokens look like Okta org authorization server tokens: RS256 JWTs
 * with `typ: application/okta-internal-at+jwt`, signed with the org's active published key
 * (`accessTokenSigning: 'published'`, the default, what Okta does since March 2024) or with a key
 * that is NOT published at /keys (`'private'`, Okta before). Either way Okta says to treat them as
 * opaque, and a resource server learns whether one is active only through /introspect.
 *
 * oidc-provider's own "jwt" format cannot do this: its JWT access tokens are never stored, so they
 * are not introspectable, and they must be signed with a published key. Instead the token stays an
 * opaque, stored token inside the provider (introspection, userinfo, revocation, DPoP binding all
 * keep working) and only its *value* becomes a JWT whose `jti` is the stored id. `find` maps the
 * JWT back to the id after checking the signature with the key its `kid` names (a signing key of
 * the org, published or removed since: Okta keeps its own tokens' state, not /keys; or the private
 * key), so a forged JWT never resolves.
 */
export function patchAccessTokens(provider: OidcProvider, keys: KeyRing, signing: 'published' | 'private' = 'published'): void {
  // Value of each access token issued in this process, for at_hash below.
  const values = new WeakMap<object, string>();
  const AccessToken = provider.AccessToken;
  const IdToken = provider.IdToken;
  if (
    typeof AccessToken?.prototype?.getValueAndPayload !== 'function' ||
    typeof AccessToken.find !== 'function' ||
    typeof IdToken?.prototype?.issue !== 'function'
  ) {
    throw new Error('oidc-provider internals changed: AccessToken/IdToken hooks not found');
  }
  const getValueAndPayload = AccessToken.prototype.getValueAndPayload as (
    this: unknown,
  ) => Promise<{ value: string; payload: StoredAccessToken }>;
  const find = AccessToken.find.bind(AccessToken) as (value: string, options?: unknown) => Promise<unknown>;
  const issuer = provider.issuer as string;

  AccessToken.prototype.getValueAndPayload = async function patched(this: unknown) {
    const { payload } = await getValueAndPayload.call(this);
    const extra = payload.extra ?? {};
    const key = signing === 'published' ? keys.activeKey : await keys.accessTokenKey;
    const claims: Record<string, unknown> = {
      ver: 1,
      jti: payload.jti,
      iss: issuer,
      aud: issuer, // the org AS audience is the org URL
      iat: payload.iat,
      exp: payload.exp,
      cid: payload.clientId,
      uid: extra.uid,
      scp: payload.scope ? payload.scope.split(' ') : [],
      sub: extra.username ?? payload.accountId ?? payload.clientId,
      ...(payload.jkt ? { cnf: { jkt: payload.jkt } } : {}),
    };
    const value = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: ACCESS_TOKEN_TYP })
      .sign(await importJWK(key.privateJwk, 'RS256'));
    values.set(this as object, value);
    return { value, payload };
  };

  // Okta puts at_hash (OIDC Core §3.1.3.8, optional for the code flow) in ID tokens from the token
  // endpoint too; oidc-provider only does so at the authorization endpoint.
  const issue = IdToken.prototype.issue as (this: IdTokenLike, options: { use?: string }) => Promise<string>;
  IdToken.prototype.issue = function patchedIssue(this: IdTokenLike, options: { use?: string } = {}) {
    const at = this.ctx?.oidc?.entities?.AccessToken as object | undefined;
    const value = at ? values.get(at) : undefined;
    if (options.use === 'idtoken' && value && this.extra.at_hash === undefined) this.set('at_hash', value);
    return issue.call(this, options);
  };

  AccessToken.find = async (value: unknown, options?: unknown) => {
    if (typeof value !== 'string') return undefined;
    const jti = await jtiOf(value, keys);
    return jti ? find(jti, options) : undefined;
  };
}

/** The stored id of an access token the org signed (with whichever of its keys the `kid` names). */
async function jtiOf(value: string, keys: KeyRing): Promise<string | undefined> {
  if (value.split('.').length !== 3) return undefined;
  try {
    const { kid, typ } = decodeProtectedHeader(value);
    // Only access tokens: an ID token signed with the same published key is not one.
    if (typ !== ACCESS_TOKEN_TYP) return undefined;
    const privateKey = await keys.accessTokenKey;
    const key = keys.everPublished(kid) ?? (privateKey.kid === kid ? privateKey : undefined);
    if (!key) return undefined;
    await compactVerify(value, await importJWK(key.publicJwk, 'RS256'));
    const { jti } = decodeJwt(value);
    return typeof jti === 'string' ? jti : undefined;
  } catch {
    return undefined;
  }
}
