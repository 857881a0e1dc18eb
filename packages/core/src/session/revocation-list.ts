/**
 * A fleet-wide list of revocations: the transport for fleet-wide logout events (logouts, Universal
 * Logout and back-channel logout; docs/universal-logout.md, docs/deployment.md).
 *
 * Sealed-cookie sessions carry no server state, so ending one everywhere needs every process to
 * know about it. Reading a shared store on every request would put a network round trip on the warm
 * session path; instead each process keeps the live records in memory, fed by this list: `load` at
 * start and after every reconnect (so a missed message cannot leave a revoked session alive), then
 * every record any process `add`s, pushed to all subscribers (Redis pub/sub in `@oin-oidc/redis`).
 *
 * A record's `key` names what is revoked; core uses `session:<id>` (one session, after logout) and
 * `subject:<tenant>\n<sub>`, `email:<tenant>\n<email>`, `sid:<tenant>\n<sid>` (every session of a
 * user at that app instance issued at or before `revokedAt`: Universal Logout).
 * Records live until `until`, the latest moment anything they revoke could still be presented.
 */
import { hasMethods } from '../internal/jwt-shape';

export interface RevocationRecord {
  /** What is revoked (see the module comment for core's key formats). At most 1,024 characters. */
  key: string;
  /** Epoch ms: sessions issued at or before this moment are revoked. */
  revokedAt: number;
  /** Epoch ms: when the record can be forgotten. */
  until: number;
}

export interface RevocationListener {
  /** A record added by any process, this one included. */
  onRecord(record: RevocationRecord): void;
  /**
   * The feed may have missed records (a reconnect after an outage): call `load` again. Core does.
   */
  onResync(): void;
}

export interface SharedRevocationList {
  /** Store `record` durably until `record.until` and announce it to every subscriber. Rejects on a store error. */
  add(record: RevocationRecord): Promise<void>;
  /** Every record whose `until` is still ahead (at most `limit`, newest first; default 100,000). */
  load(limit?: number): Promise<RevocationRecord[]>;
  /** Start receiving records. Returns the function that stops it. */
  subscribe(listener: RevocationListener): () => void;
}

/** True when `value` has every method of a {@link SharedRevocationList}. */
export function isSharedRevocationList(value: unknown): value is SharedRevocationList {
  return hasMethods(value, ['add', 'load', 'subscribe']);
}

/**
 * A {@link SharedRevocationList} in one process's memory: what a fleet store must behave like, and
 * the list two `createOidcAuth` instances of one process (or a test) can share.
 */
export class MemoryRevocationList implements SharedRevocationList {
  readonly #records = new Map<string, RevocationRecord>();
  readonly #listeners = new Set<RevocationListener>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async add(record: RevocationRecord): Promise<void> {
    if (record.until <= this.#now()) return;
    const previous = this.#records.get(record.key);
    // The later revocation wins: it revokes everything the earlier one did, and more.
    const kept = previous === undefined || previous.revokedAt <= record.revokedAt ? { ...record } : previous;
    kept.until = Math.max(kept.until, previous?.until ?? 0, record.until);
    this.#records.set(record.key, kept);
    for (const listener of this.#listeners) listener.onRecord({ ...kept });
  }

  async load(limit = 100_000): Promise<RevocationRecord[]> {
    const now = this.#now();
    const live: RevocationRecord[] = [];
    for (const [key, record] of this.#records) {
      if (record.until <= now) this.#records.delete(key);
      else live.push({ ...record });
    }
    return live.sort((a, b) => b.revokedAt - a.revokedAt).slice(0, limit);
  }

  subscribe(listener: RevocationListener): () => void {
    const own = { onRecord: listener.onRecord.bind(listener), onResync: listener.onResync.bind(listener) };
    this.#listeners.add(own);
    return () => {
      this.#listeners.delete(own);
    };
  }
}
