/**
 * Every database call of the package goes through here, so each one is bounded in time:
 * a connect deadline (the app's pool may wait forever: `connectionTimeoutMillis` defaults to 0),
 * a server-side `statement_timeout` for the transaction (the server cancels a slow statement
 * cleanly), and node-postgres's client-side `query_timeout` (covers a server that stopped
 * answering at all, where only the client can notice).
 */
import type { Pool, PoolClient, QueryConfig, QueryResultRow } from 'pg';
import { isOidcError } from '@oin-oidc/core';
import { DeadlineError, classify, storeFailure, toStoreError } from './errors';

export interface Db {
  readonly pool: Pool;
  /** The schema, already validated as a plain identifier. */
  readonly schema: string;
  readonly timeoutMs: number;
}

export type Query = <R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]) => Promise<R[]>;

/** Plain lower-case SQL identifiers only: the schema is spliced into SQL text and the NOTIFY channel name (≤ 63 bytes). */
const SCHEMA = /^[a-z_][a-z0-9_]{0,47}$/;

export function isValidSchema(schema: unknown): schema is string {
  return typeof schema === 'string' && SCHEMA.test(schema);
}

/** `"schema".name` — the schema is validated, the quotes keep reserved words working. */
export function qualified(db: Pick<Db, 'schema'>, name: string): string {
  return `"${db.schema}".${name}`;
}

/** The LISTEN/NOTIFY channel of a schema (the trigger uses TG_TABLE_SCHEMA || '_tenants'). */
export function channelOf(schema: string): string {
  return `${schema}_tenants`;
}

export async function connect(pool: Pool, timeoutMs: number): Promise<PoolClient> {
  const pending = pool.connect();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError('connect deadline')), timeoutMs);
  });
  try {
    return await Promise.race([pending, deadline]);
  } catch (error) {
    // A client handed over after the deadline goes straight back to the pool.
    pending.then(
      (client) => client.release(),
      () => {},
    );
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Swallows a checked-out client's 'error' event: the failing query already rejects, and an unhandled 'error' would crash the process. */
const ignore = (): void => {};

/**
 * Run `fn` in one transaction with `statement_timeout` set; every query is also bounded by a
 * client-side read timeout. Errors are rethrown as typed `ERR_OIDC_STORE_FAILURE` (OidcErrors
 * from `fn` pass through). A connection that failed mid-way is destroyed, never reused.
 */
export async function transaction<T>(db: Db, operation: string, fn: (query: Query) => Promise<T>, timeoutMs = db.timeoutMs): Promise<T> {
  let client: PoolClient;
  try {
    client = await connect(db.pool, timeoutMs);
  } catch (error) {
    throw toStoreError(error, operation);
  }
  client.on('error', ignore);
  // The client-side timeout is a little longer than the server's, so a slow statement is normally
  // cancelled by the server (SQLSTATE 57014) and the connection stays usable.
  const readTimeout = timeoutMs + 500;
  // query_timeout per query is supported by node-postgres (client.js) but missing from @types/pg's QueryConfig.
  const query: Query = async (text, values) => (await client.query({ text, values, query_timeout: readTimeout } as QueryConfig)).rows as never;
  let broken: unknown;
  try {
    // One round trip: BEGIN and the transaction-local timeouts (no parameters: simple protocol).
    await client.query({ text: `BEGIN; SET LOCAL statement_timeout = ${timeoutMs}; SET LOCAL idle_in_transaction_session_timeout = ${timeoutMs * 2}`, query_timeout: readTimeout } as QueryConfig);
    const result = await fn(query);
    await query('COMMIT');
    return result;
  } catch (error) {
    const { reason, sqlstate } = isOidcError(error) ? { reason: 'query-failed', sqlstate: undefined } : classify(error);
    if (reason === 'unavailable' || (reason === 'timeout' && sqlstate === undefined)) {
      // The connection is gone or still busy with the timed-out statement: no ROLLBACK (it would
      // queue behind it); destroying the connection ends the transaction server-side.
      broken = error;
    } else {
      try {
        await query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError;
      }
    }
    throw toStoreError(error, operation);
  } finally {
    client.off('error', ignore);
    // release(error) destroys the connection instead of returning it to the pool.
    client.release(broken === undefined ? undefined : (broken as Error));
  }
}

/** For operations attempted after close(). */
export function closedError(operation: string) {
  return storeFailure('closed', `Postgres credential store: ${operation} after close()`);
}

/**
 * One statement outside an explicit transaction (one round trip, for the session store's hot
 * path): bounded by the connect deadline and the client-side read timeout. A store-created pool
 * also sets `statement_timeout` for its connections; for your own pool, set it there too.
 */
export async function single<R extends QueryResultRow = QueryResultRow>(db: Db, operation: string, text: string, values: unknown[]): Promise<R[]> {
  let client: PoolClient;
  try {
    client = await connect(db.pool, db.timeoutMs);
  } catch (error) {
    throw toStoreError(error, operation);
  }
  client.on('error', ignore);
  let broken: unknown;
  try {
    return (await client.query({ text, values, query_timeout: db.timeoutMs } as QueryConfig)).rows as R[];
  } catch (error) {
    const { reason, sqlstate } = classify(error);
    if (reason === 'unavailable' || (reason === 'timeout' && sqlstate === undefined)) broken = error;
    throw toStoreError(error, operation);
  } finally {
    client.off('error', ignore);
    client.release(broken === undefined ? undefined : (broken as Error));
  }
}
