/**
 * Versioned SQL migrations (`migrations/NNN_name.sql`), applied in order inside one transaction
 * that holds a transaction-scoped advisory lock, and recorded in `<schema>.schema_migrations`.
 * Several processes starting at once queue on the lock: the first applies, the others then find
 * nothing left to do. A failure rolls everything back, so a schema is never half-migrated.
 */
import type { Pool } from 'pg';
import { OidcError } from './internal';
import { type Db, isValidSchema, transaction } from './db';
import { storeFailure } from './errors';
import { MIGRATIONS } from './migrations';

export const DEFAULT_SCHEMA = 'oin_oidc';

/** Options for {@link migrate}. */
export interface MigrateOptions {
  /** Default `oin_oidc`: a plain lower-case identifier (`[a-z_][a-z0-9_]*`, ≤ 48 characters). Created if missing. */
  schema?: string;
  /** statement_timeout for the migration transaction, including the wait for another process's lock. Default 60 000 ms. */
  timeoutMs?: number;
}

/** What {@link migrate} did. */
export interface MigrateResult {
  schema: string;
  /** Versions applied by this call, in order (empty when the schema was already current). */
  applied: number[];
  /** The schema's version now (can be higher than this release's when a newer release migrated it). */
  version: number;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * Bring `schema` up to this release's version. Idempotent and safe to call from every process at
 * start-up. Throws `ERR_OIDC_INVALID_OPTIONS` for a bad schema name and `ERR_OIDC_STORE_FAILURE`
 * when the database fails or an applied migration's checksum differs from the shipped file
 * (`details.reason` `migration-checksum`: someone edited an applied migration).
 *
 * @example
 * ```ts
 * import { Pool } from 'pg';
 * import { migrate } from '@oin-oidc/postgres';
 * const pool = new Pool({ connectionString: process.env.OIN_DATABASE_URL });
 * await migrate(pool); // { schema: 'oin_oidc', applied: [1], version: 1 }
 * ```
 */
export async function migrate(pool: Pool, options: MigrateOptions = {}): Promise<MigrateResult> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  if (!isValidSchema(schema)) {
    throw new OidcError('ERR_OIDC_INVALID_OPTIONS', 'migrate: schema must be a plain lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 48 characters)', {
      details: { option: 'schema' },
    });
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  const db: Db = { pool, schema, timeoutMs };
  const checksums = await Promise.all(MIGRATIONS.map((m) => sha256Hex(m.sql)));

  return transaction(db, 'migrate', async (query) => {
    // One lock per schema, held until COMMIT/ROLLBACK. hashtextextended gives the bigint key.
    await query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`oin-oidc/postgres migrate ${schema}`]);
    // CREATE SCHEMA IF NOT EXISTS checks the CREATE privilege on the database even when the schema
    // exists, so a role that may only use a prepared schema would fail: look first.
    const existing = await query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (existing.length === 0) await query(`CREATE SCHEMA "${schema}"`);
    await query(`SET LOCAL search_path TO "${schema}"`);
    await query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer     PRIMARY KEY,
      name       text        NOT NULL,
      checksum   text        NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Map((await query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations')).map((r) => [r.version, r.checksum]));
    const applied: number[] = [];
    for (const [index, migration] of MIGRATIONS.entries()) {
      const checksum = checksums[index]!;
      const recorded = done.get(migration.version);
      if (recorded !== undefined) {
        if (recorded !== checksum) {
          throw storeFailure('migration-checksum', `migrate: migration ${migration.name} was applied with different SQL than this release ships`, {
            details: { version: migration.version },
          });
        }
        continue;
      }
      // A migration file may hold several statements: the simple query protocol (no parameters) runs them all.
      await query(migration.sql);
      await query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [migration.version, migration.name, checksum]);
      applied.push(migration.version);
    }
    const version = Math.max(0, ...done.keys(), ...applied);
    return { schema, applied, version };
  });
}
