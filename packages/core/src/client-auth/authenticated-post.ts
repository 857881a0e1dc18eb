/**
 * Client authentication for back-channel POSTs (token, introspection, revocation).
 *
 * - `client_secret_basic` (RFC 6749 §2.3.1): id and secret are form-urlencoded *before* Base64,
 *   so secrets with `:`, `+`, `%` or non-ASCII characters survive (catalogue CA-01).
 * - `client_secret_post` (RFC 6749 §2.3.1): both in the body; never header and body at once (CA-02).
 * - `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9): a fresh assertion per HTTP attempt (CA-05, DP-06).
 * - Secret rotation (CA-03): on `invalid_client` with two active secrets, one retry with the other.
 * - DPoP (RFC 9449 §8): a fresh proof per attempt; one retry on `use_dpop_nonce` (DP-02, DP-04).
 */
import { importJWK, SignJWT } from 'jose';
import { OidcError } from '../errors';
import type { PrivateJwk, Tenant } from '../tenant/tenant';
import { randomJti } from '../internal/random';
import { codedTypeError } from '../internal/misuse';
import { createDpopProof, type DpopKeyPair, dpopServer, readDpopNonce } from '../dpop/dpop';
import type { Transport, TransportResponse } from '../http/types';

export interface AuthenticatedPostDeps {
  transport: Transport;
  /** Clock in milliseconds. */
  now: () => number;
  /** Send DPoP proofs with this key when the tenant has `dpop: true`. */
  dpop?: DpopKeyPair;
}

export type AuthenticatedPostKind = 'token' | 'introspection' | 'revocation';

/** Lifetime of a client assertion. Okta accepts up to 1 h; short limits replay (CA-04). */
const ASSERTION_LIFETIME_SEC = 60;

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Algorithms Okta accepts for private_key_jwt; the key's own `alg` wins when it names one. */
const ASSERTION_ALGS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']);
const EC_ALG_BY_CURVE: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };

/** Imported signing keys, per (frozen) JWK object, so each tenant's key is imported once. */
const importedKeys = new WeakMap<PrivateJwk, Promise<{ key: CryptoKey | Uint8Array; alg: string }>>();

function assertionAlg(jwk: PrivateJwk): string {
  if (typeof jwk.alg === 'string') {
    if (!ASSERTION_ALGS.has(jwk.alg)) {
      throw new OidcError('ERR_OIDC_INVALID_TENANT', 'privateJwk.alg is not an algorithm allowed for private_key_jwt', { details: { field: 'privateJwk.alg' } });
    }
    return jwk.alg;
  }
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC' && typeof jwk.crv === 'string' && EC_ALG_BY_CURVE[jwk.crv]) return EC_ALG_BY_CURVE[jwk.crv]!;
  throw new OidcError('ERR_OIDC_INVALID_TENANT', 'privateJwk must be an RSA or EC (P-256/384/521) private key', { details: { field: 'privateJwk' } });
}

function signingKey(jwk: PrivateJwk): Promise<{ key: CryptoKey | Uint8Array; alg: string }> {
  let entry = importedKeys.get(jwk);
  if (!entry) {
    entry = (async () => {
      const alg = assertionAlg(jwk);
      try {
        const key = await importJWK({ ...jwk }, alg);
        return { key, alg };
      } catch (cause) {
        throw new OidcError('ERR_OIDC_INVALID_TENANT', 'privateJwk could not be imported as a private key', { cause, details: { field: 'privateJwk' } });
      }
    })();
    // Import is deterministic for a frozen JWK, so a rejection is cached as well.
    importedKeys.set(jwk, entry);
  }
  return entry;
}

/** RFC 7523 §3 assertion: iss = sub = client_id, aud = the endpoint URL (Okta's documented value). */
async function clientAssertion(tenant: Tenant, jwk: PrivateJwk, audience: string, nowMs: number): Promise<string> {
  const { key, alg } = await signingKey(jwk);
  const iat = Math.floor(nowMs / 1000);
  const header: { alg: string; typ: string; kid?: string } = { alg, typ: 'JWT' };
  if (typeof jwk.kid === 'string') header.kid = jwk.kid;
  return new SignJWT({})
    .setProtectedHeader(header)
    .setIssuer(tenant.clientId)
    .setSubject(tenant.clientId)
    // A single string, never an array (OIDC Core §9, CA-04).
    .setAudience(audience)
    .setJti(randomJti())
    .setIssuedAt(iat)
    .setExpirationTime(iat + ASSERTION_LIFETIME_SEC)
    .sign(key);
}

/** application/x-www-form-urlencoded encoding of one value (WHATWG serializer, as RFC 6749 Appendix B asks). */
function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/** RFC 6749 §2.3.1 Basic credentials: Base64(formEncode(id) ":" formEncode(secret)). */
export function basicAuthorization(clientId: string, secret: string): string {
  // After form-encoding every character is ASCII, so btoa is safe.
  return `Basic ${btoa(`${formEncode(clientId)}:${formEncode(secret)}`)}`;
}

function oauthError(response: TransportResponse): string | undefined {
  const json = response.json;
  if (typeof json !== 'object' || json === null) return undefined;
  const error = (json as { error?: unknown }).error;
  return typeof error === 'string' ? error : undefined;
}

function isInvalidClient(response: TransportResponse): boolean {
  return (response.status === 400 || response.status === 401) && oauthError(response) === 'invalid_client';
}

