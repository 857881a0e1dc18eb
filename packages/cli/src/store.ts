/**
 * The Postgres tenant store, opened for one command. The database URL comes from
 * `--database-url` or `OIN_DATABASE_URL`, the at-rest keys only from an environment variable
 * (`OIN_ENCRYPTION_KEYS`, or the one `--keys-env` names): keys are secrets, and argv is visible
 * to every user of the machine (`ps`, /proc/PID/cmdline) and lands in shell history.
 */
import { type EncryptionKey, type PostgresCredentialStore, createPostgresCredentialStore, parseEncryptionKeys } from '@oin-oidc/postgres';
import pg from 'pg';
import { UsageError } from './errors';
import type { Output } from './io';

export const DEFAULT_KEYS_ENV = 'OIN_ENCRYPTION_KEYS';
export const DATABASE_URL_ENV = 'OIN_DATABASE_URL';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Options every store-backed command takes. */
export interface StoreFlags {
  databaseUrl?: string;
  schema?: string;
  keysEnv?: string;
}

/** The database URL from the flag or the environment; its password is registered as a secret. */
export function databaseUrl(flags: StoreFlags, output: Output, required = true): string | undefined {
  const url = flags.databaseUrl ?? output.io.env[DATABASE_URL_ENV];
  if (url === undefined || url === '') {
    if (required) throw new UsageError(`a database is required: --database-url URL or ${DATABASE_URL_ENV}`);
    return undefined;
  }
  const parsed = URL.parse(url);
  if (parsed === null || (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')) {
    throw new UsageError('the database URL must be a postgres:// or postgresql:// URL');
  }
  if (parsed.password !== '') {
    output.secret(parsed.password);
    try {
      output.secret(decodeURIComponent(parsed.password));
    } catch {
      // not percent-encoded: the raw form is registered
    }
  }
  return url;
}

/** Parses the at-rest keys from their environment variable; every key text is registered as a secret. */
export function encryptionKeys(flags: StoreFlags, output: Output): EncryptionKey[] {
  const name = flags.keysEnv ?? DEFAULT_KEYS_ENV;
  if (!ENV_NAME.test(name)) throw new UsageError('--keys-env must name an environment variable');
  const text = output.io.env[name];
  if (text === undefined || text.trim() === '') throw new UsageError(`${name} is not set (at-rest keys: kid:base64url-32-bytes[,kid:…], the first encrypts)`);
  for (const entry of text.split(',')) output.secret(entry.trim().slice(entry.trim().indexOf(':') + 1));
  // ERR_OIDC_INVALID_OPTIONS names the entry by position only (exit 2).
  return parseEncryptionKeys(text);
}

/** A pool for one short command: two connections, an idle error never crashes it. */
export function openPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => {});
  return pool;
}

/** Runs `fn` with a started store (no LISTEN connection: a one-shot command), then closes both. */
export async function withStore<T>(
  flags: StoreFlags,
  output: Output,
  fn: (store: PostgresCredentialStore, pool: pg.Pool, schema: string, unreadable: ReadonlySet<string>) => Promise<T>,
): Promise<T> {
  const url = databaseUrl(flags, output) as string;
  const keys = encryptionKeys(flags, output);
  const schema = flags.schema ?? 'oin_oidc';
  const pool = openPool(url);
  try {
    // Rows the store could not decrypt or validate: the commands report them (and fail), so their warning is not printed twice.
    const unreadable = new Set<string>();
    const store = await createPostgresCredentialStore({
      pool,
      schema,
      encryptionKeys: keys,
      listen: false,
      queryTimeoutMs: 30_000,
      onEvent: (event) => {
        if (event.type === 'tenant-unreadable' && event.tenantId !== undefined) unreadable.add(event.tenantId);
        else if (event.level === 'warning') output.err(`warning: ${event.message}`);
      },
    });
    try {
      for (const tenant of await store.list()) output.secretsOf(tenant);
      return await fn(store, pool, schema, unreadable);
    } finally {
      await store.close();
    }
  } finally {
    await pool.end().catch(() => {});
  }
}

/**
 * The at-rest key id of each tenant row. The store does not expose it; the `key_id` column is
 * part of the documented schema (migration 1, the column `reencrypt` works from) and holds no
 * secret, so `tenants list` reads it to show which rows still await `tenants reencrypt`.
 */
export async function keyIds(pool: pg.Pool, schema: string): Promise<Map<string, string>> {
  const result = await pool.query<{ id: string; key_id: string }>(`SELECT id, key_id FROM "${schema}".tenants`);
  return new Map(result.rows.map((row) => [row.id, row.key_id]));
}
