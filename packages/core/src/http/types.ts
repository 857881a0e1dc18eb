/** Shared types of the back-channel transport (see docs/architecture.md, "HTTP"). */

/** The Okta endpoint a back-channel call targets; drives retries, rate-limit exemption and concurrency. */
export type EndpointKind = 'discovery' | 'jwks' | 'token' | 'introspection' | 'userinfo' | 'revocation';

/** Okta's `X-Rate-Limit-*` response headers, each present only when it parsed cleanly. */
export interface RateLimitInfo {
  limit?: number;
  remaining?: number;
  /** UTC epoch seconds at which the window resets. */
  reset?: number;
}

/** Reported through `onRateLimit` for every response that carries at least one `X-Rate-Limit-*` header. */
export interface RateLimitEvent extends RateLimitInfo {
  issuer: string;
  tenantId?: string;
  endpoint: EndpointKind;
  status: number;
}

/** A successfully received response (2xx, or 4xx with a JSON or empty body). */
export interface TransportResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON; `undefined` for an empty body. */
  json: unknown;
}

/** Who a call is made for: the org (issuer) and, when known, the tenant (app instance). */
export interface TransportTarget {
  issuer: string;
  tenantId?: string;
}

/** What a caller sends. */
export interface TransportRequestInit {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

/** One back-channel call with every guard applied; see {@link createTransport}. */
export interface Transport {
  /**
   * One back-channel call. Applies: per-request timeout (ERR_OIDC_HTTP_TIMEOUT), redirect 'manual'
   * (any 3xx → ERR_OIDC_HTTP_ERROR), response size cap (ERR_OIDC_HTTP_RESPONSE_TOO_LARGE),
   * X-Rate-Limit-* parsing + onRateLimit hook, 429 → ERR_OIDC_RATE_LIMITED with retryAfter
   * (or a wait when the reset is within maxRateLimitWaitMs), per-org concurrency limit for
   * 'token' and 'introspection', retries with backoff+jitter for 'discovery' and 'jwks' only.
   * 5xx, HTML and malformed JSON → ERR_OIDC_HTTP_ERROR / ERR_OIDC_UNAVAILABLE.
   * A 4xx with a JSON body is RETURNED (callers interpret OAuth errors such as invalid_client).
   */
  request(kind: EndpointKind, target: TransportTarget, url: string, init: TransportRequestInit): Promise<TransportResponse>;
}
