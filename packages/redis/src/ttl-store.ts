/**
 * {@link TtlStore} on Redis: the fleet-wide replay cache (simplified-flow `jti`) and any other
 * single-use or expiring entry of core. Each method is one command, atomic on the server; expiry
 * is Redis's own (PX), never a sweeper of ours.
 */
import type { TtlStore } from '@oin-oidc/core';
import type { RedisPort } from './port';
import { checkString, type RedisStoreOptions, type Resolved, resolve, ttlMs } from './options';

/**
 * A {@link TtlStore} over a {@link RedisPort}. Keys are hashed into the key name (see the key
 * layout in docs/redis.md), values are stored as given.
 *
 * @example
 * ```ts
 * const replayStore = new RedisTtlStore(fromIoredis(redis), { prefix: 'my-app' });
 * ```
 */
export class RedisTtlStore implements TtlStore {
  readonly #r: Resolved;

  constructor(port: RedisPort, options: RedisStoreOptions = {}) {
    this.#r = resolve(port, options);
  }

  async get(key: string): Promise<string | undefined> {
    checkString('key', key);
    const value = await this.#r.port.command(['GET', this.#r.keys.ttl(key)]);
    return asValue(value);
  }

  async set(key: string, value: string, ttlSec: number): Promise<void> {
    checkString('key', key);
    checkString('value', value);
    await this.#r.port.command(['SET', this.#r.keys.ttl(key), value, 'PX', String(ttlMs(ttlSec))]);
  }

  async delete(key: string): Promise<void> {
    checkString('key', key);
    await this.#r.port.command(['DEL', this.#r.keys.ttl(key)]);
  }

  /** `SET key value PX ttl NX`: of any number of concurrent callers, on any connection, one gets true. */
  async setIfAbsent(key: string, value: string, ttlSec: number): Promise<boolean> {
    checkString('key', key);
    checkString('value', value);
    const reply = await this.#r.port.command(['SET', this.#r.keys.ttl(key), value, 'PX', String(ttlMs(ttlSec)), 'NX']);
    return reply === 'OK';
  }

  /** `GETDEL` (Redis ≥ 6.2): at most one caller gets the value. */
  async take(key: string): Promise<string | undefined> {
    checkString('key', key);
    return asValue(await this.#r.port.command(['GETDEL', this.#r.keys.ttl(key)]));
  }
}

function asValue(reply: unknown): string | undefined {
  if (reply === null || reply === undefined) return undefined;
  if (typeof reply === 'string') return reply;
  // A Buffer (a client configured for binary replies) still holds our UTF-8 string.
  if (reply instanceof Uint8Array) return Buffer.from(reply).toString('utf8');
  return String(reply);
}
