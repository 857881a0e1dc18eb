/**
 * Session cookies on the app's own responses (audit finding SA-02, docs/security.md). The
 * middleware re-issues a rolling session cookie, or deletes an invalid one, on whatever the app
 * answers; if that answer is cacheable (`Cache-Control: public`, or nothing and a heuristic cache),
 * a shared cache could store the `Set-Cookie` with it and hand one user's session to others (RFC
 * 9111 §3: a response with `Set-Cookie` may be stored unless told otherwise). So a response that
 * carries one of our cookies is made `private, no-store` unless it already is `no-store`.
 */

/** Directive names of a `Cache-Control` value, lower case. */
function directives(value: string): string[] {
  return value.split(',').map((part) => part.split('=', 1)[0]!.trim().toLowerCase());
}

/**
 * The `Cache-Control` a response must carry when an oin-oidc cookie rides on it: `undefined` when
 * `current` already says `no-store` (keep it), else `private, no-store`. Adapters call this just
 * before the response's headers are written, with the value the app set (or `null`).
 *
 * @example
 * ```ts
 * const value = cacheControlForCookies(response.headers.get('cache-control'));
 * if (value !== undefined) response.headers.set('cache-control', value);
 * ```
 */
export function cacheControlForCookies(current: string | null | undefined): string | undefined {
  if (typeof current === 'string' && directives(current).includes('no-store')) return undefined;
  return 'private, no-store';
}
