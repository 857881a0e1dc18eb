/**
 * CSPRNG helpers (Web Crypto `getRandomValues`). Internal: never exported from the package.
 *
 * RFC 9700 §2.1 asks for one-time, unguessable `state` and `nonce` values; 32 octets (256 bits)
 * is twice the 128-bit floor of the security catalogue (AR-01, AR-02).
 */
import { encodeBase64url } from './base64url';

/** `length` octets from the platform CSPRNG. */
export function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  crypto.getRandomValues(bytes);
  return bytes;
}

/** A base64url string carrying `octets` random octets (default 32 → 43 characters, 256 bits). */
export function randomToken(octets = 32): string {
  return encodeBase64url(randomBytes(octets));
}

/** A fresh `state` value (RFC 6749 §10.12, RFC 9700 §2.1): 256 bits, base64url. */
export function randomState(): string {
  return randomToken(32);
}

/** A fresh `nonce` value (OIDC Core §3.1.2.1, §15.5.2): 256 bits, base64url. */
export function randomNonce(): string {
  return randomToken(32);
}

/** A fresh `jti` for client assertions and DPoP proofs (RFC 7523 §3, RFC 9449 §4.2): 128 bits. */
export function randomJti(): string {
  return randomToken(16);
}
