/**
 * Okta's "simplified" sign-in (Admin console: "Send ID token directly to app (Okta Simplified)"):
 * Okta form_posts `id_token=<JWT>` to the app's first redirect URI with no authorization request,
 * so there is no state, no nonce and no transaction (catalogue FP-03).
 *
 * Residual risk, documented for users: with no RP-generated nonce there is nothing binding the
 * token to the browser that posts it, so an attacker can post *their own* valid ID token and sign
 * the victim in as the attacker (login CSRF; OIDC Core §3.2.2.10 requires a nonce in this kind of
 * flow and this mode cannot meet it). That is why the flow is opt-in per tenant. Prefer Okta's
 * "Redirect to app to initiate login (OIDC Compliant)" (third-party-initiated login, `initiate/`).
 */
import { decodeJwt } from 'jose';
import { isOidcError, OidcError } from '../errors';
import { oneTimeKey } from '../internal/hash';
import type { CredentialStore } from '../tenant/credential-store';
import type { Tenant } from '../tenant/tenant';
import type { TtlStore } from '../ttl-store';
import { COMPACT_JWS } from '../internal/jwt-shape';

/** The claims the simplified flow relies on; `IdTokenClaims` from `validateIdToken` satisfies it. */
export interface SimplifiedFlowClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  [claim: string]: unknown;
}

export interface SimplifiedFlowDeps<C extends SimplifiedFlowClaims> {
  store: CredentialStore;
  /**
   * Full OIDC Core §3.1.3.7 validation: `validateIdToken` with its deps bound. `channel: 'front'`
   * says the token was posted by a browser, so an unknown `kid` spends the front-channel JWKS
   * refetch budget, never the one tokens from `/token` rely on (SA-09, docs/security.md).
   */
  validate: (tenant: Tenant, idToken: string, expected: { nonce: undefined; allowNoNonce: true; channel: 'front' }) => Promise<C>;
  /**
   * One-time-use record of accepted tokens; share it across app instances. A function picks the
   * store per tenant (the client's default gives each tenant its own bounded partition, so one
   * tenant cannot fill the cache for all; SA-07). It is called only for a token that
   * passed validation, just before the token is recorded.
   */
  replay: TtlStore | ((tenant: Tenant) => TtlStore);
  /**
   * Called with the tenant picked from the token before any network call; throws to refuse it
   * (the client passes its issuer policy, `ERR_OIDC_ISSUER_NOT_ALLOWED`).
   */
  checkTenant?: (tenant: Tenant) => void;
  /** Clock in milliseconds. */
  now: () => number;
  /** Oldest accepted `iat`, in seconds before now. Default 300 (5 minutes). */
  maxTokenAgeSec?: number;
  /** Clock tolerance used by `validate`, in seconds; replay entries outlive the last accepted second by this much. Default 30. */
  clockToleranceSec?: number;
}

export interface SimplifiedFlowResult<C extends SimplifiedFlowClaims> {
  tenant: Tenant;
  claims: C;
  idToken: string;
}

export interface SimplifiedFlow<C extends SimplifiedFlowClaims> {
  /**
   * Accept a form_posted ID token.
   *
   * @param options.tenantId The tenant the request was routed to, when the route names one: the
   *   token must belong to it (catalogue MT-01, MT-05).
   * @throws OidcError `ERR_OIDC_ID_TOKEN_INVALID` (also when the token's unverified `iss`/`aud` name
   *   no tenant, or several: `details.reason` `unknown-tenant` / `ambiguous`, so the answer does not
   *   tell which orgs are customers), `ERR_OIDC_TENANT_UNKNOWN` (only for an unknown `tenantId`: the
   *   route's own tenant), `ERR_OIDC_ISSUER_MISMATCH`, `ERR_OIDC_SIMPLIFIED_FLOW_DISABLED`,
   *   `ERR_OIDC_ID_TOKEN_EXPIRED` (`iat` older than `maxTokenAgeSec`), `ERR_OIDC_ID_TOKEN_REPLAYED`,
   *   `ERR_OIDC_RATE_LIMITED` (the tenant's replay quota is full, `details.reason: 'replay-quota'`),
   *   `ERR_OIDC_STORE_FAILURE`, what `checkTenant` throws and whatever `validate` throws.
   */
  handle(idToken: string, options?: { tenantId?: string }): Promise<SimplifiedFlowResult<C>>;
}

