/**
 * The back-channel transport: every call from oin-oidc to an Okta org goes through here.
 *
 * Guards (catalogue §O, §P): a per-request deadline covering headers and body (HF-04), no redirects
 * (RFC 9700 §4.11 — a 3xx on a back-channel call is refused, never followed), a response size cap
 * read incrementally (DS), content-type and JSON checks (an HTML error page is never parsed, and its
 * body never reaches an error message), Okta `X-Rate-Limit-*` reporting, 429 handling (HF-01/02), a
 * per-org concurrency limit for `/token` and `/introspect`, and retries with backoff and jitter for
 * idempotent metadata and key GETs only (a code exchange is never replayed).
 */
import { OidcError } from '../errors';
import { type OidcEventListener, type OidcHttpOutcome, safeEventListener } from '../events';
import { BOUNDS, checkBound } from '../internal/bounds';
import { sleep } from '../internal/time';
import { ConcurrencyLimiter } from './concurrency';
import { defaultHttpClient, type HttpClient } from './http-client';
import { discardBody, readBodyCapped } from './read-body';
import { hasRateLimitInfo, isConcurrentLimit, parseRateLimitHeaders, RETRY_AFTER_MAX_SEC, retryAfterSeconds } from './rate-limit';
import { MemoryRateLimitStore, type RateLimitStore } from './rate-limit-store';
import type { EndpointKind, RateLimitEvent, RateLimitInfo, Transport, TransportRequestInit, TransportResponse, TransportTarget } from './types';

/** Options of {@link createTransport}. Every field is optional. */
export interface TransportOptions {
  /** The HTTP client; default the global `fetch`. */
  http?: HttpClient;
  /** Deadline per attempt, headers and body included. Default 5000 ms (jose's JWKS default). */
  timeoutMs?: number;
  /** Response body cap in bytes. Default 262144 (256 KiB). */
  maxResponseBytes?: number;
  /**
   * On a 429, wait for Okta's reset and retry once when that is at most this long away.
   * Default 0: fail fast with ERR_OIDC_RATE_LIMITED and `retryAfter`.
   */
  maxRateLimitWaitMs?: number;
  /** In-flight `/token` + `/introspect` calls per org (issuer). Default 10. */
  maxConcurrentPerOrg?: number;
  /** Calls allowed to wait for a slot per org before ERR_OIDC_RATE_LIMITED. Default 100. */
  maxQueuedPerOrg?: number;
  /** Longest wait for a slot before ERR_OIDC_RATE_LIMITED. Default `timeoutMs`. */
  maxQueueWaitMs?: number;
  /** Extra attempts for 'discovery' and 'jwks' after a network error or 5xx (not after a timeout). Default 2. */
  retries?: number;
  /** First backoff step; doubles per retry, with jitter. Default 100 ms. */
  retryBaseDelayMs?: number;
  /** Backoff cap. Default 2000 ms. */
  retryMaxDelayMs?: number;
  /** Clock in epoch ms (for `X-Rate-Limit-Reset`). Default `Date.now`. */
  now?: () => number;
  /** Called for every response that carries `X-Rate-Limit-*` headers. Exceptions it throws are ignored. */
  onRateLimit?: (event: RateLimitEvent) => void;
  /**
   * Operational events (docs/operations.md, 'Telemetry'): an `http` event per exchange with Okta
   * and a `rate-limit` event per response with `X-Rate-Limit-*` headers. Exceptions it throws are
   * ignored.
   */
  onEvent?: OidcEventListener;
  /**
   * Where Okta's back-off lives (shared by a fleet through `rateLimitStore`, docs/deployment.md).
   * After a 429, or a response with `X-Rate-Limit-Remaining: 0`, calls of that endpoint to that org
   * wait until `X-Rate-Limit-Reset` (or fail fast with `ERR_OIDC_RATE_LIMITED` and `retryAfter`)
   * without reaching Okta. Default: this process only; a shared store (`@oin-oidc/redis`) makes
   * every process of a fleet back off. A store that fails falls back to this process's own state.
   */
  rateLimitStore?: RateLimitStore;
}

