/**
 * `SessionStore` on PostgreSQL: one row per session, encrypted, keyed by a hash of its id.
 *
 * Every operation is one statement, and the two that race (a rolling `set` and a logout's
 * `delete`) are each an `INSERT … ON CONFLICT DO UPDATE` on the same primary key, so PostgreSQL's
 * row lock orders them: a `set` that comes after a `delete` finds the tombstone and writes
 * nothing (connect-redis #328). Expiry is `expires_at`, checked on every read, never past the
 * session's own `expiresAt` (connect-redis #251), so no sweeper is needed for correctness.
 */
import { codedTypeError } from '@oin-oidc/core';
import type { Session, SessionStore } from '@oin-oidc/core';
import { base64url } from 'jose';
import { Pool } from 'pg';
import { type Db, closedError, isValidSchema, qualified, single } from './db';
import { type EncryptionKey, resolveEncryptionKeys } from './encryption-keys';
import { toStoreError } from './errors';
import { type PostgresStoreEvent, defaultEventHandler } from './events';
import { type FieldCipher, createFieldCipher } from './field-cipher';
import { OidcError, isOidcError } from './internal';
import { DEFAULT_SCHEMA } from './migrate';

/** Options for {@link createPostgresSessionStore}. Give `pool` or `connectionString`. */
export interface PostgresSessionStoreOptions {
  pool?: Pool;
  connectionString?: string;
  /** The same form as the credential store's; sessions are short-lived, so rotation is: add the new key first, drop the old one after `absoluteSec`. */
  encryptionKeys: readonly EncryptionKey[] | string;
  /** Default `oin_oidc`; run {@link migrate} first. */
  schema?: string;
  /** Connect deadline and client-side read timeout of every statement. Default 2000 ms. */
  queryTimeoutMs?: number;
  /** How long a `delete` of an id the store does not hold refuses later writes of it. Default 24 h (as MemorySessionStore). */
  tombstoneSec?: number;
  /** `session-unreadable` warnings (a row that no configured key opens). Default: `console.warn`. */
  onEvent?: (event: PostgresStoreEvent) => void;
  /** Clock in ms (tests). Default `Date.now`; the database clock is never used, so app and DB skew does not matter. */
  now?: () => number;
}

/** A started Postgres {@link SessionStore}. */
export interface PostgresSessionStore extends SessionStore {
  deleteBySubject(tenant: string, sub: string): Promise<number>;
  /** Optional housekeeping: delete rows (sessions and tombstones) past their end; resolves how many. Not needed for correctness. */
  cleanup(): Promise<number>;
  /** Ends the pool only if the store created it. */
  close(): Promise<void>;
}

async function sha256(text: string): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))));
}

/**
 * Create a Postgres session store (checks the table exists: `ERR_OIDC_STORE_FAILURE` with
 * `details.reason` `not-migrated` before {@link migrate}). Every method rejects with
 * `ERR_OIDC_STORE_FAILURE` when the database fails; none answers "no session" for an outage.
 *
 * @example
 * ```ts
 * const sessions = await createPostgresSessionStore({ pool, encryptionKeys: process.env.OIN_ENCRYPTION_KEYS! });
 * const auth = oidc({ store, session: { secret, store: sessions } });
 * ```
 */
