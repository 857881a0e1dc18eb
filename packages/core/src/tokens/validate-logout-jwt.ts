/**
 * The two JWTs an identity provider sends to end a user's sessions (docs/universal-logout.md):
 *
 * - **Universal Logout** (Okta, "Build Universal Logout for your app",
 *   developer.okta.com/docs/guides/oin-universal-logout-overview/, the receiver side of
 *   draft-parecki-oauth-global-token-revocation): `Authorization: Bearer <JWT>` with
 *   `typ: global-token-revocation+jwt`, signed with the org's ID-token keys; `iss` the org, `sub`
 *   the app instance's client id, `aud` the exact endpoint URL, `iat`/`exp` within a five-minute
 *   window, `jti` used once.
 * - **Back-Channel Logout** (OpenID Connect Back-Channel Logout 1.0 §2.4, §2.6): a `logout_token`
 *   with `typ: logout+jwt`, `iss`, `aud` (the client id), `iat`, `exp`, `jti`, the `events` member
 *   `http://schemas.openid.net/event/backchannel-logout`, `sub` and/or `sid`, and no `nonce`.
 *
 * Anyone can send these requests, so the order matches ID token validation: structure and header
 * first, then the unverified `iss`/client id must name the tenant before any key lookup that could
 * fetch `/keys` (on the front channel's budget, SA-09), then the signature (jose, Web
 * Crypto), then every claim, then the one-time `jti` check. Errors name the check, never a value.
 */
import { compactVerify, decodeProtectedHeader, type JWTPayload } from 'jose';
import { OidcError } from '../errors';
import { decodeBase64url } from '../internal/base64url';
import { oneTimeKey } from '../internal/hash';
import type { JwksRegistry } from '../jwks/jwks-registry';
import { isTenantIssuer, type Tenant } from '../tenant/tenant';
import type { TtlStore } from '../ttl-store';
import { isRs256VerificationKey } from './signature-verifier';
import { audienceHolds, COMPACT_JWS } from '../internal/jwt-shape';

export type LogoutJwtKind = 'universal-logout' | 'backchannel-logout';

/** Both are a few hundred bytes; anything near this is not one. */
export const MAX_LOGOUT_JWT_LENGTH = 8 * 1024;
/** Okta's window for a Universal Logout JWT: `iat` and `exp` within five minutes of now. */
export const UNIVERSAL_LOGOUT_WINDOW_SEC = 300;
/** Back-Channel Logout 1.0 leaves the age to the RP (§2.6 step 3); ten minutes covers any real delivery. */
const BACKCHANNEL_MAX_AGE_SEC = 600;
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const TYP: Record<LogoutJwtKind, string> = { 'universal-logout': 'global-token-revocation+jwt', 'backchannel-logout': 'logout+jwt' };
const MAX_CLAIM_LENGTH = 1024;

export interface LogoutJwtDeps {
  jwks: JwksRegistry;
  now: () => number;
  clockToleranceSec: number;
  /** Where used `jti`s are remembered (the client's replay store: shared across a fleet when configured). */
  replay: (tenant: Tenant) => TtlStore;
}

/** What a verified logout JWT says. */
export interface LogoutJwtClaims extends JWTPayload {
  iss: string;
  jti: string;
  sub?: string;
  sid?: string;
}

function refused(check: string, message: string): OidcError {
  return new OidcError('ERR_OIDC_LOGOUT_TOKEN_INVALID', `Logout request refused: ${message}`, { details: { check } });
}

/**
 * The payload WITHOUT verifying it: only to pick the tenant and to refuse, before any key lookup, a
 * token that names no tenant. Everything is checked again after the signature.
 */
export function peekLogoutJwt(jwt: unknown): { iss?: unknown; sub?: unknown; aud?: unknown } {
  if (typeof jwt !== 'string' || jwt.length === 0) throw refused('format', 'no token');
  if (jwt.length > MAX_LOGOUT_JWT_LENGTH) throw refused('size', 'the token is too large');
  if (!COMPACT_JWS.test(jwt)) throw refused('format', 'the token is not a compact JWS');
  try {
    const payload = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(decodeBase64url(jwt.split('.')[1]!))) as unknown;
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new Error('not an object');
    return payload as { iss?: unknown; sub?: unknown; aud?: unknown };
  } catch {
    throw refused('payload', 'the payload is not a JSON object');
  }
}

