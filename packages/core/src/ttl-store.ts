/**
 * Short-lived shared state behind one small interface: the simplified-flow replay cache and the
 * introspection cache. Memory by default; a Redis or Postgres implementation can replace it when
 * several app instances must share it (a replay cache that is per-process lets a captured token be
 * replayed once against each instance).
 *
 * The store conformance suite of `@oin-oidc/testing` is the place for tests of other implementations;
 * the behaviour they must match is documented on each method below.
 */

/** A key/value store whose entries expire. Keys and values are strings; TTLs are whole seconds. */
export interface TtlStore {
  /** The live value for `key`, or `undefined` when absent or expired. */
  get(key: string): Promise<string | undefined>;
  /** Store `value` for `ttlSec` seconds (> 0), replacing any previous value. */
  set(key: string, value: string, ttlSec: number): Promise<void>;
  /** Remove `key` (no-op when absent). */
  delete(key: string): Promise<void>;
  /**
   * Atomically store `value` only when no live entry exists; true when stored. This is the replay
   * check: two concurrent callers with the same key must not both get `true` (Redis `SET NX EX`,
   * Postgres `INSERT … ON CONFLICT DO NOTHING` with an expiry check).
   */
  setIfAbsent(key: string, value: string, ttlSec: number): Promise<boolean>;
  /** Atomically read and remove `key` (single use): at most one caller gets the value. */
  take(key: string): Promise<string | undefined>;
}

/** True when `value` has every method of a {@link TtlStore}. */
export function isTtlStore(value: unknown): value is TtlStore {
  if (typeof value !== 'object' || value === null) return false;
  const store = value as Record<string, unknown>;
  return ['get', 'set', 'delete', 'setIfAbsent', 'take'].every((name) => typeof store[name] === 'function');
}

export interface MemoryTtlStoreOptions {
  /** Upper bound on entries; when full, expired entries go first, then the least recently used. Default 10,000. */
  maxEntries?: number;
  /** Clock in milliseconds since the epoch (tests inject one). Default `Date.now`. */
  now?: () => number;
  /**
   * What a write into a full store does once expired entries are gone: `'evict'` (default) drops the
   * least recently used live entry; `'refuse'` throws instead, so a replay cache fails closed rather
   * than forget a live entry (catalogue DS-05). The client's default replay store uses `'refuse'`.
   */
  whenFull?: 'evict' | 'refuse';
}

interface Entry {
  value: string;
  expiresAt: number; // ms
}

/** How many of the oldest entries an insertion into a full store inspects for expired ones. */
const SWEEP_BUDGET = 64;

function codedTypeError(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_VALUE' as const });
}

function assertTtl(ttlSec: number): void {
  if (!Number.isFinite(ttlSec) || ttlSec <= 0) throw codedTypeError('ttlSec must be a positive, finite number of seconds');
}

/**
 * An in-process {@link TtlStore}: a `Map` in recency order, so the oldest entry is the first key.
 * Expiry is lazy (checked on read), and a full store evicts expired entries first, then the least
 * recently used one, so memory stays bounded whatever the traffic.
 *
 * Eviction of a live entry weakens what it protects: an evicted replay-cache key can be used once
 * more. Size `maxEntries` above the number of sign-ins expected within one ID-token lifetime, or use
 * a shared store; with `whenFull: 'refuse'` (the client's default replay store) a full store throws
 * instead, and the simplified sign-in fails closed with ERR_OIDC_STORE_FAILURE (catalogue DS-05). Simplified-flow entries are only written after full signature validation, so an
 * attacker cannot flush the cache with forged tokens.
 */
export class MemoryTtlStore implements TtlStore {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #refuseWhenFull: boolean;

  constructor(options: MemoryTtlStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 10_000;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw codedTypeError('maxEntries must be a positive integer');
    this.#maxEntries = maxEntries;
    this.#now = options.now ?? Date.now;
    if (options.whenFull !== undefined && options.whenFull !== 'evict' && options.whenFull !== 'refuse') {
      throw codedTypeError("whenFull must be 'evict' or 'refuse'");
    }
    this.#refuseWhenFull = options.whenFull === 'refuse';
  }

  /** Entries held, including expired ones not yet swept. */
  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<string | undefined> {
    const entry = this.#live(key);
    if (!entry) return undefined;
    // Re-insert to mark as recently used.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  async set(key: string, value: string, ttlSec: number): Promise<void> {
    assertTtl(ttlSec);
    this.#write(key, value, ttlSec);
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async setIfAbsent(key: string, value: string, ttlSec: number): Promise<boolean> {
    assertTtl(ttlSec);
    // No await between the check and the write: atomic within one event loop.
    if (this.#live(key)) return false;
    this.#write(key, value, ttlSec);
    return true;
  }

  async take(key: string): Promise<string | undefined> {
    const entry = this.#live(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    return entry.value;
  }

  /** The entry when present and unexpired; an expired one is dropped on the way. */
  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #write(key: string, value: string, ttlSec: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries && this.#refuseWhenFull) {
      // Fail closed: only expired entries may make room (a full sweep, bounded by maxEntries).
      const now = this.#now();
      for (const [k, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(k);
      if (this.#entries.size >= this.#maxEntries) throw new Error('MemoryTtlStore is full of live entries (whenFull: refuse)');
    }
    if (this.#entries.size >= this.#maxEntries) this.#evict();
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlSec * 1000 });
  }

  /** Drop expired entries among the oldest few; when none, drop the least recently used one. */
  #evict(): void {
    const now = this.#now();
    let inspected = 0;
    let removed = 0;
    for (const [key, entry] of this.#entries) {
      if (inspected++ >= SWEEP_BUDGET) break;
      if (entry.expiresAt <= now) {
        this.#entries.delete(key);
        removed++;
      }
    }
    if (removed === 0) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }
}