export async function createPostgresSessionStore(options: PostgresSessionStoreOptions): Promise<PostgresSessionStore> {
  const invalid = (option: string, message: string) =>
    new OidcError('ERR_OIDC_INVALID_OPTIONS', `createPostgresSessionStore: ${option} ${message}`, { details: { option } });
  if (typeof options !== 'object' || options === null) throw invalid('options', 'must be an object');
  if ((options.pool === undefined) === (options.connectionString === undefined)) throw invalid('pool', 'or connectionString is required (exactly one)');
  const schema = options.schema ?? DEFAULT_SCHEMA;
  if (!isValidSchema(schema)) throw invalid('schema', 'must be a plain lower-case SQL identifier');
  const timeoutMs = options.queryTimeoutMs ?? 2000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000) throw invalid('queryTimeoutMs', 'must be an integer from 1 to 600000');
  const tombstoneSec = options.tombstoneSec ?? 24 * 60 * 60;
  if (!Number.isFinite(tombstoneSec) || tombstoneSec <= 0) throw invalid('tombstoneSec', 'must be a positive number of seconds');
  const cipher = await createFieldCipher(resolveEncryptionKeys(options.encryptionKeys));
  const ownsPool = options.pool === undefined;
  const pool =
    options.pool ??
    new Pool({ connectionString: options.connectionString, max: 10, statement_timeout: timeoutMs, query_timeout: timeoutMs, connectionTimeoutMillis: timeoutMs });
  if (ownsPool) pool.on('error', () => {}); // an idle connection dying (Postgres restarted) must not crash the app; the next query reconnects
  const db: Db = { pool, schema, timeoutMs };
  const store = new PgSessionStore(db, ownsPool, cipher, tombstoneSec * 1000, options.now ?? Date.now, options.onEvent ?? defaultEventHandler);
  try {
    await single(db, 'checking the sessions table', `SELECT 1 FROM ${qualified(db, 'sessions')} LIMIT 0`, []);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

class PgSessionStore implements PostgresSessionStore {
  readonly #db: Db;
  readonly #ownsPool: boolean;
  readonly #cipher: FieldCipher;
  readonly #tombstoneMs: number;
  readonly #now: () => number;
  readonly #onEvent: (event: PostgresStoreEvent) => void;
  readonly #table: string;
  #closed = false;

  constructor(db: Db, ownsPool: boolean, cipher: FieldCipher, tombstoneMs: number, now: () => number, onEvent: (event: PostgresStoreEvent) => void) {
    this.#db = db;
    this.#ownsPool = ownsPool;
    this.#cipher = cipher;
    this.#tombstoneMs = tombstoneMs;
    this.#now = now;
    this.#onEvent = onEvent;
    this.#table = qualified(db, 'sessions');
  }

  async get(id: string): Promise<Session | undefined> {
    this.#open('get');
    const idHash = await sha256(id);
    const [row] = await single<{ data: string }>(
      this.#db,
      'session get',
      `SELECT data FROM ${this.#table} WHERE id_hash = $1 AND NOT deleted AND expires_at > to_timestamp($2::double precision / 1000)`,
      [idHash, this.#now()],
    );
    if (row === undefined) return undefined;
    try {
      const session = (await this.#cipher.decrypt(row.data, idHash, 'session')) as Session;
      // The id inside must be the one asked for (the binding already says so; this is belt and braces).
      return session !== null && typeof session === 'object' && session.id === id ? session : undefined;
    } catch (error) {
      // A session no configured key opens (its key was dropped too early, or the row was tampered
      // with) is no session: the user signs in again. Reported, never silent.
      this.#warn(error);
      return undefined;
    }
  }

  async set(id: string, session: Session, ttlSec: number): Promise<void> {
    this.#open('set');
    if (!Number.isFinite(ttlSec) || ttlSec <= 0) throw codedTypeError('ttlSec must be a positive, finite number of seconds', 'ERR_INVALID_ARG_VALUE');
    const now = this.#now();
    const idHash = await sha256(id);
    const expiresAt = Math.min(now + ttlSec * 1000, session.expiresAt);
    if (expiresAt <= now) {
      // Nothing to keep: drop a live entry (a tombstone stays).
      await single(this.#db, 'session set', `DELETE FROM ${this.#table} WHERE id_hash = $1 AND NOT deleted`, [idHash]);
      return;
    }
    const [subjectHash, data] = await Promise.all([sha256(JSON.stringify([session.tenant, session.sub])), this.#cipher.encrypt(session, idHash, 'session')]);
    // One statement. On conflict with a live tombstone nothing is written except the tombstone's
    // end, pushed to this session's expiresAt, so a still later write is refused too.
    await single(
      this.#db,
      'session set',
      `INSERT INTO ${this.#table} AS s (id_hash, subject_hash, data, key_id, expires_at, session_expires_at, deleted)
       VALUES ($1, $2, $3, $4, to_timestamp($5::double precision / 1000), to_timestamp($6::double precision / 1000), false)
       ON CONFLICT (id_hash) DO UPDATE SET
         data = CASE WHEN s.deleted AND s.expires_at > to_timestamp($7::double precision / 1000) THEN NULL ELSE EXCLUDED.data END,
         key_id = CASE WHEN s.deleted AND s.expires_at > to_timestamp($7::double precision / 1000) THEN NULL ELSE EXCLUDED.key_id END,
         subject_hash = CASE WHEN s.deleted AND s.expires_at > to_timestamp($7::double precision / 1000) THEN s.subject_hash ELSE EXCLUDED.subject_hash END,
         expires_at = CASE WHEN s.deleted AND s.expires_at > to_timestamp($7::double precision / 1000)
                           THEN greatest(s.expires_at, EXCLUDED.session_expires_at) ELSE EXCLUDED.expires_at END,
         session_expires_at = CASE WHEN s.deleted AND s.expires_at > to_timestamp($7::double precision / 1000)
                           THEN greatest(s.session_expires_at, EXCLUDED.session_expires_at) ELSE EXCLUDED.session_expires_at END,
         deleted = s.deleted AND s.expires_at > to_timestamp($7::double precision / 1000)`,
      [idHash, subjectHash, data, this.#cipher.currentKid, expiresAt, session.expiresAt, now],
    );
  }

  async delete(id: string): Promise<void> {
    this.#open('delete');
    const now = this.#now();
    const idHash = await sha256(id);
    // A held session's tombstone lasts until its expiresAt; an unknown id's for tombstoneSec.
    await single(
      this.#db,
      'session delete',
      `INSERT INTO ${this.#table} AS s (id_hash, subject_hash, data, key_id, expires_at, session_expires_at, deleted)
       VALUES ($1, '', NULL, NULL, to_timestamp($2::double precision / 1000), to_timestamp($2::double precision / 1000), true)
       ON CONFLICT (id_hash) DO UPDATE SET
         data = NULL, key_id = NULL, deleted = true,
         expires_at = CASE WHEN s.deleted THEN greatest(s.expires_at, EXCLUDED.expires_at) ELSE s.session_expires_at END`,
      [idHash, now + this.#tombstoneMs],
    );
  }

  async deleteBySubject(tenant: string, sub: string): Promise<number> {
    this.#open('deleteBySubject');
    const now = this.#now();
    const subjectHash = await sha256(JSON.stringify([tenant, sub]));
    // FOR UPDATE: a rolling set of one of these sessions waits, then finds the tombstone.
    const rows = await single<{ live: boolean }>(
      this.#db,
      'session deleteBySubject',
      `UPDATE ${this.#table} AS s SET data = NULL, key_id = NULL, deleted = true, expires_at = s.session_expires_at
       FROM (SELECT id_hash, expires_at > to_timestamp($2::double precision / 1000) AS live FROM ${this.#table}
             WHERE subject_hash = $1 AND NOT deleted FOR UPDATE) AS d
       WHERE s.id_hash = d.id_hash
       RETURNING d.live`,
      [subjectHash, now],
    );
    return rows.filter((row) => row.live).length;
  }

  async cleanup(): Promise<number> {
    this.#open('cleanup');
    const rows = await single(this.#db, 'session cleanup', `DELETE FROM ${this.#table} WHERE expires_at <= to_timestamp($1::double precision / 1000) RETURNING 1`, [this.#now()]);
    return rows.length;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsPool) await this.#db.pool.end().catch(() => {});
  }

  #open(operation: string): void {
    if (this.#closed) throw closedError(`session ${operation}`);
  }

  #warn(error: unknown): void {
    const typed = isOidcError(error) ? error : toStoreError(error, 'session decrypt');
    try {
      this.#onEvent({
        type: 'session-unreadable',
        level: 'warning',
        message: `A stored session could not be opened (${typeof typed.details?.['reason'] === 'string' ? typed.details['reason'] : typed.code}); treated as signed out`,
        error: typed,
      });
    } catch {
      // a throwing handler changes nothing
    }
  }
}