function typOf(header: { typ?: unknown }): string | undefined {
  if (typeof header.typ !== 'string') return undefined;
  const typ = header.typ.toLowerCase();
  // RFC 7515 §4.1.9: "application/" may be omitted; compare without it.
  return typ.startsWith('application/') ? typ.slice('application/'.length) : typ;
}

function shortString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_CLAIM_LENGTH;
}

/**
 * Verify a Universal Logout JWT (`audience`: the endpoint URL) or a back-channel logout token
 * (`audience`: ignored, the tenant's client id is required) for `tenant`, and use its `jti` once.
 *
 * @throws OidcError `ERR_OIDC_LOGOUT_TOKEN_INVALID` (`details.check` names the failed check),
 *   `ERR_OIDC_JWKS_UNAVAILABLE`, `ERR_OIDC_STORE_FAILURE` (the replay store failed: never accepted).
 */
export async function validateLogoutJwt(deps: LogoutJwtDeps, kind: LogoutJwtKind, tenant: Tenant, jwt: string, options: { audience: string }): Promise<LogoutJwtClaims> {
  const unverified = peekLogoutJwt(jwt);
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jwt);
  } catch {
    throw refused('header', 'the JOSE header is not valid');
  }
  // RFC 8725 §3.1: our allowlist, never the token's; RFC 8725 §3.11: explicit typing keeps an ID
  // token, an access token or another logout kind from being replayed here.
  if (header.alg !== 'RS256') throw refused('alg', 'the "alg" is not allowed (RS256 only)');
  if ('crit' in header) throw refused('crit', 'the "crit" header is not supported');
  if (typOf(header) !== TYP[kind]) throw refused('typ', `the "typ" header must be ${TYP[kind]}`);
  if (header.kid !== undefined && !shortString(header.kid)) throw refused('kid', 'the "kid" header is not a short string');

  if (!isTenantIssuer(tenant, unverified.iss)) throw refused('iss', 'the issuer is not this tenant\'s');
  if (kind === 'universal-logout' ? unverified.sub !== tenant.clientId : !audienceHolds(unverified.aud, tenant.clientId)) {
    throw refused(kind === 'universal-logout' ? 'sub' : 'aud', 'the token is not for this app instance');
  }

  // Anyone can POST these: the front channel's refetch budget, never the one sign-ins rely on.
  let key: CryptoKey;
  try {
    key = await deps.jwks.getKey(tenant.issuer, tenant.endpoints.jwks, { alg: 'RS256', ...(header.kid === undefined ? {} : { kid: header.kid }) }, { channel: 'front' });
  } catch (error) {
    // No key of the org has that kid: an authentication failure, not a malformed request. An
    // unreachable /keys stays what it is (503), never "accepted" and never "bad request".
    if (error instanceof OidcError && error.code === 'ERR_OIDC_JWKS_NO_MATCHING_KEY') throw refused('kid', 'no key of the org matches the token');
    throw error;
  }
  if (!isRs256VerificationKey(key)) throw refused('alg', 'the key for this token is not an RS256 verification key');
  try {
    await compactVerify(jwt, key, { algorithms: ['RS256'] });
  } catch {
    throw refused('signature', 'the signature does not verify with the org\'s keys');
  }
  // The signature covers exactly the payload segment peeked above: its parse is now the verified claims.
  const claims = unverified as Record<string, unknown>;
  checkClaims(kind, tenant, claims, options.audience, deps);
  await useOnce(deps, kind, tenant, claims as LogoutJwtClaims);
  return claims as LogoutJwtClaims;
}

