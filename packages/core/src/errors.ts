/**
 * The one error class of oin-oidc, with stable codes.
 *
 * Codes are never renamed once released; each has an entry in `docs/errors.md`.
 * Messages are for humans and never contain secrets, tokens, codes or raw user input.
 */

/** Every code an {@link OidcError} can carry, with the HTTP status an adapter should answer. */
export const OIDC_ERROR_STATUS = {
  // Configuration and programmer input (fail at start-up, never per request).
  ERR_OIDC_INVALID_OPTIONS: 500,
  ERR_OIDC_INVALID_TENANT: 500,
  ERR_OIDC_CUSTOM_AUTHORIZATION_SERVER: 500,
  ERR_OIDC_INSECURE_ISSUER: 500,
  ERR_OIDC_ISSUER_NOT_ALLOWED: 500,
  ERR_OIDC_SCOPE_NOT_ALLOWED: 500,
  // Request routing and tenant resolution.
  ERR_OIDC_TENANT_UNKNOWN: 404,
  ERR_OIDC_TENANT_AMBIGUOUS: 400,
  ERR_OIDC_REDIRECT_URI_NOT_REGISTERED: 400,
  ERR_OIDC_INVALID_REQUEST: 400,
  ERR_OIDC_METHOD_NOT_ALLOWED: 405,
  ERR_OIDC_PAYLOAD_TOO_LARGE: 413,
  ERR_OIDC_ORIGIN_NOT_ALLOWED: 403,
  // Callback, state and transaction (RFC 9700 §2.1, §4.7).
  ERR_OIDC_CALLBACK_INVALID: 400,
  ERR_OIDC_DUPLICATE_PARAMETER: 400,
  ERR_OIDC_STATE_MISSING: 400,
  ERR_OIDC_STATE_MISMATCH: 400,
  ERR_OIDC_TRANSACTION_INVALID: 400,
  ERR_OIDC_TRANSACTION_EXPIRED: 400,
  ERR_OIDC_ISSUER_MISMATCH: 400,
  ERR_OIDC_AUTHORIZATION_DENIED: 400,
  // Tokens.
  ERR_OIDC_TOKEN_ENDPOINT_ERROR: 400,
  ERR_OIDC_TOKEN_RESPONSE_INVALID: 502,
  ERR_OIDC_ID_TOKEN_INVALID: 400,
  ERR_OIDC_ID_TOKEN_EXPIRED: 400,
  ERR_OIDC_NONCE_MISMATCH: 400,
  ERR_OIDC_ID_TOKEN_REPLAYED: 400,
  ERR_OIDC_SIMPLIFIED_FLOW_DISABLED: 400,
  ERR_OIDC_JWKS_NO_MATCHING_KEY: 400,
  ERR_OIDC_JWKS_UNAVAILABLE: 503,
  ERR_OIDC_USERINFO_INVALID: 502,
  ERR_OIDC_SUBJECT_MISMATCH: 400,
  // Access tokens (RFC 6750 §3.1).
  ERR_OIDC_ACCESS_TOKEN_MISSING: 401,
  ERR_OIDC_ACCESS_TOKEN_INVALID: 401,
  ERR_OIDC_ACCESS_TOKEN_INACTIVE: 401,
  ERR_OIDC_INTROSPECTION_INVALID: 502,
  // Sessions.
  ERR_OIDC_SESSION_MISSING: 401,
  ERR_OIDC_SESSION_INVALID: 401,
  ERR_OIDC_SESSION_EXPIRED: 401,
  ERR_OIDC_SESSION_CONFLICT: 409,
  // Logout requests from the identity provider (docs/universal-logout.md): Universal Logout answers
  // 401 (its authentication failed), back-channel logout 400 (Back-Channel Logout 1.0 §2.8).
  ERR_OIDC_LOGOUT_TOKEN_INVALID: 401,
  ERR_OIDC_LOGOUT_REQUEST_INVALID: 400,
  ERR_OIDC_LOGOUT_USER_UNKNOWN: 404,
  ERR_OIDC_LOGOUT_FAILED: 422,
  // The provider (Okta) and the network.
  ERR_OIDC_DISCOVERY_FAILED: 502,
  ERR_OIDC_HTTP_ERROR: 502,
  ERR_OIDC_HTTP_TIMEOUT: 504,
  ERR_OIDC_HTTP_RESPONSE_TOO_LARGE: 502,
  ERR_OIDC_RATE_LIMITED: 503,
  ERR_OIDC_UNAVAILABLE: 503,
  ERR_OIDC_DPOP_ERROR: 502,
  // Storage. 503 with Retry-After: a store that cannot answer (Redis or Postgres down, a full
  // replay cache) is an outage the client may retry, never a success (docs/deployment.md, 'What
  // fails how').
  ERR_OIDC_STORE_FAILURE: 503,
} as const satisfies Record<string, number>;

/** `Retry-After` of `ERR_OIDC_STORE_FAILURE` unless the thrower sets one: a store reconnects within seconds. */
export const STORE_RETRY_AFTER_SEC = 5;

/** A stable, documented error code. */
export type OidcErrorCode = keyof typeof OIDC_ERROR_STATUS;

export interface OidcErrorOptions {
  cause?: unknown;
  /** Override the default HTTP status hint of the code. */
  status?: number;
  /** Structured, non-secret details (zod issues, the provider's `error` code, a field name). */
  details?: Record<string, unknown>;
  /** Seconds after which a retry may succeed (429/503): adapters send it as `Retry-After`. */
  retryAfter?: number;
}

/**
 * The error every oin-oidc failure is reported with.
 *
 * @example
 * ```ts
 * try { await client.handleCallback(...) }
 * catch (e) { if (isOidcError(e) && e.code === 'ERR_OIDC_STATE_MISMATCH') ... }
 * ```
 */
export class OidcError extends Error {
  override readonly name = 'OidcError' as const;
  readonly code: OidcErrorCode;
  /** HTTP status an adapter should answer with. */
  readonly status: number;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly retryAfter: number | undefined;

  constructor(code: OidcErrorCode, message: string, options: OidcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? OIDC_ERROR_STATUS[code];
    this.details = options.details ? Object.freeze({ ...options.details }) : undefined;
    this.retryAfter = options.retryAfter ?? (code === 'ERR_OIDC_STORE_FAILURE' ? STORE_RETRY_AFTER_SEC : undefined);
  }

  /** A JSON body safe to send to a client: code and message only. */
  toJSON(): { error: OidcErrorCode; message: string } {
    return { error: this.code, message: this.message };
  }
}

/**
 * True for an {@link OidcError}, even one thrown by a second copy of `@oin-oidc/core`
 * (two copies in one app break `instanceof`, as tRPC and h3 found).
 */
export function isOidcError(value: unknown): value is OidcError {
  if (value instanceof OidcError) return true;
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { name?: unknown; code?: unknown };
  return (
    candidate.name === 'OidcError' &&
    typeof candidate.code === 'string' &&
    Object.hasOwn(OIDC_ERROR_STATUS, candidate.code)
  );
}

/** Wrap any thrown value as an OidcError, keeping it as `cause` (the tenant doctor's checks; not exported from the package). */
export function toOidcError(
  value: unknown,
  fallback: OidcErrorCode = 'ERR_OIDC_INVALID_REQUEST',
  message = 'The request could not be completed.',
): OidcError {
  if (isOidcError(value)) return value;
  return new OidcError(fallback, message, { cause: value });
}
