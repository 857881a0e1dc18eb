/**
 * The options of {@link createOidcClient}: the public interface, its zod schema and
 * `resolveOptions`, which validates once, applies defaults and freezes (house style §3.6). Zod stays
 * an implementation detail: no exported type mentions it.
 */
import { z } from 'zod';
import { OidcError } from './errors';
import type { OidcEventListener } from './events';
import type { HttpClient } from './http/http-client';
import { isRateLimitStore, type RateLimitStore } from './http/rate-limit-store';
import { BOUNDS, LENGTH_BOUNDS, zodNumber } from './internal/bounds';
import type { RateLimitEvent } from './http/types';
import type { JwksEvent } from './jwks/jwks-registry';
import { isCredentialStore, type CredentialStore } from './tenant/credential-store';
import type { SignatureVerifier } from './tokens/signature-verifier';
import { isTtlStore, type TtlStore } from './ttl-store';
import type { OidcWarning } from './warnings';

/** Options of `createOidcClient`. Only `store` is required. */
export interface OidcClientOptions {
  /** The tenants (app instances in customer orgs). */
  store: CredentialStore;
  /** A fetch-shaped HTTP client (proxy, undici, test double). Default: global `fetch`. */
  http?: HttpClient;
  /** Deadline per back-channel call, ms. Default 5000. */
  httpTimeoutMs?: number;
  /** Leeway for ID token time checks, seconds (0–300). Default 30. */
  clockToleranceSec?: number;
  /** Clock in epoch ms. Default `Date.now`. */
  now?: () => number;
  /** Wait for Okta's rate-limit reset when it is at most this far away, ms. Default 0: fail fast on 429. */
  maxRateLimitWaitMs?: number;
  /** In-flight `/token` + `/introspect` calls per org. Default 10. */
  maxConcurrentPerOrg?: number;
  /** Called for every response that carries `X-Rate-Limit-*` headers. */
  onRateLimit?: (event: RateLimitEvent) => void;
  /** JWKS fetches, failures, refused refetches and evictions. */
  onJwks?: (event: JwksEvent) => void;
  /**
   * Operational events (docs/operations.md#telemetry): `http` (every back-channel call:
   * endpoint, status, outcome, duration), `rate-limit` (Okta's headroom), `jwks` (the `onJwks`
   * events), `introspection` (hot hit, cache hit, miss, refused locally, fleet wait) and, through
   * `createOidcAuth`, `sign-in` (flow, outcome, error code). Called synchronously; exceptions it
   * throws are ignored; never given a token, code or secret. Without it nothing is measured or
   * allocated. `createOpenTelemetryListener()` from `@oin-oidc/opentelemetry` fits here, and so does
   * a logger through `formatEventForLog`.
   */
  onEvent?: OidcEventListener;
  /**
   * Introspection result cache. Default `{}`: on, `maxTtlSec` 60 (a token revoked at Okta stays
   * usable here for up to that long), `negativeTtlSec` 10, a bounded in-memory store. `false`:
   * every call goes to Okta (docs/access-tokens-and-initiated-login.md).
   */
  introspectionCache?: IntrospectionCacheOption | false;
  /**
   * Shared rate-limit state (docs/deployment.md, 'What state lives where'): Okta's 429 back-off per
   * org and endpoint, and the introspection throttle's buckets. Default: this process's memory.
   * Pass `@oin-oidc/redis`'s store so that a 429 seen by one process makes every process wait for
   * `X-Rate-Limit-Reset`, and the throttle budget is one per tenant for the whole fleet
   * (docs/deployment.md).
   */
  rateLimitStore?: RateLimitStore;
  /**
   * Local throttle on Okta introspections of tokens that are not accepted (an active token gives
   * its tokens back), against token fishing (catalogue IN-08, RFC 7662 §4): a bucket per caller
   * (the `caller` passed to `introspect`, e.g. the client address; default `{ ratePerSec: 2,
   * burst: 20 }`, empty → `ERR_OIDC_RATE_LIMITED` 429) and one per tenant (default
   * `{ ratePerSec: 50, burst: 100 }`, empty → `ERR_OIDC_RATE_LIMITED` 503), both with
   * `Retry-After`. `perCaller: false` drops the first; `false` turns both off.
   */
  introspectionThrottle?: { ratePerSec?: number; burst?: number; perCaller?: { ratePerSec?: number; burst?: number } | false } | false;
  /**
   * Refuse, without calling Okta or spending the throttle, bearer tokens that can never be this
   * tenant's access tokens (not an RS256 JWT, wrong `iss` or `cid`, expired, or a bad signature
   * under a key the JWKS cache already holds). Default true. `false` is the escape hatch should
   * Okta change its access-token format: every well-formed token then goes to Okta through the
   * throttle, as before (docs/rate-limits.md).
   */
  introspectionTriage?: boolean;
  /**
   * Simplified-flow replay store; share one across app instances (Redis, Postgres). Default: an
   * in-process store partitioned by tenant (`replayQuotaPerTenant`), and a
   * `WARN_OIDC_REPLAY_STORE_PER_PROCESS` warning, since each process of a fleet then keeps its own.
   */
  replayStore?: TtlStore;
  /**
   * Default replay store only (refused beside `replayStore`): live entries (accepted simplified-flow ID tokens) each tenant may
   * hold; a tenant past it fails its own simplified sign-ins with `ERR_OIDC_RATE_LIMITED`
   * (`details.reason: 'replay-quota'`, `Retry-After`) while other tenants carry on. Entries live
   * about 330 s (`maxTokenAgeSec` 300 + the clock tolerance), so the default 1,000 allows about 3
   * sign-ins a second per tenant and process. Integer 1–100,000.
   */
  replayQuotaPerTenant?: number;
  /**
   * Accept tenants whose issuer is a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`). Default
   * false: only the emulator, tests and demos need it (docs/tenants.md#issuer-policy).
   */
  allowLoopbackIssuers?: boolean;
  /**
   * When set, the only issuer hosts tenants may name: `acme.okta.com` (exact) or `.okta.com` (any
   * subdomain). `[...OKTA_DOMAINS.map((d) => '.' + d), 'login.acme.com']` covers Okta's org domains
   * and one custom domain. A tenant outside it fails with `ERR_OIDC_ISSUER_NOT_ALLOWED` before any
   * network call (docs/tenants.md#issuer-policy).
   */
  allowedIssuerHosts?: string[];
  /** Warnings about settings that work but fall short in production. Default: `console.warn` with an `[oin-oidc]` prefix. */
  onWarning?: (warning: OidcWarning) => void;
  /**
   * RFC 9207: when a callback lacks `iss`, refuse it if the provider advertises
   * `authorization_response_iss_parameter_supported` (`'discovery'`, the default: reads the cached
   * discovery document, only for callbacks without `iss`), always (`true`), or never (`false`: the ID
   * token `iss` check remains the defence). A present `iss` is always compared.
   */
  requireIssParameter?: boolean | 'discovery';
  /**
   * Checks ID token signatures; every other check stays in core. Default: Web Crypto, on every
   * runtime. On Node, `nodeSignatureVerifier` from `@oin-oidc/core/node` is about twice as fast
   * (the Express, Fastify and Koa adapters use it unless this option is set).
   */
  verifySignature?: SignatureVerifier;
}

