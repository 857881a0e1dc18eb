/**
 * Where the example keeps its state (the fleet variables in each example's README). Identical in
 * every example: copy it along with server.ts and config.ts. Reads the environment once, at
 * startup; a bad value stops the app with a message naming the variable (never its value when it
 * may hold a secret).
 *
 *   OIN_REDIS_URL                redis:// or rediss:// URL: replay cache, introspection cache,
 *                                rate-limit state and session revocation shared through Redis
 *   OIN_SESSION_STORE            cookie (default: the sealed cookie holds the session), redis (needs
 *                                OIN_REDIS_URL) or postgres (needs OIN_DATABASE_URL): sessions server-side
 *   OIN_DATABASE_URL             postgres:// URL: tenants live in PostgreSQL (migrated at start)
 *   OIN_ENCRYPTION_KEYS          required with OIN_DATABASE_URL: comma-separated kid:base64url-32-bytes,
 *                                the first encrypts client secrets and private keys at rest
 *   OIN_INTROSPECTION_CACHE_SEC  longest time an introspection answer is reused (1-3600); 0 turns the cache off
 *
 * Without any of them nothing changes: tenants from OIN_TENANTS_FILE in memory, everything else
 * in this process's memory (the SDK defaults), so one process needs no server.
 */
import { createHmac } from 'node:crypto';
import {
  createMemoryCredentialStore,
  type CredentialStore,
  type OidcClientOptions,
  type RateLimitStore,
  type SessionStore,
  type SharedRevocationList,
  type Tenant,
  type TtlStore,
} from '@oin-oidc/core';
import type { ExampleConfig } from './config';

export interface ExampleStores {
  /** The tenants: PostgreSQL with OIN_DATABASE_URL, else OIN_TENANTS_FILE's records in memory. */
  store: CredentialStore;
  /** Spread into the adapter's `session` option. */
  session: { store?: SessionStore; revocations?: SharedRevocationList };
  /** Spread into the adapter's `client` option. */
  client: { replayStore?: TtlStore; rateLimitStore?: RateLimitStore; introspectionCache?: OidcClientOptions['introspectionCache'] };
  /** The tenants the home page lists (read from the store: a tenant added in the database shows up). */
  tenants(): Promise<readonly Tenant[]>;
}

interface FleetEnv {
  redisUrl: string | undefined;
  sessionStore: 'cookie' | 'redis' | 'postgres';
  databaseUrl: string | undefined;
  encryptionKeys: string | undefined;
  introspectionCacheSec: number | undefined;
}

/** Build the stores the environment asks for, or print what is wrong and exit(1). */
export async function loadStores(config: ExampleConfig, env: NodeJS.ProcessEnv = process.env): Promise<ExampleStores> {
  let fleet: FleetEnv;
  try {
    fleet = parseFleetEnv(env);
  } catch (error) {
    return fail(error);
  }
  const closers: (() => Promise<void>)[] = [];
  try {
    const stores = await connect(config, fleet, closers);
    if (closers.length > 0) closeOnSignal(closers);
    return stores;
  } catch (error) {
    await Promise.allSettled(closers.map((close) => close()));
    return fail(error);
  }
}

function fail(error: unknown): never {
  console.error(`Configuration error: ${error instanceof Error ? error.message : String(error)}`);
  console.error('See the README of this example for OIN_REDIS_URL, OIN_SESSION_STORE, OIN_DATABASE_URL, OIN_ENCRYPTION_KEYS and OIN_INTROSPECTION_CACHE_SEC.');
  process.exit(1);
}

