/**
 * Minimal `Set-Cookie` serialisation and `Cookie` header parsing for oin-oidc's own cookies.
 *
 * Hand-written on purpose: core depends on jose and zod only (no `cookie` package), and it only ever
 * writes and reads cookies it named itself. Our names are fixed RFC 6265 §4.1.1 tokens (letters,
 * digits, `_`, `-`, `.`) and our values are base64url or JWE compact serialisations (base64url
 * segments joined by `.`), so no value ever needs quoting or percent-encoding. Instead of encoding,
 * {@link serializeCookie} refuses anything outside that alphabet, and {@link parseCookies} ignores
 * any value outside it: a hostile `Cookie` header can never smuggle `;`, `,`, whitespace or control
 * characters into a header we emit or a value we unseal.
 */
import { codedTypeError } from './internal/misuse';

/** RFC 6265 §4.1.1 cookie-name token, narrowed to what we use (no `$`, no `!#%&'*+^`|~`). */
const COOKIE_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
/** base64url (RFC 4648 §5) and JWE compact (RFC 7516 §7.1): the only values we ever write. */
const COOKIE_VALUE = /^[A-Za-z0-9_.-]*$/;

/**
 * Upper bound on the `Cookie` header we scan. Browsers cap a cookie at 4,096 bytes and servers cap
 * the header block (Node 16 KiB by default); anything larger is hostile, so we read no cookies
 * rather than spend time on it (catalogue DS).
 */
export const MAX_COOKIE_HEADER_LENGTH = 64 * 1024;
/** Upper bound on one value we accept (a chunk is at most 3,800 bytes including its name). */
const MAX_COOKIE_VALUE_LENGTH = 4096;

export interface CookieAttributes {
  /** Default `/`. */
  path?: string;
  /** Seconds; 0 deletes the cookie. */
  maxAge?: number;
  /** Sent alongside Max-Age for old user agents that ignore it. */
  expires?: Date;
  /** Default true. */
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: 'Lax' | 'Strict' | 'None';
}

const PATH_VALUE = /^\/[\x21-\x3A\x3C-\x7E]*$/; // an absolute path with no `;`, controls or whitespace

/**
 * Serialise one `Set-Cookie` header value (RFC 6265 §4.1). Never sets `Domain`, so every cookie is
 * host-only (a sibling subdomain cannot read it). Throws a `TypeError` with code `ERR_INVALID_ARG_VALUE`
 * for a name or value outside our alphabet: that is a programming error, not user input.
 */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes = {}): string {
  if (!COOKIE_NAME.test(name)) throw codedTypeError('cookie name must be a token of A-Z a-z 0-9 _ . -', 'ERR_INVALID_ARG_VALUE');
  if (!COOKIE_VALUE.test(value)) throw codedTypeError('cookie value must be base64url or JWE compact', 'ERR_INVALID_ARG_VALUE');
  const path = attributes.path ?? '/';
  if (!PATH_VALUE.test(path)) throw codedTypeError('cookie path must be an absolute path', 'ERR_INVALID_ARG_VALUE');
  let header = `${name}=${value}; Path=${path}`;
  if (attributes.maxAge !== undefined) {
    const maxAge = Math.max(0, Math.floor(attributes.maxAge));
    header += `; Max-Age=${maxAge}`;
  }
  if (attributes.expires !== undefined) header += `; Expires=${attributes.expires.toUTCString()}`;
  if (attributes.httpOnly ?? true) header += '; HttpOnly';
  if (attributes.secure) header += '; Secure';
  if (attributes.sameSite) header += `; SameSite=${attributes.sameSite}`;
  return header;
}

/**
 * A `Set-Cookie` value that deletes a cookie. Path (and the name's prefix) must equal the ones the
 * cookie was set with, or the browser keeps the original (catalogue LO-01).
 */
export function deleteCookie(name: string, attributes: Omit<CookieAttributes, 'maxAge' | 'expires'> = {}): string {
  return serializeCookie(name, '', { ...attributes, maxAge: 0, expires: new Date(0) });
}

/** The value of one of our cookies that was sent twice or with a malformed value: never trusted. */
export const INVALID_COOKIE: unique symbol = Symbol('oin-oidc.invalid-cookie');

/** Cookies found in a request: the value, or {@link INVALID_COOKIE} when duplicated or malformed. */
export type CookieMap = ReadonlyMap<string, string | typeof INVALID_COOKIE>;

/**
 * Parse a `Cookie` header (RFC 6265 §5.4 / §4.2.1), keeping only the names `accept` wants.
 *
 * - Pairs without `=`, with an invalid name, or with a value outside our alphabet are ignored.
 * - A name that appears twice maps to {@link INVALID_COOKIE}: a second copy usually means a
 *   cookie tossed in from a sibling subdomain or another path, and we cannot tell which one is ours,
 *   so the caller treats it as absent-and-invalid (catalogue CK-04, CK-05).
 * - A header longer than {@link MAX_COOKIE_HEADER_LENGTH} yields no cookies.
 * - `known(value)`: optional; true only for a value equal to one this process already validated and
 *   opened (the session cache), which then skips the alphabet scan (a hot-path saving, same result).
 */
export function parseCookies(header: string | null | undefined, accept: (name: string) => boolean, known?: (value: string) => boolean): CookieMap {
  const found = new Map<string, string | typeof INVALID_COOKIE>();
  if (!header || header.length > MAX_COOKIE_HEADER_LENGTH) return found;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    const pair = header.slice(start, end);
    start = end + 1;
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    const name = pair.slice(0, eq).trim();
    if (!COOKIE_NAME.test(name) || !accept(name)) continue;
    let value = pair.slice(eq + 1).trim();
    // RFC 6265 §4.1.1 allows a DQUOTE-wrapped value; we never write one, but tolerate it.
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    // A malformed value is still one of our cookies that was sent: recorded as invalid so the
    // caller deletes it, and so it counts for duplicate detection.
    const valid = value.length <= MAX_COOKIE_VALUE_LENGTH && (known?.(value) === true || COOKIE_VALUE.test(value));
    found.set(name, found.has(name) || !valid ? INVALID_COOKIE : value);
  }
  return found;
}

/** The value of `name` in `cookies`, or `undefined` when absent, duplicated or malformed. */
export function cookieValue(cookies: CookieMap, name: string): string | undefined {
  const value = cookies.get(name);
  return typeof value === 'string' ? value : undefined;
}
