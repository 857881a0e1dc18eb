/**
 * The command port: the few things the stores need from a Redis client, so the app passes the
 * client it already has (ioredis, node-redis, a Valkey client, a Cluster wrapper of its own) and
 * keeps owning the connection, its pool, TLS and retry options (the connect-redis model).
 *
 * Everything here is client-neutral; `fromIoredis` and `fromNodeRedis` build ports for the two
 * clients we test. {@link guardPort} wraps any port with the per-call timeout and the error
 * mapping, so those hold whatever the client does.
 */
import { createHash } from 'node:crypto';
import { OidcError } from '@oin-oidc/core';

/** A Lua script with its SHA-1, for `EVALSHA`. Built by the stores; a port only runs it. */
export interface RedisScript {
  /** A short name for errors and logs (`session-set`); never key material. */
  readonly name: string;
  /** The Lua source, for `EVAL` when the server does not know the script yet. */
  readonly source: string;
  /** Lowercase hex SHA-1 of `source`, as `EVALSHA` expects. */
  readonly sha1: string;
}

/**
 * What the stores need from a Redis connection. Implement it to use a client we do not adapt.
 *
 * Replies are the client's plain RESP2 shapes: strings, integers as numbers, nil as `null`,
 * arrays. A rejected promise means the command did not succeed; Redis error replies reject
 * with an `Error` whose message starts with the Redis error code (`NOSCRIPT …`, `WRONGTYPE …`),
 * as ioredis and node-redis both do. The stores add timeouts themselves.
 */
export interface RedisPort {
  /** Run one command, e.g. `['SET', key, value, 'PX', '5000', 'NX']`. */
  command(args: readonly string[]): Promise<unknown>;
  /**
   * Run a script: `EVALSHA sha1 numkeys …keys …args`, and on a `NOSCRIPT` reply `EVAL source …`
   * (which also loads it). {@link evalWithFallback} implements this over {@link command}.
   */
  evalScript(script: RedisScript, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /**
   * Subscribe to `channel` on a connection of its own (a subscribed RESP2 connection can run no
   * other command). Resolves once the server confirmed the subscription, with the function that
   * ends it (and closes that connection).
   */
  subscribe(channel: string, handlers: RedisSubscriptionHandlers): Promise<() => Promise<void>>;
  /** Close the connections the port opened itself (the subscribers); never the app's own client. */
  close?(): Promise<void>;
}

/** What {@link RedisPort.subscribe} reports to. */
export interface RedisSubscriptionHandlers {
  /** One message published on the channel. */
  onMessage(message: string): void;
  /**
   * The subscriber's connection came back after a loss and is subscribed again. Messages
   * published meanwhile are lost (pub/sub keeps nothing), so the caller resynchronises.
   */
  onReconnect?(): void;
  /**
   * Aborted when the caller stopped waiting for the subscription (its deadline passed): stop
   * connecting, close what was opened, and reject.
   */
  signal?: AbortSignal;
}

/** Builds a {@link RedisScript}: the SHA-1 is computed once, here. */
export function defineScript(name: string, source: string): RedisScript {
  return Object.freeze({ name, source, sha1: createHash('sha1').update(source).digest('hex') });
}

/**
 * `EVALSHA`, falling back to `EVAL` when the server answers `NOSCRIPT` (a restarted server, a
 * `SCRIPT FLUSH`, a failover to a replica that never saw the script). For custom ports.
 */
export async function evalWithFallback(
  command: (args: readonly string[]) => Promise<unknown>,
  script: RedisScript,
  keys: readonly string[],
  args: readonly string[],
): Promise<unknown> {
  const tail = [String(keys.length), ...keys, ...args];
  try {
    return await command(['EVALSHA', script.sha1, ...tail]);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return command(['EVAL', script.source, ...tail]);
  }
}

/** True when `value` has the methods of a {@link RedisPort}. */
export function isRedisPort(value: unknown): value is RedisPort {
  if (typeof value !== 'object' || value === null) return false;
  const port = value as Record<string, unknown>;
  return typeof port['command'] === 'function' && typeof port['evalScript'] === 'function' && typeof port['subscribe'] === 'function';
}

/** Why a call failed, in {@link OidcError} `details.reason`. */
export type RedisFailureReason = 'timeout' | 'reply' | 'connection' | 'closed' | 'corrupt';

const REPLY_ERROR_NAMES = new Set(['ReplyError', 'ErrorReply', 'SimpleError', 'BlobError']);

/** The Redis error code of an error reply (`WRONGTYPE`, `OOM`, `NOPERM`), else undefined. */
export function replyCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const name = error.name !== 'Error' ? error.name : error.constructor?.name;
  if (!REPLY_ERROR_NAMES.has(name ?? '')) return undefined;
  return /^[A-Z][A-Z0-9_-]{1,31}(?=\s|$)/.exec(error.message)?.[0] ?? 'ERR';
}

