/**
 * The in-process cache behind the two warm paths: opened session cookies (SessionManager) and
 * active introspection answers (the introspector's hot cache). Both key by a raw request value (a
 * sealed cookie, a bearer token) that an attacker can vary at will, so both need the same rules,
 * written once here:
 *
 * - **Exact match.** Entries are indexed by the key's last `indexChars` characters (hashing 22–32
 *   characters instead of a ~1.5 KB value is most of the saving), but a hit requires the whole
 *   stored key to equal the presented one (`===`): a value sharing only the tail is a miss, so no
 *   forged, truncated or altered value can ever be answered from an entry.
 * - **Never past `until`.** Each entry carries the instant (ms) after which it must not answer;
 *   {@link BoundedCache.get} drops an entry at or past it instead of returning it, and
 *   {@link BoundedCache.set} does not store one that is already over.
 * - **One entry per index.** A new key whose tail collides with a stored one replaces it (the old
 *   key is forgotten, never answered for the new one).
 * - **Bounded memory.** At most `maxEntries` entries and `maxChars` characters of keys; past either
 *   bound the oldest insertions go first. {@link BoundedCache.touch} keeps a used entry from
 *   eviction (an approximate LRU that costs no Map write on most hits).
 *
 * Internal: never exported from the package.
 */

/** One cached value. `value` is the caller's; the cache never reads it. */
export interface BoundedCacheEntry<V> {
  /** The whole key: a hit requires equality with it. */
  readonly key: string;
  readonly value: V;
  /** ms: the entry answers only while `now < until`. */
  readonly until: number;
  /** When it was (re-)inserted, counted in insertions (see {@link BoundedCache.touch}). */
  seq: number;
}

export interface BoundedCacheOptions {
  /** Upper bound on entries (≥ 1). */
  maxEntries: number;
  /** Upper bound on the characters of all keys together. */
  maxChars: number;
  /** How many trailing characters of a key index it (≥ 1). */
  indexChars: number;
}

export class BoundedCache<V> {
  readonly #entries = new Map<string, BoundedCacheEntry<V>>();
  readonly #maxEntries: number;
  readonly #maxChars: number;
  readonly #indexChars: number;
  #chars = 0;
  /** Insertions so far. */
  #seq = 0;

  constructor(options: BoundedCacheOptions) {
    this.#maxEntries = options.maxEntries;
    this.#maxChars = options.maxChars;
    this.#indexChars = options.indexChars;
  }

  /** Entries held (expired ones included until a lookup or an eviction drops them). */
  get size(): number {
    return this.#entries.size;
  }

  /** Characters of the keys held. */
  get chars(): number {
    return this.#chars;
  }

  /**
   * The entry stored under exactly `key`, whether or not it is still live; no eviction, no touch.
   * For questions that do not depend on expiry ("was this exact value seen and accepted?").
   */
  find(key: string): BoundedCacheEntry<V> | undefined {
    const entry = this.#entries.get(key.slice(-this.#indexChars));
    return entry !== undefined && entry.key === key ? entry : undefined;
  }

  /** The live entry for exactly `key` at `now`; an entry at or past its `until` is dropped and not returned. */
  get(key: string, now: number): BoundedCacheEntry<V> | undefined {
    const entry = this.find(key);
    if (entry === undefined) return undefined;
    if (now >= entry.until) {
      this.delete(key);
      return undefined;
    }
    return entry;
  }

  /**
   * Store `value` for `key` until `until` (ms), replacing whatever shares its index, then evict the
   * oldest insertions while a bound is exceeded. Nothing is stored when `until <= now`.
   * Returns the stored entry, or `undefined` when nothing was stored.
   */
  set(key: string, value: V, until: number, now: number): BoundedCacheEntry<V> | undefined {
    if (until <= now) return undefined;
    const index = key.slice(-this.#indexChars);
    const previous = this.#entries.get(index);
    if (previous !== undefined) this.delete(previous.key);
    const entry: BoundedCacheEntry<V> = { key, value, until, seq: ++this.#seq };
    this.#entries.set(index, entry);
    this.#chars += key.length;
    for (const oldest of this.#entries.values()) {
      if (this.#entries.size <= this.#maxEntries && this.#chars <= this.#maxChars) break;
      this.delete(oldest.key);
    }
    return entry;
  }

  /** Drop the entry for exactly `key` (a value sharing only its index is left alone). */
  delete(key: string): void {
    const index = key.slice(-this.#indexChars);
    const entry = this.#entries.get(index);
    if (entry !== undefined && entry.key === key) {
      this.#entries.delete(index);
      this.#chars -= key.length;
    }
  }

  /**
   * Keep a used entry from eviction. Eviction drops the oldest insertions first; an entry is
   * re-inserted only once it has fallen into the older half, so a hot key costs no Map write on
   * most reads (an approximate LRU: a used entry always outlives half a cache of new ones).
   */
  touch(entry: BoundedCacheEntry<V>): void {
    if (this.#seq - entry.seq < this.#entries.size / 2) return;
    const index = entry.key.slice(-this.#indexChars);
    if (this.#entries.get(index) !== entry) return;
    this.#entries.delete(index);
    entry.seq = ++this.#seq;
    this.#entries.set(index, entry);
  }
}
