/**
 * Hand-built compact JWS for property tests: any header, any payload (even not JSON), signed with a
 * chosen RSA key or carrying a chosen garbage signature, so every rule of ID token validation can
 * be broken one at a time. Signing uses Web Crypto (RSASSA-PKCS1-v1_5 / SHA-256 = RS256).
 */
import { exportJWK, type JWK } from 'jose';

export interface RsaKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK & { n: string; e: string };
}

export async function rsaKey(kid: string, modulusLength = 2048): Promise<RsaKey> {
  // Web Crypto directly: jose refuses to generate keys under 2048 bits, which the tests need too.
  const { privateKey, publicKey } = (await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
  const jwk = (await exportJWK(publicKey)) as JWK & { n: string; e: string };
  return { kid, privateKey, publicJwk: { ...jwk, kid, use: 'sig', alg: 'RS256' } };
}

export function b64url(input: string | Uint8Array): string {
  return Buffer.from(typeof input === 'string' ? new TextEncoder().encode(input) : input).toString('base64url');
}

export type SignatureMode = 'valid' | 'random' | 'empty' | 'truncated' | 'other-input';

/** `b64(header).b64(payload).signature`; header and payload are JSON-serialised unless already strings. */
export async function compactJws(header: unknown, payload: unknown, key: CryptoKey, mode: SignatureMode = 'valid'): Promise<string> {
  const h = b64url(typeof header === 'string' ? header : JSON.stringify(header));
  const p = b64url(typeof payload === 'string' ? payload : JSON.stringify(payload));
  const input = `${h}.${p}`;
  if (mode === 'empty') return `${input}.`;
  if (mode === 'random') return `${input}.${b64url(crypto.getRandomValues(new Uint8Array(256)))}`;
  const signed = mode === 'other-input' ? `${input}x` : input;
  const signature = new Uint8Array(await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key, new TextEncoder().encode(signed)));
  return `${input}.${b64url(mode === 'truncated' ? signature.subarray(0, 200) : signature)}`;
}

/** OIDC Core §3.1.3.8 at_hash for RS256: left half of SHA-256, base64url. */
export async function atHash(accessToken: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken)));
  return b64url(digest.subarray(0, 16));
}
