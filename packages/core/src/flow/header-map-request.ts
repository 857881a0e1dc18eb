/**
 * An {@link OidcRequest} over a plain header map, the shape Node's `http` module (and so Express,
 * Fastify and Koa) keeps headers in. Shared by those adapters so they stay translation-only. Pure
 * JavaScript: no Node API, only the map's shape.
 */
import { OidcError } from '../errors';
import { parsedOrigin } from './request-origin';
import type { OidcRequest } from './types';

/** Lower-case header names to a value, or several values for a repeated header (Node's `IncomingHttpHeaders`). */
export type HeaderMap = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface HeaderMapRequestInit {
  /** Any case; upper-cased here. */
  method: string;
  /** Where the adapter is mounted (`''` or `'/app'`). */
  basePath: string;
  /** The external scheme (`'http'` or `'https'`), after the framework's own trust-proxy rules. */
  protocol: string;
  /** The external `host[:port]`, after the framework's own trust-proxy rules. */
  host: string | undefined;
  /** The request target as received (origin-form: `/path?query`). */
  target: string;
  headers: HeaderMap;
  /** Reads the raw urlencoded body; called at most once, only by routes that need it. */
  readBody: () => Promise<string>;
  /** The client's address after the framework's trust-proxy rules (see {@link OidcRequest.clientAddress}). */
  clientAddress?: string | undefined;
}

/**
 * Build the request core sees. The origin is checked now, so a missing or malformed Host (or
 * scheme, or a target that is not origin-form) fails this request with ERR_OIDC_INVALID_REQUEST
 * (400) whether or not core reads the URL, never a 500 or a URL whose path the Host rewrote.
 */
export function fromHeaderMap(init: HeaderMapRequestInit): OidcRequest {
  const origin = checkedOrigin(init.protocol, init.host, init.target);
  return new HeaderMapRequest(init.method.toUpperCase(), init.basePath, origin, init.target, init.headers, init.readBody, init.clientAddress);
}

/**
 * A class rather than an object literal with getters (V8 creates those slowly): `url` and
 * `headers` are built on first use, which most requests never reach (core reads headers through
 * `header()`, matches routes on `path`, and reads `origin` and `query` instead of the URL).
 */
class HeaderMapRequest implements OidcRequest {
  readonly path: string;
  readonly query: string;
  #url: URL | undefined;
  #headers: Headers | undefined;
  #body: Promise<string> | undefined;

  constructor(
    readonly method: string,
    readonly basePath: string,
    readonly origin: string,
    private readonly target: string,
    private readonly native: HeaderMap,
    private readonly read: () => Promise<string>,
    readonly clientAddress: string | undefined,
  ) {
    const mark = target.indexOf('?');
    this.path = mark === -1 ? target : target.slice(0, mark);
    this.query = mark === -1 ? '' : target.slice(mark + 1);
  }

  get url(): URL {
    this.#url ??= externalUrl(this.origin, this.target);
    return this.#url;
  }

  get headers(): Headers {
    this.#headers ??= toHeaders(this.native);
    return this.#headers;
  }

  header(name: string): string | null {
    return headerValue(this.native, name);
  }

  readBody(): Promise<string> {
    this.#body ??= this.read();
    return this.#body;
  }
}

/** host[:port] as RFC 9110 §7.2 allows it: a reg-name or IP literal, nothing that could smuggle a path. */
const HOST = /^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * One header from the map, as `Headers.get` would give it (repeated values joined with `, `,
 * surrounding whitespace trimmed), without building a `Headers` object per request.
 */
export function headerValue(headers: HeaderMap, name: string): string | null {
  const value = headers[name];
  if (value === undefined) return null;
  const joined = typeof value === 'string' ? value : Array.isArray(value) ? value.join(', ') : String(value);
  return isWhitespace(joined.charCodeAt(0)) || isWhitespace(joined.charCodeAt(joined.length - 1)) ? joined.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '') : joined;
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** The full Web `Headers`, built only when something reads `OidcRequest.headers` (an app's tenant function). */
function toHeaders(native: HeaderMap): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(native)) {
    if (name.startsWith(':') || value === undefined) continue; // HTTP/2 pseudo-headers
    for (const item of typeof value === 'string' ? [value] : value) headers.append(name, item);
  }
  return headers;
}

/** The origin checked last: most requests repeat it, and comparing two short strings beats hashing a new one. */
let lastChecked = { protocol: '', host: '', origin: '' };

function checkedOrigin(protocol: string, host: string | undefined, target: string): string {
  if (host && target.charCodeAt(0) === 0x2f /* / */) {
    if (host === lastChecked.host && protocol === lastChecked.protocol) return lastChecked.origin;
    const origin = `${protocol}://${host}`;
    // The syntax checks are cheap; the URL parse behind them happens once per distinct origin.
    if (HOST.test(host) && /^https?$/.test(protocol) && parsedOrigin(origin) !== undefined) {
      lastChecked = { protocol, host, origin };
      return origin;
    }
  }
  throw invalidTarget();
}

function invalidTarget(): OidcError {
  return new OidcError('ERR_OIDC_INVALID_REQUEST', 'The request has a missing or invalid Host header or target.');
}

/** The external URL from a checked origin and the request target (a path always parses after a valid origin). */
function externalUrl(origin: string, target: string): URL {
  const url = URL.parse(`${origin}${target}`);
  if (url === null) throw invalidTarget();
  return url;
}
