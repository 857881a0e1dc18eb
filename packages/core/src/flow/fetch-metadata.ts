/**
 * Where a request came from, as the browser reports it: Fetch Metadata (`Sec-Fetch-Site`, W3C Fetch
 * Metadata Request Headers §2.1) and `Origin` (RFC 6454 §7, Fetch §3.1). Browsers set both and
 * pages cannot forge them; non-browser clients may send anything, which is why these checks only
 * ever *refuse* or *downgrade* a request, never grant what the protocol's own checks (state, PKCE,
 * nonce, sealed cookies) would refuse.
 */
import { headerOf } from './responses';
import type { OidcRequest } from './types';

/** `Sec-Fetch-Site`, when the browser sent one of its four values. */
export type FetchSite = 'same-origin' | 'same-site' | 'cross-site' | 'none';

const SITES = new Set<string>(['same-origin', 'same-site', 'cross-site', 'none']);

export function fetchSite(req: OidcRequest): FetchSite | undefined {
  const value = headerOf(req, 'sec-fetch-site');
  return value !== null && SITES.has(value) ? (value as FetchSite) : undefined;
}

/** The `Origin` header as sent (`null` is the literal string browsers send for opaque origins). */
export function originHeader(req: OidcRequest): string | undefined {
  return headerOf(req, 'origin') ?? undefined;
}

/**
 * True when the app's own pages made the request, or the user did (typed the address, a bookmark:
 * `Sec-Fetch-Site: none`). Without Fetch Metadata, an `Origin` equal to the app's origin counts; a
 * request with neither header (an old browser, a script) is not known to be same-origin.
 */
export function isSameOriginRequest(req: OidcRequest, appOrigin: string): boolean {
  const site = fetchSite(req);
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  const origin = originHeader(req);
  return origin !== undefined && origin === appOrigin;
}

/** True when the browser says another site started the request (a navigation or a form it submitted). */
export function isCrossSiteRequest(req: OidcRequest): boolean {
  return fetchSite(req) === 'cross-site';
}
