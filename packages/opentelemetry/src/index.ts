/**
 * `@oin-oidc/opentelemetry`: the `onEvent` events of `@oin-oidc/core` as OpenTelemetry spans and
 * metrics (docs/operations.md, 'Telemetry'), through `@opentelemetry/api` only. The app brings the
 * SDK and exporters (or none: the api's default providers are no-ops, and so is this listener).
 *
 * Attributes carry only what the events carry — endpoint kinds, issuer hosts, tenant ids from the
 * credential store, status classes, outcomes, error codes — never a token, a code or a secret.
 */
import {
  type Attributes,
  type Counter,
  type Histogram,
  type Meter,
  metrics,
  type ObservableGauge,
  type ObservableResult,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { OidcError, type OidcEvent, type OidcHttpEvent, type OidcJwksEvent, type OidcRateLimitEvent } from '@oin-oidc/core';

export type { OidcEvent } from '@oin-oidc/core';

/** Options of {@link createOpenTelemetryListener}. Every field is optional. */
export interface OpenTelemetryListenerOptions {
  /** Where the metrics go. Default: `metrics.getMeter('@oin-oidc/opentelemetry')` on the first event (so an SDK registered after this call is still used). */
  meter?: Meter;
  /** Where the spans go. Default: `trace.getTracer('@oin-oidc/opentelemetry')`. */
  tracer?: Tracer;
  /** The first part of every metric name: lower-case letters, digits and `_`. Default `'oin_oidc'`. */
  prefix?: string;
}

/** The instrumentation scope name. */
const SCOPE = '@oin-oidc/opentelemetry';
/** Bucket bounds (ms) for Okta call latency: a warm `/introspect` answers in tens of ms, a slow `/token` in seconds. */
const DURATION_BUCKETS_MS = [5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 10000];
/** Distinct (issuer host, endpoint) pairs whose last headroom is kept for the gauges; the oldest goes first. */
const MAX_HEADROOM_SERIES = 10_000;
/** Distinct issuers whose host is remembered. */
const MAX_HOSTS = 10_000;

interface Instruments {
  duration: Histogram;
  signIn: Counter;
  introspection: Counter;
  jwksRefresh: Counter;
  remaining: ObservableGauge;
  limit: ObservableGauge;
}

/** The last `X-Rate-Limit-*` values seen for one issuer host and endpoint. */
interface Headroom {
  attributes: Attributes;
  limit?: number;
  remaining?: number;
}

/**
 * A listener for the client option `onEvent` that records:
 *
 * | name | instrument | attributes |
 * | --- | --- | --- |
 * | `oin_oidc.http.duration` | histogram, ms | `endpoint`, `issuer_host`, `status_class`, `outcome` |
 * | `oin_oidc.sign_in` | counter | `tenant`, `flow`, `outcome`, `error_code` |
 * | `oin_oidc.introspection` | counter | `tenant`, `outcome` |
 * | `oin_oidc.jwks.refresh` | counter | `issuer_host`, `reason`, `outcome` |
 * | `oin_oidc.rate_limit.remaining` / `.limit` | observable gauges (last seen) | `issuer_host`, `endpoint` |
 *
 * and one span per Okta call, `oin-oidc <endpoint>` (kind CLIENT, timed from the event's
 * `durationMs`, a child of the active span). See docs/operations.md#telemetry.
 *
 * @example
 * ```ts
 * import { createOpenTelemetryListener } from '@oin-oidc/opentelemetry';
 * const auth = oidc({ store: tenants, session: { secret }, client: { onEvent: createOpenTelemetryListener() } });
 * ```
 */
export function createOpenTelemetryListener(options: OpenTelemetryListenerOptions = {}): (event: OidcEvent) => void {
  const prefix = options.prefix ?? 'oin_oidc';
  if (typeof prefix !== 'string' || !/^[a-z][a-z0-9_]{0,62}$/.test(prefix)) {
    throw new OidcError('ERR_OIDC_INVALID_OPTIONS', 'prefix must be lower-case letters, digits and underscores, starting with a letter', {
      details: { field: 'prefix' },
    });
  }
  const tracer = options.tracer ?? trace.getTracer(SCOPE);
  const headroom = new Map<string, Headroom>();
  const hosts = new Map<string, string>();
  let instruments: Instruments | undefined;

  function create(meter: Meter): Instruments {
    const remaining = meter.createObservableGauge(`${prefix}.rate_limit.remaining`, {
      description: 'Requests left in the current Okta rate-limit window (X-Rate-Limit-Remaining), last seen per org and endpoint',
      unit: '{request}',
    });
    const limit = meter.createObservableGauge(`${prefix}.rate_limit.limit`, {
      description: 'Requests allowed per Okta rate-limit window (X-Rate-Limit-Limit), last seen per org and endpoint',
      unit: '{request}',
    });
    remaining.addCallback((result: ObservableResult) => {
      for (const series of headroom.values()) if (series.remaining !== undefined) result.observe(series.remaining, series.attributes);
    });
    limit.addCallback((result: ObservableResult) => {
      for (const series of headroom.values()) if (series.limit !== undefined) result.observe(series.limit, series.attributes);
    });
    return {
      duration: meter.createHistogram(`${prefix}.http.duration`, {
        description: 'Duration of back-channel calls to Okta (discovery, keys, token, introspect, userinfo, revoke)',
        unit: 'ms',
        advice: { explicitBucketBoundaries: DURATION_BUCKETS_MS },
      }),
      signIn: meter.createCounter(`${prefix}.sign_in`, { description: 'Sign-in outcomes per tenant, flow and error code', unit: '{sign-in}' }),
      introspection: meter.createCounter(`${prefix}.introspection`, {
        description: 'Bearer token introspections by how they were answered (hot-hit, cache-hit, miss, refused-locally, fleet-wait)',
        unit: '{introspection}',
      }),
      jwksRefresh: meter.createCounter(`${prefix}.jwks.refresh`, { description: 'JWKS fetches per org and reason (cold, expired, unknown-kid)', unit: '{fetch}' }),
      remaining,
      limit,
    };
  }

  /** The issuer's `host` (with port): an org's identity without the path; memoised, since it is the same few strings. */
  function hostOf(issuer: string): string {
    let host = hosts.get(issuer);
    if (host === undefined) {
      host = URL.parse(issuer)?.host ?? 'unknown';
      if (hosts.size >= MAX_HOSTS) hosts.clear();
      hosts.set(issuer, host);
    }
    return host;
  }

  function recordHttp(i: Instruments, event: OidcHttpEvent): void {
    const host = hostOf(event.issuer);
    i.duration.record(event.durationMs, {
      endpoint: event.endpoint,
      issuer_host: host,
      status_class: event.status === undefined ? 'none' : `${Math.floor(event.status / 100)}xx`,
      outcome: event.outcome,
    });
    // The event arrives when the call has ended: the span is started in the past and ended now.
    const end = Date.now();
    const attributes: Attributes = {
      'oin_oidc.endpoint': event.endpoint,
      'oin_oidc.outcome': event.outcome,
      'server.address': host,
    };
    if (event.status !== undefined) attributes['http.response.status_code'] = event.status;
    if (event.tenantId !== undefined) attributes['oin_oidc.tenant'] = event.tenantId;
    if (event.rateLimit?.remaining !== undefined) attributes['oin_oidc.rate_limit.remaining'] = event.rateLimit.remaining;
    const span = tracer.startSpan(`oin-oidc ${event.endpoint}`, { kind: SpanKind.CLIENT, startTime: end - event.durationMs, attributes });
    if (event.outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: event.outcome });
    span.end(end);
  }

  function recordJwks(i: Instruments, event: OidcJwksEvent): void {
    if (event.action === 'evicted') return;
    const attributes: Attributes = { issuer_host: hostOf(event.issuer) };
    if (event.action === 'refetch-refused') {
      // An unknown-kid refetch the budget refused (catalogue JK-02): counted, so a flood shows.
      attributes.reason = 'unknown-kid';
      attributes.outcome = 'refused';
    } else {
      attributes.reason = event.reason;
      attributes.outcome = event.action === 'fetch' ? 'ok' : 'error';
    }
    i.jwksRefresh.add(1, attributes);
  }

  function recordHeadroom(event: OidcRateLimitEvent): void {
    const host = hostOf(event.issuer);
    const key = `${host}\n${event.endpoint}`;
    let series = headroom.get(key);
    if (series === undefined) {
      if (headroom.size >= MAX_HEADROOM_SERIES) headroom.delete(headroom.keys().next().value as string);
      series = { attributes: { issuer_host: host, endpoint: event.endpoint } };
      headroom.set(key, series);
    }
    if (event.limit !== undefined) series.limit = event.limit;
    if (event.remaining !== undefined) series.remaining = event.remaining;
  }

  return (event) => {
    instruments ??= create(options.meter ?? metrics.getMeter(SCOPE));
    switch (event.type) {
      case 'http':
        recordHttp(instruments, event);
        return;
      case 'rate-limit':
        recordHeadroom(event);
        return;
      case 'jwks':
        recordJwks(instruments, event);
        return;
      case 'introspection':
        instruments.introspection.add(1, { tenant: event.tenantId, outcome: event.outcome });
        return;
      case 'sign-in': {
        const attributes: Attributes = { flow: event.flow, outcome: event.outcome };
        if (event.tenantId !== undefined) attributes.tenant = event.tenantId;
        if (event.errorCode !== undefined) attributes.error_code = event.errorCode;
        instruments.signIn.add(1, attributes);
        return;
      }
    }
  };
}
