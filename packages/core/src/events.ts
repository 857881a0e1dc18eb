/**
 * Operational events (docs/operations.md, 'Telemetry'): one typed hook, the client option
 * `onEvent`, through which core reports what an operator graphs and alerts on — back-channel call
 * latency and status, Okta rate-limit headroom, JWKS refreshes, introspection cache hits, sign-in
 * outcomes. Core stays jose + zod only: `@oin-oidc/opentelemetry` turns these events into spans and
 * metrics, and {@link formatEventForLog} into log lines (pino, console).
 *
 * Rules every emission point follows:
 * - No listener, no cost: each point is guarded by `if (onEvent !== undefined)`, so the warm paths
 *   (a hot introspection hit, a warm session read) allocate nothing for events.
 * - An event never carries a token, an authorization code, a secret, a cookie or raw request input:
 *   only endpoint kinds, issuers and JWKS URLs (tenant configuration), tenant ids that came out of
 *   the credential store or a sealed transaction, statuses, counts, durations and error codes.
 * - A listener that throws is ignored: monitoring must never break a sign-in.
 */
import type { OidcErrorCode } from './errors';
import type { EndpointKind, RateLimitInfo } from './http/types';
import type { JwksEvent } from './jwks/jwks-events';

/** How one back-channel call ended: `ok` is a 2xx; `rate-limited` a 429; `timeout` the deadline; `error` anything else (4xx, 5xx, redirect, network, malformed body). */
export type OidcHttpOutcome = 'ok' | 'error' | 'timeout' | 'rate-limited';

/**
 * One HTTP exchange with an Okta org, retries counted one by one, measured from sending the request
 * to the end of reading the body (waiting for a local concurrency slot excluded). Calls refused
 * locally (a recorded back-off, a full queue) reach no endpoint and raise no `http` event.
 */
export interface OidcHttpEvent {
  type: 'http';
  endpoint: EndpointKind;
  issuer: string;
  tenantId?: string;
  /** The HTTP status, when a response arrived. */
  status?: number;
  outcome: OidcHttpOutcome;
  durationMs: number;
  /** Okta's `X-Rate-Limit-*` headers of this response, when it carried any. */
  rateLimit?: RateLimitInfo;
}

/** What the JWKS registry did (the `onJwks` events), with `action` holding their own `type`. */
export type OidcJwksEvent = {
  [K in JwksEvent['type']]: Omit<Extract<JwksEvent, { type: K }>, 'type'> & { type: 'jwks'; action: K };
}[JwksEvent['type']];

/**
 * How a bearer introspection was answered: `hot-hit` (this process's in-memory active cache),
 * `cache-hit` (the introspection cache, a shared store included), `miss` (Okta was asked),
 * `refused-locally` (syntax, triage or the local throttle refused it, no Okta call), `fleet-wait`
 * (another process of the fleet asked Okta and this one read its answer). Calls that join an
 * identical call in flight raise no event of their own.
 */
export type OidcIntrospectionOutcome = 'hot-hit' | 'cache-hit' | 'miss' | 'refused-locally' | 'fleet-wait';

export interface OidcIntrospectionEvent {
  type: 'introspection';
  tenantId: string;
  outcome: OidcIntrospectionOutcome;
  /** Whether the answer made the token usable; absent when no answer was reached (a throttle refusal). */
  active?: boolean;
}

/** `code`: the authorization code callback; `simplified`: Okta's simplified flow (a posted ID token); `initiate`: a third-party-initiated login (OIDC Core §4) up to its redirect to Okta. */
export type OidcSignInFlow = 'code' | 'simplified' | 'initiate';

/**
 * A sign-in route's outcome (the flow layer, `createOidcAuth`). `success` means the provider's answer
 * was validated (for `initiate`: the browser was sent to Okta; its callback reports as `code`).
 * `tenantId` is present once the tenant is known from the store or the sealed transaction, never
 * from request input alone.
 */
export interface OidcSignInEvent {
  type: 'sign-in';
  tenantId?: string;
  flow: OidcSignInFlow;
  outcome: 'success' | 'failure';
  /** The failure's code; absent on success and for an unexpected (non-`OidcError`) failure. */
  errorCode?: OidcErrorCode;
}

/** Okta rate-limit headroom: every response that carried `X-Rate-Limit-*` headers (the `onRateLimit` data). */
export interface OidcRateLimitEvent extends RateLimitInfo {
  type: 'rate-limit';
  issuer: string;
  tenantId?: string;
  endpoint: EndpointKind;
}

