/**
 * An ID token signature verifier on `node:crypto`. Same key, same RSASSA-PKCS1-v1_5 / SHA-256
 * check as Web Crypto (RFC 7518 §3.3, done by OpenSSL either way), but synchronous: Node's
 * `crypto.subtle.verify` queues each call to the libuv thread pool and resolves a promise, which
 * costs more than the RSA operation itself (docs/benchmarks.md, ID-token validation).
 */
import { KeyObject, verify } from 'node:crypto';
import type { SignatureAlgorithm, SignatureVerifier } from '../tokens/signature-verifier';

/** Node's digest for each JWS algorithm core accepts. */
const DIGEST: Record<SignatureAlgorithm, string> = { RS256: 'sha256' };

/** The `KeyObject` of each Web Crypto key, converted once (keys rotate rarely; tokens are many). */
const keyObjects = new WeakMap<CryptoKey, KeyObject>();

function keyObjectOf(key: CryptoKey): KeyObject {
  let keyObject = keyObjects.get(key);
  if (keyObject === undefined) {
    keyObject = KeyObject.from(key);
    keyObjects.set(key, keyObject);
  }
  return keyObject;
}

/**
 * Pass as `verifySignature` in `createOidcClient` (or `client.verifySignature` in the flow options)
 * on Node. An algorithm it does not know is refused (the token is rejected), never guessed.
 */
export const nodeSignatureVerifier: SignatureVerifier = (alg, key, signature, signingInput) => {
  const digest = DIGEST[alg];
  if (digest === undefined) return false;
  // RSA keys default to PKCS #1 v1.5 padding, the RS256 scheme.
  return verify(digest, signingInput, keyObjectOf(key), signature);
};

/**
 * The flow options with `client.verifySignature` set to {@link nodeSignatureVerifier}, unless the
 * caller chose a verifier. Anything that is not an options object is returned as it is, so core's
 * option validation still reports it (ERR_OIDC_INVALID_OPTIONS).
 */
export function withNodeSignatureVerifier<T>(options: T): T {
  if (typeof options !== 'object' || options === null) return options;
  const client = (options as { client?: unknown }).client;
  if (client !== undefined && (typeof client !== 'object' || client === null)) return options;
  if (client !== undefined && 'verifySignature' in client) return options;
  return { ...options, client: { ...client, verifySignature: nodeSignatureVerifier } };
}
