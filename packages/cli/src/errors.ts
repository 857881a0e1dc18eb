/**
 * Exit codes and error text. 0: everything checked is ok / the operation succeeded; 1: a check
 * failed or the operation failed (database, Okta, invalid record); 2: usage error (arguments,
 * missing environment variables, unreadable input files) — the same split as `oin-oidc-postgres`.
 */
import { isOidcError } from '@oin-oidc/core';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Wrong arguments or configuration: exit 2. The message names flags and variables, never their values. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The operation failed for a reason we can state without quoting input: exit 1. */
export class CliFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliFailure';
  }
}

/** Error codes configuration problems carry: exit 2 like a usage error (bad OIN_ENCRYPTION_KEYS, bad --schema). */
const USAGE_CODES = new Set(['ERR_OIDC_INVALID_OPTIONS']);

/** Node system errors whose messages are safe to show (they name a path or an address, nothing read from it). */
const SYSTEM_CODES = /^(E[A-Z]+|ERR_SOCKET_[A-Z_]+)$/;

/**
 * What to print for an error, and the exit code. OidcError messages never carry secrets (core's
 * rule); anything else is shown by name and code only: a driver's message can quote input, and
 * V8's JSON SyntaxError quotes the text around the error, which may be a client secret (LG-01).
 */
export function describeError(error: unknown): { message: string; exitCode: number } {
  if (error instanceof UsageError) return { message: error.message, exitCode: EXIT_USAGE };
  if (error instanceof CliFailure) return { message: error.message, exitCode: EXIT_FAILED };
  if (isOidcError(error)) {
    // The socket error under a store failure (ECONNREFUSED, ENOTFOUND…) is what an operator acts on; its code quotes nothing.
    const causeCode = (error.cause as { code?: unknown } | undefined)?.code;
    const cause = typeof causeCode === 'string' && SYSTEM_CODES.test(causeCode) ? ` (${causeCode})` : '';
    const hint = error.details?.['reason'] === 'not-migrated' ? '; run oin-oidc tenants migrate first' : '';
    return { message: `${error.code}: ${error.message}${cause}${hint}`, exitCode: USAGE_CODES.has(error.code) ? EXIT_USAGE : EXIT_FAILED };
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && SYSTEM_CODES.test(code)) {
    return { message: `${code}: ${(error as Error).message}`, exitCode: EXIT_FAILED };
  }
  // node-postgres server errors carry a SQLSTATE (five characters) and a message written by the server.
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    return { message: `PostgreSQL error ${code}`, exitCode: EXIT_FAILED };
  }
  return { message: `unexpected ${(error as Error | null)?.name ?? 'error'}`, exitCode: EXIT_FAILED };
}
