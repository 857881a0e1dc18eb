/** Building {@link OidcResponse}s: redirects, error pages, JSON, and content negotiation. */
import { isOidcError, OidcError } from '../errors';
import type { OidcRequest, OidcResponse } from './types';

/**
 * Auth-route responses carry state (cookies, one-time redirects) and must never be stored by a
 * browser or a shared cache (RFC 9111 §5.2.2.5; OIDC Core §3.1.3.3 asks the same of token responses).
 */
export const NO_STORE = 'no-store';

/**
 * The flow layer's HTML pages (error pages, the switch-account page): no script, no external
 * resources, no framing, no sniffing, never stored. `forms`: the page posts forms, to the app only.
 * `title` and `style` are ours; `content` is HTML the caller has already escaped.
 */
export function htmlPage(
  status: number,
  page: { title: string; style: string; content: string; forms?: boolean },
  headers: Record<string, string> = {},
  setCookies: string[] = [],
): OidcResponse {
  const csp = `default-src 'none'; style-src 'unsafe-inline'; ${page.forms ? "form-action 'self'; " : ''}frame-ancestors 'none'`;
  const title = escapeHtml(page.title);
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${title}</title>
<style>${page.style}</style></head>
<body><h1>${title}</h1>
${page.content}</body></html>
`;
  return {
    status,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': csp, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'Cache-Control': NO_STORE, ...headers },
    setCookies,
    body,
  };
}

export function redirect(location: string, setCookies: string[] = []): OidcResponse {
  return { status: 302, headers: { Location: location, 'Cache-Control': NO_STORE }, setCookies, body: null };
}

/**
 * The one JSON shape of every API error the flow layer answers (error pages' JSON, the guards'
 * 401 and 400, a session conflict's 409): `error`, the stable `ERR_OIDC_*` code (`internal_error`
 * for anything that is not an OidcError, whose detail is never shown); `message`, for people; and
 * `correlationId`, the id given to `onError` when the error is reported.
 */
export function apiError(status: number, error: unknown, correlationId: string, setCookies: string[] = [], headers: Record<string, string> = {}): OidcResponse {
  const known = isOidcError(error) ? error : undefined;
  const body = { error: known?.code ?? 'internal_error', message: known?.message ?? 'An unexpected error occurred.', correlationId };
  return json(status, body, setCookies, headers);
}

export function json(status: number, body: unknown, setCookies: string[] = [], headers: Record<string, string> = {}): OidcResponse {
  return {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': NO_STORE, 'X-Content-Type-Options': 'nosniff', ...headers },
    setCookies,
    body: JSON.stringify(body),
  };
}

const PAGE_STYLE = 'body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}code{background:#f3f3f3;padding:.1rem .3rem}';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * The q-value `accept` gives `type` (RFC 9110 §12.5.1) and how specific the matching range was
 * (2 exact, 1 `type/*`, 0 `*\/*`), the most specific range winning. Missing header → q 1 for all.
 */
function quality(accept: string | null, type: string): { q: number; specificity: number } {
  if (accept === null || accept.trim() === '') return { q: 1, specificity: 0 };
  const [major] = type.split('/');
  let best = { q: 0, specificity: -1 };
  for (const part of accept.slice(0, 2048).split(',')) {
    const [range = '', ...params] = part.trim().toLowerCase().split(';');
    const specificity = range.trim() === type ? 2 : range.trim() === `${major}/*` ? 1 : range.trim() === '*/*' ? 0 : -1;
    if (specificity <= best.specificity) continue;
    let q = 1;
    for (const param of params) {
      const [key, value] = param.trim().split('=');
      if (key === 'q' && value !== undefined) {
        const parsed = Number(value);
        q = Number.isFinite(parsed) && parsed >= 0 && parsed <= 1 ? parsed : 0;
      }
    }
    best = { q, specificity };
  }
  return best;
}

/**
 * True when the request's `Accept` ranks `application/json` above `text/html`: a higher q-value,
 * or the same q-value from a more specific range (axios sends `application/json, text/plain, *\/*`;
 * browsers send `text/html,…,*\/*;q=0.8`).
 */
/** One request header, through the adapter's fast path when it has one (see {@link OidcRequest.header}). */
export function headerOf(req: OidcRequest, name: string): string | null {
  return req.header === undefined ? req.headers.get(name) : req.header(name);
}

export function prefersJson(req: OidcRequest): boolean {
  const accept = headerOf(req, 'accept');
  const jsonQ = quality(accept, 'application/json');
  const htmlQ = quality(accept, 'text/html');
  if (jsonQ.q !== htmlQ.q) return jsonQ.q > htmlQ.q;
  return jsonQ.q > 0 && jsonQ.specificity > htmlQ.specificity;
}

/**
 * Response for a failure on a browser-facing route (catalogue legend REJECT-CB, LG-03): the status
 * of the error, a page (or JSON when the client prefers it) that names the stable error code and an
 * opaque correlation id, with the message HTML-escaped. OidcError messages never hold tokens, codes
 * or cookie values; anything that is not an OidcError becomes a generic 500 with no detail at all.
 */
export function errorResponse(req: OidcRequest, error: unknown, correlationId: string, setCookies: string[] = []): OidcResponse {
  const known = isOidcError(error) ? error : undefined;
  const status = known ? known.status : 500;
  const code = known?.code;
  const message = known ? known.message : 'An unexpected error occurred.';
  const headers: Record<string, string> = { 'Cache-Control': NO_STORE };
  if (known?.retryAfter !== undefined && Number.isFinite(known.retryAfter)) {
    headers['Retry-After'] = String(Math.max(0, Math.ceil(known.retryAfter)));
  }
  if (prefersJson(req)) {
    return apiError(status, error, correlationId, setCookies, headers);
  }
  const content = `<p>${escapeHtml(message)}</p>
${code ? `<p>Error code: <code>${escapeHtml(code)}</code></p>\n` : ''}<p>Reference: <code>${escapeHtml(correlationId)}</code></p>
<p><a href="/">Back to the start page</a></p>
`;
  return htmlPage(status, { title: status >= 500 ? 'Sign-in is unavailable' : 'Sign-in failed', style: PAGE_STYLE, content }, headers, setCookies);
}

/** 405 with `Allow` (RFC 9110 §15.5.6). */
export function methodNotAllowed(req: OidcRequest, allow: readonly string[], correlationId: string): OidcResponse {
  const response = errorResponse(req, new OidcError('ERR_OIDC_METHOD_NOT_ALLOWED', `Use ${allow.join(' or ')} on this route.`), correlationId);
  response.headers['Allow'] = allow.join(', ');
  return response;
}
