/**
 * Access-token introspection (RFC 7662) at the tenant's org authorization server.
 *
 * Okta org authorization server access tokens are meant for Okta only: their signing keys and
 * format are not a contract for third parties, so they are never *accepted* locally
 * (docs/access-tokens-and-initiated-login.md); `/oauth2/v1/introspect` is the only authority. What
 * can never be one of the tenant's access tokens is refused before any shared budget is spent
 * (triage.ts, audit finding SA-01 in docs/security.md).
 */
import { z } from 'zod';
import { BoundedCache } from '../internal/bounded-cache';
import { type Bound, BOUNDS, checkBound, LENGTH_BOUNDS } from '../internal/bounds';
import { deepFreeze } from '../internal/deep-freeze';
import { authenticatedPost, type AuthenticatedPostDeps } from '../client-auth/authenticated-post';
import { OidcError, type OidcErrorCode } from '../errors';
import { type OidcEventListener, type OidcIntrospectionOutcome, safeEventListener } from '../events';
import { encodeBase64url } from '../internal/base64url';
import { sha256Base64url } from '../internal/hash';
import type { JwksRegistry } from '../jwks/jwks-registry';
import { isTenantIssuer, type Tenant } from '../tenant/tenant';
import { type SignatureVerifier, webCryptoVerifier } from '../tokens/signature-verifier';
import { MemoryRateLimitStore, type RateLimitStore } from '../http/rate-limit-store';
import { sleep } from '../internal/time';
import { MemoryTtlStore, type TtlStore } from '../ttl-store';
import { isBearerTokenSyntax, syntaxAlreadyChecked } from './token-syntax';
import { type TriageResult, triageAccessToken } from './triage';

/** An introspection result the SDK accepted: active, issued to this tenant's client, a Bearer access token. */
export interface ActiveToken {
  active: true;
  sub?: string;
  client_id: string;
  scope?: string;
  exp?: number;
  token_type?: string;
  username?: string;
  [claim: string]: unknown;
}

export interface IntrospectionCacheOptions {
  /**
   * Upper bound, in seconds, on how long a positive result is reused: a token revoked at Okta stays
   * usable here for at most this long (RFC 7662 §4, catalogue IN-06). Also bounded by the token's
   * `exp`. Default 60.
   */
  maxTtlSec?: number;
  /** How long an inactive or refused token is remembered, in seconds. Default 10. */
  negativeTtlSec?: number;
  /** Where results live; share one (Redis…) across instances. Default: a bounded {@link MemoryTtlStore}. */
  store?: TtlStore;
  /**
   * Key entries by HMAC-SHA-256 under this secret (≥ 32 characters) rather than a plain SHA-256:
   * whoever reads a shared store then cannot confirm a guessed token by hashing it. Use the same
   * secret in every process that shares `store`. Default: plain SHA-256 (fine in memory).
   */
  keySecret?: string;
  /**
   * Fleet-wide single flight (docs/deployment.md, 'What state lives where'): the first process to
   * see a token takes a short lock in `store` (`setIfAbsent`) and asks Okta; the others poll
   * `store` for its answer instead of asking too, so three processes that receive one new token at
   * once make one `/introspect` call. It costs a store round trip on a path that already costs an
   * Okta one. Waiters give up after the lock's life ({@link FLEET_LOCK_TTL_SEC}) and ask Okta
   * themselves. Default false.
   */
  fleetSingleFlight?: boolean;
}

/** One token bucket's shape: a sustained rate and a burst (the bucket size). */
export interface IntrospectionBucketOptions {
  /** Sustained rate, per second, of Okta calls for tokens that are not accepted. */
  ratePerSec?: number;
  /** Such calls allowed at once before the sustained rate applies (bucket size). */
  burst?: number;
}

/**
 * Local throttle on introspections of tokens that turn out not to be usable (catalogue IN-08, RFC
 * 7662 §4: an un-throttled introspection endpoint lets an attacker fish for valid tokens, and every
 * call spends the org-wide Okta rate limit). Two token buckets (SA-01):
 *
 * - **per caller** (tenant + the caller's address, when the flow layer passes one): a call that
 *   would reach Okta first takes a token here, so one address cannot drain the tenant's budget.
 *   Empty → `ERR_OIDC_RATE_LIMITED` with status **429** and `details.reason: 'caller-throttle'`.
 * - **per tenant**: then a token from the tenant's bucket. Empty → `ERR_OIDC_RATE_LIMITED` (503,
 *   Okta cannot be asked for this tenant now) with `details.reason: 'introspection-throttle'`.
 *
 * An active answer gives both tokens back, so real traffic costs nothing; cached answers, calls
 * that join an in-flight one and tokens whose signature verified with a published key of the org
 * (triage `verified`) take nothing at all. Refused calls never reach Okta.
 */
export interface IntrospectionThrottleOptions extends IntrospectionBucketOptions {
  /** Per tenant: default `ratePerSec` 50, `burst` 100. */
  ratePerSec?: number;
  burst?: number;
  /** Per caller within a tenant: default `{ ratePerSec: 2, burst: 20 }`; `false` turns it off. */
  perCaller?: IntrospectionBucketOptions | false;
}