function checkClaims(kind: LogoutJwtKind, tenant: Tenant, claims: Record<string, unknown>, audience: string, deps: LogoutJwtDeps): void {
  const nowSec = deps.now() / 1000;
  const tolerance = deps.clockToleranceSec;
  if (typeof claims.iss !== 'string' || !isTenantIssuer(tenant, claims.iss)) throw refused('iss', 'the issuer is not this tenant\'s');
  if (!shortString(claims.jti)) throw refused('jti', 'the "jti" claim is missing');
  for (const claim of ['iat', 'exp'] as const) {
    if (typeof claims[claim] !== 'number' || !Number.isFinite(claims[claim])) throw refused(claim, `the "${claim}" claim is missing or not a number`);
  }
  const iat = claims.iat as number;
  const exp = claims.exp as number;
  if (exp <= nowSec - tolerance) throw refused('exp', 'the token has expired');
  if (iat > nowSec + tolerance) throw refused('iat', 'the token was issued in the future');
  if (typeof claims.nbf === 'number' && claims.nbf > nowSec + tolerance) throw refused('nbf', 'the token is not valid yet');
  if (kind === 'universal-logout') {
    if (claims.sub !== tenant.clientId) throw refused('sub', 'the token is not for this app instance');
    // The exact endpoint URL, no query or fragment (Okta's guide, "Endpoint authentication").
    if (claims.aud !== audience && !(Array.isArray(claims.aud) && claims.aud.length === 1 && claims.aud[0] === audience)) {
      throw refused('aud', 'the audience is not this endpoint');
    }
    if (iat < nowSec - UNIVERSAL_LOGOUT_WINDOW_SEC - tolerance) throw refused('iat', 'the token is too old');
    if (exp > nowSec + UNIVERSAL_LOGOUT_WINDOW_SEC + tolerance) throw refused('exp', 'the token lives longer than five minutes');
    return;
  }
  // Back-Channel Logout 1.0 §2.6.
  if (!audienceHolds(claims.aud, tenant.clientId)) throw refused('aud', 'the token is not for this app instance');
  if (iat < nowSec - BACKCHANNEL_MAX_AGE_SEC - tolerance) throw refused('iat', 'the token is too old');
  const events = claims.events;
  if (events === null || typeof events !== 'object' || Array.isArray(events)) throw refused('events', 'the "events" claim is missing');
  const event = (events as Record<string, unknown>)[BACKCHANNEL_EVENT];
  if (event === null || typeof event !== 'object' || Array.isArray(event)) throw refused('events', 'the back-channel logout event is missing');
  if ('nonce' in claims) throw refused('nonce', 'a logout token must not carry a "nonce"');
  const hasSub = claims.sub !== undefined;
  const hasSid = claims.sid !== undefined;
  if (!hasSub && !hasSid) throw refused('sub', 'the token names neither a "sub" nor a "sid"');
  if (hasSub && !shortString(claims.sub)) throw refused('sub', 'the "sub" claim is not a string');
  if (hasSid && !shortString(claims.sid)) throw refused('sid', 'the "sid" claim is not a string');
}

/** A `jti` is accepted once per tenant while the token could still pass the checks (Okta: at least the five-minute window). */
async function useOnce(deps: LogoutJwtDeps, kind: LogoutJwtKind, tenant: Tenant, claims: LogoutJwtClaims): Promise<void> {
  const nowSec = deps.now() / 1000;
  const window = kind === 'universal-logout' ? UNIVERSAL_LOGOUT_WINDOW_SEC : BACKCHANNEL_MAX_AGE_SEC;
  const ttl = Math.ceil(Math.max(claims.exp as number, nowSec + window) - nowSec + deps.clockToleranceSec);
  const key = await oneTimeKey(kind, tenant.issuer, tenant.clientId, claims.jti);
  let first: boolean;
  try {
    first = await deps.replay(tenant).setIfAbsent(key, '1', ttl);
  } catch (cause) {
    throw new OidcError('ERR_OIDC_STORE_FAILURE', 'The replay store failed; the logout request was refused.', { cause });
  }
  if (!first) throw refused('jti', 'the token was already used');
}