/**
 * POST form params to a tenant endpoint with the tenant's client authentication.
 *
 * On `invalid_client` with two active secrets retries once with the other and reports, in
 * `secretIndex`, the index (in `tenant.auth.secrets`) of the secret used for the returned
 * response. `private_key_jwt` builds a fresh assertion per attempt. For `kind: 'token'` and a tenant
 * with `dpop: true`, adds a DPoP proof made with `deps.dpop` (required then: ERR_OIDC_DPOP_ERROR
 * without it) and retries once on `use_dpop_nonce`.
 *
 * The response is returned as is (including 4xx OAuth errors): callers interpret it. Transport
 * errors (timeouts, 5xx, 429) propagate as the transport's `OidcError`s. No retry happens on
 * those: a code is single-use (RFC 6749 §4.1.2, catalogue TK-02).
 */
export async function authenticatedPost(
  deps: AuthenticatedPostDeps,
  tenant: Tenant,
  kind: AuthenticatedPostKind,
  url: string,
  params: Record<string, string>,
): Promise<TransportResponse & { secretIndex?: number }> {
  for (const name of ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type']) {
    if (Object.hasOwn(params, name)) throw codedTypeError(`authenticatedPost: ${name} is set by client authentication, not by the caller`, 'ERR_INVALID_ARG_VALUE');
  }
  const auth = tenant.auth;
  if (auth.method === 'private_key_jwt') {
    const jwk = auth.privateJwk;
    return sendWithDpop(deps, tenant, kind, url, async () => ({
      headers: {},
      body: {
        ...params,
        client_id: tenant.clientId,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await clientAssertion(tenant, jwk, url, deps.now()),
      },
    }));
  }

  const candidates = auth.secrets.flatMap((secret, index) => (secret.active ? [index] : []));
  let response: TransportResponse | undefined;
  let used = -1;
  // At most two attempts: Okta holds at most two secrets per app (CA-03).
  for (const index of candidates.slice(0, 2)) {
    const secret = auth.secrets[index]!.value;
    used = index;
    response = await sendWithDpop(deps, tenant, kind, url, async (): Promise<Credentials> =>
      auth.method === 'client_secret_basic'
        ? { headers: { authorization: basicAuthorization(tenant.clientId, secret) }, body: { ...params } }
        : { headers: {}, body: { ...params, client_id: tenant.clientId, client_secret: secret } },
    );
    if (!isInvalidClient(response)) break;
  }
  if (response === undefined) {
    // parseTenant guarantees an active secret; reaching here means a hand-built Tenant.
    throw new OidcError('ERR_OIDC_INVALID_TENANT', `Tenant "${tenant.id}" has no active client secret`, { details: { field: 'clientSecrets' } });
  }
  return { ...response, secretIndex: used };
}

type Credentials = { headers: Record<string, string>; body: Record<string, string> };

/** One logical request: a first attempt, plus one retry when the server demands a DPoP nonce. */
async function sendWithDpop(
  deps: AuthenticatedPostDeps,
  tenant: Tenant,
  kind: AuthenticatedPostKind,
  url: string,
  credentials: () => Promise<Credentials>,
): Promise<TransportResponse> {
  // DPoP proofs go on token requests only (RFC 9449 §5; Okta: "Require DPoP header in token
  // requests"); introspection and revocation authenticate the client, not a key holder.
  const wantsDpop = tenant.dpop && kind === 'token';
  const dpop = wantsDpop ? deps.dpop : undefined;
  if (wantsDpop && !dpop) {
    throw new OidcError('ERR_OIDC_DPOP_ERROR', `Tenant "${tenant.id}" requires DPoP but no DPoP key is configured`);
  }
  const server = dpopServer(url);
  for (let attempt = 0; ; attempt++) {
    // Everything is re-minted per attempt: assertion jti and proof jti (RFC 9449 §7.3, DP-06).
    const { headers, body } = await credentials();
    const requestHeaders: Record<string, string> = {
      ...headers,
      accept: 'application/json',
      'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
    };
    if (dpop) {
      const nonce = dpop.getNonce(server);
      requestHeaders.dpop = await createDpopProof(dpop, { method: 'POST', url, nowMs: deps.now(), ...(nonce ? { nonce } : {}) });
    }
    const response = await deps.transport.request(kind, { issuer: tenant.issuer, tenantId: tenant.id }, url, {
      method: 'POST',
      headers: requestHeaders,
      body: new URLSearchParams(body).toString(),
    });
    if (!dpop) return response;
    // RFC 9449 §8.2: a server may hand out a fresh nonce on any response.
    const nonce = readDpopNonce(response.headers);
    if (nonce !== undefined) dpop.setNonce(server, nonce);
    if (response.status === 400 && oauthError(response) === 'use_dpop_nonce') {
      if (nonce === undefined) {
        throw new OidcError('ERR_OIDC_DPOP_ERROR', 'The server asked for a DPoP nonce without sending a DPoP-Nonce header (RFC 9449 §8).');
      }
      // One retry only: an endless nonce challenge is a server fault (DP-04).
      if (attempt === 0) continue;
      throw new OidcError('ERR_OIDC_DPOP_ERROR', 'The server rejected the DPoP nonce twice (RFC 9449 §8).');
    }
    return response;
  }
}
