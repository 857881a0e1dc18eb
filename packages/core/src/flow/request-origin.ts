/**
 * What core needs from a request's external origin (scheme and host name), answered without
 * parsing the request URL when the adapter gives {@link OidcRequest.origin}: parsed once per
 * distinct origin and remembered (bounded), since a server sees a handful of origins.
 */
import { isLoopbackHost } from '../tenant/tenant';
import type { OidcRequest } from './types';

interface OriginParts {
  readonly protocol: string;
  readonly hostname: string;
}

/** {@link OriginParts} plus whether cookies there must be `Secure`. */
interface ParsedOrigin extends OriginParts {
  readonly secure: boolean;
}

const parsedOrigins = new Map<string, ParsedOrigin>();
const MAX_PARSED_ORIGINS = 1024;

/**
 * An origin (`scheme://host[:port]`) parsed once and remembered (bounded); `undefined` when it
 * does not parse. The one per-origin cache of core: `fromHeaderMap` checks Host headers through it,
 * and the URL-free fast paths below read it.
 */
export function parsedOrigin(origin: string): ParsedOrigin | undefined {
  let parts = parsedOrigins.get(origin);
  if (parts === undefined) {
    const url = URL.parse(`${origin}/`);
    if (url === null) return undefined;
    parts = { protocol: url.protocol, hostname: url.hostname, secure: isSecureOrigin(url) };
    if (parsedOrigins.size >= MAX_PARSED_ORIGINS) parsedOrigins.clear();
    parsedOrigins.set(origin, parts);
  }
  return parts;
}

/** `protocol` (`'https:'`) and `hostname` of the request's external URL. */
export function originOf(req: OidcRequest): OriginParts {
  // Adapters check the origin before they give it; one that does not parse is read from `url`.
  return (req.origin === undefined ? undefined : parsedOrigin(req.origin)) ?? req.url;
}

/**
 * Whether cookies for this request must be `Secure`: everywhere except plain http on a loopback
 * host (development), where browsers refuse `Secure` cookies.
 */
export function isSecureRequest(req: OidcRequest): boolean {
  const parts = req.origin === undefined ? undefined : parsedOrigin(req.origin);
  return parts !== undefined ? parts.secure : isSecureOrigin(req.url);
}

function isSecureOrigin({ protocol, hostname }: OriginParts): boolean {
  return !(protocol === 'http:' && isLoopbackHost(hostname));
}

/** Printable ASCII without `#` or space: a query URL parsing would leave byte for byte as it is. */
const PLAIN_QUERY = /^[\x21\x22\x24-\x7E]*$/;

/**
 * Every value of one query parameter, as `req.url.searchParams.getAll(name)` gives them. From the
 * raw query when it is plain (URL parsing would percent-encode nothing there, and URLSearchParams
 * decodes the same bytes either way), otherwise through the parsed URL.
 */
export function queryValues(req: OidcRequest, name: string): string[] {
  const query = req.query;
  if (query === '') return [];
  // URLSearchParams drops one leading '?' of its input, which URL parsing keeps as part of a name.
  if (query !== undefined && query.charCodeAt(0) !== 0x3f && PLAIN_QUERY.test(query)) return new URLSearchParams(query).getAll(name);
  return req.url.searchParams.getAll(name);
}
