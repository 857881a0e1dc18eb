/**
 * Rate-limit state that a fleet shares (docs/deployment.md, 'What state lives where'): Okta's
 * back-off per org and endpoint, and the token buckets of the local introspection throttle.
 *
 * Okta's limits are per org, not per process: when one process of a fleet sees a 429 or
 * `X-Rate-Limit-Remaining: 0`, every process must wait until `X-Rate-Limit-Reset` ("Rate limit best
 * practices", developer.okta.com/docs/reference/rl-best-practices/), or N processes spend N times
 * the budget and keep the org throttled. In one process the memory store below is enough; a fleet
 * passes a shared one (`@oin-oidc/redis`).
 *
 * Callers never fail open on a store error: the transport and the introspector fall back to this
 * process's own memory state (the per-process limits), and report nothing as allowed that the local
 * state refuses.
 */
import type { EndpointKind } from './types';
import { hasMethods } from '../internal/jwt-shape';

export interface RateLimitStore {
  /** Epoch ms until which `endpoint` calls to the org `issuer` must not be made; undefined when none is in force. */
  blockedUntil(issuer: string, endpoint: EndpointKind): Promise<number | undefined>;
  /** Calls of `endpoint` to `issuer` wait until `untilMs` (epoch ms). An existing later block is kept. */
  block(issuer: string, endpoint: EndpointKind, untilMs: number): Promise<void>;
  /**
   * Take one token from bucket `key` (`ratePerSec` sustained, `burst` at most; a new bucket starts
   * full). Resolves undefined when a token was taken, else the whole seconds (≥ 1) until one is
   * available. Atomic: 100 concurrent takes from a bucket of 10 take exactly 10.
   */
  take(key: string, ratePerSec: number, burst: number): Promise<number | undefined>;
  /** Give back the token a call took (its token proved usable); never above `burst`. */
  give(key: string, burst: number): Promise<void>;
}

/** True when `value` has every method of a {@link RateLimitStore}. */
export function isRateLimitStore(value: unknown): value is RateLimitStore {
  return hasMethods(value, ['blockedUntil', 'block', 'take', 'give']);
}

/** Buckets and blocks one memory store keeps; past it, full buckets and ended blocks go first, then the oldest. */
const MAX_ENTRIES = 10_000;

interface Bucket {
  tokens: number;
  /** ms, when `tokens` was last brought up to date */
  at: number;
  burst: number;
}

/**
 * The per-process {@link RateLimitStore}, the default. Synchronous inside (the promises resolve at
 * once), bounded in size, and driven by an injectable clock.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #blocks = new Map<string, number>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async blockedUntil(issuer: string, endpoint: EndpointKind): Promise<number | undefined> {
    return this.blockedUntilSync(issuer, endpoint);
  }

  /** {@link blockedUntil} without a promise, for the transport's own fallback state. */
  blockedUntilSync(issuer: string, endpoint: EndpointKind): number | undefined {
    const key = `${endpoint}\n${issuer}`;
    const until = this.#blocks.get(key);
    if (until === undefined) return undefined;
    if (until > this.#now()) return until;
    this.#blocks.delete(key);
    return undefined;
  }

  async block(issuer: string, endpoint: EndpointKind, untilMs: number): Promise<void> {
    this.blockSync(issuer, endpoint, untilMs);
  }

  blockSync(issuer: string, endpoint: EndpointKind, untilMs: number): void {
    if (!Number.isFinite(untilMs) || untilMs <= this.#now()) return;
    const key = `${endpoint}\n${issuer}`;
    const previous = this.#blocks.get(key);
    if (previous !== undefined && previous >= untilMs) return;
    this.#blocks.delete(key);
    if (this.#blocks.size >= MAX_ENTRIES) this.#pruneBlocks();
    this.#blocks.set(key, untilMs);
  }

  async take(key: string, ratePerSec: number, burst: number): Promise<number | undefined> {
    return this.takeSync(key, ratePerSec, burst);
  }

  takeSync(key: string, ratePerSec: number, burst: number): number | undefined {
    const t = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= MAX_ENTRIES) this.#pruneBuckets(t, ratePerSec);
      bucket = { tokens: burst, at: t, burst };
      this.#buckets.set(key, bucket);
    } else refill(bucket, t, ratePerSec, burst);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerSec));
  }

  async give(key: string, burst: number): Promise<void> {
    this.giveSync(key, burst);
  }

  giveSync(key: string, burst: number): void {
    const bucket = this.#buckets.get(key);
    if (bucket) bucket.tokens = Math.min(burst, bucket.tokens + 1);
  }

  #pruneBlocks(): void {
    const t = this.#now();
    for (const [key, until] of this.#blocks) if (until <= t) this.#blocks.delete(key);
    for (const key of this.#blocks.keys()) {
      if (this.#blocks.size < MAX_ENTRIES) break;
      this.#blocks.delete(key);
    }
  }

  /** A full bucket is the same as no bucket: drop those first, then the oldest (a dropped bucket is a full one). */
  #pruneBuckets(t: number, ratePerSec: number): void {
    for (const [key, bucket] of this.#buckets) {
      refill(bucket, t, ratePerSec, bucket.burst);
      if (bucket.tokens >= bucket.burst) this.#buckets.delete(key);
    }
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size < MAX_ENTRIES) break;
      this.#buckets.delete(key);
    }
  }
}

function refill(bucket: Bucket, t: number, ratePerSec: number, burst: number): void {
  // A clock that goes backwards refills nothing (and never drains the bucket).
  bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, t - bucket.at) / 1000) * ratePerSec);
  bucket.at = Math.max(bucket.at, t);
  bucket.burst = burst;
}