/** Per-call options of {@link Introspector.introspect}. */
export interface IntrospectOptions {
  /**
   * Who presented the token, e.g. the client's address (`req.ip` after the framework's trust-proxy
   * rules). Keys the per-caller bucket; without it only the tenant bucket applies. Never logged
   * or put in an error.
   */
  caller?: string;
}

export interface IntrospectorDeps extends AuthenticatedPostDeps {
  /** Where the throttle's buckets live (a shared store makes the budget one per tenant for the fleet). Default: this process's memory. */
  rateLimitStore?: RateLimitStore;
  /** Absent or `{}`: the default cache (maxTtlSec 60, negativeTtlSec 10, bounded memory). `false`: every call goes to Okta (single-flight still applies). */
  cache?: IntrospectionCacheOptions | false;
  /** `false` turns the local throttle off (not recommended). Default `{ ratePerSec: 50, burst: 100, perCaller: { ratePerSec: 2, burst: 20 } }`. */
  throttle?: IntrospectionThrottleOptions | false;
  /**
   * Cheap local triage before any bucket (triage.ts). Default true. `false` is the escape hatch if
   * Okta changes its access-token format: every syntactically valid token then goes through the
   * buckets to Okta, as before.
   */
  triage?: boolean;
  /** The client's JWKS registry: triage peeks at it (never fetches); an active token signed with a key it lacks lets it learn the org's keys once. */
  jwks?: JwksRegistry;
  /** Signature check for triage. Default {@link webCryptoVerifier}. */
  verifySignature?: SignatureVerifier;
  /** Leeway for triage's `exp` check, seconds. Default 30 (the client's `clockToleranceSec`). */
  clockToleranceSec?: number;
  /** An `introspection` event per answer: how it was reached (hot hit, cache hit, Okta, refused locally). Exceptions it throws are ignored. */
  onEvent?: OidcEventListener;
}

export interface Introspector {
  /**
   * Introspect a bearer access token presented to your API.
   *
   * @throws OidcError `ERR_OIDC_ACCESS_TOKEN_INVALID` (malformed, or refused by triage with
   *   `details: { reason: 'triage', check }`, no network call; or issued to another client, another
   *   issuer, not an access token, DPoP-bound), `ERR_OIDC_ACCESS_TOKEN_INACTIVE` (inactive or
   *   expired), `ERR_OIDC_INTROSPECTION_INVALID` (Okta's answer does not parse),
   *   `ERR_OIDC_UNAVAILABLE` (Okta refused our client authentication), `ERR_OIDC_RATE_LIMITED` with
   *   `retryAfter` (a local bucket is empty, no network call: 429 for the caller's, 503 for the
   *   tenant's; catalogue IN-08), and the transport's `ERR_OIDC_RATE_LIMITED`,
   *   `ERR_OIDC_HTTP_TIMEOUT`, `ERR_OIDC_HTTP_ERROR`.
   */
  introspect(tenant: Tenant, token: string, options?: IntrospectOptions): Promise<Readonly<ActiveToken>>;
  /**
   * Whether this exact token is in the in-process cache of active answers (so it already passed the
   * syntax check). No network call and no tenant check: `introspect` still binds it to its tenant.
   */
  isWarm(token: string): boolean;
  /** Drop any cached result for this token (call it after revoking the token). */
  forget(tenant: Tenant, token: string): Promise<void>;
}

const DEFAULT_MAX_TTL_SEC = 60;
const DEFAULT_NEGATIVE_TTL_SEC = 10;
/**
 * Throttle defaults: far above what one API's real clients need from one tenant (a valid token is
 * introspected once per cache lifetime, or once per request without a cache), far below Okta's
 * org-wide `/introspect` budget an attacker would otherwise spend for every random token.
 */
const DEFAULT_THROTTLE_RATE_PER_SEC = 50;
const DEFAULT_THROTTLE_BURST = 100;
/**
 * Per-caller defaults: a client that presents 20 tokens Okta has never confirmed, then 2 a second,
 * is already far outside what one real API client does (a real token is introspected once per
 * cache lifetime); one address fishing at full speed gets 429s after 20 calls.
 */
const DEFAULT_CALLER_RATE_PER_SEC = 2;
const DEFAULT_CALLER_BURST = 20;
/** Callers are request input: keys use at most this many characters of one (an IPv6 address is 45). */
const MAX_CALLER_LENGTH = 256;
/** An active token signed with a key the JWKS cache lacks makes the introspector fetch the org's keys, at most once per issuer per this long. */
const LEARN_KEYS_INTERVAL_MS = 5 * 60 * 1000;
const MAX_LEARNING_ISSUERS = 1000;
const DEFAULT_CLOCK_TOLERANCE_SEC = 30;
/** Bounds of the in-process hot cache of active tokens (entries; characters of the token keys). */
const MAX_HOT_TOKENS = 10_000;
const MAX_HOT_CHARS = 16 * 1024 * 1024;

/**
 * A positive answer Okta gave this process, keyed in memory by the raw token. The cache entry's
 * `until` is the Okta call's start + maxTtlSec, never past the token's `exp`.
 */
