/**
 * Okta rate-limit headers.
 *
 * Okta sends `X-Rate-Limit-Limit`, `X-Rate-Limit-Remaining` and `X-Rate-Limit-Reset` (UTC epoch
 * seconds) on rate-limited endpoints ("Rate limit best practices"). The values come from the network,
 * so parsing is defensive: anything that is not one plain non-negative integer in a plausible range
 * (garbage, negative, huge, a duplicated header folded into "a, b") is ignored, never thrown on.
 */
import { clamp, epochSeconds } from '../internal/time';
import type { RateLimitInfo } from './types';

/** Counts above this are not plausible for Okta and are ignored. */
const MAX_COUNT = 1_000_000_000;
/** Reset times after 2286-11-20 (1e10 s) are not plausible and are ignored. */
const MAX_EPOCH = 10_000_000_000;

/** Bounds for the `retryAfter` (seconds) derived from `X-Rate-Limit-Reset`. */
export const RETRY_AFTER_MIN_SEC = 1;
export const RETRY_AFTER_MAX_SEC = 600;

function parseCount(raw: string | null, max: number): number | undefined {
  if (raw === null) return undefined;
  const value = raw.trim();
  // Digits only: rejects "-1", "1e3", "0x10", "1.5", "10, 10" (duplicated header), "".
  if (!/^\d{1,11}$/.test(value)) return undefined;
  const parsed = Number(value);
  return Number.isSafeInteger(parsed) && parsed <= max ? parsed : undefined;
}

/** Parse the three `X-Rate-Limit-*` headers; fields that do not parse cleanly are left out. */
export function parseRateLimitHeaders(headers: Headers): RateLimitInfo {
  const info: RateLimitInfo = {};
  const limit = parseCount(headers.get('x-rate-limit-limit'), MAX_COUNT);
  const remaining = parseCount(headers.get('x-rate-limit-remaining'), MAX_COUNT);
  const reset = parseCount(headers.get('x-rate-limit-reset'), MAX_EPOCH);
  if (limit !== undefined) info.limit = limit;
  if (remaining !== undefined) info.remaining = remaining;
  if (reset !== undefined && reset > 0) info.reset = reset;
  return info;
}

/** True when the response carried at least one usable rate-limit header. */
export function hasRateLimitInfo(info: RateLimitInfo): boolean {
  return info.limit !== undefined || info.remaining !== undefined || info.reset !== undefined;
}

/**
 * Seconds until the window resets, for `Retry-After`: `ceil(reset - now)` clamped to
 * [{@link RETRY_AFTER_MIN_SEC}, {@link RETRY_AFTER_MAX_SEC}]; the minimum when the reset is unknown
 * or already past (Okta's clock and ours may disagree).
 */
export function retryAfterSeconds(info: RateLimitInfo, nowMs: number): number {
  if (info.reset === undefined) return RETRY_AFTER_MIN_SEC;
  return clamp(Math.ceil(info.reset - epochSeconds(nowMs)), RETRY_AFTER_MIN_SEC, RETRY_AFTER_MAX_SEC);
}

/**
 * Okta's concurrent-limit 429 carries `Limit: 0` and `Remaining: 0`, and its reset is "only a
 * suggested value" (Okta, "OIDC and the OIN — best practices"): such a 429 is retried after a short
 * backoff rather than after the advertised reset.
 */
export function isConcurrentLimit(info: RateLimitInfo): boolean {
  return info.limit === 0 && info.remaining === 0;
}
