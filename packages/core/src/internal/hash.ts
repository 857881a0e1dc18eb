/** Hashing through Web Crypto (never hand-rolled). Never exported from the package. */

export type ShaBits = 256 | 384 | 512;

/** SHA-256/384/512 of the UTF-8 bytes of `input`. */
export async function sha(bits: ShaBits, input: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(`SHA-${bits}`, new TextEncoder().encode(input)));
}