const MAX_ID_TOKEN_LENGTH = 16 * 1024;
/** What the flow asks of validation: no nonce (there is no authorization request), a browser-posted token. */
const FRONT_CHANNEL = Object.freeze({ nonce: undefined, allowNoNonce: true, channel: 'front' } as const);

function invalidToken(message: string, reason: string): OidcError {
  return new OidcError('ERR_OIDC_ID_TOKEN_INVALID', message, { details: { reason } });
}

/**
 * One answer for "no configured tenant matches this token" and "several do" (SA-18): the
 * same status, code and message as any other invalid posted token, so posting crafted tokens does
 * not tell anyone which Okta orgs (issuer + client id) are customers. The reason is for logs only.
 */
const NO_TENANT_MESSAGE = 'The ID token is not valid for this application.';

function nonNegativeInteger(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new OidcError('ERR_OIDC_INVALID_OPTIONS', `${field} must be a non-negative integer number of seconds`, { details: { field } });
  }
  return value;
}

/**
 * Create the simplified-flow handler.
 *
 * Order of checks: shape → tenant chosen from the *unverified* `iss`/`aud` (used only to pick
 * which configured tenant's keys and expectations to validate with; an unknown issuer fails before
 * any network call) → the tenant must have `allowSimplifiedFlow` → full validation (signature, `iss`,
 * `aud`, `azp`, `exp`, `iat`, RS256 allowlist) with `allowNoNonce` → a token carrying a `nonce` is
 * refused (it was minted for an authorization request and must come back through that request's
 * callback, bound to its transaction) → `iat` no older than `maxTokenAgeSec` (FP-03: "fresh iat") →
 * one-time use: `replay.setIfAbsent` of a hash of (issuer, client id, `jti`, or the whole token
 * when there is no `jti`) for as long as the token could pass again: until `min(exp, iat +
 * maxTokenAgeSec)` plus the clock tolerance (FP-07, OIDC Core §3.1.3.7 step 11).
 * A replay store that fails makes the sign-in fail (`ERR_OIDC_STORE_FAILURE`): never fail open.
 */
