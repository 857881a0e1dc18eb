/**
 * {@link SharedRevocationList} on Redis: records in a sorted set scored by `until` plus a hash
 * key → "revokedAt until" (both under the one tag `{revocations}`), written and announced on the
 * channel `<prefix>:revocations` by one Lua script. Expired records are forgotten on every add
 * and load, and both keys expire with the latest record: no sweeper.
 *
 * Pub/sub keeps nothing for a subscriber that is away. So each time the subscription becomes
 * live (the first time, and after every reconnect of its connection) the listeners get
 * `onResync()` and core loads the list again: a record added while the feed was down is never
 * missed for longer than the outage.
 */
import { codedTypeError } from '@oin-oidc/core';
import type { RevocationListener, RevocationRecord, SharedRevocationList } from '@oin-oidc/core';
import type { RedisPort } from './port';
import { storeFailure } from './port';
import { checkString, type RedisStoreOptions, type Resolved, resolve } from './options';
import { REVOCATION_ADD, REVOCATION_LOAD } from './scripts';

/** Record keys are bounded by core's contract (revocation-list.ts). */
const MAX_KEY = 1024;
/** Retry delays of a subscription that could not be made (ms): 0.5 s doubling to 30 s. */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 30_000;

type Listener = { onRecord(record: RevocationRecord): void; onResync(): void };

/**
 * A {@link SharedRevocationList} over a {@link RedisPort}. `subscribe` opens one subscriber
 * connection for all its listeners (through the port's `subscribe`), retried with back-off while
 * Redis is down; `close()` ends it.
 */
