/**
 * The numeric bounds of every option core validates, in one table: the zod schemas of the client's
 * and the flow layer's options build their numbers from it ({@link zodNumber}), and the factories
 * that can be called without those schemas (`createTransport`, `createJwksRegistry`,
 * `createIntrospector`) check the same entries at run time ({@link checkBound}). One option has
 * one bound wherever it is checked.
 *
 * Configuration, not argument misuse: a value out of bounds is `OidcError('ERR_OIDC_INVALID_OPTIONS')`
 * naming the field, thrown once at start-up. Internal: never exported from the package.
 */
import { z } from 'zod';
import { OidcError } from '../errors';

/** A number option's accepted range. */
export interface Bound {
  /** Smallest accepted value (inclusive); ignored when {@link Bound.above} is set. */
  readonly min: number;
  /** When set, values must be strictly greater than this (a rate of 0 is no rate). */
  readonly above?: number;
  /** Largest accepted value (inclusive). */
  readonly max: number;
  /** Whole numbers only. */
  readonly integer: boolean;
}

const int = (min: number, max: number): Bound => Object.freeze({ min, max, integer: true });
const positive = (max: number): Bound => Object.freeze({ min: 0, above: 0, max, integer: false });

const DAY_SEC = 86_400;
const YEAR_SEC = 365 * DAY_SEC;

/** Every bound, by option. Client options (`createOidcClient`), flow options (`createOidcAuth`), then the factories'. */
export const BOUNDS = Object.freeze({
  // createOidcClient
  httpTimeoutMs: int(1, 120_000),
  clockToleranceSec: int(0, 300),
  maxRateLimitWaitMs: int(0, 600_000),
  maxConcurrentPerOrg: int(1, 1000),
  /** introspectionCache.maxTtlSec: how long a token revoked at Okta may stay usable here (RFC 7662 §4). */
  introspectionMaxTtlSec: int(1, 3600),
  introspectionNegativeTtlSec: int(1, 3600),
  introspectionRatePerSec: positive(1_000_000),
  introspectionBurst: int(1, 1_000_000),
  replayQuotaPerTenant: int(1, 100_000),
  // createOidcAuth
  sessionLifetimeSec: int(60, 400 * DAY_SEC),
  // createTransport
  transportTimeoutMs: int(1, 600_000),
  transportMaxResponseBytes: int(1024, 64 * 1024 * 1024),
  transportMaxRateLimitWaitMs: int(0, 600_000),
  transportMaxConcurrentPerOrg: int(1, 10_000),
  transportMaxQueuedPerOrg: int(0, 1_000_000),
  transportMaxQueueWaitMs: int(1, 600_000),
  transportRetries: int(0, 10),
  transportRetryBaseDelayMs: int(0, 60_000),
  transportRetryMaxDelayMs: int(0, 600_000),
  // createJwksRegistry
  jwksMaxIssuers: int(1, 10_000_000),
  jwksMaxAgeSec: int(0, YEAR_SEC),
  jwksRefetchBudget: int(0, 1000),
  jwksRefetchWindowSec: int(1, DAY_SEC),
  jwksFailureBackoffSec: int(0, DAY_SEC),
} satisfies Record<string, Bound>);

/** String-length bounds, same rule. */
export const LENGTH_BOUNDS = Object.freeze({
  /** introspectionCache.keySecret: an HMAC key; 32 characters is about 190 bits of a random base64 secret. */
  introspectionKeySecret: Object.freeze({ min: 32, max: 1024 }),
});

/** Whether `value` is a number inside `bound`. */
export function withinBound(value: unknown, bound: Bound): value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (bound.integer && !Number.isSafeInteger(value)) return false;
  if (bound.above !== undefined ? value <= bound.above : value < bound.min) return false;
  return value <= bound.max;
}

/** What `bound` accepts, for messages: "an integer from 1 to 3600", "a number above 0 up to 1000000". */
export function describeBound(bound: Bound): string {
  const kind = bound.integer ? 'an integer' : 'a number';
  return bound.above !== undefined ? `${kind} above ${bound.above} up to ${bound.max}` : `${kind} from ${bound.min} to ${bound.max}`;
}

/**
 * The run-time check of an optional option: `undefined` passes (the default applies); anything
 * else outside `bound` throws `ERR_OIDC_INVALID_OPTIONS` with `details.field`.
 */
export function checkBound(field: string, value: unknown, bound: Bound): void {
  if (value !== undefined && !withinBound(value, bound)) {
    throw new OidcError('ERR_OIDC_INVALID_OPTIONS', `${field} must be ${describeBound(bound)}`, { details: { field } });
  }
}

/** The zod number schema of `bound` (the options schemas use it, so they cannot drift from the run-time checks). */
export function zodNumber(bound: Bound): z.ZodNumber {
  let schema = z.number();
  if (bound.integer) schema = schema.int();
  schema = bound.above !== undefined ? schema.gt(bound.above) : schema.min(bound.min);
  return schema.max(bound.max);
}
