/**
 * `at_hash` (OIDC Core §3.1.3.8, §3.2.2.9): "the base64url encoding of the left-most half of the hash
 * of the octets of the ASCII representation of the access_token value, where the hash algorithm used
 * is the hash algorithm used in the alg Header Parameter of the ID Token's JOSE Header".
 * Core Appendix A.3 vector: `jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y` → `77QmUPtjPfzWtF2AnpK9RQ`.
 */
import { base64url } from 'jose';
import { sha, type ShaBits } from '../internal/hash';
import { codedTypeError } from '../internal/misuse';

/** Hash size for a JWS `alg` (RS256/PS256/ES256 → 256, …); undefined for algorithms without one. */
export function hashBitsForAlg(alg: string): ShaBits | undefined {
  const match = /^(?:RS|PS|ES)(256|384|512)$/.exec(alg);
  return match ? (Number(match[1]) as ShaBits) : undefined;
}

/** Compute the `at_hash` (or `c_hash`) value of `token` for an ID token signed with `alg`. */
export async function computeTokenHash(token: string, alg: string): Promise<string> {
  const bits = hashBitsForAlg(alg);
  if (bits === undefined) throw codedTypeError('unsupported alg for a token hash', 'ERR_INVALID_ARG_VALUE');
  const digest = await sha(bits, token);
  return base64url.encode(digest.subarray(0, digest.byteLength / 2));
}

/** True when `claim` is the correct `at_hash` of `accessToken` for `alg`. */
export async function verifyTokenHash(claim: string, token: string, alg: string): Promise<boolean> {
  return claim === (await computeTokenHash(token, alg));
}
