/**
 * Access-token introspection (RFC 7662) at the tenant's org authorization server.
 *
 * Okta org authorization server access tokens are meant for Okta only: their signing keys and
 * format are not a contract for third parties, so they are never validated locally (issue 3 §6);
 * `/oauth2/v1/introspect` is the only authority.
 */
import { z } from 'zod';
import { deepFreeze } from '../internal/deep-freeze';
import { authenticatedPost, type AuthenticatedPostDeps } from '../client-auth/authenticated-post';
import { OidcError, type OidcErrorCode } from '../errors';
import { encodeBase64url } from '../internal/base64url';
import type { Tenant } from '../tenant/tenant';
import { MemoryTtlStore, type TtlStore } from '../ttl-store';
import { isBearerTokenSyntax } from './token-syntax';

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
}

/**
 * Local throttle on introspections of tokens that turn out not to be usable (catalogue IN-08, RFC
 * 7662 §4: an un-throttled introspection endpoint lets an attacker fish for valid tokens, and every
 * call spends the org-wide Okta rate limit). A token bucket per tenant (issuer + client id): a call
 * that would reach Okta takes one token, and gets it back when Okta answers that the token is active
 * and ours, so real traffic costs nothing; cached answers and calls that join an in-flight one cost
 * nothing either. With the bucket empty, calls that would reach Okta fail fast with
 * `ERR_OIDC_RATE_LIMITED` (503 with `Retry-After`) without contacting it.
 */
export interface IntrospectionThrottleOptions {
  /** Sustained rate, per second per tenant, of Okta calls for tokens that are not accepted. Default 50. */
  ratePerSec?: number;
  /** Such calls allowed at once before the sustained rate applies (bucket size). Default 100. */
  burst?: number;
}

export interface IntrospectorDeps extends AuthenticatedPostDeps {
  /** `false` or absent: every call goes to Okta (single-flight still applies). */
  cache?: IntrospectionCacheOptions | false;
  /** `false` turns the local throttle off (not recommended). Default `{ ratePerSec: 50, burst: 100 }`. */
  throttle?: IntrospectionThrottleOptions | false;
}

export interface Introspector {
  /**
   * Introspect a bearer access token presented to your API.
   *
   * @throws OidcError `ERR_OIDC_ACCESS_TOKEN_INVALID` (malformed, no network call; or issued to another
   *   client, another issuer, not an access token, DPoP-bound), `ERR_OIDC_ACCESS_TOKEN_INACTIVE`
   *   (inactive or expired), `ERR_OIDC_INTROSPECTION_INVALID` (Okta's answer does not parse),
   *   `ERR_OIDC_UNAVAILABLE` (Okta refused our client authentication), `ERR_OIDC_RATE_LIMITED` with
   *   `retryAfter` (the local throttle is empty, no network call; catalogue IN-08), and the transport's
   *   `ERR_OIDC_RATE_LIMITED`, `ERR_OIDC_HTTP_TIMEOUT`, `ERR_OIDC_HTTP_ERROR`.
   */
  introspect(tenant: Tenant, token: string): Promise<Readonly<ActiveToken>>;
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
/** Bounds of the in-process hot cache of active tokens (entries; characters of the token keys). */
const MAX_HOT_TOKENS = 10_000;
const MAX_HOT_CHARS = 16 * 1024 * 1024;

/** A positive answer Okta gave this process, keyed in memory by the raw token. */
interface HotEntry {
  /** The whole token: a hit requires equality with it (the map index is only its tail). */
  raw: string;
  issuer: string;
  clientId: string;
  token: ActiveToken;
  /** ms: the Okta call's start + maxTtlSec, never past the token's `exp`. */
  until: number;
}

/** Buckets kept in memory; beyond it full buckets are dropped first (a dropped bucket is a full one). */
const MAX_THROTTLE_BUCKETS = 10_000;

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
  if (body.iss !== undefined && body.iss !== tenant.issuer) return refuse('iss');
  // Okta reports refresh tokens as token_type "Bearer" too, without iss/jti (catalogue IN-04); with
  // token_type_hint=access_token an access token answer carries iss and jti (or Okta's uid).
  if (body.iss === undefined || (body.jti === undefined && body.uid === undefined)) return refuse('not_access_token');
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

async function sha256Base64url(input: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(input));
  return encodeBase64url(new Uint8Array(digest));
}

function positiveInteger(value: unknown, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new OidcError('ERR_OIDC_INVALID_OPTIONS', `introspectionCache.${field} must be a positive integer number of seconds`, {
      details: { field: `introspectionCache.${field}` },
    });
  }
  return value;
}

function positiveNumber(value: unknown, fallback: number, field: string, integer: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1_000_000 || (integer && !Number.isSafeInteger(value))) {
    throw new OidcError('ERR_OIDC_INVALID_OPTIONS', `introspectionThrottle.${field} must be a positive ${integer ? 'integer' : 'number'} up to 1000000`, {
      details: { field: `introspectionThrottle.${field}` },
    });
  }
  return value;
}

