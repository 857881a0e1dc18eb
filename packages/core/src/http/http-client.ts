/**
 * The pluggable HTTP client of oin-oidc.
 *
 * It is fetch-shaped on purpose: the same shape as jose's and oauth4webapi's `customFetch`, so an
 * undici dispatcher, a proxy agent or a test double plugs in without an adapter.
 */

/** The request options oin-oidc passes to an {@link HttpClient}. */
export interface HttpRequestInit {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** Aborted when the per-request deadline passes; a client must honour it, body reading included. */
  signal: AbortSignal;
  /** Back-channel calls never follow redirects (RFC 9700 §4.11): a 3xx is refused by the transport. */
  redirect: 'manual';
}

/** fetch-shaped; the same shape as jose's customFetch, so undici, a proxy agent or a test double plug in. */
export type HttpClient = (url: string, init: HttpRequestInit) => Promise<Response>;

/**
 * The default {@link HttpClient}: the runtime's global `fetch`, looked up per call so a polyfill or
 * an instrumentation wrapper installed after start-up is honoured.
 */
export const defaultHttpClient: HttpClient = (url, init) =>
  fetch(url, {
    method: init.method,
    headers: init.headers,
    body: init.body,
    signal: init.signal,
    redirect: init.redirect,
  });
