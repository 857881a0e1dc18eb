/** Options every store class takes, validated once at construction (never per call). */
import { codedTypeError } from '@oin-oidc/core';
import type { OidcWarning } from '@oin-oidc/core';
import { guardPort, type GuardedPort, type RedisPort } from './port';
import { RedisKeys } from './keys';

/** Options of each store class (and of {@link createRedisStores}). */
export interface RedisStoreOptions {
  /** First part of every key and of the pub/sub channel. Default `'oin-oidc'`. No braces or spaces. */
  prefix?: string;
  /** Deadline of every Redis call, in ms; a call past it rejects with `ERR_OIDC_STORE_FAILURE`. Default 1000. */
  commandTimeoutMs?: number;
  /** Where warnings go (`WARN_OIDC_REDIS_EVICTION`, a failing revocation subscription). Default `console.warn`. */
  onWarning?: (warning: OidcWarning) => void;
}

export const DEFAULT_PREFIX = 'oin-oidc';
export const DEFAULT_COMMAND_TIMEOUT_MS = 1000;

/** What a store class keeps from its options. */
export interface Resolved {
  port: GuardedPort;
  keys: RedisKeys;
  warn: (warning: OidcWarning) => void;
}

export function resolve(port: RedisPort, options: RedisStoreOptions = {}): Resolved {
  if (typeof port !== 'object' || port === null || typeof port.command !== 'function' || typeof port.evalScript !== 'function') {
    throw codedTypeError('a RedisPort is required (use fromIoredis(client) or fromNodeRedis(client))', 'ERR_INVALID_ARG_TYPE');
  }
  const timeout = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeout) || timeout < 1 || timeout > 60_000) throw codedTypeError('commandTimeoutMs must be an integer from 1 to 60000', 'ERR_INVALID_ARG_VALUE');
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function') throw codedTypeError('onWarning must be a function', 'ERR_INVALID_ARG_VALUE');
  const handler = options.onWarning;
  return {
    port: guardPort(port, timeout),
    keys: new RedisKeys(options.prefix ?? DEFAULT_PREFIX),
    warn(warning) {
      try {
        if (handler) handler(warning);
        else console.warn(`[oin-oidc] ${warning.code}: ${warning.message}`);
      } catch {
        // A failing logger must not break a store call.
      }
    },
  };
}

/** A TTL in whole seconds → milliseconds, or a coded TypeError (the same rule as core's memory stores). */
export function ttlMs(ttlSec: number): number {
  if (typeof ttlSec !== 'number' || !Number.isFinite(ttlSec) || ttlSec <= 0) throw codedTypeError('ttlSec must be a positive, finite number of seconds', 'ERR_INVALID_ARG_VALUE');
  return Math.max(1, Math.ceil(ttlSec * 1000));
}

export function checkString(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') throw codedTypeError(`${name} must be a string`, 'ERR_INVALID_ARG_TYPE');
}
