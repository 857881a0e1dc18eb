/** Web `Request` / `Response` glue for Web-native frameworks (Hono, Bun, Deno, Workers). */
import { MAX_BODY_BYTES, payloadTooLarge } from './body-limit';
import { type HeaderMap, headerValue } from './header-map-request';
import type { OidcRequest, OidcResponse } from './types';

/**
 * Build an {@link OidcRequest} from a Web `Request`. `request.url` must already be the external URL
 * (behind a proxy, rewrite it from trusted headers before calling this; forwarded headers are
 * never read here). The body is read at most once, only by routes that need it, and capped at
 * {@link MAX_BODY_BYTES} (ERR_OIDC_PAYLOAD_TOO_LARGE).
 */
export function fromWebRequest(request: Request, basePath: string | (() => string) = '', options: WebRequestOptions = {}): OidcRequest {
  return new WebOidcRequest(request, basePath, options.headerMap, options.clientAddress);
}

export interface WebRequestOptions {
  /**
   * The same request's headers as a Node-style map, when the runtime has one at hand (Hono on
   * `@hono/node-server`: `c.env.incoming.headers`). Core then reads headers from it and never
   * makes the `Request` build its `Headers` (the same values; a repeated Cookie header is joined
   * with `; ` as Node does).
   */
  headerMap?: HeaderMap;
  /** The client's address as the runtime reports it (see {@link OidcRequest.clientAddress}). */
  clientAddress?: string | undefined;
}

/** A class rather than an object literal with getters, which V8 creates slowly. */
class WebOidcRequest implements OidcRequest {
  readonly method: string;
  readonly path: string | undefined;
  readonly query: string | undefined;
  readonly #origin: string | undefined;
  #basePath: string | (() => string);
  #url: URL | undefined;
  #body: Promise<string> | undefined;

  constructor(
    private readonly request: Request,
    basePath: string | (() => string),
    private readonly headerMap: HeaderMap | undefined,
    readonly clientAddress: string | undefined,
  ) {
    this.method = request.method.toUpperCase();
    this.#basePath = basePath;
    const parts = splitHref(request.url);
    this.path = parts?.path;
    this.query = parts?.query;
    this.#origin = parts?.origin;
  }

  /** Parsed on first use: a request that is not for an auth route and carries no cookie never needs it. */
  get url(): URL {
    this.#url ??= new URL(this.request.url);
    return this.#url;
  }

  /** From the URL once it was read (an adapter may rewrite it from trusted proxy headers), else from the href. */
  get origin(): string | undefined {
    return this.#url !== undefined ? this.#url.origin : this.#origin;
  }

  /** Computed on first use when the adapter passed a function: only auth routes and login redirects read it. */
  get basePath(): string {
    if (typeof this.#basePath === 'function') this.#basePath = this.#basePath();
    return this.#basePath;
  }

  /** The request's own Headers (some runtimes build them on first access). */
  get headers(): Headers {
    return this.request.headers;
  }

  header(name: string): string | null {
    return this.headerMap === undefined ? this.request.headers.get(name) : headerValue(this.headerMap, name);
  }

  /** Read at most once, only by routes that need it. */
  readBody(): Promise<string> {
    this.#body ??= readCapped(this.request);
    return this.#body;
  }
}

/**
 * Origin, path and query of a serialised absolute URL (`scheme://authority/path?query#fragment`),
 * without parsing it. `undefined` when the href does not have that shape, or its authority carries
 * credentials (core then reads everything through the parsed URL).
 */
function splitHref(href: string): { origin: string | undefined; path: string; query: string } | undefined {
  const authority = href.indexOf('//');
  const start = authority === -1 ? -1 : href.indexOf('/', authority + 2);
  if (start === -1) return undefined;
  const hash = href.indexOf('#', start);
  const end = hash === -1 ? href.length : hash;
  const mark = href.indexOf('?', start);
  const pathEnd = mark === -1 || mark > end ? end : mark;
  const origin = href.slice(0, start);
  return {
    origin: origin.includes('@') ? undefined : origin,
    path: href.slice(start, pathEnd),
    query: pathEnd === end ? '' : href.slice(pathEnd + 1, end),
  };
}

async function readCapped(request: Request): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) throw payloadTooLarge();
  if (request.body === null) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw payloadTooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}


/** Turn an {@link OidcResponse} into a Web `Response`, one `Set-Cookie` header per cookie. */
export function toWebResponse(response: OidcResponse): Response {
  const headers = new Headers(response.headers);
  for (const cookie of response.setCookies) headers.append('Set-Cookie', cookie);
  return new Response(response.body, { status: response.status, headers });
}
