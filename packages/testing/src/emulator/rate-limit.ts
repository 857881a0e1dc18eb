import type { EmulatorEndpoint } from './types';

/** Okta sends X-Rate-Limit-* on these; /keys and discovery are exempt from org rate limits. */
const LIMITED: ReadonlySet<EmulatorEndpoint> = new Set(['authorize', 'token', 'introspect', 'userinfo', 'revoke']);

export interface RateLimitDecision {
  headers: Record<string, string>;
  /** True when enforcement is on and the window's budget is spent: answer 429. */
  exceeded: boolean;
}

/**
 * A fixed window per endpoint (Okta's real buckets are per endpoint and per org, with their own
 * sizes; this is a stand-in that produces the same headers).
 */
export class RateLimiter {
  #windows = new Map<EmulatorEndpoint, { start: number; count: number }>();

  constructor(readonly config: { limit: number; windowSec: number; enforce: boolean }) {}

  hit(endpoint: EmulatorEndpoint, nowMs = Date.now()): RateLimitDecision | undefined {
    if (!LIMITED.has(endpoint)) return undefined;
    const { limit, windowSec, enforce } = this.config;
    let window = this.#windows.get(endpoint);
    if (!window || nowMs >= window.start + windowSec * 1000) {
      window = { start: nowMs, count: 0 };
      this.#windows.set(endpoint, window);
    }
    window.count += 1;
    const reset = Math.ceil((window.start + windowSec * 1000) / 1000);
    const remaining = Math.max(0, limit - window.count);
    return {
      headers: {
        'x-rate-limit-limit': String(limit),
        'x-rate-limit-remaining': String(remaining),
        'x-rate-limit-reset': String(reset),
      },
      exceeded: enforce && window.count > limit,
    };
  }

  reset(): void {
    this.#windows.clear();
  }
}
