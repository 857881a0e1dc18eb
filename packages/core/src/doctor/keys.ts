/**
 * `keys.usable` and `keys.cache-control`: is the org's `/oauth2/v1/keys` a set the SDK can verify
 * ID tokens with? The rules are the JWKS registry's (jwks/jwks-registry.ts), stated as findings:
 * RSA signing keys usable with RS256 (RFC 7518 §3.3: 2048 bits or more), a unique `kid` per key
 * (OIDC Core §10.1: the `kid` selects the key), and no private or symmetric key material.
 */
import { importJWK } from 'jose';
import { decodeBase64url } from '../internal/base64url';
import { parseMaxAge } from '../jwks/jwks-registry';
import { MIN_RSA_BITS } from '../tokens/signature-verifier';
import type { TenantCheck } from './types';

/** Keys beyond this many entries are not examined (the registry's bound). */
const MAX_KEYS = 100;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** JWK members that only private (RSA, EC, OKP) or symmetric (oct) keys carry (RFC 7518 §6). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;
/** A kid we may repeat in details: short printable ASCII (it is remote input). */
const SAFE_KID = /^[\x21-\x7e]{1,64}$/;

const NOT_OKTA = "This is not what an Okta org publishes: check that the issuer is the org's URL (https://{yourOktaDomain}) and that no proxy rewrites /oauth2/v1/keys.";

/** Bit length of an RSA modulus given as base64url; 0 when it does not decode. */
function modulusBits(n: string): number {
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64url(n);
  } catch {
    return 0;
  }
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i += 1;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i]!));
}

/** `keys.usable` for a `/keys` response body. */
export async function checkKeysUsable(json: unknown): Promise<TenantCheck> {
  const id = 'keys.usable' as const;
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { keys?: unknown }).keys)) {
    return { id, status: 'fail', message: `The keys endpoint did not answer a JSON Web Key Set ({"keys": [...]}). ${NOT_OKTA}` };
  }
  const entries = (json as { keys: unknown[] }).keys.slice(0, MAX_KEYS);
  let usable = 0;
  let withPrivateMaterial = 0;
  let tooSmall = 0;
  let withoutKid = 0;
  let ignored = 0;
  const kids = new Map<string, number>();
  for (const entry of entries) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      ignored += 1;
      continue;
    }
    const jwk = entry as Record<string, unknown>;
    if (PRIVATE_MEMBERS.some((member) => member in jwk)) withPrivateMaterial += 1;
    if (typeof jwk.kid === 'string' && jwk.kid.length > 0) kids.set(jwk.kid, (kids.get(jwk.kid) ?? 0) + 1);
    const signing = jwk.kty === 'RSA' && (jwk.use === undefined || jwk.use === 'sig') && (jwk.alg === undefined || jwk.alg === 'RS256');
    if (!signing || typeof jwk.n !== 'string' || !BASE64URL.test(jwk.n) || typeof jwk.e !== 'string' || !BASE64URL.test(jwk.e)) {
      ignored += 1;
      continue;
    }
    if (modulusBits(jwk.n) < MIN_RSA_BITS) {
      tooSmall += 1;
      continue;
    }
    try {
      // Public members only, as the registry imports them.
      await importJWK({ kty: 'RSA', n: jwk.n, e: jwk.e }, 'RS256');
    } catch {
      ignored += 1;
      continue;
    }
    if (typeof jwk.kid !== 'string' || jwk.kid.length === 0) withoutKid += 1;
    usable += 1;
  }
  const duplicated = [...kids].filter(([, count]) => count > 1).map(([kid]) => kid);
  const details: Record<string, unknown> = { keys: entries.length, usable, ignored, tooSmall, withoutKid, privateMaterial: withPrivateMaterial };
  if (duplicated.length > 0) details.duplicateKids = duplicated.filter((kid) => SAFE_KID.test(kid));

  if (withPrivateMaterial > 0) {
    return { id, status: 'fail', message: `The key set contains ${withPrivateMaterial} private or symmetric key(s) (members such as "d" or "k"). ${NOT_OKTA}`, details };
  }
  if (duplicated.length > 0) {
    return {
      id,
      status: 'fail',
      message: `Several keys share one "kid" (${duplicated.length} kid value(s) repeated), so a token's kid cannot select its key (OIDC Core §10.1). ${NOT_OKTA}`,
      details,
    };
  }
  if (tooSmall > 0) {
    return { id, status: 'fail', message: `${tooSmall} RSA key(s) are shorter than ${MIN_RSA_BITS} bits, which RS256 refuses (RFC 7518 §3.3). ${NOT_OKTA}`, details };
  }
  if (usable === 0) {
    return { id, status: 'fail', message: `The key set holds no RSA key usable with RS256, so no ID token can be verified. ${NOT_OKTA}`, details };
  }
  if (withoutKid > 0) {
    return { id, status: 'warn', message: `${withoutKid} key(s) have no "kid"; Okta always sets one, and tokens are matched to keys by kid. ${NOT_OKTA}`, details };
  }
  if (ignored > 0) {
    return { id, status: 'warn', message: `${usable} usable RS256 key(s), but ${ignored} other entr(ies) that are not RSA signing keys were ignored; an Okta org publishes only RSA signing keys.`, details };
  }
  return { id, status: 'ok', message: `${usable} usable RS256 signing key(s), each with its own kid.`, details };
}

/** `keys.cache-control` for the `Cache-Control` header of a `/keys` response. */
export function checkKeysCacheControl(header: string | null): TenantCheck {
  const id = 'keys.cache-control' as const;
  if (header === null) {
    return {
      id,
      status: 'warn',
      message:
        'The keys response has no Cache-Control header; the SDK then caches the keys for 1 hour. Okta sends one: a proxy between this app and Okta probably strips it.',
    };
  }
  const maxAge = parseMaxAge(header);
  if (maxAge === undefined || maxAge === 0) {
    return {
      id,
      status: 'warn',
      message: `The keys response says Cache-Control "${maxAge === 0 ? 'no-store/no-cache/max-age=0' : 'without max-age'}"; the SDK caches the keys anyway (60 s to 24 h). Okta sends a max-age: check for a proxy that rewrites the header.`,
      details: { maxAgeSec: maxAge ?? null },
    };
  }
  return { id, status: 'ok', message: `The keys may be cached for ${maxAge} s (the SDK keeps them between 60 s and 24 h).`, details: { maxAgeSec: maxAge } };
}
