/**
 * PKCE (RFC 7636), S256 only: `plain` exposes the verifier and "Clients MUST NOT downgrade to
 * plain" (RFC 7636 §7.2, RFC 9700 §2.1.1).
 */
import { encodeBase64url } from '../internal/base64url';
import { codedTypeError } from '../internal/misuse';
import { randomToken } from '../internal/random';

/** RFC 7636 §4.1: 43–128 characters from the unreserved set. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/**
 * A fresh code verifier: 32 random octets, base64url (43 characters, 256 bits of entropy), as
 * RFC 7636 §4.1 recommends.
 */
export function randomCodeVerifier(): string {
  return randomToken(32);
}

/**
 * `BASE64URL(SHA-256(ASCII(code_verifier)))` (RFC 7636 §4.2, method `S256`).
 *
 * @example
 * ```ts
 * await computeCodeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
 * // 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' (RFC 7636 Appendix B)
 * ```
 */
export async function computeCodeChallenge(verifier: string): Promise<string> {
  if (!VERIFIER.test(verifier)) {
    // The verifier is ours (randomCodeVerifier), so this is a programming error; never echo it.
    throw codedTypeError('code_verifier must be 43-128 characters from [A-Za-z0-9-._~] (RFC 7636 §4.1)', 'ERR_INVALID_ARG_VALUE');
  }
  // The regex guarantees ASCII, so UTF-8 encoding equals ASCII(verifier).
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return encodeBase64url(new Uint8Array(digest));
}

/** The only method this SDK sends. */
export const CODE_CHALLENGE_METHOD = 'S256';