/** The `introspectionCache` option (see {@link IntrospectionCacheOptions} of the introspector). */
export interface IntrospectionCacheOption {
  maxTtlSec?: number;
  negativeTtlSec?: number;
  store?: TtlStore;
  /**
   * Keys cache entries by HMAC-SHA-256 under this secret (≥ 32 characters) instead of a plain
   * SHA-256, so whoever can read a shared store cannot test a guessed token against it. Set it,
   * the same in every process, whenever `store` is shared.
   */
  keySecret?: string;
  /** With a shared `store`: the first process to see a token asks Okta, the others wait for its answer (one `/introspect` per token per fleet). Default false. */
  fleetSingleFlight?: boolean;
}

/** Options after validation and defaults. Internal. */
export interface ResolvedOidcClientOptions {
  readonly store: CredentialStore;
  readonly http: HttpClient | undefined;
  readonly httpTimeoutMs: number;
  readonly clockToleranceSec: number;
  readonly now: () => number;
  readonly maxRateLimitWaitMs: number;
  readonly maxConcurrentPerOrg: number;
  readonly onRateLimit: ((event: RateLimitEvent) => void) | undefined;
  readonly onJwks: ((event: JwksEvent) => void) | undefined;
  readonly onEvent: OidcEventListener | undefined;
  readonly introspectionCache: IntrospectionCacheOption | false;
  readonly rateLimitStore: RateLimitStore | undefined;
  readonly introspectionThrottle: { ratePerSec?: number; burst?: number; perCaller?: { ratePerSec?: number; burst?: number } | false } | false;
  readonly introspectionTriage: boolean;
  readonly replayStore: TtlStore | undefined;
  readonly replayQuotaPerTenant: number;
  readonly allowLoopbackIssuers: boolean;
  readonly allowedIssuerHosts: readonly string[] | undefined;
  readonly onWarning: ((warning: OidcWarning) => void) | undefined;
  readonly requireIssParameter: boolean | 'discovery';
  readonly verifySignature: SignatureVerifier | undefined;
}

