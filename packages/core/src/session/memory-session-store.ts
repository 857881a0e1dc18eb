/**
 * A server-side {@link SessionStore} in one process's memory: the reference a shared store must
 * behave like (the store conformance suite of `@oin-oidc/testing` runs against it), and a store
 * for a single-process app that wants small cookies.
 *
 * Two rules that connect-redis broke and this store keeps:
 * - **No resurrection** (connect-redis #328): a request that read a session before a logout and
 *   writes it back after (a rolling extension) must not bring it back. `delete` leaves a tombstone
 *   until the session could have expired anyway; a `set` of a tombstoned id is a no-op.
 * - **No life past `expiresAt`** (connect-redis #251): an entry is kept for `ttlSec`, but never past
 *   `session.expiresAt`, whatever `ttlSec` says.
 */
import type { Session, SessionStore } from './types';
import { codedTypeError } from '../internal/misuse';

/** Options of {@link MemorySessionStore}. */
export interface MemorySessionStoreOptions {
  /**
   * Upper bound on live sessions, and separately on tombstones. When full, expired entries go
   * first, then the least recently used (a dropped session signs its user out; a dropped
   * tombstone only weakens protection against a write racing a logout). Default 100,000.
   */
  maxEntries?: number;
  /**
   * How long a tombstone lasts for a `delete` of an id the store does not hold (expired, evicted,
   * or never seen): the longest a racing rolling write could still extend a session. A deleted
   * live session's tombstone lasts until its `expiresAt` (extended by any refused write). Default
   * 24 h, the session manager's default rolling window.
   */
  tombstoneSec?: number;
  /** Clock in milliseconds since the epoch (tests inject one). Default `Date.now`. */
  now?: () => number;
}

interface Entry {
  session: Session;
  /** ms: min(set time + ttlSec, session.expiresAt) */
  expiresAt: number;
}

/** How many of the oldest entries an insertion into a full store inspects for expired ones (bounded work per write). */
const SWEEP_BUDGET = 64;

/** The subject index key: JSON, so no tenant/sub pair can collide with another ("a", "b:c" vs "a:b", "c"). */
function subjectKey(tenant: string, sub: string): string {
  return JSON.stringify([tenant, sub]);
}

/**
 * The in-process {@link SessionStore}, with `deleteBySubject` (Universal Logout, back-channel
 * logout). Sessions are copied in and out (`structuredClone`), so a caller mutating a session it
 * read changes nothing stored. Expiry is lazy (checked on read) and memory is bounded.
 */
export class MemorySessionStore implements SessionStore {
  /** Recency order: the least recently used entry is the first key. */
  readonly #entries = new Map<string, Entry>();
  /** id → ms until which a `set` of the id is refused; insertion order. */
  readonly #tombstones = new Map<string, number>();
  /** subjectKey → ids of stored sessions of that subject. */
  readonly #bySubject = new Map<string, Set<string>>();
  readonly #maxEntries: number;
  readonly #tombstoneMs: number;
  readonly #now: () => number;

  constructor(options: MemorySessionStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 100_000;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw codedTypeError('maxEntries must be a positive integer', 'ERR_INVALID_ARG_VALUE');
    const tombstoneSec = options.tombstoneSec ?? 24 * 60 * 60;
    if (!Number.isFinite(tombstoneSec) || tombstoneSec <= 0) throw codedTypeError('tombstoneSec must be a positive number of seconds', 'ERR_INVALID_ARG_VALUE');
    this.#maxEntries = maxEntries;
    this.#tombstoneMs = tombstoneSec * 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Sessions held, including expired ones not yet swept. */
  get size(): number {
    return this.#entries.size;
  }

  async get(id: string): Promise<Session | undefined> {
    const entry = this.#live(id);
    if (!entry) return undefined;
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    return structuredClone(entry.session);
  }

  async set(id: string, session: Session, ttlSec: number): Promise<void> {
    if (!Number.isFinite(ttlSec) || ttlSec <= 0) throw codedTypeError('ttlSec must be a positive, finite number of seconds', 'ERR_INVALID_ARG_VALUE');
    const now = this.#now();
    const tombstone = this.#tombstones.get(id);
    if (tombstone !== undefined) {
      if (tombstone > now) {
        // A write that raced (or followed) a delete: refused, and the tombstone outlives the
        // session it carries, so a still later write of the same session is refused too.
        if (session.expiresAt > tombstone) this.#tombstones.set(id, session.expiresAt);
        return;
      }
      this.#tombstones.delete(id);
    }
    const expiresAt = Math.min(now + ttlSec * 1000, session.expiresAt);
    this.#remove(id);
    if (expiresAt <= now) return;
    if (this.#entries.size >= this.#maxEntries) this.#evict(now);
    this.#entries.set(id, { session: structuredClone(session), expiresAt });
    const key = subjectKey(session.tenant, session.sub);
    let ids = this.#bySubject.get(key);
    if (ids === undefined) {
      ids = new Set();
      this.#bySubject.set(key, ids);
    }
    ids.add(id);
  }

  async delete(id: string): Promise<void> {
    this.#deleteWithTombstone(id, this.#now());
  }

  async deleteBySubject(tenant: string, sub: string): Promise<number> {
    const ids = this.#bySubject.get(subjectKey(tenant, sub));
    if (ids === undefined) return 0;
    const now = this.#now();
    let count = 0;
    for (const id of [...ids]) {
      if (this.#live(id, now)) count++;
      this.#deleteWithTombstone(id, now);
    }
    return count;
  }

  #deleteWithTombstone(id: string, now: number): void {
    const entry = this.#entries.get(id);
    const until = Math.max(entry?.session.expiresAt ?? 0, now + (entry ? 0 : this.#tombstoneMs));
    this.#remove(id);
    if (until <= now) return;
    this.#tombstones.delete(id);
    if (this.#tombstones.size >= this.#maxEntries) this.#evictTombstone(now);
    this.#tombstones.set(id, until);
  }

  #live(id: string, now = this.#now()): Entry | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.#remove(id);
      return undefined;
    }
    return entry;
  }

  #remove(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    const key = subjectKey(entry.session.tenant, entry.session.sub);
    const ids = this.#bySubject.get(key);
    ids?.delete(id);
    if (ids?.size === 0) this.#bySubject.delete(key);
  }

  /** Drop expired sessions among the oldest few; when none, the least recently used one. */
  #evict(now: number): void {
    let inspected = 0;
    let removed = 0;
    for (const [id, entry] of this.#entries) {
      if (inspected++ >= SWEEP_BUDGET) break;
      if (entry.expiresAt <= now) {
        this.#remove(id);
        removed++;
      }
    }
    if (removed > 0) return;
    const oldest = this.#entries.keys().next();
    if (!oldest.done) this.#remove(oldest.value);
  }

  /** The same for tombstones (insertion order: the oldest first). */
  #evictTombstone(now: number): void {
    let inspected = 0;
    let removed = 0;
    for (const [id, until] of this.#tombstones) {
      if (inspected++ >= SWEEP_BUDGET) break;
      if (until <= now) {
        this.#tombstones.delete(id);
        removed++;
      }
    }
    if (removed > 0) return;
    const oldest = this.#tombstones.keys().next();
    if (!oldest.done) this.#tombstones.delete(oldest.value);
  }
}