/**
 * A copy of a client error that is safe to log: its name, `code` and the first line of its
 * message, minus anything Redis echoes back of the arguments. The client's own error object is
 * not kept: ioredis attaches the command's arguments (keys and values, i.e. session contents
 * and replay keys) to its errors.
 */
function sanitised(error: unknown): Error {
  if (!(error instanceof Error)) return new Error('non-Error rejection');
  const firstLine = (error.message.split('\n', 1)[0] ?? '').replace(/, with args beginning with:.*$/, '').slice(0, 200);
  const copy = new Error(firstLine);
  copy.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code)) Object.assign(copy, { code });
  return copy;
}

/** The one error every store call rejects with: `ERR_OIDC_STORE_FAILURE` (503, `Retry-After`). */
export function storeFailure(operation: string, reason: RedisFailureReason, cause?: unknown, extra?: Record<string, unknown>): OidcError {
  const code = reason === 'reply' ? replyCode(cause) : undefined;
  const what: Record<RedisFailureReason, string> = {
    timeout: `Redis did not answer ${operation} in time`,
    reply: `Redis refused ${operation}${code ? ` (${code})` : ''}`,
    connection: `Redis ${operation} failed: the connection failed`,
    closed: `Redis ${operation} was not sent: the stores are closed`,
    corrupt: `Redis ${operation} returned a value this store did not write`,
  };
  return new OidcError('ERR_OIDC_STORE_FAILURE', `${what[reason]}.`, {
    details: { store: 'redis', operation, reason, ...(code ? { redisError: code } : {}), ...extra },
    ...(cause === undefined ? {} : { cause: sanitised(cause) }),
  });
}

/** Resolves like `promise`, or rejects with a timeout after `ms`; the timer is always cleared. */
function withTimeout<T>(promise: Promise<T>, ms: number, operation: string, late?: (value: T) => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(storeFailure(operation, 'timeout', undefined, { timeoutMs: ms }));
    }, ms);
  });
  if (late) {
    // A subscription confirmed after we gave up would leak a connection: end it.
    promise.then((value) => timedOut && late(value), () => undefined);
  }
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A port whose every call has a deadline and rejects only with {@link storeFailure} errors. */
export interface GuardedPort {
  command(args: readonly string[]): Promise<unknown>;
  evalScript(script: RedisScript, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  subscribe(channel: string, handlers: Omit<RedisSubscriptionHandlers, 'signal'>): Promise<() => Promise<void>>;
  close(): Promise<void>;
  readonly closed: boolean;
}

function mapError(operation: string, error: unknown): OidcError {
  if (error instanceof OidcError && error.code === 'ERR_OIDC_STORE_FAILURE') return error;
  return storeFailure(operation, replyCode(error) ? 'reply' : 'connection', error);
}

/**
 * Wraps `port` with the per-call deadline (`Promise.race` + `clearTimeout`, whatever the client's
 * own timeouts are) and maps every failure to {@link storeFailure}. A command that timed out may
 * still run later (both clients queue commands while reconnecting); every store operation is
 * written so that a late run is harmless or fails closed (a late `SET NX` only refuses a replay).
 */
export function guardPort(port: RedisPort | GuardedPort, timeoutMs: number): GuardedPort {
  // Already guarded (createRedisStores hands one guarded port to all four stores): keep it, so
  // closing the stores closes it once for all.
  if (GUARDED.has(port)) return port as GuardedPort;
  let closed = false;
  const run = async <T>(operation: string, call: () => Promise<T>, late?: (value: T) => void, abort?: AbortController): Promise<T> => {
    if (closed) throw storeFailure(operation, 'closed');
    let promise: Promise<T>;
    try {
      promise = call();
    } catch (error) {
      throw mapError(operation, error);
    }
    try {
      return await withTimeout(promise, timeoutMs, operation, late);
    } catch (error) {
      abort?.abort();
      throw mapError(operation, error);
    }
  };
  const guarded: GuardedPort = {
    get closed() {
      return closed;
    },
    command: (args) => run(String(args[0] ?? '').toUpperCase(), () => port.command(args)),
    evalScript: (script, keys, args) => run(`script ${script.name}`, () => port.evalScript(script, keys, args)),
    subscribe: (channel, handlers) => {
      const abort = new AbortController();
      return run(
        'SUBSCRIBE',
        async () => {
          const stop = await port.subscribe(channel, { ...handlers, signal: abort.signal });
          return () => run('UNSUBSCRIBE', stop);
        },
        (stop) => void stop().catch(() => undefined),
        abort,
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      await port.close?.();
    },
  };
  GUARDED.add(guarded);
  return guarded;
}

const GUARDED = new WeakSet<object>();
