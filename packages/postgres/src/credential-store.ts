/**
 * `CredentialStore` on PostgreSQL: the database is the source of truth, every process keeps a
 * full decrypted snapshot in memory, and LISTEN/NOTIFY tells every process which tenant to
 * reload after any write (from any process, the CLI or psql).
 */
import { parseTenant, type CredentialStore, type Tenant, type TenantRecord } from '@oin-oidc/core';
import { Pool, type ClientConfig } from 'pg';
import { type Db, channelOf, closedError, isValidSchema, qualified, transaction } from './db';
import { type EncryptionKey, resolveEncryptionKeys } from './encryption-keys';
import { storeFailure } from './errors';
import { type PostgresStoreEvent, defaultEventHandler } from './events';
import { type FieldCipher, type SecretField, createFieldCipher } from './field-cipher';
import { OidcError, isOidcError, stableJson } from './internal';
import { Listener } from './listener';
import { DEFAULT_SCHEMA } from './migrate';
import { Snapshot } from './snapshot';
import { TENANT_COLUMNS, type TenantRow, issuersOf, rowToTenant, tenantToRecord, toWrite } from './tenant-rows';

/** Options for {@link createPostgresCredentialStore}. Give `pool` or `connectionString`. */
export interface PostgresCredentialStoreOptions {
  /** Your app's pool. The store never ends it; it adds an `'error'` listener only if the pool has none (see README). */
  pool?: Pool;
  /** Or a connection string: the store creates its own pool and ends it on `close()`. */
  connectionString?: string;
  /** At-rest keys, first encrypts, all decrypt: `{ kid, key }[]` or the `OIN_ENCRYPTION_KEYS` text. */
  encryptionKeys: readonly EncryptionKey[] | string;
  /** Default `oin_oidc`; run {@link migrate} with the same schema first. */
  schema?: string;
  /** statement_timeout and client-side read timeout of every query, and the connect deadline. Default 2000 ms. */
  queryTimeoutMs?: number;
  /** Listener, reload and decryption events. Default: warnings to `console.warn`. */
  onEvent?: (event: PostgresStoreEvent) => void;
  /** Default true. false: no LISTEN connection (admin scripts); the snapshot then changes only through this instance or `reload()`. */
  listen?: boolean;
  /** Reconnect backoff of the LISTEN connection: default 100 ms doubling up to 5000 ms, with jitter. */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number };
  /** How often the LISTEN connection is pinged to find a half-open socket. Default 30 000 ms. */
  pingIntervalMs?: number;
  /** Rows per transaction in `reencryptAll()`. Default 100. */
  reencryptBatchSize?: number;
}

/** Where the snapshot stands. */
export interface PostgresStoreStatus {
  /** The LISTEN connection is up (always false with `listen: false`). */
  listening: boolean;
  /** Since when (epoch ms) changes from other processes may have been missed; undefined while listening. */
  staleSince: number | undefined;
  /** Tenants in the snapshot. */
  tenants: number;
  /** The last full reload (epoch ms). */
  lastFullReloadAt: number | undefined;
}

/** A started Postgres-backed {@link CredentialStore}; `get`/`findByIssuer`/`list` read only the in-memory snapshot. */
export interface PostgresCredentialStore extends CredentialStore {
  /** Validate, encrypt with the first key and upsert; resolves once this process's snapshot holds it. */
  put(record: TenantRecord): Promise<Tenant>;
  delete(tenantId: string): Promise<boolean>;
  list(): Promise<readonly Tenant[]>;
  /** Reload every tenant from the database now. */
  reload(): Promise<void>;
  /** Re-encrypt every row whose kid is not the first key's, in batches (one transaction each); resolves how many. */
  reencryptAll(): Promise<number>;
  /** Stop listening and every timer; ends the pool only if the store created it. */
  close(): Promise<void>;
  readonly status: PostgresStoreStatus;
  readonly size: number;
}

const TENANT_ID = /^[A-Za-z0-9._~-]{1,128}$/;

/** Internal hook between the store and upsertTenants (Symbol.for: one symbol across the ESM and CJS builds). */
export const HOLDS_CURRENT: unique symbol = Symbol.for('@oin-oidc/postgres.holdsCurrent') as never;
const UNIQUE_CLIENT = 'tenants_issuer_client_id_key';

function invalidOption(option: string, message: string): OidcError {
  return new OidcError('ERR_OIDC_INVALID_OPTIONS', `createPostgresCredentialStore: ${option} ${message}`, { details: { option } });
}

