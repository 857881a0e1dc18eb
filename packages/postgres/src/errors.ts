/**
 * How database and decryption failures become typed errors. Every message here names the
 * operation and a reason, never a value: parameters are ciphertext or configuration, and a
 * driver message can quote SQL input, so a driver error is only ever kept as `cause`.
 */
import { OidcError, isOidcError } from '@oin-oidc/core';

/** Why a store operation failed, in `details.reason` of `ERR_OIDC_STORE_FAILURE`. */
export type StoreFailureReason =
  | 'unavailable' // no connection (Postgres down, restarting, refused, reset)
  | 'timeout' // statement_timeout, query read timeout or connect deadline
  | 'not-migrated' // the schema's tables are missing: run migrate()
  | 'query-failed' // any other SQL error (SQLSTATE in details)
  | 'unknown-key' // a ciphertext names a kid that is not configured
  | 'decrypt-failed' // a ciphertext failed authentication (tampered, wrong key bytes)
  | 'bound-elsewhere' // a ciphertext belongs to another tenant or field
  | 'malformed' // a ciphertext or a row is not what this package writes
  | 'reencrypt-incomplete' // reencryptAll left rows it could not decrypt
  | 'migration-checksum' // an applied migration differs from the one this release ships
  | 'closed'; // the store was closed

export function storeFailure(reason: StoreFailureReason, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}): OidcError {
  return new OidcError('ERR_OIDC_STORE_FAILURE', message, {
    ...(options.cause === undefined ? {} : { cause: options.cause }),
    details: { reason, ...options.details },
  });
}

/** SQLSTATE classes and Node socket errors that mean "no usable connection" rather than a bad query. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Marks our own connect deadline, so it maps to `timeout`. */
export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
}

/** The reason for a driver error: connection loss, timeout, missing tables, or a plain SQL failure. */
export function classify(error: unknown): { reason: StoreFailureReason; sqlstate?: string } {
  if (error instanceof DeadlineError) return { reason: 'timeout' };
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code)) {
    if (code === '57014') return { reason: 'timeout', sqlstate: code }; // query_canceled: statement_timeout
    if (code === '42P01' || code === '3F000') return { reason: 'not-migrated', sqlstate: code };
    if (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code)) return { reason: 'unavailable', sqlstate: code };
    return { reason: 'query-failed', sqlstate: code };
  }
  if (code !== undefined && UNAVAILABLE_NODE_CODES.has(code)) return { reason: 'unavailable' };
  const message = typeof e?.message === 'string' ? e.message : '';
  if (message === 'Query read timeout' || message.includes('timeout exceeded when trying to connect')) return { reason: 'timeout' };
  // node-postgres: "Connection terminated", "Connection terminated unexpectedly", "Client was closed and is not queryable".
  if (/connection terminated|not queryable|ended|connection.*closed/i.test(message)) return { reason: 'unavailable' };
  return { reason: 'query-failed' };
}

/** Wrap whatever a database call threw as `ERR_OIDC_STORE_FAILURE`; OidcErrors pass through unchanged. */
export function toStoreError(error: unknown, operation: string): OidcError {
  if (isOidcError(error)) return error;
  const { reason, sqlstate } = classify(error);
  const hint = reason === 'not-migrated' ? ': run migrate() or `oin-oidc-postgres migrate` first' : '';
  return storeFailure(reason, `Postgres credential store: ${operation} failed (${reason}${sqlstate ? `, SQLSTATE ${sqlstate}` : ''})${hint}`, {
    cause: error,
    details: { operation, ...(sqlstate ? { sqlstate } : {}) },
  });
}