export class RedisRevocationList implements SharedRevocationList {
  readonly #r: Resolved;
  readonly #listeners = new Set<Listener>();
  /** Listeners registered while the feed was not live: they get onResync when it is. */
  readonly #waiting = new Set<Listener>();
  #state: 'idle' | 'starting' | 'live' = 'idle';
  #stop: (() => Promise<void>) | undefined;
  #retryMs = RETRY_FIRST_MS;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(port: RedisPort, options: RedisStoreOptions = {}) {
    this.#r = resolve(port, options);
  }

  async add(record: RevocationRecord): Promise<void> {
    checkRecord(record);
    const now = Date.now();
    if (record.until <= now) return;
    const keys = this.#r.keys;
    await this.#r.port.evalScript(
      REVOCATION_ADD,
      [keys.revocationsByUntil(), keys.revocationRecords()],
      [record.key, String(Math.floor(record.revokedAt)), String(Math.ceil(record.until)), String(now), keys.revocationChannel()],
    );
  }

  async load(limit = 100_000): Promise<RevocationRecord[]> {
    if (!Number.isSafeInteger(limit) || limit < 0) throw codedTypeError('limit must be a non-negative integer', 'ERR_INVALID_ARG_VALUE');
    const keys = this.#r.keys;
    const now = Date.now();
    const reply = await this.#r.port.evalScript(REVOCATION_LOAD, [keys.revocationsByUntil(), keys.revocationRecords()], [String(now)]);
    if (!Array.isArray(reply) || reply.length % 2 !== 0) throw storeFailure('script revocation-load', 'corrupt');
    const records: RevocationRecord[] = [];
    for (let i = 0; i < reply.length; i += 2) {
      const record = parseStored(String(reply[i]), String(reply[i + 1]));
      if (record === undefined) throw storeFailure('script revocation-load', 'corrupt');
      if (record.until > now) records.push(record);
    }
    return records.sort((a, b) => b.revokedAt - a.revokedAt).slice(0, limit);
  }

  subscribe(listener: RevocationListener): () => void {
    if (typeof listener?.onRecord !== 'function' || typeof listener.onResync !== 'function') {
      throw codedTypeError('listener must have onRecord and onResync', 'ERR_INVALID_ARG_TYPE');
    }
    const own: Listener = { onRecord: listener.onRecord.bind(listener), onResync: listener.onResync.bind(listener) };
    this.#listeners.add(own);
    if (this.#state !== 'live') this.#waiting.add(own);
    this.#start();
    return () => {
      this.#listeners.delete(own);
      this.#waiting.delete(own);
      if (this.#listeners.size === 0) void this.#end();
    };
  }

  /** Ends the subscription (the app's client stays open). The list can still add and load. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    this.#waiting.clear();
    await this.#end();
  }

  #start(): void {
    if (this.#closed || this.#state !== 'idle' || this.#listeners.size === 0) return;
    this.#state = 'starting';
    this.#r.port
      .subscribe(this.#r.keys.revocationChannel(), {
        onMessage: (message) => this.#message(message),
        onReconnect: () => this.#resync(this.#listeners),
      })
      .then(
        (stop) => {
          if (this.#closed || this.#listeners.size === 0) {
            this.#state = 'idle';
            void stop().catch(() => undefined);
            return;
          }
          this.#state = 'live';
          this.#stop = stop;
          this.#retryMs = RETRY_FIRST_MS;
          // Records added before the feed was live may have been missed by a load that ran first.
          const waiting = new Set(this.#waiting);
          this.#waiting.clear();
          this.#resync(waiting);
        },
        (error: unknown) => {
          this.#state = 'idle';
          if (this.#closed || this.#listeners.size === 0) return;
          // Said once per outage, not once per retry.
          if (this.#retryMs === RETRY_FIRST_MS) {
            this.#r.warn({
              code: 'WARN_OIDC_REVOCATIONS_NOT_LOADED',
              message: `The Redis revocation feed could not subscribe (${describe(error)}); retrying with back-off. Revocations made by other processes reach this one once it is subscribed again.`,
            });
          }
          this.#retryTimer = setTimeout(() => {
            this.#retryTimer = undefined;
            this.#start();
          }, this.#retryMs);
          this.#retryTimer.unref?.();
          this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
        },
      );
  }

  async #end(): Promise<void> {
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const stop = this.#stop;
    this.#stop = undefined;
    if (this.#state === 'live') this.#state = 'idle';
    if (stop) await stop().catch(() => undefined);
  }

  #message(message: string): void {
    const first = message.indexOf('\n');
    const second = first < 0 ? -1 : message.indexOf('\n', first + 1);
    if (second < 0) return; // not ours
    const record = toRecord(message.slice(second + 1), message.slice(0, first), message.slice(first + 1, second));
    if (record === undefined) return;
    for (const listener of this.#listeners) safely(() => listener.onRecord({ ...record }));
  }

  #resync(listeners: Iterable<Listener>): void {
    for (const listener of [...listeners]) safely(() => listener.onResync());
  }
}

function safely(call: () => void): void {
  try {
    call();
  } catch {
    // One listener's failure must not stop the feed for the others.
  }
}

function describe(error: unknown): string {
  const details = (error as { details?: { reason?: unknown } })?.details;
  return typeof details?.reason === 'string' ? details.reason : 'error';
}

function checkRecord(record: RevocationRecord): void {
  if (typeof record !== 'object' || record === null) throw codedTypeError('record must be an object', 'ERR_INVALID_ARG_TYPE');
  checkString('record.key', record.key);
  if (record.key.length === 0 || record.key.length > MAX_KEY) throw codedTypeError('record.key must be 1-1024 characters', 'ERR_INVALID_ARG_VALUE');
  for (const name of ['revokedAt', 'until'] as const) {
    if (typeof record[name] !== 'number' || !Number.isFinite(record[name])) throw codedTypeError(`record.${name} must be a finite number (epoch ms)`, 'ERR_INVALID_ARG_VALUE');
  }
}

function toRecord(key: string, revokedAt: string, until: string): RevocationRecord | undefined {
  const r = Number(revokedAt);
  const u = Number(until);
  if (!Number.isFinite(r) || !Number.isFinite(u) || key.length === 0) return undefined;
  return { key, revokedAt: r, until: u };
}

/** A hash entry "revokedAt until" back to a record. */
function parseStored(key: string, value: string): RevocationRecord | undefined {
  const space = value.indexOf(' ');
  if (space < 0) return undefined;
  return toRecord(key, value.slice(0, space), value.slice(space + 1));
}