/** Everything `onEvent` receives, discriminated by `type`. */
export type OidcEvent = OidcHttpEvent | OidcJwksEvent | OidcIntrospectionEvent | OidcSignInEvent | OidcRateLimitEvent;

/** The `onEvent` option: called synchronously at the emission point; exceptions it throws are ignored. */
export type OidcEventListener = (event: OidcEvent) => void;

/** Each listener's guarded wrapper, so a listener passed to several modules is wrapped once. */
const guarded = new WeakMap<OidcEventListener, OidcEventListener>();

/** `listener` wrapped so that it can never throw into the SDK; `undefined` stays `undefined` (the no-cost case). Internal. */
export function safeEventListener(listener: OidcEventListener | undefined): OidcEventListener | undefined {
  if (listener === undefined) return undefined;
  const known = guarded.get(listener);
  if (known !== undefined) return known;
  const safe: OidcEventListener = (event) => {
    try {
      listener(event);
    } catch {
      // Monitoring must never break sign-in.
    }
  };
  guarded.set(listener, safe);
  guarded.set(safe, safe);
  return safe;
}

/** A flat log record: one level of keys, string, number or boolean values. */
export type OidcEventLogRecord = Record<string, string | number | boolean>;

/**
 * A flat, JSON-friendly record of `event` for a structured logger: `msg` (a short human line),
 * `event` (the event's `type`), then its fields (`rateLimit` flattened to `rateLimitLimit`,
 * `rateLimitRemaining`, `rateLimitReset`). Events carry no secret, so neither does the record.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * import { eventLogLevel, formatEventForLog } from '@oin-oidc/core';
 * const logger = pino();
 * const client = { onEvent: (event) => logger[eventLogLevel(event)](formatEventForLog(event)) };
 * // {"level":30,…,"msg":"oin-oidc http token ok 200","event":"http","endpoint":"token",…,"durationMs":41.2}
 * ```
 */
export function formatEventForLog(event: OidcEvent): OidcEventLogRecord {
  const record: OidcEventLogRecord = { msg: messageOf(event), event: event.type };
  for (const [key, value] of Object.entries(event)) {
    if (key === 'type' || value === undefined) continue;
    if (key === 'rateLimit' && typeof value === 'object' && value !== null) {
      const info = value as RateLimitInfo;
      if (info.limit !== undefined) record.rateLimitLimit = info.limit;
      if (info.remaining !== undefined) record.rateLimitRemaining = info.remaining;
      if (info.reset !== undefined) record.rateLimitReset = info.reset;
      continue;
    }
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') record[key] = value;
  }
  return record;
}

function messageOf(event: OidcEvent): string {
  switch (event.type) {
    case 'http':
      return `oin-oidc http ${event.endpoint} ${event.outcome}${event.status === undefined ? '' : ` ${event.status}`}`;
    case 'jwks':
      return `oin-oidc jwks ${event.action}${'reason' in event ? ` (${event.reason})` : ''}`;
    case 'introspection':
      return `oin-oidc introspection ${event.outcome}`;
    case 'sign-in':
      return `oin-oidc sign-in ${event.flow} ${event.outcome}${event.errorCode === undefined ? '' : ` ${event.errorCode}`}`;
    case 'rate-limit':
      return `oin-oidc rate-limit ${event.endpoint} ${event.remaining ?? '?'}/${event.limit ?? '?'}`;
  }
}

/**
 * The level a log line for `event` deserves, as pino, winston and console name them: `warn` for
 * failures (a failed sign-in, an Okta call that did not answer 2xx, a failed or refused JWKS fetch,
 * a 429), `debug` for the per-request cache hits (they happen on every API call), `info` otherwise.
 */
export function eventLogLevel(event: OidcEvent): 'debug' | 'info' | 'warn' {
  switch (event.type) {
    case 'http':
      return event.outcome === 'ok' ? 'debug' : 'warn';
    case 'jwks':
      return event.action === 'fetch-failed' || event.action === 'refetch-refused' ? 'warn' : 'info';
    case 'introspection':
      return event.outcome === 'miss' || event.outcome === 'refused-locally' ? 'info' : 'debug';
    case 'sign-in':
      return event.outcome === 'failure' ? 'warn' : 'info';
    case 'rate-limit':
      return event.remaining === 0 ? 'warn' : 'debug';
  }
}
