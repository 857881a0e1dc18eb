/**
 * Syntax checks on bearer tokens received from callers, done before any network call so that junk
 * never costs an Okta request (RFC 7662 §4: an unthrottled introspection endpoint invites token
 * fishing) and never reaches a log line.
 */

/** Okta access tokens are JWTs of 1-2 KiB; anything far larger is not one of ours. */
export const MAX_BEARER_TOKEN_LENGTH = 8 * 1024;

/** RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** True when `token` is a syntactically valid RFC 6750 bearer token of at most 8 KiB. */
export function isBearerTokenSyntax(token: unknown): token is string {
  return typeof token === 'string' && token.length > 0 && token.length <= MAX_BEARER_TOKEN_LENGTH && B64TOKEN.test(token);
}

/**
 * Marks per-call introspection options from the flow layer's bearer guard, which has already run
 * {@link isBearerTokenSyntax} on the token: the introspector then skips its own copy of the check, so
 * each token is syntax-checked once. Module-private (not exported from the package), so a caller
 * outside core cannot skip the check.
 */
export const SYNTAX_CHECKED: unique symbol = Symbol('oin-oidc.bearer-syntax-checked');

/** Whether the options carry {@link SYNTAX_CHECKED}. */
export function syntaxAlreadyChecked(options: object | undefined): boolean {
  return options !== undefined && (options as { [SYNTAX_CHECKED]?: true })[SYNTAX_CHECKED] === true;
}
