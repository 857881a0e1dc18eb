/**
 * ID token validation, OIDC Core §3.1.3.7 (and §3.1.3.8 for `at_hash`).
 *
 * Order: cheap structural checks first (size, segments, header), so hostile input never reaches
 * base64 decoding of a huge payload, a key fetch or a signature check (catalogue DS-01, DS-03,
 * IT-16); then the key from the per-issuer {@link JwksRegistry} (synchronously when it is cached;
 * when it is not, only for a token whose unverified `iss`/`aud` name the tenant, and on the
 * caller's channel budget: audit finding SA-09, docs/security.md);
 * then the RS256 signature, verified by the platform (Web Crypto `crypto.subtle.verify` with the
 * `CryptoKey` jose imported, or the injected {@link SignatureVerifier}; RFC 7515 §5.2); only then is the payload decoded and every claim
 * checked (RFC 7519 §7.2, Core §3.1.3.7) — the checks jose's `jwtVerify` made (presence, `iss`,
 * `aud`, `nbf`/`exp`/`iat` with the clock tolerance, maximum age) and the OIDC-specific ones.
 *
 * Why not `jwtVerify`: it re-parses the header, runs its generic option processing and a key
 * resolver with promise layers on every call, which made validation ~25 % slower than jose with a
 * local key (docs/benchmarks.md). Nothing is cached per token (ID tokens are validated once).
 * Error messages name the failed check and never contain the token or claim values.
 */
import { base64url, decodeProtectedHeader } from 'jose';
import { OidcError } from '../errors';
import type { JwksChannel, JwksRegistry } from '../jwks/jwks-registry';
import { isTenantIssuer, type Tenant } from '../tenant/tenant';
import { verifyTokenHash } from './at-hash';
import { isRs256VerificationKey, type SignatureVerifier, webCryptoVerifier } from './signature-verifier';
import { audienceHolds, COMPACT_JWS } from '../internal/jwt-shape';

/** Larger ID tokens are refused before any parsing (DS-01). Okta's are 1–2 KiB. */
export const MAX_ID_TOKEN_LENGTH = 16 * 1024;
/** `typ` values an ID token may carry (RFC 8725 §3.11): other explicit types are foreign JWTs (IT-19). */
const ACCEPTED_TYP = new Set(['jwt', 'application/jwt']);
/** Core §2: `sub` "MUST NOT exceed 255 ASCII characters in length". */
const MAX_SUB_LENGTH = 255;
const SEGMENT = /^[A-Za-z0-9_-]+$/;
/** Claims that must be present (Core §2), checked in the order jose checked them. */
const REQUIRED_CLAIMS = ['iss', 'aud', 'iat', 'exp', 'sub'] as const;
const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
/** Octets above 0x7f in a binary string from atob (which yields only U+0000..U+00FF). */
const NON_ASCII = /[\x80-\xff]/;
/**
 * Headers that passed {@link checkHeader}, by their encoded form: every ID token an org signs with
 * one key carries the same header, so it is parsed once per key rather than once per token. The
 * header is not the token (nothing about a token's claims or signature is remembered), entries are
 * small (length-capped) and the map is cleared when full, so hostile headers cannot grow it.
 */
const checkedHeaders = new Map<string, { alg: 'RS256'; kid: string | undefined }>();
const MAX_CHECKED_HEADERS = 256;
const MAX_CACHED_HEADER_LENGTH = 512;
const FRONT = Object.freeze({ channel: 'front' as const });
const BACK = Object.freeze({ channel: 'back' as const });
/** Keys already checked to be RS256 public verification keys of at least 2048 bits. */
const vettedKeys = new WeakSet<CryptoKey>();

/** Claims of a validated ID token. */
export interface IdTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nonce?: string;
  auth_time?: number;
  azp?: string;
  at_hash?: string;
  [claim: string]: unknown;
}

/** What {@link validateIdToken} needs from its environment. */
export interface ValidateIdTokenDeps {
  jwks: JwksRegistry;
  /** Clock in epoch ms. */
  now: () => number;
  /** Leeway for `exp`, `iat`, `nbf` and `auth_time`, in seconds. */
  clockToleranceSec: number;
  /** Oldest acceptable `iat`, in seconds (catalogue IT-11). Default 86400; Okta ID tokens live one hour. */
  maxTokenAgeSec?: number;
  /** Checks the signature. Default: Web Crypto. `@oin-oidc/core/node` has a faster one for Node. */
  verifySignature?: SignatureVerifier;
}