function positiveInt(value: unknown, option: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) throw invalidOption(option, `must be an integer from 1 to ${max}`);
  return value;
}

/**
 * Create and start a Postgres credential store: loads every tenant, then listens for changes.
 * Rejects with `ERR_OIDC_INVALID_OPTIONS` for bad options or keys and `ERR_OIDC_STORE_FAILURE`
 * when the database cannot be read (`details.reason` `not-migrated` before {@link migrate}).
 *
 * @example
 * ```ts
 * import { Pool } from 'pg';
 * import { createPostgresCredentialStore, migrate } from '@oin-oidc/postgres';
 *
 * const pool = new Pool({ connectionString: process.env.OIN_DATABASE_URL });
 * await migrate(pool);
 * const store = await createPostgresCredentialStore({ pool, encryptionKeys: process.env.OIN_ENCRYPTION_KEYS! });
 * const auth = oidc({ store, session: { secret } });
 * ```
 */
export async function createPostgresCredentialStore(options: PostgresCredentialStoreOptions): Promise<PostgresCredentialStore> {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'must be an object');
  if ((options.pool === undefined) === (options.connectionString === undefined)) throw invalidOption('pool', 'or connectionString is required (exactly one)');
  if (options.pool !== undefined && (typeof options.pool !== 'object' || typeof options.pool.connect !== 'function')) throw invalidOption('pool', 'must be a pg Pool');
  if (options.connectionString !== undefined && (typeof options.connectionString !== 'string' || options.connectionString === '')) {
    throw invalidOption('connectionString', 'must be a non-empty string');
  }
  const schema = options.schema ?? DEFAULT_SCHEMA;
  if (!isValidSchema(schema)) throw invalidOption('schema', 'must be a plain lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 48 characters)');
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') throw invalidOption('onEvent', 'must be a function');
  const keys = resolveEncryptionKeys(options.encryptionKeys);
  const settings: Settings = {
    schema,
    timeoutMs: positiveInt(options.queryTimeoutMs, 'queryTimeoutMs', 2000, 600_000),
    listen: options.listen ?? true,
    minDelayMs: positiveInt(options.reconnect?.minDelayMs, 'reconnect.minDelayMs', 100, 600_000),
    maxDelayMs: positiveInt(options.reconnect?.maxDelayMs, 'reconnect.maxDelayMs', 5000, 600_000),
    pingIntervalMs: positiveInt(options.pingIntervalMs, 'pingIntervalMs', 30_000, 3_600_000),
    batchSize: positiveInt(options.reencryptBatchSize, 'reencryptBatchSize', 100, 10_000),
    onEvent: options.onEvent ?? defaultEventHandler,
  };
  const cipher = await createFieldCipher(keys);
  const ownsPool = options.pool === undefined;
  const pool =
    options.pool ??
    new Pool({ connectionString: options.connectionString, max: 10, statement_timeout: settings.timeoutMs, connectionTimeoutMillis: settings.timeoutMs });
  const store = new PgCredentialStore(pool, ownsPool, cipher, settings);
  try {
    await store.start();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

interface Settings {
  schema: string;
  timeoutMs: number;
  listen: boolean;
  minDelayMs: number;
  maxDelayMs: number;
  pingIntervalMs: number;
  batchSize: number;
  onEvent: (event: PostgresStoreEvent) => void;
}

type Deferred = { resolve: () => void; reject: (error: unknown) => void };

class PgCredentialStore implements PostgresCredentialStore {
  readonly #db: Db;
  readonly #ownsPool: boolean;
  readonly #cipher: FieldCipher;
  readonly #settings: Settings;
  readonly #table: string;
  #snapshot = new Snapshot();
  #listener: Listener | undefined;
  #closed = false;
  #lastFullReloadAt: number | undefined;
  readonly #onPoolError: ((error: Error) => void) | undefined;
  // Reload queue: one batch at a time, each read after the previous one was applied, so a
  // later read never loses to an earlier one (a put's own reload starts after its commit).
  #pendingIds = new Set<string>();
  #pendingFull = false;
  #waiters: Deferred[] = [];
  #draining = false;
  #retryIds = new Set<string>();
  #retryFull = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryAttempt = 0;

  constructor(pool: Pool, ownsPool: boolean, cipher: FieldCipher, settings: Settings) {
    this.#db = { pool, schema: settings.schema, timeoutMs: settings.timeoutMs };
    this.#ownsPool = ownsPool;
    this.#cipher = cipher;
    this.#settings = settings;
    this.#table = qualified(this.#db, 'tenants');
    // node-postgres emits 'error' on the pool when an idle connection dies (Postgres restarted);
    // with no listener that is an uncaught exception. Only fill the gap, never replace the app's handler.
    if (ownsPool || pool.listenerCount('error') === 0) {
      this.#onPoolError = (error) =>
        this.#emit({ type: 'pool-error', level: 'warning', message: 'An idle pool connection failed (Postgres restarted or the network dropped); the pool reconnects on next use', error: toStoreErrorSafe(error) });
      pool.on('error', this.#onPoolError);
    }
  }

  // ---- read side: the snapshot only ----

  async get(tenantId: string): Promise<Tenant | undefined> {
    return this.#snapshot.byId.get(tenantId);
  }

  async findByIssuer(issuer: string): Promise<readonly Tenant[]> {
    return this.#snapshot.findByIssuer(issuer);
  }

  async list(): Promise<readonly Tenant[]> {
    return [...this.#snapshot.byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get size(): number {
    return this.#snapshot.byId.size;
  }

  get status(): PostgresStoreStatus {
    const listening = this.#listener?.listening ?? false;
    return {
      listening,
      staleSince: this.#settings.listen ? this.#listener?.lostAt : undefined,
      tenants: this.#snapshot.byId.size,
      lastFullReloadAt: this.#lastFullReloadAt,
    };
  }

  // ---- lifecycle ----

  async start(): Promise<void> {
    if (!this.#settings.listen) {
      await this.#request('all');
      return;
    }
    const { pool } = this.#db;
    this.#listener = new Listener({
      // Named, so a DBA can tell it apart in pg_stat_activity (and tests can find it).
      config: { ...(pool.options as ClientConfig), application_name: `${(pool.options as ClientConfig).application_name ?? 'oin-oidc'}:listen` },
      channel: channelOf(this.#settings.schema),
      timeoutMs: this.#settings.timeoutMs,
      pingIntervalMs: this.#settings.pingIntervalMs,
      minDelayMs: this.#settings.minDelayMs,
      maxDelayMs: this.#settings.maxDelayMs,
      onNotify: (payload) => this.#onNotify(payload),
      // LISTEN first, then load: a change committed in between is both loaded and notified, never missed.
      onListening: async (reconnect) => {
        await this.#request('all');
        if (!reconnect) this.#emit({ type: 'listening', level: 'info', message: `Listening on ${channelOf(this.#settings.schema)}; ${this.size} tenants loaded` });
      },
      onLost: (error, since) =>
        this.#emit({
          type: 'listener-lost',
          level: 'warning',
          message: `The LISTEN connection dropped: serving the last snapshot (${this.size} tenants); changes made elsewhere are not seen until it reconnects${error ? ` (${error.message})` : ''}`,
          ...(error ? { error } : {}),
          staleSince: since,
        }),
      onAttemptFailed: (error, attempt, retryInMs, since) =>
        this.#emit({
          type: 'reconnect-failed',
          // Every attempt is reported; warning level on attempts 1, 2, 4, 8, …: an outage of an
          // hour logs about a dozen lines by default, not one per backoff step.
          level: (attempt & (attempt - 1)) === 0 ? 'warning' : 'info',
          message: `Reconnecting the LISTEN connection failed (attempt ${attempt}, ${error.message}); snapshot possibly stale for ${Date.now() - since} ms, next attempt in ~${retryInMs} ms`,
          error,
          attempt,
          retryInMs,
          staleSince: since,
        }),
      onRecovered: (downMs, attempts) =>
        this.#emit({ type: 'reconnected', level: 'info', message: `LISTEN reconnected after ${downMs} ms (${attempts} attempts); all ${this.size} tenants reloaded`, downMs, attempt: attempts }),
    });
    await this.#listener.start();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    await this.#listener?.close();
    if (this.#onPoolError && !this.#ownsPool) this.#db.pool.off('error', this.#onPoolError);
    if (this.#ownsPool) await this.#db.pool.end().catch(() => {});
    // Anyone still waiting on a reload gets an answer.
    for (const waiter of this.#waiters.splice(0)) waiter.reject(closedError('reload'));
  }

  async reload(): Promise<void> {
    if (this.#closed) throw closedError('reload');
    await this.#request('all');
  }

  // ---- write side ----

  async put(record: TenantRecord): Promise<Tenant> {
    if (this.#closed) throw closedError('put');
    // Validated on the way in (and again on the way out, when the row is read back).
    const tenant = parseTenant(tenantToRecord(record));
    const write = await toWrite(tenant, this.#cipher);
    await transaction(this.#db, 'put', async (query) => {
      const [current] = await query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM ${this.#table} WHERE id = $1 FOR UPDATE`, [tenant.id]);
      // An identical record already encrypted with the first key: nothing to write, no NOTIFY
      // (every process of a fleet upserting the same tenants file at start-up costs no churn).
      if (current && current.key_id === this.#cipher.currentKid && (await this.#same(current, tenant))) return;
      // The (issuer, client id) rule covers issuer aliases too (as MemoryCredentialStore): no other
      // tenant with this client id may be found under any issuer this one is found under. The unique
      // constraint covers primary issuers; this check, serialised per client id by the lock, covers
      // aliases, including two puts racing.
      await query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`oin-oidc/postgres client ${this.#settings.schema} ${tenant.clientId}`]);
      const issuers = issuersOf(tenant);
      const [holder] = await query<{ id: string }>(
        `SELECT id FROM ${this.#table} WHERE client_id = $2 AND id <> $3 AND (issuer = ANY($1::text[]) OR coalesce(record -> 'issuerAliases', '[]'::jsonb) ?| $1::text[]) ORDER BY id LIMIT 1`,
        [issuers, tenant.clientId, tenant.id],
      );
      if (holder) throw duplicateClient(tenant, holder.id);
      try {
        // Every parameter is ciphertext or a non-secret field: a query log never sees a secret.
        await query(
          `INSERT INTO ${this.#table} (id, issuer, client_id, record, client_secrets, private_jwk, key_id)
           VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)
           ON CONFLICT (id) DO UPDATE SET issuer = EXCLUDED.issuer, client_id = EXCLUDED.client_id, record = EXCLUDED.record,
             client_secrets = EXCLUDED.client_secrets, private_jwk = EXCLUDED.private_jwk, key_id = EXCLUDED.key_id`,
          [write.id, write.issuer, write.clientId, write.record, write.clientSecrets, write.privateJwk, write.keyId],
        );
      } catch (error) {
        // A concurrent put took the pair between our check and the insert: the constraint decides.
        if ((error as { code?: unknown; constraint?: unknown }).code === '23505' && (error as { constraint?: unknown }).constraint === UNIQUE_CLIENT) {
          throw duplicateClient(tenant, undefined, error);
        }
        throw error;
      }
    });
    await this.#refreshAfterWrite(tenant.id);
    return tenant;
  }

  async delete(tenantId: string): Promise<boolean> {
    if (this.#closed) throw closedError('delete');
    // No row can have an id outside the CHECK's charset: answer without a query.
    if (typeof tenantId !== 'string' || !TENANT_ID.test(tenantId)) return false;
    const deleted = await transaction(this.#db, 'delete', (query) => query(`DELETE FROM ${this.#table} WHERE id = $1 RETURNING id`, [tenantId]));
    await this.#refreshAfterWrite(tenantId);
    return deleted.length > 0;
  }

  async reencryptAll(): Promise<number> {
    if (this.#closed) throw closedError('reencryptAll');
    const { count, ids } = await reencryptRows(this.#db, this.#cipher, this.#settings.batchSize);
    // The NOTIFYs reload the other processes; this one refreshes the rows it rewrote now.
    if (ids.length > 0) await this.#refreshAfterWrite(...ids);
    return count;
  }

  async #same(row: TenantRow, tenant: Tenant): Promise<boolean> {
    try {
      return stableJson(tenantToRecord(await rowToTenant(row, this.#cipher))) === stableJson(tenantToRecord(tenant));
    } catch {
      return false; // unreadable: overwrite it
    }
  }

  /** The write committed: bring this process's snapshot up to it. A failure here does not undo the write, so it is reported and retried, not thrown. */
  async #refreshAfterWrite(...ids: string[]): Promise<void> {
    try {
      await this.#request(ids);
    } catch (error) {
      if (this.#closed) return;
      this.#emit({
        type: 'reload-failed',
        level: 'warning',
        message: `The write committed but reloading it failed (${isOidcError(error) ? error.message : 'unknown error'}); retrying`,
        ...(isOidcError(error) ? { error } : {}),
      });
      this.#scheduleRetry(ids);
    }
  }

  // ---- reloads ----

  #onNotify(payload: string): void {
    if (payload === '*') this.#request('all').catch((error) => this.#reloadFailed(error, 'all'));
    else if (TENANT_ID.test(payload)) this.#request([payload]).catch((error) => this.#reloadFailed(error, [payload]));
  }

  #reloadFailed(error: unknown, target: 'all' | string[]): void {
    if (this.#closed) return;
    this.#emit({
      type: 'reload-failed',
      level: 'warning',
      message: `Reloading ${target === 'all' ? 'all tenants' : `tenant "${target.join('", "')}"`} after a change notification failed (${isOidcError(error) ? error.message : 'unknown error'}); retrying`,
      ...(isOidcError(error) ? { error } : {}),
    });
    this.#scheduleRetry(target);
  }

  #scheduleRetry(target: 'all' | string[]): void {
    if (target === 'all') this.#retryFull = true;
    else for (const id of target) this.#retryIds.add(id);
    if (this.#retryTimer !== undefined || this.#closed) return;
    const delay = Math.min(this.#settings.maxDelayMs, this.#settings.minDelayMs * 2 ** this.#retryAttempt++);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      const full = this.#retryFull;
      const ids = [...this.#retryIds];
      this.#retryFull = false;
      this.#retryIds.clear();
      this.#request(full ? 'all' : ids).then(
        () => {
          this.#retryAttempt = 0;
        },
        (error) => this.#reloadFailed(error, full ? 'all' : ids),
      );
    }, delay);
    this.#retryTimer.unref();
  }

  /** Queue a reload; resolves when a batch that started after this call has been applied. */
  #request(target: 'all' | string[]): Promise<void> {
    if (this.#closed) return Promise.reject(closedError('reload'));
    if (target === 'all') this.#pendingFull = true;
    else for (const id of target) this.#pendingIds.add(id);
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    void this.#drain();
    return done;
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (!this.#closed && (this.#pendingFull || this.#pendingIds.size > 0)) {
        const full = this.#pendingFull;
        const ids = [...this.#pendingIds];
        const waiters = this.#waiters;
        this.#pendingFull = false;
        this.#pendingIds = new Set();
        this.#waiters = [];
        try {
          await this.#load(full ? 'all' : ids);
          for (const waiter of waiters) waiter.resolve();
        } catch (error) {
          for (const waiter of waiters) waiter.reject(error);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  async #load(target: 'all' | string[]): Promise<void> {
    const rows =
      target === 'all'
        ? await transaction(this.#db, 'loading tenants', (query) => query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM ${this.#table} ORDER BY id`))
        : await transaction(this.#db, 'reloading tenants', (query) => query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM ${this.#table} WHERE id = ANY($1::text[])`, [target]));
    if (this.#closed) return;
    const current = this.#snapshot;
    if (target === 'all') {
      const entries: { tenant: Tenant; revision: string }[] = [];
      for (const row of rows) {
        const entry = await this.#read(row, current);
        if (entry) entries.push(entry);
      }
      this.#snapshot = Snapshot.from(entries);
      this.#lastFullReloadAt = Date.now();
      this.#emit({ type: 'reloaded', level: 'info', message: `Loaded ${entries.length} tenants`, tenants: entries.length, full: true });
      return;
    }
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const id of target) {
      const row = byId.get(id);
      if (row === undefined) {
        current.remove(id);
        continue;
      }
      const entry = await this.#read(row, current);
      if (entry && entry.revision !== current.revisions.get(id)) current.set(entry.tenant, entry.revision);
    }
    this.#emit({ type: 'reloaded', level: 'info', message: `Reloaded ${target.length} tenant(s)`, tenants: current.byId.size, full: false });
  }

  /** One row → snapshot entry: the held tenant when the revision is unchanged, else decrypted and validated; an unreadable row keeps the held version. */
  async #read(row: TenantRow, current: Snapshot): Promise<{ tenant: Tenant; revision: string } | undefined> {
    const held = current.byId.get(row.id);
    const heldRevision = current.revisions.get(row.id);
    if (held && heldRevision === revisionOf(row)) return { tenant: held, revision: heldRevision };
    try {
      return { tenant: await rowToTenant(row, this.#cipher), revision: revisionOf(row) };
    } catch (cause) {
      const error = isOidcError(cause) ? cause : storeFailure('malformed', `Postgres credential store: the row of tenant "${row.id}" was refused`, { cause });
      this.#emit({
        type: 'tenant-unreadable',
        level: 'warning',
        message: `Tenant "${row.id}" in the database could not be read (${error.code}${typeof error.details?.['reason'] === 'string' ? `, ${error.details['reason']}` : ''}): ${held ? 'keeping its previous version' : 'it stays unknown'}`,
        error,
        tenantId: row.id,
      });
      return held && heldRevision !== undefined ? { tenant: held, revision: heldRevision } : undefined;
    }
  }

  /**
   * For upsertTenants: true when the snapshot holds exactly this tenant, encrypted with the first
   * key, so a fleet upserting its tenants file at start-up reads the snapshot instead of locking
   * every row. (A change made elsewhere in the same instant races the upsert either way.)
   */
  [HOLDS_CURRENT](tenant: Tenant): boolean {
    const held = this.#snapshot.byId.get(tenant.id);
    const revision = this.#snapshot.revisions.get(tenant.id);
    if (held === undefined || !revision?.endsWith(`:${this.#cipher.currentKid}`)) return false;
    return stableJson(tenantToRecord(held)) === stableJson(tenantToRecord(tenant));
  }

  #emit(event: PostgresStoreEvent): void {
    try {
      this.#settings.onEvent(event);
    } catch {
      // A throwing handler must not break reloads or reconnects.
    }
  }
}

/** What the snapshot remembers of a row: its revision and the kid it was encrypted with (compared for equality only). */
function revisionOf(row: TenantRow): string {
  return `${row.revision}:${row.key_id}`;
}

function toStoreErrorSafe(error: unknown): OidcError {
  return storeFailure('unavailable', 'Postgres credential store: a pool connection failed', { cause: error });
}

function duplicateClient(tenant: Tenant, otherTenantId: string | undefined, cause?: unknown): OidcError {
  // Names the field and the other record's id (configuration, not a secret); never a secret.
  const other = otherTenantId === undefined ? 'another tenant' : `tenant "${otherTenantId}"`;
  return new OidcError('ERR_OIDC_INVALID_TENANT', `Tenant "${tenant.id}": clientId is already registered for this issuer by ${other}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { field: 'clientId', tenantId: tenant.id, ...(otherTenantId === undefined ? {} : { otherTenantId }) },
  });
}

/**
 * Re-encrypt every row whose kid is not the first key's: batches of `batchSize` rows, each in
 * its own transaction holding the rows' locks. Rows that cannot be decrypted (a kid no longer
 * configured, a tampered ciphertext) are left as they are and reported at the end with
 * `ERR_OIDC_STORE_FAILURE` (`details.reason` `reencrypt-incomplete`, `details.failed` their ids).
 */
export async function reencryptRows(db: Db, cipher: FieldCipher, batchSize: number): Promise<{ count: number; ids: string[] }> {
  const table = qualified(db, 'tenants');
  const ids: string[] = [];
  const failed: string[] = [];
  let after = '';
  for (;;) {
    const batch = await transaction(db, 'reencrypt', async (query) => {
      const rows = await query<{ id: string; client_secrets: string | null; private_jwk: string | null }>(
        `SELECT id, client_secrets, private_jwk FROM ${table} WHERE key_id <> $1 AND id > $2 ORDER BY id LIMIT $3 FOR UPDATE`,
        [cipher.currentKid, after, batchSize],
      );
      const done: string[] = [];
      const refused: string[] = [];
      for (const row of rows) {
        const [column, field, jwe]: [string, SecretField, string | null] =
          row.client_secrets !== null ? ['client_secrets', 'clientSecrets', row.client_secrets] : ['private_jwk', 'privateJwk', row.private_jwk];
        if (jwe === null) {
          refused.push(row.id);
          continue;
        }
        let value: unknown;
        try {
          value = await cipher.decrypt(jwe, row.id, field);
        } catch {
          refused.push(row.id);
          continue;
        }
        await query(`UPDATE ${table} SET ${column} = $2, key_id = $3 WHERE id = $1`, [row.id, await cipher.encrypt(value, row.id, field), cipher.currentKid]);
        done.push(row.id);
      }
      return { done, refused, last: rows.at(-1)?.id, size: rows.length };
    });
    ids.push(...batch.done);
    failed.push(...batch.refused);
    if (batch.size < batchSize || batch.last === undefined) break;
    after = batch.last;
  }
  if (failed.length > 0) {
    throw storeFailure('reencrypt-incomplete', `reencrypt: ${ids.length} rows re-encrypted, ${failed.length} could not be decrypted with the configured keys`, {
      details: { reencrypted: ids.length, failed },
    });
  }
  return { count: ids.length, ids };
}
