/**
 * The one step of ID token validation that touches key material: checking a JWS signature over
 * its signing input (RFC 7515 §5.2 step 8). Core does it with Web Crypto, which every runtime has.
 * A runtime with a faster primitive can supply its own verifier: `@oin-oidc/core/node` has one on
 * `node:crypto`, which the Express, Fastify and Koa adapters use (docs/benchmarks.md: Node's
 * `crypto.subtle.verify` spends about 60 µs per call in promise and thread-pool hops; the
 * synchronous `crypto.verify` of the same key about 30 µs in total).
 *
 * Everything else (token structure, header allowlist, key selection, key strength, claims) stays
 * in core and runs before and after the verifier, whichever verifier it is.
 */

/** The JWS algorithms core validates. Okta signs ID tokens with RS256 only. */
export type SignatureAlgorithm = 'RS256';

/**
 * Verify `signature` over `signingInput` with `key`, an RSASSA-PKCS1-v1_5 / SHA-256 public key of
 * at least 2048 bits that core imported from the issuer's JWKS and has already checked. Return (or
 * resolve to) `true` only for a valid signature; `false` or a throw rejects the token. Both byte
 * arrays belong to the verifier for the duration of the call and may be kept.
 */
export type SignatureVerifier = (
  alg: SignatureAlgorithm,
  key: CryptoKey,
  signature: Uint8Array,
  signingInput: Uint8Array,
) => boolean | Promise<boolean>;

/** RS256 = RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3); the hash is bound to the imported key. */
export const RS256_KEY_ALGORITHM = { name: 'RSASSA-PKCS1-v1_5' } as const;

/** RFC 7518 §3.3: RS256 keys are 2048 bits or larger. */
export const MIN_RSA_BITS = 2048;

/**
 * An RSASSA-PKCS1-v1_5 / SHA-256 public key allowed to verify, of at least 2048 bits: what jose's
 * key handling checked before `subtle.verify`. The one definition both ID-token validation and
 * access-token triage use.
 */
export function isRs256VerificationKey(key: CryptoKey): boolean {
  const algorithm = key.algorithm as RsaHashedKeyAlgorithm;
  return (
    key.type === 'public' &&
    algorithm.name === RS256_KEY_ALGORITHM.name &&
    algorithm.hash?.name === 'SHA-256' &&
    algorithm.modulusLength >= MIN_RSA_BITS &&
    key.usages.includes('verify')
  );
}

/** The default: the platform's Web Crypto (`crypto.subtle.verify`), available on every runtime. */
export const webCryptoVerifier: SignatureVerifier = (_alg, key, signature, signingInput) =>
  crypto.subtle.verify(RS256_KEY_ALGORITHM, key, signature as Uint8Array<ArrayBuffer>, signingInput as Uint8Array<ArrayBuffer>);
