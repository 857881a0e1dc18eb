/**
 * Per-org concurrency limit for `/token` and `/introspect`.
 *
 * Okta enforces a concurrent-request limit per org in addition to per-minute limits; a login burst
 * (or an API that introspects every request) can trip it. A small FIFO semaphore per issuer keeps the
 * number of in-flight calls bounded, and a bounded wait queue turns an overload into a fast, typed
 * ERR_OIDC_RATE_LIMITED instead of unbounded memory growth. Okta exempts `/keys` and `/.well-known`,
 * and so does the transport.
 */
import { OidcError } from '../errors';

interface Gate {
  active: number;
  queue: Array<() => void>;
}

/** A keyed FIFO semaphore; idle keys are dropped, so thousands of orgs cost nothing at rest. */
export class ConcurrencyLimiter {
  readonly #gates = new Map<string, Gate>();
  readonly #maxConcurrent: number;
  readonly #maxQueue: number;

  constructor(maxConcurrent: number, maxQueue: number) {
    this.#maxConcurrent = maxConcurrent;
    this.#maxQueue = maxQueue;
  }

  /**
   * Wait for a slot for `key`; resolves with a release function to call exactly once.
   * Throws ERR_OIDC_RATE_LIMITED (retryAfter 1) when the wait queue is full, or when no slot frees
   * up within `maxWaitMs` (so queueing never adds more than one request deadline of latency).
   */
  acquire(key: string, maxWaitMs: number): Promise<() => void> {
    let gate = this.#gates.get(key);
    if (gate === undefined) {
      gate = { active: 0, queue: [] };
      this.#gates.set(key, gate);
    }
    const current = gate;
    if (current.active < this.#maxConcurrent) {
      current.active += 1;
      return Promise.resolve(this.#releaser(key, current));
    }
    if (current.queue.length >= this.#maxQueue) {
      return Promise.reject(
        new OidcError('ERR_OIDC_RATE_LIMITED', 'Too many concurrent requests to this Okta org; the local queue is full', {
          retryAfter: 1,
          details: { reason: 'concurrency-queue-full' },
        }),
      );
    }
    return new Promise((resolve, reject) => {
      // The slot is handed over by the releaser, so `active` stays constant across the hand-off (FIFO).
      const waiter = () => {
        clearTimeout(timer);
        resolve(this.#releaser(key, current));
      };
      const timer = setTimeout(() => {
        const index = current.queue.indexOf(waiter);
        if (index !== -1) current.queue.splice(index, 1);
        reject(
          new OidcError('ERR_OIDC_RATE_LIMITED', 'Too many concurrent requests to this Okta org; no slot freed up in time', {
            retryAfter: 1,
            details: { reason: 'concurrency-wait-timeout' },
          }),
        );
      }, maxWaitMs);
      current.queue.push(waiter);
    });
  }

  /** In-flight and queued counts for a key (for tests and diagnostics). */
  stats(key: string): { active: number; queued: number } {
    const gate = this.#gates.get(key);
    return { active: gate?.active ?? 0, queued: gate?.queue.length ?? 0 };
  }

  #releaser(key: string, gate: Gate): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = gate.queue.shift();
      if (next !== undefined) {
        next();
        return;
      }
      gate.active -= 1;
      if (gate.active === 0 && this.#gates.get(key) === gate) this.#gates.delete(key);
    };
  }
}
