/**
 * Short-lived shared state behind one small interface: the simplified-flow replay cache and the
 * introspection cache. Memory by default; a Redis or Postgres implementation can replace it when
 * several app instances must share it (a replay cache that is per-process lets a captured token be
 * replayed once against each instance).
 *
 * The store conformance suite of `@oin-oidc/testing` is the place for tests of other implementations;
 * the behaviour they must match is documented on each method below.
 */
import { hasMethods } from './internal/jwt-shape';
import { codedTypeError } from './internal/misuse';

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
  return hasMethods(value, ['get', 'set', 'delete', 'setIfAbsent', 'take']);
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

function assertTtl(ttlSec: number): void {
  if (!Number.isFinite(ttlSec) || ttlSec <= 0) throw codedTypeError('ttlSec must be a positive, finite number of seconds', 'ERR_INVALID_ARG_VALUE');
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
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw codedTypeError('maxEntries must be a positive integer', 'ERR_INVALID_ARG_VALUE');
    this.#maxEntries = maxEntries;
    this.#now = options.now ?? Date.now;
    if (options.whenFull !== undefined && options.whenFull !== 'evict' && options.whenFull !== 'refuse') {
      throw codedTypeError("whenFull must be 'evict' or 'refuse'", 'ERR_INVALID_ARG_VALUE');
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

/** Options of {@link PartitionedMemoryTtlStore}. */
export interface PartitionedMemoryTtlStoreOptions {
  /** Live entries one partition may hold; a write past it fails (that partition only). Default 1,000. */
  maxEntriesPerPartition?: number;
  /** Live entries across all partitions; a write past it fails. Default 100,000. */
  maxEntries?: number;
  /** Clock in milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
  /**
   * The error a refused write throws (the simplified flow passes an `OidcError` with
   * `retryAfter`). `scope` says which bound was reached; `retryAfterSec` is when the oldest live
   * entry of that partition (or of the whole store) expires. Default: a plain `Error`.
   */
  full?: (scope: 'partition' | 'store', retryAfterSec: number) => Error;
}

interface Partition {
  /** Insertion order: expiry sweeps walk it; values as in MemoryTtlStore. */
  entries: Map<string, Entry>;
}

/**
 * An in-process store split into partitions (one per tenant in the client's replay cache), each
 * with its own quota, so one partition filling up fails only its own writes: 10,000 ID tokens of
 * one tenant no longer stop every tenant's simplified sign-ins (audit finding SA-07,
 * docs/security.md). Writes that would go past a bound fail closed, like `MemoryTtlStore` with
 * `whenFull: 'refuse'`: a live entry is never forgotten to make room (catalogue DS-05), only
 * expired ones are swept.
 *
 * Partitions are created on first write and dropped when they hold nothing, so their number is
 * bounded by `maxEntries`; memory is bounded by `maxEntries` entries whatever the traffic.
 */
export class PartitionedMemoryTtlStore {
  readonly #partitions = new Map<string, Partition>();
  readonly #perPartition: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #full: (scope: 'partition' | 'store', retryAfterSec: number) => Error;
  /** Entries held across partitions, expired ones not yet swept included. */
  #total = 0;
  /** When the last store-wide sweep ran (ms): a store full of live entries is swept at most once a second. */
  #sweptAt = Number.NEGATIVE_INFINITY;

  constructor(options: PartitionedMemoryTtlStoreOptions = {}) {
    const perPartition = options.maxEntriesPerPartition ?? 1000;
    const maxEntries = options.maxEntries ?? 100_000;
    if (!Number.isSafeInteger(perPartition) || perPartition < 1) throw codedTypeError('maxEntriesPerPartition must be a positive integer', 'ERR_INVALID_ARG_VALUE');
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw codedTypeError('maxEntries must be a positive integer', 'ERR_INVALID_ARG_VALUE');
    this.#perPartition = perPartition;
    this.#maxEntries = maxEntries;
    this.#now = options.now ?? Date.now;
    this.#full = options.full ?? ((scope) => new Error(`PartitionedMemoryTtlStore: the ${scope} is full of live entries`));
  }

  /** Entries held across partitions, including expired ones not yet swept. */
  get size(): number {
    return this.#total;
  }

  /** Partitions holding at least one entry. */
  get partitions(): number {
    return this.#partitions.size;
  }

  /** The {@link TtlStore} view of one partition (cheap; the partition itself is created on first write). */
  partition(name: string): TtlStore {
    return {
      get: async (key) => {
        const entry = this.#live(name, key);
        return entry?.value;
      },
      set: async (key, value, ttlSec) => {
        assertTtl(ttlSec);
        this.#write(name, key, value, ttlSec);
      },
      delete: async (key) => {
        this.#remove(name, key);
      },
      setIfAbsent: async (key, value, ttlSec) => {
        assertTtl(ttlSec);
        // No await between the check and the write: atomic within one event loop.
        if (this.#live(name, key)) return false;
        this.#write(name, key, value, ttlSec);
        return true;
      },
      take: async (key) => {
        const entry = this.#live(name, key);
        if (entry) this.#remove(name, key);
        return entry?.value;
      },
    };
  }

  #live(name: string, key: string): Entry | undefined {
    const entry = this.#partitions.get(name)?.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#remove(name, key);
      return undefined;
    }
    return entry;
  }

  #remove(name: string, key: string): void {
    const partition = this.#partitions.get(name);
    if (partition?.entries.delete(key)) {
      this.#total -= 1;
      if (partition.entries.size === 0) this.#partitions.delete(name);
    }
  }

  /** Drop the partition's expired entries; returns the earliest expiry among those left (ms), or Infinity. */
  #sweep(name: string, partition: Partition, now: number): number {
    let earliest = Number.POSITIVE_INFINITY;
    for (const [key, entry] of partition.entries) {
      if (entry.expiresAt <= now) {
        partition.entries.delete(key);
        this.#total -= 1;
      } else if (entry.expiresAt < earliest) {
        earliest = entry.expiresAt;
      }
    }
    if (partition.entries.size === 0) this.#partitions.delete(name);
    return earliest;
  }

  #write(name: string, key: string, value: string, ttlSec: number): void {
    const now = this.#now();
    let partition = this.#partitions.get(name);
    if (partition?.entries.delete(key)) this.#total -= 1;
    if (partition !== undefined && partition.entries.size >= this.#perPartition) {
      // This partition's quota: only its expired entries may make room (bounded by the quota).
      const earliest = this.#sweep(name, partition, now);
      if (partition.entries.size >= this.#perPartition) throw this.#full('partition', Math.max(1, Math.ceil((earliest - now) / 1000)));
    }
    if (this.#total >= this.#maxEntries) {
      // The store-wide bound: sweep every partition, at most once a second (a store full of live
      // entries must not turn each refused write into a walk over all of them).
      let earliest = Number.POSITIVE_INFINITY;
      if (now - this.#sweptAt >= 1000) {
        this.#sweptAt = now;
        for (const [other, held] of this.#partitions) earliest = Math.min(earliest, this.#sweep(other, held, now));
      }
      if (this.#total >= this.#maxEntries) {
        throw this.#full('store', Number.isFinite(earliest) ? Math.max(1, Math.ceil((earliest - now) / 1000)) : 1);
      }
    }
    partition = this.#partitions.get(name);
    if (partition === undefined) {
      partition = { entries: new Map() };
      this.#partitions.set(name, partition);
    }
    partition.entries.set(key, { value, expiresAt: now + ttlSec * 1000 });
    this.#total += 1;
  }
}