const fn = <T>(message: string) => z.custom<T>((value) => typeof value === 'function', message);
const ttlStore = z.custom<TtlStore>(isTtlStore, 'must be a TtlStore (get, set, delete, setIfAbsent, take)');

const schema = z.strictObject({
  store: z.custom<CredentialStore>(isCredentialStore, 'must be a CredentialStore (get, findByIssuer)'),
  http: fn<HttpClient>('must be a fetch-shaped function').optional(),
  httpTimeoutMs: zodNumber(BOUNDS.httpTimeoutMs).default(5000),
  clockToleranceSec: zodNumber(BOUNDS.clockToleranceSec).default(30),
  now: fn<() => number>('must be a function returning epoch milliseconds').optional(),
  maxRateLimitWaitMs: zodNumber(BOUNDS.maxRateLimitWaitMs).default(0),
  maxConcurrentPerOrg: zodNumber(BOUNDS.maxConcurrentPerOrg).default(10),
  onRateLimit: fn<(event: RateLimitEvent) => void>('must be a function').optional(),
  onJwks: fn<(event: JwksEvent) => void>('must be a function').optional(),
  onEvent: fn<OidcEventListener>('must be a function').optional(),
  introspectionCache: z
    .union([
      z.literal(false),
      z.strictObject({
        maxTtlSec: zodNumber(BOUNDS.introspectionMaxTtlSec).optional(),
        negativeTtlSec: zodNumber(BOUNDS.introspectionNegativeTtlSec).optional(),
        store: ttlStore.optional(),
        keySecret: z
          .string()
          .min(LENGTH_BOUNDS.introspectionKeySecret.min, `must be at least ${LENGTH_BOUNDS.introspectionKeySecret.min} characters`)
          .max(LENGTH_BOUNDS.introspectionKeySecret.max)
          .optional(),
        fleetSingleFlight: z.boolean().optional(),
      }),
    ])
    .default({}),
  rateLimitStore: z.custom<RateLimitStore>(isRateLimitStore, 'must be a RateLimitStore (blockedUntil, block, take, give)').optional(),
  introspectionThrottle: z
    .union([
      z.literal(false),
      z.strictObject({
        ratePerSec: zodNumber(BOUNDS.introspectionRatePerSec).optional(),
        burst: zodNumber(BOUNDS.introspectionBurst).optional(),
        perCaller: z
          .union([
            z.literal(false),
            z.strictObject({
              ratePerSec: zodNumber(BOUNDS.introspectionRatePerSec).optional(),
              burst: zodNumber(BOUNDS.introspectionBurst).optional(),
            }),
          ])
          .optional(),
      }),
    ])
    .default({}),
  introspectionTriage: z.boolean().default(true),
  replayStore: ttlStore.optional(),
  replayQuotaPerTenant: zodNumber(BOUNDS.replayQuotaPerTenant).optional(),
  allowLoopbackIssuers: z.boolean().default(false),
  // Entries are checked one by one by compileIssuerPolicy (ERR_OIDC_INVALID_OPTIONS naming the index).
  allowedIssuerHosts: z.array(z.string()).max(1000).optional(),
  onWarning: fn<(warning: OidcWarning) => void>('must be a function').optional(),
  requireIssParameter: z.union([z.boolean(), z.literal('discovery')]).default('discovery'),
  verifySignature: fn<SignatureVerifier>('must be a function (alg, key, signature, signingInput) => boolean').optional(),
});

