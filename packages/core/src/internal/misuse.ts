/**
 * Programmer misuse of a function argument (a wrong type, a value outside what the function
 * accepts) is reported one way across core and the store packages: a `TypeError` with a stable
 * `code`, as oauth4webapi's `CodedTypeError` and Node's own argument checks do. Callers can match
 * on `code` without parsing messages.
 *
 * Runtime failures and request input stay `OidcError`; configuration checked once at start-up
 * (the client's and the flow layer's options) stays `OidcError('ERR_OIDC_INVALID_OPTIONS')`.
 * A misuse error is a bug at the call site: it is never turned into an HTTP answer.
 */

/** The two codes a misuse error carries (docs/errors.md#misuse-errors). */
export type MisuseErrorCode = 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE';

/** A `TypeError` carrying a {@link MisuseErrorCode}. */
export interface CodedTypeError extends TypeError {
  readonly code: MisuseErrorCode;
}

/**
 * A `TypeError` with `code` set: `'ERR_INVALID_ARG_TYPE'` when the argument has the wrong type,
 * `'ERR_INVALID_ARG_VALUE'` when its type is right and its value is not accepted. Messages name
 * the argument and what it must be, never the value itself (it may be a secret or a token).
 *
 * @example
 * ```ts
 * if (!Number.isSafeInteger(limit) || limit < 0) throw codedTypeError('limit must be a non-negative integer', 'ERR_INVALID_ARG_VALUE');
 * ```
 */
export function codedTypeError(message: string, code: MisuseErrorCode, cause?: unknown): CodedTypeError {
  const error = cause === undefined ? new TypeError(message) : new TypeError(message, { cause });
  return Object.assign(error, { code });
}