/** What the caller expects of this particular ID token. */
export interface IdTokenExpectations {
  /** Required match when defined; when undefined the token must not be used unless `allowNoNonce`. */
  nonce: string | undefined;
  /** Simplified flow only. */
  allowNoNonce?: boolean;
  /** Seconds; requires `auth_time`. */
  maxAge?: number;
  /** Checks `at_hash` when the token carries one (then it must match). */
  accessToken?: string;
  /**
   * Where the token came from, for the JWKS refetch budget: `'back'` (default) straight from the
   * token endpoint; `'front'` posted by a browser (the simplified flow passes it), so a flood of
   * forged posts spends only the front channel's budget (SA-09).
   */
  channel?: JwksChannel;
}

function invalid(check: string, message: string, cause?: unknown): OidcError {
  return new OidcError('ERR_OIDC_ID_TOKEN_INVALID', `ID token rejected: ${message}`, {
    details: { check },
    ...(cause === undefined ? {} : { cause }),
  });
}

function expired(check: string): OidcError {
  return new OidcError('ERR_OIDC_ID_TOKEN_EXPIRED', `ID token rejected: the "${check}" check failed (the token has expired)`, {
    details: { check },
  });
}

/** The token as a compact JWS; returns the index of the dot before the signature. */
function checkStructure(idToken: unknown): number {
  if (typeof idToken !== 'string' || idToken.length === 0) throw invalid('format', 'the token is missing');
  if (idToken.length > MAX_ID_TOKEN_LENGTH) throw invalid('size', `the token exceeds ${MAX_ID_TOKEN_LENGTH} characters`);
  if (!COMPACT_JWS.test(idToken)) {
    const segments = idToken.split('.');
    if (segments.length === 5) throw invalid('format', 'encrypted (JWE) ID tokens are not supported');
    if (segments.length !== 3 || !segments.every((segment) => SEGMENT.test(segment))) {
      throw invalid('format', 'the token is not a compact JWS (three base64url segments)');
    }
  }
  return idToken.lastIndexOf('.');
}

function checkHeader(encodedHeader: string): { alg: 'RS256'; kid: string | undefined } {
  const known = checkedHeaders.get(encodedHeader);
  if (known !== undefined) return known;
  const checked = parseHeader(encodedHeader);
  if (encodedHeader.length <= MAX_CACHED_HEADER_LENGTH) {
    if (checkedHeaders.size >= MAX_CHECKED_HEADERS) checkedHeaders.clear();
    checkedHeaders.set(encodedHeader, checked);
  }
  return checked;
}

function parseHeader(encodedHeader: string): { alg: 'RS256'; kid: string | undefined } {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader({ protected: encodedHeader });
  } catch (cause) {
    throw invalid('header', 'the JOSE header is not a base64url-encoded JSON object', cause);
  }
  // Core §3.1.3.7 step 7, RFC 8725 §3.1: the allowlist is ours, never taken from the token.
  if (header.alg !== 'RS256') throw invalid('alg', 'the "alg" is not allowed (RS256 only)');
  // RFC 7515 §4.1.11: we understand no extension, so any `crit` header makes the token unusable
  // (this also refuses RFC 7797 `b64: false`, which is only honoured when listed in `crit`).
  if ('crit' in header) throw invalid('crit', 'the "crit" header is not supported');
  if (header.typ !== undefined && (typeof header.typ !== 'string' || !ACCEPTED_TYP.has(header.typ.toLowerCase()))) {
    throw invalid('typ', 'the "typ" header marks a JWT that is not an ID token');
  }
  if (header.kid !== undefined && (typeof header.kid !== 'string' || header.kid.length === 0)) {
    throw invalid('kid', 'the "kid" header is not a non-empty string');
  }
  return Object.freeze({ alg: 'RS256', kid: header.kid });
}

/** {@link isRs256VerificationKey}, remembered per key object (keys, not tokens). */
function checkKey(key: CryptoKey): void {
  if (vettedKeys.has(key)) return;
  if (!isRs256VerificationKey(key)) {
    throw invalid('alg', 'the key for this token is not an RS256 verification key of 2048 bits or more');
  }
  vettedKeys.add(key);
}

/** A NumericDate claim (RFC 7519 §2): a finite JSON number. */
function numericDate(claims: Record<string, unknown>, claim: 'exp' | 'iat' | 'nbf'): number {
  const value = claims[claim];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(claim, `the "${claim}" claim is invalid`);
  return value;
}

/**
 * Before a key lookup that may fetch `/keys` (cold or expired set, unknown `kid`): the payload,
 * decoded WITHOUT trusting it, must name this tenant: `iss` equal to its issuer and `aud` holding
 * its client id. A forged token that fails this would fail the same checks after the signature
 * anyway, so refusing it now changes no outcome, only keeps it from spending the issuer's refetch
 * budget or causing any `/keys` call (SA-09). Nothing else is read from these claims;
 * everything is checked again, for real, once the signature has verified.
 */
