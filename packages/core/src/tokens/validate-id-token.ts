/**
 * ID token validation, OIDC Core §3.1.3.7 (and §3.1.3.8 for `at_hash`), with jose doing the JWS work.
 *
 * Order: cheap structural checks first (size, segments, header), so hostile input never reaches
 * base64 decoding of a huge payload, a key fetch or a signature check (catalogue DS-01, DS-03,
 * IT-16); then jose `jwtVerify` with an RS256-only allowlist and a key resolver backed by the
 * per-issuer {@link JwksRegistry}; then the OIDC-specific claim rules jose does not know about.
 * Error messages name the failed check and never contain the token or claim values.
 */
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { OidcError } from '../errors';
import type { JwksRegistry } from '../jwks/jwks-registry';
import type { Tenant } from '../tenant/tenant';
import { verifyTokenHash } from './at-hash';

/** Larger ID tokens are refused before any parsing (DS-01). Okta's are 1–2 KiB. */
export const MAX_ID_TOKEN_LENGTH = 16 * 1024;
/** The algorithm allowlist (Core §3.1.3.7 step 7; RFC 8725 §3.1): never taken from the token. */
const ALGORITHMS = ['RS256'];
/** `typ` values an ID token may carry (RFC 8725 §3.11): other explicit types are foreign JWTs (IT-19). */
const ACCEPTED_TYP = new Set(['jwt', 'application/jwt']);
/** Core §2: `sub` "MUST NOT exceed 255 ASCII characters in length". */
const MAX_SUB_LENGTH = 255;
const SEGMENT = /^[A-Za-z0-9_-]+$/;

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
}

function invalid(check: string, message: string, cause?: unknown): OidcError {
  return new OidcError('ERR_OIDC_ID_TOKEN_INVALID', `ID token rejected: ${message}`, {
    details: { check },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Translate a jose failure into our codes; messages name the check, never a value. */
function fromJose(error: unknown): OidcError {
  if (error instanceof OidcError) return error;
  if (error instanceof errors.JWTExpired) {
    return new OidcError('ERR_OIDC_ID_TOKEN_EXPIRED', `ID token rejected: the "${error.claim}" check failed (the token has expired)`, {
      details: { check: error.claim },
    });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const what = error.reason === 'missing' ? 'is missing' : 'is invalid';
    // Not kept as the cause: jose puts the whole claim set on the error (nonce, e-mail), and errors
    // get logged (catalogue LG-01, LG-05).
    return invalid(error.claim, `the "${error.claim}" claim ${what}`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalid('signature', 'the signature does not verify', error);
  if (error instanceof errors.JOSEAlgNotAllowed) return invalid('alg', 'the "alg" is not allowed (RS256 only)', error);
  if (error instanceof errors.JOSENotSupported) return invalid('alg', 'the token uses an unsupported algorithm or key', error);
  return invalid('format', 'the token is not a well-formed signed JWT', error);
}

function checkStructure(idToken: unknown): asserts idToken is string {
  if (typeof idToken !== 'string' || idToken.length === 0) throw invalid('format', 'the token is missing');
  if (idToken.length > MAX_ID_TOKEN_LENGTH) throw invalid('size', `the token exceeds ${MAX_ID_TOKEN_LENGTH} characters`);
  const segments = idToken.split('.');
  if (segments.length === 5) throw invalid('format', 'encrypted (JWE) ID tokens are not supported');
  if (segments.length !== 3 || !segments.every((segment) => SEGMENT.test(segment))) {
    throw invalid('format', 'the token is not a compact JWS (three base64url segments)');
  }
}

function checkHeader(idToken: string): { alg: string } {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(idToken);
  } catch (cause) {
    throw invalid('header', 'the JOSE header is not a base64url-encoded JSON object', cause);
  }
  if (header.alg !== 'RS256') throw invalid('alg', 'the "alg" is not allowed (RS256 only)');
  // RFC 7515 §4.1.11: we understand no extension, so any `crit` header makes the token unusable.
  if ('crit' in header) throw invalid('crit', 'the "crit" header is not supported');
  if (header.typ !== undefined && (typeof header.typ !== 'string' || !ACCEPTED_TYP.has(header.typ.toLowerCase()))) {
    throw invalid('typ', 'the "typ" header marks a JWT that is not an ID token');
  }
  if (header.kid !== undefined && (typeof header.kid !== 'string' || header.kid.length === 0)) {
    throw invalid('kid', 'the "kid" header is not a non-empty string');
  }
  return { alg: header.alg };
}

/**
 * Validate an ID token for `tenant` per OIDC Core §3.1.3.7 and return its claims. Nothing in the
 * token may be used before this resolves.
 *
 * Errors: ERR_OIDC_ID_TOKEN_EXPIRED (`exp`, or `iat` too old), ERR_OIDC_NONCE_MISMATCH,
 * ERR_OIDC_JWKS_NO_MATCHING_KEY, ERR_OIDC_JWKS_UNAVAILABLE (keys cannot be fetched), and
 * ERR_OIDC_ID_TOKEN_INVALID for everything else, with `details.check` naming the failed check.
 */
export async function validateIdToken(
  deps: ValidateIdTokenDeps,
  tenant: Tenant,
  idToken: string,
  expected: IdTokenExpectations,
): Promise<IdTokenClaims> {
  if (expected.nonce === undefined && expected.allowNoNonce !== true) {
    throw new OidcError('ERR_OIDC_NONCE_MISMATCH', 'ID token rejected: no nonce is expected for it and allowNoNonce is not set', {
      details: { check: 'nonce' },
    });
  }
  checkStructure(idToken);
  const { alg } = checkHeader(idToken);
  const tolerance = deps.clockToleranceSec;
  const nowMs = deps.now();

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(
      idToken,
      // JK-08: only the kid selects a key, from the JWKS of the tenant's own issuer.
      (header) => deps.jwks.getKey(tenant.issuer, tenant.endpoints.jwks, { alg: header.alg, kid: header.kid }),
      {
        algorithms: ALGORITHMS,
        issuer: tenant.issuer, // step 2: exact match
        audience: tenant.clientId, // step 3
        clockTolerance: tolerance,
        currentDate: new Date(nowMs),
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
        // step 10: iat present, not in the future beyond the tolerance, not absurdly old.
        maxTokenAge: deps.maxTokenAgeSec ?? 86_400,
      },
    ));
  } catch (error) {
    throw fromJose(error);
  }
  const claims = payload as Record<string, unknown>;
  const nowSec = Math.floor(nowMs / 1000);

  if (claims.iss !== tenant.issuer) throw invalid('iss', 'the "iss" claim does not match the issuer');
  if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > MAX_SUB_LENGTH) {
    throw invalid('sub', `the "sub" claim must be a string of 1 to ${MAX_SUB_LENGTH} characters`);
  }
  const aud = claims.aud;
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (!audiences.includes(tenant.clientId) || audiences.some((value) => typeof value !== 'string')) {
    throw invalid('aud', 'the "aud" claim does not contain the client id');
  }
  // Core §3.1.3.7 steps 3–5: with several audiences the client must be the authorized party.
  if (audiences.length > 1 && claims.azp !== tenant.clientId) {
    throw invalid('azp', 'the token has several audiences and "azp" is not the client id');
  }
  if (claims.azp !== undefined && claims.azp !== tenant.clientId) throw invalid('azp', 'the "azp" claim is not the client id');
  if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number') throw invalid('exp', 'the "exp" and "iat" claims must be numbers');

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

