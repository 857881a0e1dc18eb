/**
 * Ports for the two clients we test: ioredis (6.x) and node-redis (`redis` 5.x). Both are
 * optional peer dependencies: nothing here imports them, the shapes below are structural, so an
 * app that uses one never installs the other.
 *
 * Each port runs commands on the app's client, unchanged, and opens one extra connection per
 * subscription with the client's own `duplicate()` (same host, TLS, auth and retry options).
 */
import { evalWithFallback, type RedisPort, type RedisSubscriptionHandlers } from './port';

/**
 * An event listener of either client: Node's own `EventEmitter` listener type. `any` is on
 * purpose: both clients declare `on` with it, and only `any` is assignable both ways.
 */
// biome-ignore lint/suspicious/noExplicitAny: EventEmitter's listener type, matched structurally (see above)
type Listener = (...args: any[]) => void;

/** The part of an ioredis `Redis` client (6.x; 5.x has the same shape) that {@link fromIoredis} uses. */
export interface IoredisClientLike {
  call(command: string, ...args: string[]): Promise<unknown>;
  duplicate(): IoredisClientLike;
  subscribe(...channels: string[]): Promise<unknown>;
  on(event: string, listener: Listener): unknown;
  disconnect(): void;
  readonly status: string;
}

/** The part of a node-redis client (`redis` 5.x, from `createClient`) that {@link fromNodeRedis} uses. */
export interface NodeRedisClientLike {
  sendCommand(args: string[]): Promise<unknown>;
  duplicate(): NodeRedisClientLike;
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  on(event: string, listener: Listener): unknown;
  destroy(): void;
  readonly isOpen: boolean;
  /** False while a connection that was open is being re-established. */
  readonly isReady?: boolean;
}

/** True for an ioredis client (checked before node-redis: ioredis has a `sendCommand` too). */
export function isIoredisClient(value: unknown): value is IoredisClientLike {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return typeof c['call'] === 'function' && typeof c['duplicate'] === 'function' && typeof c['status'] === 'string';
}

/** True for a node-redis client. */
export function isNodeRedisClient(value: unknown): value is NodeRedisClientLike {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return typeof c['sendCommand'] === 'function' && typeof c['duplicate'] === 'function' && typeof c['isOpen'] === 'boolean';
}

/** ioredis states of a connection that was lost (not the first connect): commands would only queue. */
const LOST: ReadonlySet<string> = new Set(['reconnecting', 'close', 'end']);

/** Mapped by the port guard to `ERR_OIDC_STORE_FAILURE` with `details.reason: 'connection'`. */
function notConnected(): Error {
  return Object.assign(new Error('The Redis connection is being re-established'), { code: 'ECONNREFUSED' });
}

function abortError(): Error {
  return Object.assign(new Error('The subscription was abandoned before the server confirmed it'), { name: 'AbortError' });
}

/** Shared bookkeeping: the subscriber connections a port opened, closed with it. */
function subscriptions<Conn>(destroy: (conn: Conn) => void) {
  const open = new Set<Conn>();
  return {
    add(conn: Conn, signal: AbortSignal | undefined): () => void {
      open.add(conn);
      const end = () => {
        if (open.delete(conn)) destroy(conn);
      };
      signal?.addEventListener('abort', end, { once: true });
      return end;
    },
    closeAll(): void {
      for (const conn of open) destroy(conn);
      open.clear();
    },
  };
}

/**
 * A {@link RedisPort} over an ioredis client (a standalone `Redis`; an ioredis `Cluster` has the
 * same methods and routes by the keys' hash tags, untested). The app keeps owning `client`:
 * closing the stores never quits it.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { createRedisStores, fromIoredis } from '@oin-oidc/redis';
 * const stores = createRedisStores({ client: fromIoredis(new Redis(process.env.OIN_REDIS_URL!)) });
 * ```
 */
export function fromIoredis(client: IoredisClientLike): RedisPort {
  const command = (args: readonly string[]) =>
    // A connection that was lost and is being re-established: answer at once rather than queue
    // the command until the deadline. A bearer check makes several store calls, each of which
    // would otherwise wait the whole `commandTimeoutMs` during an outage (docs/deployment.md, 'What
    // fails how'). The first connection ('connecting', 'wait') still queues, so an app may use a
    // client it just created.
    LOST.has(client.status) ? Promise.reject(notConnected()) : client.call(args[0] ?? '', ...args.slice(1));
  const subs = subscriptions<IoredisClientLike>((sub) => sub.disconnect());
  return {
    command,
    evalScript: (script, keys, args) => evalWithFallback(command, script, keys, args),
    async subscribe(channel: string, handlers: RedisSubscriptionHandlers) {
      if (handlers.signal?.aborted) throw abortError();
      const sub = client.duplicate();
      const end = subs.add(sub, handlers.signal);
      let active = false;
      // Failures reach the callers as rejected commands; without a listener ioredis prints each one.
      sub.on('error', () => undefined);
      sub.on('message', (from: string, message: string) => {
        if (from === channel) handlers.onMessage(message);
      });
      sub.on('ready', () => {
        if (!active) return;
        // ioredis emits 'ready' before its automatic re-SUBSCRIBE is answered. Ours is answered
        // after it (one connection, in order), so the channel is live again when onReconnect runs.
        sub.subscribe(channel).then(
          () => handlers.onReconnect?.(),
          () => undefined, // lost again: the next 'ready' retries
        );
      });
      try {
        await sub.subscribe(channel);
      } catch (error) {
        end();
        throw handlers.signal?.aborted ? abortError() : error;
      }
      active = true;
      return async () => end();
    },
    async close() {
      subs.closeAll();
    },
  };
}

/**
 * A {@link RedisPort} over a node-redis client (`redis` 5.x `createClient()`; node-redis 6 needs
 * Redis 7.2+). Connect `client` before use; the app keeps owning it. A node-redis cluster
 * (`createCluster`) routes `sendCommand` differently: give it a port of your own.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import { createRedisStores, fromNodeRedis } from '@oin-oidc/redis';
 * const client = await createClient({ url: process.env.OIN_REDIS_URL }).on('error', log).connect();
 * const stores = createRedisStores({ client: fromNodeRedis(client) });
 * ```
 */
export function fromNodeRedis(client: NodeRedisClientLike): RedisPort {
  // Open but not ready: node-redis is reconnecting; fail at once as with ioredis above.
  const command = (args: readonly string[]) => (client.isOpen && client.isReady === false ? Promise.reject(notConnected()) : client.sendCommand([...args]));
  const subs = subscriptions<NodeRedisClientLike>((sub) => {
    if (sub.isOpen) sub.destroy();
  });
  return {
    command,
    evalScript: (script, keys, args) => evalWithFallback(command, script, keys, args),
    async subscribe(channel: string, handlers: RedisSubscriptionHandlers) {
      if (handlers.signal?.aborted) throw abortError();
      const sub = client.duplicate();
      // node-redis throws an 'error' event without a listener (the process would crash).
      sub.on('error', () => undefined);
      let active = false;
      // node-redis emits 'ready' only after its automatic re-SUBSCRIBE was answered.
      sub.on('ready', () => {
        if (active) handlers.onReconnect?.();
      });
      const end = subs.add(sub, handlers.signal);
      try {
        await sub.connect();
        await sub.subscribe(channel, (message) => handlers.onMessage(message));
      } catch (error) {
        end();
        throw handlers.signal?.aborted ? abortError() : error;
      }
      active = true;
      return async () => end();
    },
    async close() {
      subs.closeAll();
    },
  };
}