export function createSimplifiedFlow<C extends SimplifiedFlowClaims>(deps: SimplifiedFlowDeps<C>): SimplifiedFlow<C> {
  const maxTokenAgeSec = nonNegativeInteger(deps.maxTokenAgeSec, 300, 'maxTokenAgeSec');
  const clockToleranceSec = nonNegativeInteger(deps.clockToleranceSec, 30, 'clockToleranceSec');

  /**
   * How long the replay entry must live: as long as this token could pass the checks above again.
   * Validation refuses it once `exp` is more than the tolerance in the past (RFC 7519 §4.1.4), and
   * this flow once `iat` is more than `maxTokenAgeSec` old, whichever comes first; both compare whole
   * seconds (`floor(now)`), so the last accepted instant is below `min(exp + tolerance, iat +
   * maxTokenAgeSec + 1)`. The entry is kept until `min(exp, iat + maxTokenAgeSec) + tolerance + 1`:
   * exact protection, and at most about `maxTokenAgeSec + tolerance` seconds (330 s by default)
   * instead of the token's hour, which shrinks what any tenant can accumulate (SA-07).
   */
  function replayTtlSec(claims: { exp: number; iat: number }, nowSec: number): number {
    const lastAccepted = Math.min(claims.exp, claims.iat + maxTokenAgeSec) + clockToleranceSec + 1;
    return Math.max(1, Math.ceil(lastAccepted - nowSec));
  }

  async function pickTenant(idToken: string, tenantId: string | undefined): Promise<Tenant> {
    let unverified: { iss?: unknown; aud?: unknown };
    try {
      unverified = decodeJwt(idToken);
    } catch (cause) {
      throw new OidcError('ERR_OIDC_ID_TOKEN_INVALID', 'The ID token cannot be decoded.', { cause, details: { reason: 'decode' } });
    }
    const { iss, aud } = unverified;
    if (typeof iss !== 'string' || iss === '') throw invalidToken('The ID token has no issuer.', 'iss');
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
    if (audiences.length === 0) throw invalidToken('The ID token has no audience.', 'aud');

    if (tenantId !== undefined) {
      const tenant = await deps.store.get(tenantId);
      if (!tenant) throw new OidcError('ERR_OIDC_TENANT_UNKNOWN', 'Unknown tenant.', { details: { field: 'tenantId' } });
      // The route's tenant and the token must agree (catalogue MT-01).
      if (tenant.issuer !== iss) throw new OidcError('ERR_OIDC_ISSUER_MISMATCH', "The ID token's issuer is not this tenant's issuer.");
      if (!audiences.includes(tenant.clientId)) throw invalidToken("The ID token's audience is not this tenant's client.", 'aud');
      return tenant;
    }
    const matching = (await deps.store.findByIssuer(iss)).filter((tenant) => audiences.includes(tenant.clientId));
    if (matching.length === 0) throw invalidToken(NO_TENANT_MESSAGE, 'unknown-tenant');
    // Several app instances named as audience: route the post to one (`?tenant=`) to choose.
    if (matching.length > 1) throw invalidToken(NO_TENANT_MESSAGE, 'ambiguous');
    return matching[0]!;
  }

  return {
    async handle(idToken, options = {}) {
      if (typeof idToken !== 'string' || idToken.length > MAX_ID_TOKEN_LENGTH || !COMPACT_JWS.test(idToken)) {
        throw invalidToken('The ID token is not a compact JWS.', 'syntax');
      }
      const tenant = await pickTenant(idToken, options.tenantId);
      deps.checkTenant?.(tenant);
      if (!tenant.allowSimplifiedFlow) {
        throw new OidcError('ERR_OIDC_SIMPLIFIED_FLOW_DISABLED', `Tenant "${tenant.id}" does not accept the Okta simplified flow (allowSimplifiedFlow is false).`);
      }

      const claims = await deps.validate(tenant, idToken, FRONT_CHANNEL);
      if (claims.nonce !== undefined) {
        throw invalidToken('An ID token issued for an authorization request (it has a nonce) cannot be used in the simplified flow.', 'nonce');
      }
      const nowSec = Math.floor(deps.now() / 1000);
      if (typeof claims.iat !== 'number' || nowSec - claims.iat > maxTokenAgeSec) {
        throw new OidcError('ERR_OIDC_ID_TOKEN_EXPIRED', 'The ID token was issued too long ago for the simplified flow.', { details: { reason: 'iat' } });
      }

      const id = typeof claims.jti === 'string' && claims.jti !== '' ? `jti\n${claims.jti}` : `token\n${idToken}`;
      const key = await oneTimeKey('simplified', tenant.issuer, tenant.clientId, id);
      const ttl = replayTtlSec(claims, nowSec);
      let first: boolean;
      try {
        const replay = typeof deps.replay === 'function' ? deps.replay(tenant) : deps.replay;
        first = await replay.setIfAbsent(key, '1', ttl);
      } catch (cause) {
        // A typed refusal (the default store's per-tenant quota: ERR_OIDC_RATE_LIMITED) keeps its code.
        if (isOidcError(cause)) throw cause;
        throw new OidcError('ERR_OIDC_STORE_FAILURE', 'The replay store failed; the sign-in was refused.', { cause });
      }
      if (!first) throw new OidcError('ERR_OIDC_ID_TOKEN_REPLAYED', 'This ID token has already been used.');
      return { tenant, claims, idToken };
    },
  };
}
