/**
 * DPoP proofs (RFC 9449) for token requests.
 *
 * One key pair per client instance (ES256 on P-256, generated with Web Crypto, private key
 * non-extractable: RFC 9449 §11.4 / catalogue DP-09). Server-provided nonces are remembered per
 * server origin, because the AS and a resource server issue independent nonces (RFC 9449 §8, §9).
 */
import { SignJWT, type JWK } from 'jose';
import { OidcError } from '../errors';
import { encodeBase64url } from '../internal/base64url';
import { randomJti } from '../internal/random';

/** A DPoP key pair plus the nonces servers handed out for it. */
export interface DpopKeyPair {
  readonly privateKey: CryptoKey;
  /** The public key as a JWK (`kty`, `crv`, `x`, `y` only), sent in every proof's `jwk` header. */
  readonly publicJwk: Readonly<JWK>;
  /** The last `DPoP-Nonce` a server (keyed by origin) sent, if any. */
  getNonce(server: string): string | undefined;
  setNonce(server: string, nonce: string): void;
}

/** Bound on remembered nonces, so thousands of orgs cannot grow the map without limit. */
const MAX_NONCES = 1000;

/** RFC 9449 §8.1: `nonce = 1*NQCHAR`, NQCHAR = %x21 / %x23-5B / %x5D-7E. */
const NONCE = /^[\x21\x23-\x5B\x5D-\x7E]{1,512}$/;

/** Generate the per-client-instance DPoP key pair (ES256, non-extractable private key). */
export async function createDpopKeyPair(): Promise<DpopKeyPair> {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair;
  const exported = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const publicJwk = Object.freeze({ kty: 'EC', crv: 'P-256', x: exported.x, y: exported.y } as JWK);
  const nonces = new Map<string, string>();
  return Object.freeze({
    privateKey: pair.privateKey,
    publicJwk,
    getNonce: (server: string) => nonces.get(server),
    setNonce: (server: string, nonce: string) => {
      nonces.delete(server);
      if (nonces.size >= MAX_NONCES) {
        const oldest = nonces.keys().next().value;
        if (oldest !== undefined) nonces.delete(oldest);
      }
      nonces.set(server, nonce);
    },
  });
}

/** RFC 9449 §4.2: `htu` is the target URI without query and fragment. */
export function dpopHtu(url: string): string {
  const target = new URL(url);
  target.search = '';
  target.hash = '';
  return target.href;
}

/** The key under which a server's nonce is remembered: its origin. */
export function dpopServer(url: string): string {
  return new URL(url).origin;
}

/**
 * Build a fresh DPoP proof JWT (RFC 9449 §4.2): header `typ=dpop+jwt`, `alg=ES256`, public `jwk`;
 * claims `jti` (fresh per call, so retries never reuse one: §7.3), `htm`, `htu`, `iat`, and
 * `nonce` / `ath` when given.
 */
export async function createDpopProof(
  key: DpopKeyPair,
  request: { method: 'GET' | 'POST'; url: string; nowMs: number; nonce?: string; accessToken?: string },
): Promise<string> {
  const claims: Record<string, unknown> = {
    jti: randomJti(),
    htm: request.method,
    htu: dpopHtu(request.url),
    iat: Math.floor(request.nowMs / 1000),
  };
  if (request.nonce !== undefined) claims.nonce = request.nonce;
  if (request.accessToken !== undefined) {
    // RFC 9449 §4.2: ath = base64url(SHA-256(ASCII(access_token))).
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(request.accessToken));
    claims.ath = encodeBase64url(new Uint8Array(digest));
  }
  return new SignJWT(claims).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: { ...key.publicJwk } }).sign(key.privateKey);
}

/**
 * Read the `DPoP-Nonce` header. Returns undefined when absent; throws ERR_OIDC_DPOP_ERROR when the
 * value is not a valid nonce or several headers were sent (RFC 9449 §8: "there MUST NOT be more than
 * one DPoP-Nonce header"; `Headers` joins repeats with ", ", and a space is not an NQCHAR).
 */
export function readDpopNonce(headers: Headers): string | undefined {
  const value = headers.get('dpop-nonce');
  if (value === null) return undefined;
  if (!NONCE.test(value)) {
    throw new OidcError('ERR_OIDC_DPOP_ERROR', 'The server sent an invalid or repeated DPoP-Nonce header (RFC 9449 §8).');
  }
  return value;
}
