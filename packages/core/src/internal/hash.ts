/** Hashing through Web Crypto (never hand-rolled). Never exported from the package. */
import { encodeBase64url } from './base64url';

export type ShaBits = 256 | 384 | 512;

/** SHA-256/384/512 of the UTF-8 bytes of `input`. */
export async function sha(bits: ShaBits, input: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(`SHA-${bits}`, new TextEncoder().encode(input)));
}

/** SHA-256 of the UTF-8 bytes of `input`, unpadded base64url: a short, safe store key for request input. */
export async function sha256Base64url(input: string): Promise<string> {
  return encodeBase64url(await sha(256, input));
}

/**
 * The store key of a one-time check: a namespace and SHA-256 of (issuer, client id, id), so the key
 * names the app instance and never holds the token or `jti` itself. One format for every replay
 * check (simplified-flow ID tokens, logout JWTs).
 */
export async function oneTimeKey(namespace: string, issuer: string, clientId: string, id: string): Promise<string> {
  return `oin-oidc:${namespace}:${await sha256Base64url(`${issuer}\n${clientId}\n${id}`)}`;
}