function precheckUnverified(encodedPayload: string, tenant: Tenant): void {
  const claims = parseClaims(encodedPayload);
  const { clientId } = tenant;
  if (!isTenantIssuer(tenant, claims.iss)) throw invalid('iss', 'the "iss" claim does not match the issuer');
  const aud = claims.aud;
  if (!audienceHolds(aud, clientId)) {
    throw invalid('aud', 'the "aud" claim does not contain the client id');
  }
}

/** The claims of a verified payload segment; refuses anything but a JSON object. */
function parseClaims(encodedPayload: string): Record<string, unknown> {
  let claims: unknown;
  try {
    // atob gives one character per octet. When every octet is ASCII, that string already is the
    // UTF-8 text (ASCII is its own UTF-8), so no byte array or TextDecoder pass is needed; any
    // other octet takes the strict UTF-8 decoder (RFC 7519 §7.2 step 10: UTF-8 JSON).
    const octets = atob(encodedPayload.replace(/-/g, '+').replace(/_/g, '/'));
    claims = JSON.parse(NON_ASCII.test(octets) ? strictDecoder.decode(base64url.decode(encodedPayload)) : octets);
  } catch {
    // No cause: V8's SyntaxError quotes the text around the error, which is token content (LG-01).
    throw invalid('format', 'the payload is not a JSON object');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw invalid('format', 'the payload is not a JSON object');
  return claims as Record<string, unknown>;
}

/**
 * Validate an ID token for `tenant` per OIDC Core §3.1.3.7 and return its claims. Nothing in the
 * token may be used before this resolves.
 *
 * Errors: ERR_OIDC_ID_TOKEN_EXPIRED (`exp`, or `iat` too old), ERR_OIDC_NONCE_MISMATCH,
 * ERR_OIDC_JWKS_NO_MATCHING_KEY, ERR_OIDC_JWKS_UNAVAILABLE (keys cannot be fetched), and
 * ERR_OIDC_ID_TOKEN_INVALID for everything else, with `details.check` naming the failed check.
 */
export function validateIdToken(deps: ValidateIdTokenDeps, tenant: Tenant, idToken: string, expected: IdTokenExpectations): Promise<IdTokenClaims> {
  try {
    checkNonceExpectation(expected);
    return validateStructured(deps, tenant, idToken, checkStructure(idToken), expected);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * {@link validateIdToken} for a token whose compact-JWS syntax its caller has just checked: a string
 * of at most {@link MAX_ID_TOKEN_LENGTH} characters matching `COMPACT_JWS` (internal/jwt-shape.ts).
 * The simplified flow checks that before it reads the unverified `iss`/`aud` to pick the tenant, so
 * the token's syntax is checked once on that path. Every other check is the same. Internal: never
 * exported from the package.
 */
export function validateWellFormedIdToken(deps: ValidateIdTokenDeps, tenant: Tenant, idToken: string, expected: IdTokenExpectations): Promise<IdTokenClaims> {
  try {
    checkNonceExpectation(expected);
    return validateStructured(deps, tenant, idToken, idToken.lastIndexOf('.'), expected);
  } catch (error) {
    return Promise.reject(error);
  }
}

function checkNonceExpectation(expected: IdTokenExpectations): void {
  if (expected.nonce === undefined && expected.allowNoNonce !== true) {
    throw new OidcError('ERR_OIDC_NONCE_MISMATCH', 'ID token rejected: no nonce is expected for it and allowNoNonce is not set', {
      details: { check: 'nonce' },
    });
  }
}

/** The validation after the syntax check; `signatureDot` is the index of the dot before the signature. */
async function validateStructured(
  deps: ValidateIdTokenDeps,
  tenant: Tenant,
  idToken: string,
  signatureDot: number,
  expected: IdTokenExpectations,
): Promise<IdTokenClaims> {
  const headerDot = idToken.indexOf('.');
  const { alg, kid } = checkHeader(idToken.slice(0, headerDot));
  const tolerance = deps.clockToleranceSec;
  const nowMs = deps.now();
  const { issuer, clientId } = tenant;

  // JK-08: only the kid selects a key, from the JWKS of the tenant's own issuer. Warm path: no promise,
  // no payload decoding. A miss may fetch /keys: only for a token that at least claims to be this tenant's.
  const jwksUri = tenant.endpoints.jwks;
  let key = deps.jwks.peekKey?.(issuer, jwksUri, kid);
  if (key === undefined) {
    precheckUnverified(idToken.slice(headerDot + 1, signatureDot), tenant);
    key = await deps.jwks.getKey(issuer, jwksUri, { alg, kid }, expected.channel === 'front' ? FRONT : BACK);
  }
  checkKey(key);
  let signature: Uint8Array;
  try {
    signature = base64url.decode(idToken.slice(signatureDot + 1));
  } catch (cause) {
    throw invalid('format', 'the signature is not base64url', cause);
  }
  let verified: boolean;
  try {
    // RFC 7515 §5.2 step 8: the signing input is the ASCII of `header.payload` (ASCII by COMPACT_JWS).
    // Fresh bytes per call: a verifier may keep what it is given (SignatureVerifier).
    const result = (deps.verifySignature ?? webCryptoVerifier)(alg, key, signature, encoder.encode(idToken.slice(0, signatureDot)));
    // A synchronous verifier's answer is used as is: no promise turn on the warm path.
    verified = typeof result === 'boolean' ? result : await result;
  } catch (cause) {
    throw invalid('signature', 'the signature does not verify', cause);
  }
  if (verified !== true) throw invalid('signature', 'the signature does not verify');

  // Nothing from the payload is read before the signature has verified.
  const claims = parseClaims(idToken.slice(headerDot + 1, signatureDot));
  for (const claim of REQUIRED_CLAIMS) {
    if (!Object.hasOwn(claims, claim)) throw invalid(claim, `the "${claim}" claim is missing`);
  }
  const nowSec = Math.floor(nowMs / 1000);

  // Step 2: exact match with the tenant's issuer (or one of its `issuerAliases`).
  if (!isTenantIssuer(tenant, claims.iss)) throw invalid('iss', 'the "iss" claim does not match the issuer');
  // Step 3: the client is one of the audiences (every member a string: RFC 7519 §4.1.3).
  const aud = claims.aud;
  const audiences: unknown[] = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (!audiences.includes(clientId)) throw invalid('aud', 'the "aud" claim does not contain the client id');

  // Steps 9–10 (RFC 7519 §4.1.4, §4.1.5, §4.1.6), each with the clock tolerance: iat present and
  // not in the future, nbf reached, exp not reached, and the token not absurdly old (IT-11).
  const iat = numericDate(claims, 'iat');
  if (claims.nbf !== undefined && numericDate(claims, 'nbf') > nowSec + tolerance) {
    throw invalid('nbf', 'the "nbf" claim is in the future');
  }
  if (numericDate(claims, 'exp') <= nowSec - tolerance) throw expired('exp');
  const age = nowSec - iat;
  if (age - tolerance > (deps.maxTokenAgeSec ?? 86_400)) throw expired('iat');
  if (age < -tolerance) throw invalid('iat', 'the "iat" claim is in the future');

  if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > MAX_SUB_LENGTH) {
    throw invalid('sub', `the "sub" claim must be a string of 1 to ${MAX_SUB_LENGTH} characters`);
  }
  if (audiences.some((value) => typeof value !== 'string')) throw invalid('aud', 'the "aud" claim does not contain the client id');
  // Core §3.1.3.7 steps 3–5: with several audiences the client must be the authorized party.
  if (audiences.length > 1 && claims.azp !== clientId) {
    throw invalid('azp', 'the token has several audiences and "azp" is not the client id');
  }
  if (claims.azp !== undefined && claims.azp !== clientId) throw invalid('azp', 'the "azp" claim is not the client id');

  // Step 11 (RFC 9700 §4.5.3.2): the nonce binds the token to this browser's login transaction.
  if (expected.nonce !== undefined && claims.nonce !== expected.nonce) {
    throw new OidcError('ERR_OIDC_NONCE_MISMATCH', 'ID token rejected: the "nonce" claim does not match the login transaction', {
      details: { check: 'nonce' },
    });
  }
  if (claims.nonce !== undefined && typeof claims.nonce !== 'string') throw invalid('nonce', 'the "nonce" claim is not a string');

  // Step 13 and Core §2: auth_time is required when max_age was requested.
  if (claims.auth_time !== undefined && (typeof claims.auth_time !== 'number' || !Number.isFinite(claims.auth_time))) {
    throw invalid('auth_time', 'the "auth_time" claim is not a number');
  }
  if (expected.maxAge !== undefined) {
    if (claims.auth_time === undefined) throw invalid('auth_time', 'the "auth_time" claim is required when max_age is requested');
    if ((claims.auth_time as number) + expected.maxAge < nowSec - tolerance) {
      throw invalid('auth_time', 'too much time has passed since the user last authenticated (max_age)');
    }
  }

  // Core §3.1.3.8: when the token carries at_hash and we hold the access token, they must match.
  if (claims.at_hash !== undefined) {
    if (typeof claims.at_hash !== 'string') throw invalid('at_hash', 'the "at_hash" claim is not a string');
    if (expected.accessToken !== undefined && !(await verifyTokenHash(claims.at_hash, expected.accessToken, alg))) {
      throw invalid('at_hash', 'the "at_hash" claim does not match the access token');
    }
  }
  return claims as IdTokenClaims;
}

