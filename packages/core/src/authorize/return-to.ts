/**
 * Open-redirect defence for `returnTo`, `target_link_uri` paths and similar (catalogue AR-07,
 * §2.5; RFC 9700 §4.11.1; express-openid-connect GHSA-7p99-3798-f85c).
 */

/** Upper bound on a kept path; longer values fall back (they also bloat the transaction cookie). */
const MAX_RETURN_TO_LENGTH = 2048;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
const PLACEHOLDER_ORIGIN = 'http://return-to.invalid';

function isSafePathText(value: string): boolean {
  // A single leading '/', then not '/' or '\': '//host' and '/\host' are protocol-relative in browsers.
  return value.startsWith('/') && value[1] !== '/' && value[1] !== '\\' && !value.includes('\\') && !CONTROL.test(value);
}

/** Decoding rounds judged; a value that still decodes further after them falls back. */
const MAX_DECODE_ROUNDS = 4;
const ASCII_ESCAPE = /%([0-7][0-9A-Fa-f])/g;

/**
 * Safe as text, and after each of up to {@link MAX_DECODE_ROUNDS} rounds of percent-decoding (so
 * double-encoded payloads are judged too). Only ASCII escapes are decoded: every dangerous
 * character ('/', '\', controls) is ASCII, and this never throws on a malformed escape elsewhere
 * in the string (which decodeURIComponent would). A value still changing after the last round is
 * refused rather than trusted: nothing legitimate is encoded five times over.
 */
function isSafeWhenDecoded(value: string): boolean {
  if (!isSafePathText(value)) return false;
  let decoded = value;
  for (let round = 0; round <= MAX_DECODE_ROUNDS; round++) {
    const next = decoded.replace(ASCII_ESCAPE, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    if (next === decoded) return true;
    if (round === MAX_DECODE_ROUNDS || !isSafePathText(next)) return false;
    decoded = next;
  }
  return false;
}

/**
 * Reduce `value` to a same-origin absolute path (`/path?query#fragment`), or return `fallback`.
 *
 * Accepted: a string starting with exactly one `/`, with no backslash and no control character,
 * also after percent-decoding (so `/%2F%2Fevil.com`, `/%5Cevil.com`, `/%09/evil.com` and
 * `/%0d%0a…` fall back), and whose URL-normalised result passes the same decode-and-check:
 * normalisation removes dot-segments, including percent-encoded ones (`%2e`), so `/.//evil.com`,
 * `/%2e/%2fevil.com`, `/x/../%2fevil.com` and `/%2e/%252fevil.com` turn into paths that are, or
 * decode to, `//evil.com` (SA-10: the check must hold for what is returned, not only for
 * what came in). Anything with a scheme (`https:`, `javascript:`, `data:`) falls back. The result is
 * the normalised path, query and fragment.
 *
 * @example
 * ```ts
 * sanitizeReturnTo('/orders?id=7');   // '/orders?id=7'
 * sanitizeReturnTo('//evil.com');     // '/'
 * ```
 */
export function sanitizeReturnTo(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_RETURN_TO_LENGTH) return fallback;
  if (!isSafeWhenDecoded(value)) return fallback;
  const url = URL.parse(value, PLACEHOLDER_ORIGIN);
  if (url === null || url.origin !== PLACEHOLDER_ORIGIN) return fallback;
  const result = `${url.pathname}${url.search}${url.hash}`;
  // The output is what the browser follows and what the app may decode again: judge it the same way.
  return isSafeWhenDecoded(result) ? result : fallback;
}