interface HotEntry {
  /** The tenant the answer was given for (SA-17: never shared by records with the same issuer + client id). */
  tenantId: string;
  issuer: string;
  clientId: string;
  token: ActiveToken;
}
/** How many trailing characters of a token index the hot cache (cheap to hash; a hit still needs the whole token). */
const HOT_INDEX_CHARS = 32;

/**
 * RFC 7662 §2.2. Only the members the SDK checks are typed; others pass through. `active` must be
 * the JSON boolean `true`: a string "true" is a malformed answer, never an active token.
 */
const introspectionResponse = z.looseObject({
  active: z.boolean(),
  client_id: z.string().optional(),
  token_type: z.string().optional(),
  exp: z.number().optional(),
  iat: z.number().optional(),
  nbf: z.number().optional(),
  sub: z.string().optional(),
  scope: z.string().optional(),
  username: z.string().optional(),
  iss: z.string().optional(),
  aud: z.union([z.string(), z.array(z.string())]).optional(),
  jti: z.string().optional(),
  uid: z.string().optional(),
  cnf: z.looseObject({}).optional(),
});

type Verdict = { active: true; token: ActiveToken } | { active: false; code: OidcErrorCode; reason: string };

const REFUSALS = {
  inactive: ['ERR_OIDC_ACCESS_TOKEN_INACTIVE', 'The access token is not active.'],
  expired: ['ERR_OIDC_ACCESS_TOKEN_INACTIVE', 'The access token has expired.'],
  client_id: ['ERR_OIDC_ACCESS_TOKEN_INVALID', 'The access token was issued to another client.'],
  iss: ['ERR_OIDC_ACCESS_TOKEN_INVALID', 'The access token was issued by another authorization server.'],
  token_type: ['ERR_OIDC_ACCESS_TOKEN_INVALID', 'The token is not a Bearer access token.'],
  not_access_token: ['ERR_OIDC_ACCESS_TOKEN_INVALID', 'The token is not an access token.'],
  triage: ['ERR_OIDC_ACCESS_TOKEN_INVALID', 'The access token was not issued to this client by its authorization server.'],
  dpop_bound: ['ERR_OIDC_ACCESS_TOKEN_INVALID', 'The access token is DPoP-bound and cannot be used as a Bearer token.'],
} as const satisfies Record<string, readonly [OidcErrorCode, string]>;
type RefusalReason = keyof typeof REFUSALS;

function refuse(reason: RefusalReason): Verdict {
  return { active: false, code: REFUSALS[reason][0], reason };
}

function refusalError(reason: string): OidcError {
  const [code, message] = REFUSALS[reason as RefusalReason] ?? REFUSALS.inactive;
  return new OidcError(code, message, { details: { reason } });
}

/** Decide whether an introspection answer makes a token usable for this tenant (pure). */
function judge(tenant: Tenant, body: z.infer<typeof introspectionResponse>, nowSec: number): Verdict {
  if (body.active !== true) return refuse('inactive');
  // Okta's org AS issues tokens for every app of the org from one issuer: a token of another app
  // of the same org introspects as active. Only our own client's tokens are accepted (catalogue
  // IN-05, MT; RFC 9700 §4.10.2 audience restriction).
  if (body.client_id !== tenant.clientId) return refuse('client_id');
  if (body.iss !== undefined && !isTenantIssuer(tenant, body.iss)) return refuse('iss');
  // Okta reports refresh tokens as token_type "Bearer" too, without iss/jti (catalogue IN-04); with
  // token_type_hint=access_token an access token answer carries iss and jti (or Okta's uid).
  if (body.iss === undefined || (body.jti === undefined && body.uid === undefined)) return refuse('not_access_token');
  // Okta's /introspect "takes an access, ID, or refresh token" and answers active with the token's
  // own claims (Okta developer docs, OpenID Connect & OAuth 2.0 API, "/introspect"). An ID token
  // then has `aud` = the client id, `jti` "ID.…" and no `uid`; an org authorization server access
  // token has `aud` = the org URL, the issuer (SA-11; RFC 9068 §4 and RFC 8725
  // §3.11: a token meant for one purpose must not be accepted for another).
  if (notAnAccessToken(tenant, body)) return refuse('not_access_token');
  // The token reached us through `Authorization: Bearer`; a DPoP-bound token (token_type "DPoP" or a
  // cnf.jkt confirmation) needs a proof-of-possession check this API does not do (RFC 9449 §7.2,
  // catalogue IN-10), so it is refused rather than accepted as a bearer token.
  if (body.cnf !== undefined) return refuse('dpop_bound');
  if (body.token_type !== undefined) {
    const type = body.token_type.toLowerCase();
    if (type === 'dpop') return refuse('dpop_bound');
    if (type !== 'bearer') return refuse('token_type');
  }
  if (body.exp !== undefined && body.exp <= nowSec) return refuse('expired');
  return { active: true, token: { ...body, active: true, client_id: body.client_id } };
}