interface Bucket {
  tokens: number;
  at: number; // ms, when `tokens` was last brought up to date
}

/** Per-tenant token buckets for {@link IntrospectionThrottleOptions}. */
function createThrottle(options: IntrospectionThrottleOptions | false | undefined, now: () => number) {
  if (options === false) return { take: (_key: string): number | undefined => undefined, give: (_key: string): void => {} };
  const rate = positiveNumber(options?.ratePerSec, DEFAULT_THROTTLE_RATE_PER_SEC, 'ratePerSec', false);
  const burst = positiveNumber(options?.burst, DEFAULT_THROTTLE_BURST, 'burst', true);
  const buckets = new Map<string, Bucket>();

  const refill = (bucket: Bucket, t: number) => {
    // A clock that goes backwards refills nothing (and never drains the bucket).
    bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, t - bucket.at) / 1000) * rate);
    bucket.at = Math.max(bucket.at, t);
  };

  const prune = (t: number) => {
    for (const [key, bucket] of buckets) {
      refill(bucket, t);
      if (bucket.tokens >= burst) buckets.delete(key);
    }
    // Still too many (more live tenants than the cap): the oldest go; the cost is a refilled bucket.
    for (const key of buckets.keys()) {
      if (buckets.size < MAX_THROTTLE_BUCKETS) break;
      buckets.delete(key);
    }
  };

  return {
    /** Take one token for `key`; returns undefined when taken, else the seconds until one is available. */
    take(key: string): number | undefined {
      const t = now();
      let bucket = buckets.get(key);
      if (!bucket) {
        if (buckets.size >= MAX_THROTTLE_BUCKETS) prune(t);
        bucket = { tokens: burst, at: t };
        buckets.set(key, bucket);
      } else refill(bucket, t);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return undefined;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / rate));
    },
    /** Return the token a call took (the token it introspected was active and ours). */
    give(key: string): void {
      const bucket = buckets.get(key);
      if (bucket) bucket.tokens = Math.min(burst, bucket.tokens + 1);
    },
  };
}

/**
 * Create the introspector: validates the cache and throttle options once.
 *
 * - Malformed input (empty, over 8 KiB, not RFC 6750 `b64token`) is refused without a network call.
 * - POSTs `token` + `token_type_hint=access_token` with the tenant's client authentication.
 * - Single-flight per (tenant, token): concurrent calls for one unseen token make one request.
 * - Optional cache keyed by SHA-256 of issuer, client id and token (the raw token is never a key):
 *   positive entries live min(`exp` − now, `maxTtlSec`), negative ones `negativeTtlSec`.
 * - Store errors degrade to "no cache" (the result then comes from Okta): never fail open.
 * - A per-tenant token bucket bounds the Okta calls for tokens that are not accepted
 *   ({@link IntrospectionThrottleOptions}, catalogue IN-08): when it is empty, calls that would reach
 *   Okta fail with `ERR_OIDC_RATE_LIMITED` and `retryAfter`, no network call.
 *
 * @example
 * ```ts
 * const introspector = createIntrospector({ transport, now: Date.now, cache: { maxTtlSec: 30 } });
 * const token = await introspector.introspect(tenant, bearer); // ActiveToken or OidcError
 * ```
 */