const DEFAULTS = {
  timeoutMs: 5000,
  maxResponseBytes: 256 * 1024,
  maxRateLimitWaitMs: 0,
  maxConcurrentPerOrg: 10,
  maxQueuedPerOrg: 100,
  retries: 2,
  retryBaseDelayMs: 100,
  retryMaxDelayMs: 2000,
} as const;

/** Okta exempts `/keys` and `/.well-known` from its concurrent limit; only these are gated. */
const CONCURRENCY_LIMITED: ReadonlySet<EndpointKind> = new Set(['token', 'introspection']);
/**
 * Okta rate-limits these per org and endpoint; `/keys` and `/.well-known` are exempt ("Rate limits
 * overview", developer.okta.com/docs/reference/rate-limits/), so a back-off never blocks key fetches.
 */
const BACK_OFF: ReadonlySet<EndpointKind> = new Set(['token', 'introspection', 'userinfo', 'revocation']);
/** Idempotent GETs of public metadata: safe to repeat. Token, introspection, userinfo and revocation are not retried. */
const RETRYABLE: ReadonlySet<EndpointKind> = new Set(['discovery', 'jwks']);

type Attempt = { ok: true; response: TransportResponse } | { ok: false; error: OidcError; waitMs: number | undefined };
/** What an `http` event needs from one exchange (only kept when a listener is installed). */
type Exchange = { started: number; status: number | undefined; info: RateLimitInfo | undefined };

