/** `createRedisStores`: the four stores over one client, and the start-up eviction check. */
import { codedTypeError } from '@oin-oidc/core';
import { isOidcError } from '@oin-oidc/core';
import { fromIoredis, fromNodeRedis, type IoredisClientLike, isIoredisClient, isNodeRedisClient, type NodeRedisClientLike } from './clients';
import { type RedisStoreOptions, resolve } from './options';
import { isRedisPort, type RedisPort } from './port';
import { RedisRateLimitStore } from './rate-limit-store';
import { RedisRevocationList } from './revocation-list';
import { RedisSessionStore, type RedisSessionStoreOptions } from './session-store';
import { RedisTtlStore } from './ttl-store';

/** Options of {@link createRedisStores}. */
export interface RedisStoresOptions extends RedisSessionStoreOptions {
  /**
   * The app's connected client: an ioredis `Redis`, a node-redis client, or any
   * {@link RedisPort}. Told apart by shape; the app keeps owning it (`close()` never quits it).
   */
  client: IoredisClientLike | NodeRedisClientLike | RedisPort;
  /** Run {@link RedisStores.checkEvictionPolicy} once now, in the background (its result goes to `onWarning`). Default true. */
  evictionCheck?: boolean;
}

/** What `checkEvictionPolicy` found. `policy` is undefined when the server would not say (CONFIG disabled). */
export interface EvictionPolicyCheck {
  /** True only for `noeviction`. */
  ok: boolean;
  policy: string | undefined;
}

/** The stores {@link createRedisStores} returns, for `createOidcClient`/`createOidcAuth` options. */
export interface RedisStores {
  /** The replay cache (simplified-flow `jti`) and other one-time or expiring entries. */
  ttlStore: RedisTtlStore;
  /** Server-side sessions. */
  sessionStore: RedisSessionStore;
  /** Okta back-off and introspection token buckets. */
  rateLimitStore: RedisRateLimitStore;
  /** The fleet-wide revocation list and its feed. */
  revocationList: RedisRevocationList;
  /** Reads `maxmemory-policy`; anything but `noeviction` (or a server that will not say) warns `WARN_OIDC_REDIS_EVICTION`. */
  checkEvictionPolicy(): Promise<EvictionPolicyCheck>;
  /** Ends the revocation feed and the connections the stores opened; the app's client stays open. Later calls reject. */
  close(): Promise<void>;
}

/** A {@link RedisPort} for `client`, chosen by its shape. */
export function toRedisPort(client: IoredisClientLike | NodeRedisClientLike | RedisPort): RedisPort {
  if (isRedisPort(client)) return client;
  if (isIoredisClient(client)) return fromIoredis(client);
  if (isNodeRedisClient(client)) return fromNodeRedis(client);
  throw codedTypeError('client must be an ioredis client, a node-redis client or a RedisPort', 'ERR_INVALID_ARG_TYPE');
}

/**
 * The four Redis stores over one client, sharing one prefix, one deadline per call and one
 * guarded port (so `close()` closes everything once).
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { createOidcAuth } from '@oin-oidc/core';
 * import { createRedisStores } from '@oin-oidc/redis';
 *
 * const redis = new Redis(process.env.OIN_REDIS_URL!);
 * const stores = createRedisStores({ client: redis, prefix: 'my-app' });
 * const check = await stores.checkEvictionPolicy(); // { ok: true, policy: 'noeviction' }, or a loud warning
 * ```
 */
export function createRedisStores(options: RedisStoresOptions): RedisStores {
  if (typeof options !== 'object' || options === null) throw codedTypeError('options are required', 'ERR_INVALID_ARG_TYPE');
  const { client, evictionCheck = true, ...rest } = options;
  const shared = resolve(toRedisPort(client), rest);
  const port = shared.port; // guarded: the classes below reuse it as it is
  const stores: RedisStores = {
    ttlStore: new RedisTtlStore(port, rest),
    sessionStore: new RedisSessionStore(port, rest),
    rateLimitStore: new RedisRateLimitStore(port, rest),
    revocationList: new RedisRevocationList(port, rest),
    checkEvictionPolicy: () => checkEvictionPolicy(port, rest),
    async close() {
      await stores.revocationList.close();
      await port.close();
    },
  };
  if (evictionCheck) {
    checkEvictionPolicy(port, rest).catch(() =>
      shared.warn({
        code: 'WARN_OIDC_REDIS_EVICTION',
        message: 'Could not check the Redis maxmemory-policy: Redis did not answer. Call checkEvictionPolicy() once it is reachable.',
      }),
    );
  }
  return stores;
}

/**
 * Reads the server's `maxmemory-policy` (`CONFIG GET`). Every key of these stores has a TTL, so
 * `volatile-*` policies can evict them as readily as `allkeys-*`: an evicted replay entry lets a
 * captured ID token be used once more, an evicted tombstone lets a logged-out session back.
 * Only `noeviction` is safe (a full Redis then refuses writes, and the stores fail closed).
 * Managed services often default to `volatile-lru`; check there. Anything else, or a server
 * that refuses CONFIG (some managed Redis), warns `WARN_OIDC_REDIS_EVICTION` and resolves
 * `ok: false`; a server that does not answer rejects (`ERR_OIDC_STORE_FAILURE`).
 */
export async function checkEvictionPolicy(port: RedisPort, options: RedisStoreOptions = {}): Promise<EvictionPolicyCheck> {
  const r = resolve(port, options);
  let reply: unknown;
  try {
    reply = await r.port.command(['CONFIG', 'GET', 'maxmemory-policy']);
  } catch (error) {
    if (!(isOidcError(error) && error.details?.['reason'] === 'reply')) throw error;
    const why = typeof error.details?.['redisError'] === 'string' ? ` (${error.details['redisError']})` : '';
    r.warn({
      code: 'WARN_OIDC_REDIS_EVICTION',
      message: `Could not check the Redis maxmemory-policy: CONFIG GET was refused${why}. Make sure the server runs with maxmemory-policy noeviction: any other policy can evict live replay-cache entries and session tombstones.`,
    });
    return { ok: false, policy: undefined };
  }
  const policy = policyOf(reply);
  if (policy === 'noeviction') return { ok: true, policy };
  r.warn({
    code: 'WARN_OIDC_REDIS_EVICTION',
    message:
      policy === undefined
        ? 'Could not check the Redis maxmemory-policy: the server did not report it. Make sure it is noeviction.'
        : `Redis maxmemory-policy is ${policy}: under memory pressure Redis evicts keys with a TTL, and every replay-cache entry, session tombstone and revocation has one. An evicted replay entry lets a captured ID token through once more. Set maxmemory-policy noeviction (a full Redis then refuses writes and sign-ins fail closed).`,
  });
  return { ok: false, policy };
}

/** `CONFIG GET` answers `[name, value]` in RESP2 and a map in RESP3. */
function policyOf(reply: unknown): string | undefined {
  let value: unknown;
  if (Array.isArray(reply)) value = reply[1];
  else if (reply instanceof Map) value = reply.get('maxmemory-policy');
  else if (typeof reply === 'object' && reply !== null) value = (reply as Record<string, unknown>)['maxmemory-policy'];
  if (value instanceof Uint8Array) value = Buffer.from(value).toString('utf8');
  return typeof value === 'string' && /^[a-z-]{1,40}$/.test(value) ? value : undefined;
}
