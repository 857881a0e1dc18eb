/**
 * `@oin-oidc/redis`: the state an oin-oidc fleet shares, on Redis or Valkey, over the client the
 * app already has. Translation only: core owns the interfaces (`TtlStore`, `SessionStore`,
 * `RateLimitStore`, `SharedRevocationList`) and every rule about what they hold; this package
 * owns the key layout, the Lua scripts, deadlines and connection handling. See docs/redis.md.
 */
export { createRedisStores, checkEvictionPolicy, toRedisPort } from './stores';
export type { RedisStores, RedisStoresOptions, EvictionPolicyCheck } from './stores';
export { RedisTtlStore } from './ttl-store';
export { RedisSessionStore } from './session-store';
export type { RedisSessionStoreOptions } from './session-store';
export { RedisRateLimitStore } from './rate-limit-store';
export { RedisRevocationList } from './revocation-list';
export type { RedisStoreOptions } from './options';
export { fromIoredis, fromNodeRedis } from './clients';
export type { IoredisClientLike, NodeRedisClientLike } from './clients';
export { evalWithFallback, isRedisPort } from './port';
export type { RedisPort, RedisScript, RedisSubscriptionHandlers, RedisFailureReason } from './port';