/** Media type without parameters, lower-cased; '' when absent. */
function mediaType(headers: Headers): string {
  return (headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

function isJsonMediaType(type: string): boolean {
  return type === '' || type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** Full jitter on an exponential step (AWS Architecture Blog, "Exponential Backoff and Jitter"). */
function backoffMs(attempt: number, base: number, cap: number): number {
  const step = Math.min(cap, base * 2 ** attempt);
  return step / 2 + Math.random() * (step / 2);
}

/**
 * Create the {@link Transport} every Okta call goes through. Options are validated once, here
 * (ERR_OIDC_INVALID_OPTIONS), never per request.
 */
export function createTransport(options: TransportOptions = {}): Transport {
  checkBound('timeoutMs', options.timeoutMs, BOUNDS.transportTimeoutMs);
  checkBound('maxResponseBytes', options.maxResponseBytes, BOUNDS.transportMaxResponseBytes);
  checkBound('maxRateLimitWaitMs', options.maxRateLimitWaitMs, BOUNDS.transportMaxRateLimitWaitMs);
  checkBound('maxConcurrentPerOrg', options.maxConcurrentPerOrg, BOUNDS.transportMaxConcurrentPerOrg);
  checkBound('maxQueuedPerOrg', options.maxQueuedPerOrg, BOUNDS.transportMaxQueuedPerOrg);
  checkBound('maxQueueWaitMs', options.maxQueueWaitMs, BOUNDS.transportMaxQueueWaitMs);
  checkBound('retries', options.retries, BOUNDS.transportRetries);
  checkBound('retryBaseDelayMs', options.retryBaseDelayMs, BOUNDS.transportRetryBaseDelayMs);
  checkBound('retryMaxDelayMs', options.retryMaxDelayMs, BOUNDS.transportRetryMaxDelayMs);
  if (options.http !== undefined && typeof options.http !== 'function') {
    throw new OidcError('ERR_OIDC_INVALID_OPTIONS', 'http must be a fetch-shaped function', { details: { field: 'http' } });
  }
  const http = options.http ?? defaultHttpClient;
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const maxBytes = options.maxResponseBytes ?? DEFAULTS.maxResponseBytes;
  const maxWaitMs = options.maxRateLimitWaitMs ?? DEFAULTS.maxRateLimitWaitMs;
  const maxQueueWaitMs = options.maxQueueWaitMs ?? timeoutMs;
  const retries = options.retries ?? DEFAULTS.retries;
  const baseDelay = options.retryBaseDelayMs ?? DEFAULTS.retryBaseDelayMs;
  const maxDelay = options.retryMaxDelayMs ?? DEFAULTS.retryMaxDelayMs;
  const now = options.now ?? Date.now;
  const onRateLimit = options.onRateLimit;
  const onEvent = safeEventListener(options.onEvent);
  const maxConcurrent = options.maxConcurrentPerOrg ?? DEFAULTS.maxConcurrentPerOrg;
  const maxQueued = options.maxQueuedPerOrg ?? DEFAULTS.maxQueuedPerOrg;
  const limiter = new ConcurrencyLimiter(maxConcurrent, maxQueued);
  // The local back-off is always kept, so a shared store that fails still leaves this process honouring Okta.
  const localBackOff = new MemoryRateLimitStore({ now });
  const sharedBackOff = options.rateLimitStore;
  // /introspect is reachable by anyone who sends a bearer token; /token only by a browser that
  // completed a sign-in. So introspections may hold at most 80 % of an org's slots (when there are
  // 5 or more): a flood of tokens only Okta can judge can slow API calls, never block sign-ins
  // (SA-01, docs/security.md: a shared budget an attacker can drain).
  const reserved = Math.floor(maxConcurrent / 5);
  const introspectionLimiter = reserved > 0 ? new ConcurrencyLimiter(maxConcurrent - reserved, maxQueued) : undefined;

  /** The slots a call needs; resolves with one function that releases them all. */
  async function acquire(kind: EndpointKind, issuer: string): Promise<(() => void) | undefined> {
    if (!CONCURRENCY_LIMITED.has(kind)) return undefined;
    if (kind !== 'introspection' || introspectionLimiter === undefined) return limiter.acquire(issuer, maxQueueWaitMs);
    // Always in this order (the introspection share first), so two calls never wait on each other.
    const share = await introspectionLimiter.acquire(issuer, maxQueueWaitMs);
    try {
      const slot = await limiter.acquire(issuer, maxQueueWaitMs);
      return () => {
        slot();
        share();
      };
    } catch (error) {
      share();
      throw error;
    }
  }

  function report(kind: EndpointKind, target: TransportTarget, status: number, info: RateLimitInfo): void {
    if ((onRateLimit === undefined && onEvent === undefined) || !hasRateLimitInfo(info)) return;
    if (onEvent !== undefined) {
      onEvent({ type: 'rate-limit', ...info, issuer: target.issuer, endpoint: kind, ...(target.tenantId === undefined ? {} : { tenantId: target.tenantId }) });
    }
    if (onRateLimit === undefined) return;
    const event: RateLimitEvent = { ...info, issuer: target.issuer, endpoint: kind, status };
    if (target.tenantId !== undefined) event.tenantId = target.tenantId;
    try {
      onRateLimit(event);
    } catch {
      // A monitoring hook must never break sign-in.
    }
  }

  /** The `http` event of one exchange: its outcome from the status, or from the error that ended it. */
  function reportExchange(kind: EndpointKind, target: TransportTarget, observed: Exchange, error: unknown): void {
    const { status, info } = observed;
    const outcome: OidcHttpOutcome =
      error instanceof OidcError && error.code === 'ERR_OIDC_HTTP_TIMEOUT'
        ? 'timeout'
        : status === 429
          ? 'rate-limited'
          : error === undefined && status !== undefined && status >= 200 && status < 300
            ? 'ok'
            : 'error';
    onEvent?.({
      type: 'http',
      endpoint: kind,
      issuer: target.issuer,
      ...(target.tenantId === undefined ? {} : { tenantId: target.tenantId }),
      ...(status === undefined ? {} : { status }),
      outcome,
      durationMs: performance.now() - observed.started,
      ...(info !== undefined && hasRateLimitInfo(info) ? { rateLimit: info } : {}),
    });
  }

  /** How long to wait before the single 429 retry, or undefined to fail fast. */
  function rateLimitWait(info: RateLimitInfo): number | undefined {
    if (maxWaitMs <= 0) return undefined;
    // HF-02: a concurrent-limit reset is only a suggestion; a short jittered pause is enough.
    const wait = isConcurrentLimit(info)
      ? backoffMs(1, 250, 1000)
      : info.reset === undefined
        ? undefined
        : Math.max(0, info.reset * 1000 - now()) + Math.random() * 250;
    return wait !== undefined && wait <= maxWaitMs ? wait : undefined;
  }

  /** Until when (epoch ms) calls of `kind` to `issuer` must wait: the later of the local and the shared back-off. */
  async function backOffUntil(kind: EndpointKind, issuer: string): Promise<number | undefined> {
    const local = localBackOff.blockedUntilSync(issuer, kind);
    if (sharedBackOff === undefined) return local;
    let shared: number | undefined;
    try {
      shared = await sharedBackOff.blockedUntil(issuer, kind);
    } catch {
      // An unreachable shared store: this process's own back-off still applies (never fail open on Okta's limit).
      return local;
    }
    if (shared === undefined || !(shared > now())) return local;
    return local === undefined ? shared : Math.max(local, shared);
  }

  /**
   * Okta said the window is spent (a 429 that is not the concurrent limit, or `Remaining: 0`): no
   * call of this kind to this org until the reset, in this process and, with a shared store, in
   * every process. The concurrent limit's reset is only a suggestion (HF-02), so it never blocks.
   */
  async function recordBackOff(kind: EndpointKind, issuer: string, status: number, info: RateLimitInfo): Promise<void> {
    if (!BACK_OFF.has(kind) || info.reset === undefined || isConcurrentLimit(info)) return;
    if (status !== 429 && info.remaining !== 0) return;
    // Capped like `retryAfter`: a reset far ahead is a clock disagreement, not a ten-minute outage.
    const untilMs = Math.min(info.reset * 1000, now() + RETRY_AFTER_MAX_SEC * 1000);
    if (!(untilMs > now())) return;
    localBackOff.blockSync(issuer, kind, untilMs);
    try {
      await sharedBackOff?.block(issuer, kind, untilMs);
    } catch {
      // The other processes learn it from their own next 429; this one already waits.
    }
  }

  function backOffError(kind: EndpointKind, untilMs: number): OidcError {
    const retryAfter = Math.max(1, Math.ceil((untilMs - now()) / 1000));
    return new OidcError('ERR_OIDC_RATE_LIMITED', `Okta rate limit reached on the ${kind} endpoint; retry after ${retryAfter} s`, {
      retryAfter,
      details: { endpoint: kind, reason: 'back-off', reset: Math.ceil(untilMs / 1000) },
    });
  }

  function parseBody(kind: EndpointKind, status: number, headers: Headers, bytes: Uint8Array): unknown {
    if (bytes.byteLength === 0) return undefined;
    const type = mediaType(headers);
    const details = { status, endpoint: kind };
    if (type === 'text/html' || type === 'application/xhtml+xml') {
      // An error page from a proxy or a captive portal: never parsed, never echoed.
      throw new OidcError('ERR_OIDC_HTTP_ERROR', `The ${kind} endpoint answered HTTP ${status} with an HTML page instead of JSON`, { details });
    }
    if (!isJsonMediaType(type)) {
      throw new OidcError('ERR_OIDC_HTTP_ERROR', `The ${kind} endpoint answered HTTP ${status} with an unexpected content type`, { details });
    }
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch {
      // No cause: V8's SyntaxError quotes the input around the error, and the input may be a token
      // response (catalogue LG-01).
      throw new OidcError('ERR_OIDC_HTTP_ERROR', `The ${kind} endpoint answered HTTP ${status} with malformed JSON`, { details });
    }
  }

  async function attempt(kind: EndpointKind, target: TransportTarget, url: string, init: TransportRequestInit): Promise<Attempt> {
    const release = await acquire(kind, target.issuer);
    const controller = new AbortController();
    const timeoutError = new OidcError('ERR_OIDC_HTTP_TIMEOUT', `The ${kind} endpoint did not answer within ${timeoutMs} ms`, {
      details: { endpoint: kind, timeoutMs },
    });
    const timer = setTimeout(() => controller.abort(timeoutError), timeoutMs);
    // Timed only for a listener (telemetry: no listener, no cost).
    const observed: Exchange | undefined = onEvent === undefined ? undefined : { started: performance.now(), status: undefined, info: undefined };
    let failure: unknown;
    try {
      let response: Response;
      try {
        const callerHeaders = init.headers ?? {};
        const hasAccept = Object.keys(callerHeaders).some((name) => name.toLowerCase() === 'accept');
        const headers: Record<string, string> = hasAccept ? { ...callerHeaders } : { accept: 'application/json', ...callerHeaders };
        const requestInit = { method: init.method, headers, signal: controller.signal, redirect: 'manual' as const };
        response = await http(url, init.body === undefined ? requestInit : { ...requestInit, body: init.body });
      } catch (cause) {
        if (controller.signal.aborted) throw timeoutError;
        throw new OidcError('ERR_OIDC_UNAVAILABLE', `The ${kind} endpoint could not be reached`, { cause, details: { endpoint: kind } });
      }
      const status = response.status;
      const info = parseRateLimitHeaders(response.headers);
      if (observed !== undefined) {
        observed.status = status;
        observed.info = info;
      }
      report(kind, target, status, info);
      await recordBackOff(kind, target.issuer, status, info);

      if (response.type === 'opaqueredirect' || (status >= 300 && status < 400)) {
        discardBody(response);
        throw new OidcError('ERR_OIDC_HTTP_ERROR', `The ${kind} endpoint answered with a redirect (HTTP ${status}), which back-channel calls never follow`, {
          details: { status, endpoint: kind },
        });
      }
      if (status === 429) {
        discardBody(response);
        const retryAfter = isConcurrentLimit(info) ? 1 : retryAfterSeconds(info, now());
        const error = new OidcError('ERR_OIDC_RATE_LIMITED', `Okta rate limit reached on the ${kind} endpoint; retry after ${retryAfter} s`, {
          retryAfter,
          details: { status, endpoint: kind, ...info },
        });
        return { ok: false, error, waitMs: rateLimitWait(info) };
      }
      if (status >= 500 || status < 200) {
        discardBody(response);
        throw new OidcError('ERR_OIDC_UNAVAILABLE', `The ${kind} endpoint answered HTTP ${status}`, { details: { status, endpoint: kind } });
      }
      let bytes: Uint8Array;
      try {
        bytes = await readBodyCapped(response, maxBytes, controller.signal);
      } catch (cause) {
        if (cause instanceof OidcError) throw cause;
        if (controller.signal.aborted) throw timeoutError;
        throw new OidcError('ERR_OIDC_UNAVAILABLE', `The ${kind} endpoint's response was interrupted`, { cause, details: { status, endpoint: kind } });
      }
      return { ok: true, response: { status, headers: response.headers, json: parseBody(kind, status, response.headers, bytes) } };
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      clearTimeout(timer);
      release?.();
      if (observed !== undefined) reportExchange(kind, target, observed, failure);
    }
  }

  return {
    async request(kind, target, url, init) {
      // Only idempotent GETs are ever repeated (RFC 9110 §9.2.2).
      const retryable = RETRYABLE.has(kind) && init.method === 'GET';
      let waitedForRateLimit = false;
      for (let failures = 0; ; ) {
        if (BACK_OFF.has(kind)) {
          const until = await backOffUntil(kind, target.issuer);
          if (until !== undefined) {
            // Within the configured wait: sleep once until the reset; otherwise fail fast, no call to Okta.
            const wait = until - now() + Math.random() * 250;
            if (waitedForRateLimit || maxWaitMs <= 0 || wait > maxWaitMs) throw backOffError(kind, until);
            waitedForRateLimit = true;
            await sleep(wait);
            continue;
          }
        }
        let result: Attempt;
        try {
          result = await attempt(kind, target, url, init);
        } catch (error) {
          // 5xx and network errors only: a timeout already spent the whole deadline (HF-04), and
          // retrying it would multiply the latency of a login while Okta is hanging.
          const transient = error instanceof OidcError && error.code === 'ERR_OIDC_UNAVAILABLE';
          if (retryable && transient && failures < retries) {
            await sleep(backoffMs(failures, baseDelay, maxDelay));
            failures += 1;
            continue;
          }
          throw error;
        }
        if (result.ok) return result.response;
        // HF-01: no immediate retry; at most one, after the reset, and only within the configured bound.
        if (!waitedForRateLimit && result.waitMs !== undefined) {
          waitedForRateLimit = true;
          await sleep(result.waitMs);
          continue;
        }
        throw result.error;
      }
    },
  };
}
