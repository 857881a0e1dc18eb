/**
 * Warnings: configurations that work but fall short of what a production deployment needs (a
 * per-process replay cache in a fleet, cookie security taken from a `Host` header). Never errors,
 * never per request: each is said once. Apps route them to their logger with `onWarning`.
 */

/** Every warning code; stable like the error codes (docs/errors.md, "Warnings"). */
export const OIDC_WARNING_CODES = [
  /** The simplified flow's replay cache is this process only: a fleet accepts a token once per process. */
  'WARN_OIDC_REPLAY_STORE_PER_PROCESS',
  /** A tenant registers https redirect URIs but cookies were issued without `Secure` (cookie security followed the Host). */
  'WARN_OIDC_COOKIES_NOT_SECURE',
  /** The shared revocation list could not be loaded at start or after a reconnect: this process serves what it knows until it can. */
  'WARN_OIDC_REVOCATIONS_NOT_LOADED',
  /** A Redis server whose `maxmemory-policy` can evict keys with a TTL (live replay entries, revocations): `@oin-oidc/redis` says so at start. */
  'WARN_OIDC_REDIS_EVICTION',
] as const;

export type OidcWarningCode = (typeof OIDC_WARNING_CODES)[number];

/** What `onWarning` receives. The message says what to change; it never holds a secret or a token. */
export interface OidcWarning {
  code: OidcWarningCode | (string & {});
  message: string;
  /** The tenant concerned, when there is one. */
  tenantId?: string;
}

/** Default destination: `console.warn` (present on every runtime core supports). */
export function defaultWarningHandler(warning: OidcWarning): void {
  console.warn(`[oin-oidc] ${warning.code}: ${warning.message}`);
}

/** Deliver `warning` to `handler` (default {@link defaultWarningHandler}); a throwing handler is ignored. */
export function emitWarning(handler: ((warning: OidcWarning) => void) | undefined, warning: OidcWarning): void {
  try {
    (handler ?? defaultWarningHandler)(warning);
  } catch {
    // A failing logger must not break sign-in.
  }
}
