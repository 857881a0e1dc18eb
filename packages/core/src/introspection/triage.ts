/**
 * Cheap triage of a bearer token before it may spend anything shared (audit finding SA-01,
 * docs/security.md).
 *
 * Okta org authorization server access tokens are RS256 JWTs (header `kid`, `alg: RS256`, and
 * since Okta's March 2024 release `typ: application/okta-internal-at+jwt`) whose payload carries
 * `ver`, `jti` ("AT.…"), `iss`, `aud` (the org URL), `sub`, `iat`, `exp`, `cid` (the client id),
 * `uid` and `scp` (Okta developer docs, OpenID Connect & OAuth 2.0 API, "Access token"). Okta also
 * says to treat them as opaque: their format is not a contract for third parties. So triage only
 * *refuses* what can never be one of this tenant's access tokens, and never *accepts* anything:
 * acceptance always comes from `/introspect` (RFC 7662), whatever triage says.
 *
 * - `junk`: not a compact JWS of base64url JSON objects, `alg` not RS256, `iss` not the tenant's
 *   issuer, `cid` not the tenant's client id, `exp` not a number or already past (beyond the clock
 *   tolerance). Okta can only answer "inactive" or "another client" for these, so asking it would
 *   only spend its rate limit and our throttle on an attacker's behalf.
 * - `forged`: the `kid` names a key the JWKS registry already holds for the issuer, and the RS256
 *   signature does not verify with it. Okta signs with the key its `kid` names, so no token Okta
 *   minted fails that check. The key is only *peeked* (synchronous, cache only): a fetch would let
 *   junk spend the issuer's unknown-`kid` refetch budget (SA-09). (The introspector may
 *   prime an *empty* cache once, without a kid, which spends no budget: introspect.ts.)
 * - `verified`: the `kid` is known and the signature verifies. Only Okta holds that private key,
 *   so the token is Okta's (active or not is still Okta's answer); no throttle needed.
 * - `plausible`: everything else (the `kid` is unknown to the cache, e.g. when Okta signs access
 *   tokens with a key that is not published at `/keys`, or no key set is cached yet). Only Okta can
 *   judge these, so they go to `/introspect` through the per-caller and per-tenant buckets.
 *
 * Pure Web APIs plus jose's base64url; nothing here touches the network.
 */
import type { OidcErrorCode } from '../errors';
import type { JwksRegistry } from '../jwks/jwks-registry';
import { decodeBase64url } from '../internal/base64url';
import { isTenantIssuer, type Tenant } from '../tenant/tenant';
import { isRs256VerificationKey, type SignatureVerifier } from '../tokens/signature-verifier';

/** The check that made a token `junk` (or `signature` for `forged`), reported as `details.check`. */
export type TriageCheck = 'format' | 'header' | 'alg' | 'payload' | 'iss' | 'cid' | 'exp' | 'signature';

export type TriageResult =
  | { readonly class: 'junk' | 'forged'; readonly check: TriageCheck; readonly code: OidcErrorCode }
  | { readonly class: 'verified'; readonly kid: string }
  | { readonly class: 'plausible'; readonly kid: string | undefined };

export interface TriageDeps {
  /** The client's JWKS registry; only `peekKey` is used (never a fetch). Absent: no `forged`/`verified`. */
  jwks?: Pick<JwksRegistry, 'peekKey'>;
  verifySignature: SignatureVerifier;
  /** ms */
  now: () => number;
  clockToleranceSec: number;
}

/** base64url, no padding: what a compact JWS segment is made of (RFC 7515 §7.1). */
const SEGMENT = /^[A-Za-z0-9_-]+$/;
const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();
const PLAUSIBLE_NO_KID: TriageResult = Object.freeze({ class: 'plausible', kid: undefined });

const refusals = new Map<TriageCheck, TriageResult>(
  (['format', 'header', 'alg', 'payload', 'iss', 'cid', 'exp', 'signature'] as const).map((check) => [
    check,
    Object.freeze({ class: check === 'signature' ? 'forged' : 'junk', check, code: 'ERR_OIDC_ACCESS_TOKEN_INVALID' } as const),
  ]),
);
const refused = (check: TriageCheck): TriageResult => refusals.get(check)!;
/** An expired token may be a real token that ran out: the answer Okta would give (inactive). */
const EXPIRED: TriageResult = Object.freeze({ class: 'junk', check: 'exp', code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });

/** A base64url segment holding a JSON object, or undefined. */
function jsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(decoder.decode(decodeBase64url(segment)));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Classify `token` (already known to be a syntactically valid RFC 6750 bearer token) for `tenant`.
 * Synchronous unless a known key's signature check is asynchronous (the Web Crypto verifier).
 */
export function triageAccessToken(deps: TriageDeps, tenant: Tenant, token: string): TriageResult | Promise<TriageResult> {
  const first = token.indexOf('.');
  const last = token.lastIndexOf('.');
  if (first <= 0 || last === first || last === token.length - 1 || token.indexOf('.', first + 1) !== last) return refused('format');
  const encodedHeader = token.slice(0, first);
  const encodedPayload = token.slice(first + 1, last);
  const encodedSignature = token.slice(last + 1);
  if (!SEGMENT.test(encodedHeader) || !SEGMENT.test(encodedPayload) || !SEGMENT.test(encodedSignature)) return refused('format');

  const header = jsonObject(encodedHeader);
  if (header === undefined) return refused('header');
  // RFC 8725 §3.1: the allowed algorithm is ours. Okta signs access tokens with RS256 only.
  if (header.alg !== 'RS256') return refused('alg');
  const claims = jsonObject(encodedPayload);
  if (claims === undefined) return refused('payload');
  if (!isTenantIssuer(tenant, claims.iss)) return refused('iss');
  // Okta puts the client id in `cid`; a token of another app of the org (or an ID token: no `cid`)
  // would introspect as "another client" or "not an access token" at best (catalogue IN-05).
  if (claims.cid !== tenant.clientId) return refused('cid');
  const exp = claims.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return refused('exp');
  if (exp <= Math.floor(deps.now() / 1000) - deps.clockToleranceSec) return EXPIRED;

  // Only a non-empty string kid selects a key: with none, peekKey would pick "the only key" of the
  // set, which need not be the key Okta signed an access token with.
  const kid = header.kid;
  if (typeof kid !== 'string' || kid.length === 0) return PLAUSIBLE_NO_KID;
  const key = deps.jwks?.peekKey?.(tenant.issuer, tenant.endpoints.jwks, kid);
  if (key === undefined || !isRs256VerificationKey(key)) return { class: 'plausible', kid };
  let signature: Uint8Array;
  try {
    signature = decodeBase64url(encodedSignature);
  } catch {
    return refused('format');
  }
  const verified = (ok: unknown): TriageResult => (ok === true ? { class: 'verified', kid } : refused('signature'));
  // A verifier that throws is a fault of ours, not evidence of forgery: Okta decides then.
  const undecided = (): TriageResult => ({ class: 'plausible', kid });
  try {
    // RFC 7515 §5.2 step 8: the signing input is the ASCII of `header.payload`.
    const result = deps.verifySignature('RS256', key, signature, encoder.encode(token.slice(0, last)));
    return typeof result === 'boolean' ? verified(result) : Promise.resolve(result).then(verified, undecided);
  } catch {
    return undecided();
  }
}