/** A printable, bounded rendering of an option path for messages (keys are programmer input). */
function fieldName(path: readonly PropertyKey[]): string {
  const name = path.map(String).join('.');
  return /^[\x20-\x7E]{1,64}$/.test(name) ? name : '(option)';
}

/**
 * Validate `options` once; throws `ERR_OIDC_INVALID_OPTIONS` naming the first bad field (unknown keys
 * included, so typos fail at start-up). Returns a frozen copy with defaults applied.
 */
export function resolveOptions(options: unknown): ResolvedOidcClientOptions {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    let field = fieldName(issue.path);
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0] ?? '';
      field = fieldName([...issue.path, key]);
      message = 'is not a known option';
    } else if (issue.path.length === 0) {
      field = 'options';
      message = 'must be an object';
    }
    throw new OidcError('ERR_OIDC_INVALID_OPTIONS', `${field}: ${message}`, {
      details: { field, issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), code: i.code })) },
    });
  }
  const value = parsed.data;
  if (value.replayQuotaPerTenant !== undefined && value.replayStore !== undefined) {
    // The quota belongs to the default store; a custom store sets its own bounds.
    throw new OidcError('ERR_OIDC_INVALID_OPTIONS', 'replayQuotaPerTenant: applies only to the default replay store; remove it or replayStore', {
      details: { field: 'replayQuotaPerTenant' },
    });
  }
  return Object.freeze({
    store: value.store,
    http: value.http,
    httpTimeoutMs: value.httpTimeoutMs,
    clockToleranceSec: value.clockToleranceSec,
    now: value.now ?? Date.now,
    maxRateLimitWaitMs: value.maxRateLimitWaitMs,
    maxConcurrentPerOrg: value.maxConcurrentPerOrg,
    onRateLimit: value.onRateLimit,
    onJwks: value.onJwks,
    onEvent: value.onEvent,
    introspectionCache: value.introspectionCache === false ? false : Object.freeze({ ...value.introspectionCache }),
    rateLimitStore: value.rateLimitStore,
    introspectionThrottle:
      value.introspectionThrottle === false
        ? false
        : Object.freeze({
            ...value.introspectionThrottle,
            ...(value.introspectionThrottle.perCaller ? { perCaller: Object.freeze({ ...value.introspectionThrottle.perCaller }) } : {}),
          }),
    introspectionTriage: value.introspectionTriage,
    replayStore: value.replayStore,
    replayQuotaPerTenant: value.replayQuotaPerTenant ?? 1000,
    allowLoopbackIssuers: value.allowLoopbackIssuers,
    allowedIssuerHosts: value.allowedIssuerHosts === undefined ? undefined : Object.freeze([...value.allowedIssuerHosts]),
    onWarning: value.onWarning,
    requireIssParameter: value.requireIssParameter,
    verifySignature: value.verifySignature,
  });
}
