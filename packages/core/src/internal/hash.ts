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