/** An ID token's introspection answer, or an audience an org authorization server access token never has. */
function notAnAccessToken(tenant: Tenant, body: z.infer<typeof introspectionResponse>): boolean {
  if (body.jti?.startsWith('ID.')) return true;
  if (body.aud === undefined) return false;
  const audiences = typeof body.aud === 'string' ? [body.aud] : body.aud;
  if (audiences.includes(tenant.clientId)) return true;
  // The org AS always names the org as the audience; a custom authorization server names its own
  // (api://default…), which the custom profile accepts.
  return tenant.profile === 'oin' && (audiences.length === 0 || audiences.some((aud) => !isTenantIssuer(tenant, aud)));
}

/** HMAC-SHA-256 under `secret` (Web Crypto), base64url; the key is imported once, on first use. */
function hmacSha256Base64url(secret: string): (input: string) => Promise<string> {
  let key: Promise<CryptoKey> | undefined;
  return async (input) => {
    key ??= crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const mac = await crypto.subtle.sign('HMAC', await key, new TextEncoder().encode(input));
    return encodeBase64url(new Uint8Array(mac));
  };
}

/**
 * An option of {@link createIntrospector}: the default when absent, else checked against the same
 * bound the client's options schema uses (internal/bounds.ts), since the introspector can be created
 * without the client. `field` is the client option's name, for the error's `details.field`.
 */
function bounded(value: number | undefined, fallback: number, field: string, bound: Bound): number {
  checkBound(field, value, bound);
  return value ?? fallback;
}

/** One throttle's buckets: take a token for a key (undefined when taken, else seconds to wait), give one back. */
interface Buckets {
  take(key: string): Promise<number | undefined>;
  give(key: string): Promise<void>;
}

/** A bucket set that never refuses (a throttle turned off). */
const UNTHROTTLED: Buckets = { take: async () => undefined, give: async () => {} };

/**
 * Token buckets by key (tenant, or tenant + caller) for {@link IntrospectionThrottleOptions}, kept in
 * this process's memory and, when one is given, in a shared {@link RateLimitStore} (one budget for
 * the fleet). A shared store that fails falls back to the local bucket: never fail open.
 */
function createBuckets(rate: number, burst: number, local: MemoryRateLimitStore, shared: RateLimitStore | undefined, prefix: string): Buckets {
  if (shared === undefined) {
    return { take: async (key) => local.takeSync(prefix + key, rate, burst), give: async (key) => local.giveSync(prefix + key, burst) };
  }
  return {
    async take(key) {
      try {
        return await shared.take(prefix + key, rate, burst);
      } catch {
        return local.takeSync(prefix + key, rate, burst);
      }
    },
    async give(key) {
      try {
        await shared.give(prefix + key, burst);
      } catch {
        local.giveSync(prefix + key, burst);
      }
    },
  };
}

/** How long a fleet single-flight lock lives, seconds: longer than one Okta call with its deadline (5 s by default). */
export const FLEET_LOCK_TTL_SEC = 10;
/** How often a process waiting for another's answer looks at the shared cache, ms. */
const FLEET_POLL_MS = 25;

/**
 * Create the introspector: validates the cache and throttle options once.
 *
 * - Malformed input (empty, over 8 KiB, not RFC 6750 `b64token`) is refused without a network call.
 * - POSTs `token` + `token_type_hint=access_token` with the tenant's client authentication.
 * - Triage (triage.ts): tokens that can never be this tenant's access tokens are refused with no
 *   network call and no bucket spent; a token whose signature verifies with a cached published key
 *   goes to Okta unthrottled; the rest ("plausible") pay the buckets.
 * - Single-flight per (tenant, token): concurrent calls for one unseen token make one request.
 * - A cache (on by default) keyed by SHA-256 of tenant id, issuer, client id and token (the raw
 *   token is never a key): positive entries live min(`exp` − now, `maxTtlSec`), negative ones
 *   `negativeTtlSec`. A token revoked at Okta stays usable here for up to `maxTtlSec` (60 s).
 * - Store errors degrade to "no cache" (the result then comes from Okta): never fail open.
 * - A per-caller and a per-tenant token bucket bound the Okta calls for tokens that are not
 *   accepted ({@link IntrospectionThrottleOptions}, catalogue IN-08): when one is empty, calls that
 *   would reach Okta fail with `ERR_OIDC_RATE_LIMITED` and `retryAfter`, no network call.
 *
 * @example
 * ```ts
 * const introspector = createIntrospector({ transport, now: Date.now, cache: { maxTtlSec: 30 } });
 * const token = await introspector.introspect(tenant, bearer); // ActiveToken or OidcError
 * ```
 */