export function createIntrospector(deps: IntrospectorDeps): Introspector {
  const cacheOptions = deps.cache === false || deps.cache === undefined ? undefined : deps.cache;
  const cache = cacheOptions
    ? {
        maxTtlSec: positiveInteger(cacheOptions.maxTtlSec, DEFAULT_MAX_TTL_SEC, 'maxTtlSec'),
        negativeTtlSec: positiveInteger(cacheOptions.negativeTtlSec, DEFAULT_NEGATIVE_TTL_SEC, 'negativeTtlSec'),
        store: cacheOptions.store ?? new MemoryTtlStore({ now: deps.now }),
      }
    : undefined;
  const postDeps: AuthenticatedPostDeps = { transport: deps.transport, now: deps.now, ...(deps.dpop ? { dpop: deps.dpop } : {}) };
  const inFlight = new Map<string, Promise<Verdict>>();
  const throttle = createThrottle(deps.throttle, deps.now);

  // Separate namespaces per tenant (catalogue MT-06): one tenant's entry never answers for another.
  const cacheKey = async (tenant: Tenant, token: string) =>
    `oin-oidc:introspection:${await sha256Base64url(`${tenant.issuer}\n${tenant.clientId}\n${token}`)}`;

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

  async function resolve(tenant: Tenant, token: string): Promise<Verdict> {
    // Single flight, joined before any await: keyed by the raw token in memory (held only while
    // the call is in flight, never stored), not by the cache key, whose SHA-256 is asynchronous:
    // a caller whose digest finished after the first call had settled would call Okta again.
    const flightKey = `${tenant.issuer}\n${tenant.clientId}\n${token}`;
    const pending = inFlight.get(flightKey);
    if (pending) return pending;
    // Registered synchronously (no await between the check and the set), so every concurrent
    // caller after this one joins the same promise, including those still reading the cache.
    const promise = (async () => {
      const key = await cacheKey(tenant, token);
      const cached = await readCache(key, tenant);
      if (cached) return cached;
      // A call that reaches Okta is paid for up front and refunded when the token proves active
      // (catalogue IN-08): a flood of random tokens drains the tenant's bucket and is then refused
      // locally, while real tokens, and cached answers, cost nothing. Paying before the call keeps
      // concurrent fishing within the bucket too.
      const bucketKey = `${tenant.issuer}\n${tenant.clientId}`;
      const retryAfter = throttle.take(bucketKey);
      if (retryAfter !== undefined) {
        throw new OidcError('ERR_OIDC_RATE_LIMITED', `Too many introspections of unusable tokens for this tenant; retry after ${retryAfter} s`, {
          retryAfter,
          details: { reason: 'introspection-throttle', tenantId: tenant.id },
        });
      }
      const askedAt = deps.now();
      const verdict = await ask(tenant, token);
      if (verdict.active) throttle.give(bucketKey);
      await writeCache(key, verdict);
      if (verdict.active) rememberHot(tenant, token, verdict.token, askedAt);
      return verdict;
    })();
    inFlight.set(flightKey, promise);
    try {
      return await promise;
    } finally {
      if (inFlight.get(flightKey) === promise) inFlight.delete(flightKey);
    }
  }

  /**
   * Hot path of the positive cache (issue 6 §3): active answers this process got from Okta, found
   * by the raw token in memory only (never written anywhere, never a store key), so a warm request
   * costs a Map lookup instead of a SHA-256 and a store read. Indexed by the token's last 32
   * characters (cheap to hash) and matched on the whole token (`===`): a token that only shares the
   * tail is a miss. Only tokens that passed the syntax check are stored, so a hit skips it. An entry lives no longer than the
   * positive cache allows, counted from the start of the Okta call (min(maxTtlSec, exp), IN-06),
   * answers only for the issuer and client it was asked for (MT-06), and `forget` drops it. Only
   * with a cache configured: without one, every request still goes to Okta.
   */
  const hot = cache ? new Map<string, HotEntry>() : undefined;
  let hotChars = 0;
  const hotIndex = (token: string) => token.slice(-32);
  const dropHot = (token: string) => {
    const index = hotIndex(token);
    if (hot?.get(index)?.raw === token) {
      hot.delete(index);
      hotChars -= token.length;
    }
  };
  function rememberHot(tenant: Tenant, token: string, active: ActiveToken, askedAt: number): void {
    if (!hot || !cache) return;
    const until = Math.min(askedAt + cache.maxTtlSec * 1000, active.exp === undefined ? Number.POSITIVE_INFINITY : active.exp * 1000);
    if (until <= deps.now()) return;
    const index = hotIndex(token);
    const previous = hot.get(index);
    if (previous !== undefined) dropHot(previous.raw);
    hot.set(index, { raw: token, issuer: tenant.issuer, clientId: tenant.clientId, token: deepFreeze(active), until });
    hotChars += token.length;
    for (const entry of hot.values()) {
      if (hot.size <= MAX_HOT_TOKENS && hotChars <= MAX_HOT_CHARS) break;
      dropHot(entry.raw);
    }
  }

  return {
    async introspect(tenant, token) {
      const warm = typeof token === 'string' ? hot?.get(hotIndex(token)) : undefined;
      if (warm !== undefined && warm.raw === token) {
        if (deps.now() >= warm.until) dropHot(token);
        else if (warm.issuer === tenant.issuer && warm.clientId === tenant.clientId) return warm.token;
      }
      if (!isBearerTokenSyntax(token)) {
        throw new OidcError('ERR_OIDC_ACCESS_TOKEN_INVALID', 'The access token is malformed.', { details: { reason: 'syntax' } });
      }
      const verdict = await resolve(tenant, token);
      if (!verdict.active) throw refusalError(verdict.reason);
      // Shared by concurrent callers (single flight) and by the hot cache: frozen, never copied.
      return deepFreeze(verdict.token);
    },
    isWarm(token) {
      const warm = typeof token === 'string' ? hot?.get(hotIndex(token)) : undefined;
      return warm !== undefined && warm.raw === token;
    },
    async forget(tenant, token) {
      dropHot(token);
      if (!cache || !isBearerTokenSyntax(token)) return;
      try {
        await cache.store.delete(await cacheKey(tenant, token));
      } catch {
        // Nothing cached can be removed from an unreachable store; its TTL still bounds it.
      }
    },
  };
}