function parseFleetEnv(env: NodeJS.ProcessEnv): FleetEnv {
  // URLs may carry a password: messages name the variable, never echo the value.
  const redisUrl = optional(env, 'OIN_REDIS_URL');
  if (redisUrl !== undefined && !['redis:', 'rediss:'].includes(URL.parse(redisUrl)?.protocol ?? '')) {
    throw new Error('OIN_REDIS_URL must be a redis:// or rediss:// URL');
  }
  const databaseUrl = optional(env, 'OIN_DATABASE_URL');
  if (databaseUrl !== undefined && !['postgres:', 'postgresql:'].includes(URL.parse(databaseUrl)?.protocol ?? '')) {
    throw new Error('OIN_DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const encryptionKeys = optional(env, 'OIN_ENCRYPTION_KEYS');
  if (databaseUrl !== undefined && encryptionKeys === undefined) {
    throw new Error('OIN_ENCRYPTION_KEYS is not set (required with OIN_DATABASE_URL: comma-separated kid:base64url-32-bytes, the first encrypts)');
  }

  const sessionStore = optional(env, 'OIN_SESSION_STORE') ?? 'cookie';
  if (sessionStore !== 'cookie' && sessionStore !== 'redis' && sessionStore !== 'postgres') {
    throw new Error(`OIN_SESSION_STORE must be cookie, redis or postgres, got "${sessionStore.slice(0, 40)}"`);
  }
  if (sessionStore === 'redis' && redisUrl === undefined) throw new Error('OIN_SESSION_STORE=redis needs OIN_REDIS_URL');
  if (sessionStore === 'postgres' && databaseUrl === undefined) throw new Error('OIN_SESSION_STORE=postgres needs OIN_DATABASE_URL');

  const rawCache = optional(env, 'OIN_INTROSPECTION_CACHE_SEC');
  const introspectionCacheSec = rawCache === undefined ? undefined : Number(rawCache);
  if (rawCache !== undefined && (!/^\d{1,4}$/.test(rawCache) || introspectionCacheSec! > 3600)) {
    throw new Error(`OIN_INTROSPECTION_CACHE_SEC must be an integer from 0 (off) to 3600 seconds, got "${rawCache.slice(0, 40)}"`);
  }
  return { redisUrl, sessionStore, databaseUrl, encryptionKeys, introspectionCacheSec };
}

async function connect(config: ExampleConfig, fleet: FleetEnv, closers: (() => Promise<void>)[]): Promise<ExampleStores> {
  const session: ExampleStores['session'] = {};
  const client: ExampleStores['client'] = {};
  const cache: Exclude<OidcClientOptions['introspectionCache'], false | undefined> = {};
  if (fleet.introspectionCacheSec !== undefined && fleet.introspectionCacheSec > 0) cache.maxTtlSec = fleet.introspectionCacheSec;

  if (fleet.redisUrl !== undefined) {
    // Loaded only when asked for: the single-process example needs neither client nor server.
    const [{ Redis }, { createRedisStores }] = await Promise.all([import('ioredis'), import('@oin-oidc/redis')]);
    const redis = new Redis(fleet.redisUrl, {
      // While Redis is down, reconnect every half second at most, and fail a waiting command at the
      // next failed attempt instead of queueing it: every store call then fails fast (the stores
      // also bound each call with their own timeout), and the fallbacks answer without delay.
      retryStrategy: (attempt) => Math.min(attempt * 50, 500),
      maxRetriesPerRequest: 0,
    });
    logConnectionState(redis, 'Redis');
    closers.push(async () => redis.disconnect());
    const redisStores = createRedisStores({ client: redis, evictionCheck: false });
    closers.unshift(() => redisStores.close());
    try {
      // Anything but maxmemory-policy noeviction could evict live replay entries: a loud warning (WARN_OIDC_REDIS_EVICTION).
      await redisStores.checkEvictionPolicy();
    } catch (error) {
      throw new Error(`OIN_REDIS_URL: cannot reach Redis (${reason(error)})`);
    }
    client.replayStore = redisStores.ttlStore;
    client.rateLimitStore = redisStores.rateLimitStore;
    session.revocations = redisStores.revocationList;
    cache.store = redisStores.ttlStore;
    // Keys of the shared cache are HMACs of tokens under a key every process derives alike; never
    // the session secret itself, so a leak of one is not a leak of the other.
    cache.keySecret = createHmac('sha256', config.sessionSecrets[0]!).update('oin-oidc example: introspection cache keys').digest('base64url');
    // The first process to see a token asks Okta; the others wait for its answer.
    cache.fleetSingleFlight = true;
    if (fleet.sessionStore === 'redis') session.store = redisStores.sessionStore;
  }
  if (fleet.introspectionCacheSec === 0) client.introspectionCache = false;
  else if (Object.keys(cache).length > 0) client.introspectionCache = cache;

  if (fleet.databaseUrl === undefined) {
    const store = createMemoryCredentialStore(config.tenants);
    return { store, session, client, tenants: async () => config.tenants };
  }

  const [pg, postgres] = await Promise.all([import('pg'), import('@oin-oidc/postgres')]);
  let encryptionKeys: ReturnType<typeof postgres.parseEncryptionKeys>;
  try {
    encryptionKeys = postgres.parseEncryptionKeys(fleet.encryptionKeys!);
  } catch (error) {
    // The package's messages name the entry by position, never a key.
    throw new Error(`OIN_ENCRYPTION_KEYS: ${reason(error)}`);
  }
  const pool = new pg.default.Pool({ connectionString: fleet.databaseUrl, max: 5, connectionTimeoutMillis: 2000 });
  // An idle connection that breaks (a database restart) is an 'error' event: without a listener it crashes the process.
  pool.on('error', (error) => console.warn(`[example] PostgreSQL connection lost (${reason(error)}); reconnecting on next use`));
  closers.push(() => pool.end());
  try {
    await postgres.migrate(pool);
  } catch (error) {
    throw new Error(`OIN_DATABASE_URL: cannot migrate the database (${reason(error)})`);
  }
  let store: Awaited<ReturnType<typeof postgres.createPostgresCredentialStore>>;
  try {
    store = await postgres.createPostgresCredentialStore({ pool, encryptionKeys });
  } catch (error) {
    throw new Error(`OIN_DATABASE_URL: cannot load the tenants (${reason(error)})`);
  }
  closers.unshift(() => store.close());
  try {
    // Every process may do this at start: unchanged records cost no write.
    if (config.tenants.length > 0) await postgres.upsertTenants(store, config.tenants);
  } catch (error) {
    throw new Error(`OIN_TENANTS_FILE: cannot store its records in the database (${reason(error)})`);
  }
  if (fleet.sessionStore === 'postgres') {
    // Sessions are sealed with the same at-rest keys as the tenants' secrets.
    let sessions: Awaited<ReturnType<typeof postgres.createPostgresSessionStore>>;
    try {
      sessions = await postgres.createPostgresSessionStore({ pool, encryptionKeys });
    } catch (error) {
      throw new Error(`OIN_SESSION_STORE=postgres: cannot open the session store (${reason(error)})`);
    }
    closers.unshift(() => sessions.close());
    session.store = sessions;
  }

  return { store, session, client, tenants: () => store.list() };
}

/** One line when a connection is lost and one when it is back, not one per reconnect attempt. */
function logConnectionState(client: { on(event: 'error', listener: (error: Error) => void): unknown; on(event: 'ready', listener: () => void): unknown }, name: string): void {
  let down = false;
  client.on('error', (error) => {
    if (!down) console.warn(`[example] ${name} unavailable (${reason(error)}); retrying`);
    down = true;
  });
  client.on('ready', () => {
    if (down) console.warn(`[example] ${name} connection restored`);
    down = false;
  });
}

/** Close the stores, then let the signal end the process as it would have without us. */
function closeOnSignal(closers: (() => Promise<void>)[]): void {
  const onSignal = (signal: NodeJS.Signals) => {
    const deadline = setTimeout(() => process.kill(process.pid, signal), 3000);
    void (async () => {
      for (const close of closers) await close().catch(() => undefined);
      clearTimeout(deadline);
      process.kill(process.pid, signal);
    })();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** A short, secret-free reason: an error code or class, then the message of a typed error. */
function reason(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && code.startsWith('ERR_OIDC_') && typeof message === 'string') return `${code}: ${message}`;
    if (typeof code === 'string') return code;
  }
  return error instanceof Error ? error.name : 'error';
}