export function createIntrospector(deps: IntrospectorDeps): Introspector {
  // On by default (SA-01): without it every request of a real token spends the tenant's
  // budget and an Okta call, so a flood of fishing tokens starves real ones.
  const cacheOptions = deps.cache === false ? undefined : (deps.cache ?? {});
  const cache = cacheOptions
    ? {
        maxTtlSec: bounded(cacheOptions.maxTtlSec, DEFAULT_MAX_TTL_SEC, 'introspectionCache.maxTtlSec', BOUNDS.introspectionMaxTtlSec),
        negativeTtlSec: bounded(cacheOptions.negativeTtlSec, DEFAULT_NEGATIVE_TTL_SEC, 'introspectionCache.negativeTtlSec', BOUNDS.introspectionNegativeTtlSec),
        store: cacheOptions.store ?? new MemoryTtlStore({ now: deps.now }),
      }
    : undefined;
  const keySecret = cacheOptions?.keySecret;
  const keyBound = LENGTH_BOUNDS.introspectionKeySecret;
  if (keySecret !== undefined && (typeof keySecret !== 'string' || keySecret.length < keyBound.min || keySecret.length > keyBound.max)) {
    throw new OidcError('ERR_OIDC_INVALID_OPTIONS', `introspectionCache.keySecret must be a string of ${keyBound.min} to ${keyBound.max} characters`, {
      details: { field: 'introspectionCache.keySecret' },
    });
  }
  // Only with a store another process can see: in memory, a lock would only wait for this process's own flight.
  const fleetSingleFlight = cacheOptions?.fleetSingleFlight === true && cacheOptions.store !== undefined;
  const postDeps: AuthenticatedPostDeps = { transport: deps.transport, now: deps.now, ...(deps.dpop ? { dpop: deps.dpop } : {}) };
  const inFlight = new Map<string, Promise<Verdict>>();
  const throttleOptions = deps.throttle;
  const localBuckets = new MemoryRateLimitStore({ now: deps.now });
  const tenantBuckets =
    throttleOptions === false
      ? UNTHROTTLED
      : createBuckets(
          bounded(throttleOptions?.ratePerSec, DEFAULT_THROTTLE_RATE_PER_SEC, 'introspectionThrottle.ratePerSec', BOUNDS.introspectionRatePerSec),
          bounded(throttleOptions?.burst, DEFAULT_THROTTLE_BURST, 'introspectionThrottle.burst', BOUNDS.introspectionBurst),
          localBuckets,
          deps.rateLimitStore,
          'introspection-tenant:',
        );
  const perCaller = throttleOptions === false ? false : (throttleOptions?.perCaller ?? {});
  const callerBuckets =
    perCaller === false
      ? UNTHROTTLED
      : createBuckets(
          bounded(perCaller.ratePerSec, DEFAULT_CALLER_RATE_PER_SEC, 'introspectionThrottle.perCaller.ratePerSec', BOUNDS.introspectionRatePerSec),
          bounded(perCaller.burst, DEFAULT_CALLER_BURST, 'introspectionThrottle.perCaller.burst', BOUNDS.introspectionBurst),
          localBuckets,
          deps.rateLimitStore,
          'introspection-caller:',
        );
  const triageDeps =
    deps.triage === false
      ? undefined
      : {
          ...(deps.jwks ? { jwks: deps.jwks } : {}),
          verifySignature: deps.verifySignature ?? webCryptoVerifier,
          now: deps.now,
          clockToleranceSec: deps.clockToleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC,
        };
  const onEvent = safeEventListener(deps.onEvent);
  /** The `introspection` event; every call site checks `onEvent` first, so without a listener nothing is allocated (telemetry costs nothing without a listener). */
  function reportAnswer(tenant: Tenant, outcome: OidcIntrospectionOutcome, active?: boolean): void {
    onEvent?.(active === undefined ? { type: 'introspection', tenantId: tenant.id, outcome } : { type: 'introspection', tenantId: tenant.id, outcome, active });
  }
  /** issuer → when the introspector last asked the registry for a key an active token named. */
  const learning = new Map<string, number>();
  /** issuer → the last cold-cache priming of the org's keys (and the fetch while it runs). */
  const priming = new Map<string, { at: number; pending?: Promise<void> }>();

  // Separate namespaces per tenant (catalogue MT-06): one tenant's entry never answers for another,
  // not even for a second record with the same issuer and client id (SA-17: a
  // squatter record with a wrong secret must not be answered from acme's entry).
  const tenantScope = (tenant: Tenant) => `${tenant.id}\n${tenant.issuer}\n${tenant.clientId}`;
  const digest = keySecret === undefined ? sha256Base64url : hmacSha256Base64url(keySecret);
  const cacheKey = async (tenant: Tenant, token: string) => `oin-oidc:introspection:${await digest(`${tenantScope(tenant)}\n${token}`)}`;

  async function readCache(key: string, tenant: Tenant): Promise<Verdict | undefined> {
    if (!cache) return undefined;
    let raw: string | undefined;
    try {
      raw = await cache.store.get(key);
    } catch {
      return undefined;
    }
    if (raw === undefined) return undefined;
    try {
      const entry = JSON.parse(raw) as { r?: string; t?: unknown };
      if (typeof entry.r === 'string') return { active: false, code: refusalError(entry.r).code, reason: entry.r };
      const parsed = introspectionResponse.safeParse(entry.t);
      // Re-judged on the way out: exp may have passed since the entry was written.
      return parsed.success ? judge(tenant, parsed.data, Math.floor(deps.now() / 1000)) : undefined;
    } catch {
      return undefined;
    }
  }

  async function writeCache(key: string, verdict: Verdict): Promise<void> {
    if (!cache) return;
    let value: string;
    let ttl: number;
    if (verdict.active) {
      const remaining = verdict.token.exp === undefined ? cache.maxTtlSec : Math.floor(verdict.token.exp - deps.now() / 1000);
      ttl = Math.min(cache.maxTtlSec, remaining);
      if (ttl < 1) return;
      value = JSON.stringify({ t: verdict.token });
    } else {
      ttl = cache.negativeTtlSec;
      value = JSON.stringify({ r: verdict.reason });
    }
    try {
      await cache.store.set(key, value, ttl);
    } catch {
      // A cache that cannot be written only costs a later Okta call.
    }
  }

  async function ask(tenant: Tenant, token: string): Promise<Verdict> {
    const response = await authenticatedPost(postDeps, tenant, 'introspection', tenant.endpoints.introspection, {
      token,
      token_type_hint: 'access_token',
    });
    if (response.status !== 200) {
      // RFC 7662 §2.3: 401 means *our* credentials were refused. That is an outage to alert on,
      // never "token inactive" (it would log everyone out) and never "active" (catalogue IN-03).
      const json = response.json as { error?: unknown } | undefined;
      const error = typeof json?.error === 'string' && /^[\x20-\x7E]{1,64}$/.test(json.error) ? json.error : undefined;
      throw new OidcError('ERR_OIDC_UNAVAILABLE', `Introspection at the tenant's authorization server failed with HTTP ${response.status}.`, {
        details: { status: response.status, ...(error ? { error } : {}), tenantId: tenant.id },
      });
    }
    const parsed = introspectionResponse.safeParse(response.json);
    if (!parsed.success) {
      throw new OidcError('ERR_OIDC_INTROSPECTION_INVALID', 'The introspection response is not a valid RFC 7662 response.', {
        details: { issues: parsed.error.issues.map((issue) => ({ path: issue.path.map(String), code: issue.code })) },
      });
    }
    return judge(tenant, parsed.data, Math.floor(deps.now() / 1000));
  }

  /**
   * Take the tokens a call to Okta costs: the caller's, then the tenant's. Returns the keys to
   * refund when the answer is active; throws when a bucket is empty (nothing left taken).
   */
  async function pay(tenant: Tenant, caller: string | undefined): Promise<{ tenantKey: string; callerKey: string | undefined }> {
    const callerKey = caller === undefined || caller.length === 0 ? undefined : `${tenant.id}\n${caller.slice(0, MAX_CALLER_LENGTH)}`;
    if (callerKey !== undefined) {
      const retryAfter = await callerBuckets.take(callerKey);
      if (retryAfter !== undefined) {
        if (onEvent !== undefined) reportAnswer(tenant, 'refused-locally');
        // 429, not the code's 503: this caller is rate limited; Okta and other callers are fine.
        throw new OidcError('ERR_OIDC_RATE_LIMITED', `Too many introspections of unusable tokens from this caller; retry after ${retryAfter} s`, {
          status: 429,
          retryAfter,
          details: { reason: 'caller-throttle', tenantId: tenant.id },
        });
      }
    }
    const tenantKey = tenantScope(tenant);
    const retryAfter = await tenantBuckets.take(tenantKey);
    if (retryAfter !== undefined) {
      // No call is made: the caller's token goes back (its budget is for calls that reach Okta).
      if (callerKey !== undefined) await callerBuckets.give(callerKey);
      if (onEvent !== undefined) reportAnswer(tenant, 'refused-locally');
      throw new OidcError('ERR_OIDC_RATE_LIMITED', `Too many introspections of unusable tokens for this tenant; retry after ${retryAfter} s`, {
        retryAfter,
        details: { reason: 'introspection-throttle', tenantId: tenant.id },
      });
    }
    return { tenantKey, callerKey };
  }

  /**
   * An active token named a key the JWKS cache does not hold (no set cached yet, as on an API that
   * never signs anyone in, or Okta signs access tokens with a key the cache has not seen): ask the
   * registry for it, at most once per issuer per {@link LEARN_KEYS_INTERVAL_MS}. Only a token Okta
   * just confirmed active gets here, so an attacker cannot make it spend the issuer's refetch
   * budget (SA-09); once the keys are cached, later tokens signed with them triage as
   * `verified` and skip the buckets. Awaited (one request every few minutes waits for one `/keys`
   * fetch) so that what the next token meets does not depend on a race.
   */
  async function learnKey(tenant: Tenant, kid: string | undefined): Promise<void> {
    const jwks = deps.jwks;
    if (jwks === undefined || kid === undefined || triageDeps === undefined) return;
    const t = deps.now();
    const last = learning.get(tenant.issuer);
    if (last !== undefined && t - last < LEARN_KEYS_INTERVAL_MS) return;
    if (learning.size >= MAX_LEARNING_ISSUERS) learning.clear();
    learning.set(tenant.issuer, t);
    try {
      // The front channel's budget (tokens anyone can present), never the one sign-ins from /token rely on.
      await jwks.getKey(tenant.issuer, tenant.endpoints.jwks, { alg: 'RS256', kid }, { channel: 'front' });
    } catch {
      // The key is not published (Okta before March 2024), or /keys failed: tokens stay `plausible`.
    }
  }

  /**
   * Load the org's keys into an empty JWKS cache, so that real tokens can triage as `verified` from
   * the first one on, even while a flood keeps the tenant's bucket empty (an API that signs nobody
   * in has no keys cached otherwise). Asked without a `kid`, the registry fetches only when it holds
   * no set for the issuer (a cold fetch, which spends no unknown-kid refetch budget: SA-09); with a
   * set cached it answers from memory or refuses an ambiguous choice, never fetching. At most once
   * per issuer per {@link LEARN_KEYS_INTERVAL_MS}; calls arriving while it runs wait for it.
   * Returns whether the caller should triage again (a priming ran or was joined).
   */
  async function primeKeys(tenant: Tenant): Promise<boolean> {
    const jwks = deps.jwks;
    if (jwks === undefined) return false;
    const state = priming.get(tenant.issuer);
    if (state?.pending !== undefined) {
      await state.pending;
      return true;
    }
    const t = deps.now();
    if (state !== undefined && t - state.at < LEARN_KEYS_INTERVAL_MS) return false;
    if (priming.size >= MAX_LEARNING_ISSUERS) priming.clear();
    // Failures (no /keys, several keys and no kid) only mean tokens stay `plausible`.
    const pending = jwks.getKey(tenant.issuer, tenant.endpoints.jwks, { alg: 'RS256' }, { channel: 'front' }).then(
      () => undefined,
      () => undefined,
    );
    priming.set(tenant.issuer, { at: t, pending });
    await pending;
    priming.set(tenant.issuer, { at: t });
    return true;
  }

  async function resolve(tenant: Tenant, token: string, triaged: TriageResult | undefined, caller: string | undefined): Promise<Verdict> {
    // Single flight, joined before any await: keyed by the raw token in memory (held only while
    // the call is in flight, never stored), not by the cache key, whose SHA-256 is asynchronous:
    // a caller whose digest finished after the first call had settled would call Okta again.
    const flightKey = `${tenantScope(tenant)}\n${token}`;
    const pending = inFlight.get(flightKey);
    if (pending) return pending;
    // Registered synchronously (no await between the check and the set), so every concurrent
    // caller after this one joins the same promise, including those still reading the cache.
    const promise = (async () => {
      const key = await cacheKey(tenant, token);
      const cached = await readCache(key, tenant);
      if (cached) {
        if (onEvent !== undefined) reportAnswer(tenant, 'cache-hit', cached.active);
        return cached;
      }
      // Another process of the fleet is asking Okta about this token: wait for its answer.
      const lock = fleetSingleFlight ? await takeFleetLock(key) : undefined;
      if (lock === 'lost') {
        const answered = await awaitFleetAnswer(key, tenant);
        if (answered) {
          if (onEvent !== undefined) reportAnswer(tenant, 'fleet-wait', answered.active);
          return answered;
        }
      }
      if (lock === 'won') {
        // The previous holder may have answered and released its lock between our cache read and
        // our lock: look once more before asking Okta (measured: 2 calls for 3 processes otherwise).
        const answered = await readCache(key, tenant);
        if (answered) {
          await releaseFleetLock(key);
          if (onEvent !== undefined) reportAnswer(tenant, 'cache-hit', answered.active);
          return answered;
        }
      }
      try {
        return await askAndRemember(tenant, token, key, triaged, caller);
      } finally {
        if (lock === 'won') await releaseFleetLock(key);
      }
    })();
    inFlight.set(flightKey, promise);
    try {
      return await promise;
    } finally {
      if (inFlight.get(flightKey) === promise) inFlight.delete(flightKey);
    }
  }

  /** 'won': this process asks Okta; 'lost': another one is; undefined: the store failed, so ask (per-process single flight only). */
  async function takeFleetLock(key: string): Promise<'won' | 'lost' | undefined> {
    try {
      return (await cache!.store.setIfAbsent(`${key}:lock`, '1', FLEET_LOCK_TTL_SEC)) ? 'won' : 'lost';
    } catch {
      return undefined;
    }
  }

  async function releaseFleetLock(key: string): Promise<void> {
    try {
      await cache!.store.delete(`${key}:lock`);
    } catch {
      // The lock's TTL ends it.
    }
  }

  /** Poll the shared cache for the answer the lock holder writes; undefined when it does not come (the holder failed or died). */
  async function awaitFleetAnswer(key: string, tenant: Tenant): Promise<Verdict | undefined> {
    const deadline = deps.now() + FLEET_LOCK_TTL_SEC * 1000;
    while (deps.now() < deadline) {
      await sleep(FLEET_POLL_MS);
      const answered = await readCache(key, tenant);
      if (answered) return answered;
      try {
        // The holder released without an answer (Okta failed, or nothing could be cached): ask ourselves.
        if ((await cache!.store.get(`${key}:lock`)) === undefined) return readCache(key, tenant);
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  /** Ask Okta (paying the throttle first), then cache the answer; a token that proves active refunds what it paid. */
  async function askAndRemember(tenant: Tenant, token: string, key: string, triaged: TriageResult | undefined, caller: string | undefined): Promise<Verdict> {
    // A call that reaches Okta is paid for up front and refunded when the token proves active
    // (catalogue IN-08): a flood of unknown tokens drains the buckets and is then refused
    // locally, while real tokens, and cached answers, cost nothing. Paying before the call keeps
    // concurrent fishing within the buckets too. A token whose signature verified with a key the
    // org publishes can only come from Okta: it pays nothing (SA-01).
    const paid = triaged?.class === 'verified' ? undefined : await pay(tenant, caller);
    const askedAt = deps.now();
    const verdict = await ask(tenant, token);
    if (onEvent !== undefined) reportAnswer(tenant, 'miss', verdict.active);
    if (verdict.active && paid !== undefined) {
      await tenantBuckets.give(paid.tenantKey);
      if (paid.callerKey !== undefined) await callerBuckets.give(paid.callerKey);
    }
    if (verdict.active && triaged?.class === 'plausible') await learnKey(tenant, triaged.kid);
    await writeCache(key, verdict);
    if (verdict.active) rememberHot(tenant, token, verdict.token, askedAt);
    return verdict;
  }

  /**
   * Hot path of the positive cache (the warm-bearer benchmark target, docs/benchmarks.md): active
   * answers this process got from Okta, found by the raw token in memory only (never written
   * anywhere, never a store key), so a warm request costs a Map lookup instead of a SHA-256 and a
   * store read. A {@link BoundedCache}: indexed by the last 32 characters (cheap to hash) and
   * matched on the whole token (`===`): a token that only shares the tail is a miss. Only tokens
   * that passed the syntax check are stored, so a hit skips it. An entry lives no longer than the
   * positive cache allows, counted from the start of the Okta call (min(maxTtlSec, exp), IN-06),
   * answers only for the tenant, issuer and client it was asked for (MT-06, SA-17), and `forget`
   * drops it. Only with a cache configured: without one, every request still goes to Okta.
   */
  const hot = cache ? new BoundedCache<HotEntry>({ maxEntries: MAX_HOT_TOKENS, maxChars: MAX_HOT_CHARS, indexChars: HOT_INDEX_CHARS }) : undefined;
  function rememberHot(tenant: Tenant, token: string, active: ActiveToken, askedAt: number): void {
    if (!hot || !cache) return;
    const until = Math.min(askedAt + cache.maxTtlSec * 1000, active.exp === undefined ? Number.POSITIVE_INFINITY : active.exp * 1000);
    hot.set(token, { tenantId: tenant.id, issuer: tenant.issuer, clientId: tenant.clientId, token: deepFreeze(active) }, until, deps.now());
  }

  return {
    async introspect(tenant, token, options) {
      const warm = hot !== undefined && typeof token === 'string' ? hot.get(token, deps.now())?.value : undefined;
      if (warm !== undefined && warm.tenantId === tenant.id && warm.issuer === tenant.issuer && warm.clientId === tenant.clientId) {
        if (onEvent !== undefined) reportAnswer(tenant, 'hot-hit', true);
        return warm.token;
      }
      if (!syntaxAlreadyChecked(options) && !isBearerTokenSyntax(token)) {
        if (onEvent !== undefined) reportAnswer(tenant, 'refused-locally', false);
        throw new OidcError('ERR_OIDC_ACCESS_TOKEN_INVALID', 'The access token is malformed.', { details: { reason: 'syntax' } });
      }
      let triaged: TriageResult | undefined;
      if (triageDeps !== undefined) {
        const result = triageAccessToken(triageDeps, tenant, token);
        triaged = result instanceof Promise ? await result : result;
        // Only Okta can judge it while the org's keys are not cached: load them once, look again.
        if (triaged.class === 'plausible' && (await primeKeys(tenant))) {
          const again = triageAccessToken(triageDeps, tenant, token);
          triaged = again instanceof Promise ? await again : again;
        }
        if (triaged.class === 'junk' || triaged.class === 'forged') {
          // Refused here: no Okta call, no bucket, no cache entry. Caching junk would let a flood of
          // distinct junk push real answers out of a bounded store, and re-triage costs less than
          // the SHA-256 and store read a cache lookup does.
          const message = triaged.code === 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' ? REFUSALS.expired[1] : REFUSALS.triage[1];
          if (onEvent !== undefined) reportAnswer(tenant, 'refused-locally', false);
          throw new OidcError(triaged.code, message, { details: { reason: 'triage', check: triaged.check } });
        }
      }
      const caller = typeof options?.caller === 'string' ? options.caller : undefined;
      const verdict = await resolve(tenant, token, triaged, caller);
      if (!verdict.active) throw refusalError(verdict.reason);
      // Shared by concurrent callers (single flight) and by the hot cache: frozen, never copied.
      return deepFreeze(verdict.token);
    },
    isWarm(token) {
      return hot !== undefined && typeof token === 'string' && hot.find(token) !== undefined;
    },
    async forget(tenant, token) {
      if (typeof token === 'string') hot?.delete(token);
      if (!cache || !isBearerTokenSyntax(token)) return;
      try {
        await cache.store.delete(await cacheKey(tenant, token));
      } catch {
        // Nothing cached can be removed from an unreachable store; its TTL still bounds it.
      }
    },
  };
}
