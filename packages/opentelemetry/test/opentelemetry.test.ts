/**
 * `createOpenTelemetryListener` against a real emulator org and a real `createOidcAuth`, with the
 * OpenTelemetry SDK's in-memory exporters: a sign-in, a bearer introspection (miss, then hot hit), a
 * JWKS refresh after a key rotation and a 429 give the documented spans and metrics with the
 * documented attributes, and nothing exported holds a token, a code or a secret.
 */
import { metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, type MetricData, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createOidcAuth, isOidcError, type OidcAuth, type OidcEvent, type OidcRequest, type OidcResponse } from '@oin-oidc/core';
import { driveAuthorization, type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenTelemetryListener } from '../src/index';

const APP = 'http://127.0.0.1:4000';
const CLIENT_ID = 'app-acme';
const CLIENT_SECRET = 'otel-test-client-secret-0123456789';
const SESSION_SECRET = 'otel-test-session-secret-0123456789-abcdef';

let org: OktaOrg;
let host: string;

beforeAll(async () => {
  org = await startOktaOrg({
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [`${APP}/auth/callback`] }],
    users: [{ login: 'alice@acme.example', password: 'pw' }],
  });
  host = new URL(org.issuer).host;
});
afterAll(async () => {
  metrics.disable();
  trace.disable();
  await org?.close();
});
beforeEach(() => {
  org.control.clearFaults();
});

/** An in-memory OpenTelemetry SDK: a meter and a tracer, and what they exported. */
function sdk() {
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // The interval never fires in a test: collect() flushes on demand.
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  return {
    meterProvider,
    tracerProvider,
    meter: meterProvider.getMeter('test'),
    tracer: tracerProvider.getTracer('test'),
    spans: (): ReadableSpan[] => spanExporter.getFinishedSpans(),
    /** Every metric of the last (cumulative) export, by name. */
    async collect(): Promise<Map<string, MetricData>> {
      metricExporter.reset();
      await reader.forceFlush();
      const byName = new Map<string, MetricData>();
      for (const resource of metricExporter.getMetrics()) {
        for (const scope of resource.scopeMetrics) for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
      }
      return byName;
    },
    async shutdown() {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

/** The value of the data point whose attributes are exactly `attributes` (a number, or a histogram's count). */
function valueAt(metric: MetricData | undefined, attributes: Record<string, string>): number | undefined {
  const point = metric?.dataPoints.find((p) => JSON.stringify(Object.entries(p.attributes).sort()) === JSON.stringify(Object.entries(attributes).sort()));
  if (point === undefined) return undefined;
  return typeof point.value === 'number' ? point.value : (point.value as { count: number }).count;
}

/** A browser for `auth.handle`: a cookie jar over OidcRequest objects. */
class Browser {
  readonly cookies = new Map<string, string>();
  constructor(readonly auth: OidcAuth) {}
  request(method: string, url: string | URL, headers: Record<string, string> = {}, body?: string): OidcRequest {
    const h = new Headers(headers);
    if (this.cookies.size > 0) h.set('cookie', [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; '));
    if (body !== undefined) h.set('content-type', 'application/x-www-form-urlencoded');
    return { method, url: new URL(url), basePath: '', headers: h, readBody: async () => body ?? '' };
  }
  async send(method: string, url: string | URL, body?: string): Promise<OidcResponse> {
    const response = await this.auth.handle(this.request(method, url, {}, body));
    if (response === null) throw new Error(`not an auth route: ${url}`);
    for (const header of response.setCookies) {
      const [pair = ''] = header.split(';');
      const eq = pair.indexOf('=');
      if (/;\s*Max-Age=0(;|$)/.test(header)) this.cookies.delete(pair.slice(0, eq));
      else this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return response;
  }
  /** A whole code-flow sign-in; returns the callback's answer and the authorization code it carried. */
  async signIn(): Promise<{ response: OidcResponse; code: string | null }> {
    const login = await this.send('GET', `${APP}/auth/login?tenant=acme`);
    expect(login.status).toBe(302);
    const callback = await driveAuthorization(login.headers['Location']!);
    return { response: await this.send(callback.method, callback.url, callback.body), code: new URL(callback.url).searchParams.get('code') };
  }
}

function makeAuth(onEvent: (event: OidcEvent) => void): OidcAuth {
  return createOidcAuth({
    store: [{ id: 'acme', issuer: org.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [`${APP}/auth/callback`] }],
    session: { secret: SESSION_SECRET },
    client: { allowLoopbackIssuers: true, httpTimeoutMs: 2000, onWarning: () => {}, onEvent },
  });
}

describe('without an SDK', () => {
  it('is a no-op on the api default providers: every event type is taken, sign-in and bearer calls work', async () => {
    const listener = createOpenTelemetryListener();
    const auth = makeAuth(listener);
    const { response } = await new Browser(auth).signIn();
    expect(response.status).toBe(302);
    const token = await org.control.issueAccessToken(CLIENT_ID);
    const result = await auth.requireAccessToken(new Browser(auth).request('GET', `${APP}/api`, { authorization: `Bearer ${token}` }), { tenantId: 'acme' });
    expect('token' in result).toBe(true);
    const events: OidcEvent[] = [
      { type: 'http', endpoint: 'token', issuer: org.issuer, status: 200, outcome: 'ok', durationMs: 3 },
      { type: 'rate-limit', issuer: org.issuer, endpoint: 'token', limit: 600, remaining: 5 },
      { type: 'jwks', action: 'refetch-refused', issuer: org.issuer, jwksUri: `${org.issuer}/oauth2/v1/keys`, channel: 'front' },
      { type: 'introspection', tenantId: 'acme', outcome: 'hot-hit', active: true },
      { type: 'sign-in', flow: 'code', outcome: 'failure', errorCode: 'ERR_OIDC_STATE_MISMATCH' },
    ];
    for (const event of events) expect(() => listener(event)).not.toThrow();
  });
});

describe('with an in-memory SDK', () => {
  it('a sign-in, a bearer miss then hot hit, a JWKS refresh after a rotation and a 429: the documented metrics and spans, and no secret', async () => {
    const otel = sdk();
    const auth = makeAuth(createOpenTelemetryListener({ meter: otel.meter, tracer: otel.tracer }));

    // 1. A code-flow sign-in (a cold /keys fetch, a /token call).
    const first = await new Browser(auth).signIn();
    expect(first.response.status).toBe(302);
    // 2. A bearer token: Okta is asked once, then the hot cache answers.
    const accessToken = await org.control.issueAccessToken(CLIENT_ID);
    const bearer = () => auth.requireAccessToken(new Browser(auth).request('GET', `${APP}/api`, { authorization: `Bearer ${accessToken}` }), { tenantId: 'acme' });
    expect('token' in (await bearer())).toBe(true);
    expect('token' in (await bearer())).toBe(true);
    // 3. Okta rotates its signing key: the next sign-in's ID token names an unknown kid.
    await org.control.rotateSigningKey();
    const second = new Browser(auth);
    const afterRotation = await second.signIn();
    expect(afterRotation.response.status).toBe(302);
    // 4. /token answers 429.
    org.control.fault('token', { type: 'rate-limit', resetInSec: 30 });
    const limited = await new Browser(auth).signIn();
    expect(limited.response.status).toBe(503);
    expect(limited.response.body).toContain('ERR_OIDC_RATE_LIMITED');

    const collected = await otel.collect();
    expect([...collected.keys()].sort()).toEqual([
      'oin_oidc.http.duration',
      'oin_oidc.introspection',
      'oin_oidc.jwks.refresh',
      'oin_oidc.rate_limit.limit',
      'oin_oidc.rate_limit.remaining',
      'oin_oidc.sign_in',
    ]);
    const signIn = collected.get('oin_oidc.sign_in');
    expect(valueAt(signIn, { tenant: 'acme', flow: 'code', outcome: 'success' })).toBe(2);
    expect(valueAt(signIn, { tenant: 'acme', flow: 'code', outcome: 'failure', error_code: 'ERR_OIDC_RATE_LIMITED' })).toBe(1);
    const introspection = collected.get('oin_oidc.introspection');
    expect(valueAt(introspection, { tenant: 'acme', outcome: 'miss' })).toBe(1);
    expect(valueAt(introspection, { tenant: 'acme', outcome: 'hot-hit' })).toBe(1);
    const jwks = collected.get('oin_oidc.jwks.refresh');
    expect(valueAt(jwks, { issuer_host: host, reason: 'cold', outcome: 'ok' })).toBe(1);
    expect(valueAt(jwks, { issuer_host: host, reason: 'unknown-kid', outcome: 'ok' })).toBe(1);
    const duration = collected.get('oin_oidc.http.duration');
    expect(duration?.descriptor.unit).toBe('ms');
    expect(valueAt(duration, { endpoint: 'token', issuer_host: host, status_class: '2xx', outcome: 'ok' })).toBe(2);
    expect(valueAt(duration, { endpoint: 'token', issuer_host: host, status_class: '4xx', outcome: 'rate-limited' })).toBe(1);
    expect(valueAt(duration, { endpoint: 'introspection', issuer_host: host, status_class: '2xx', outcome: 'ok' })).toBe(1);
    expect(valueAt(duration, { endpoint: 'jwks', issuer_host: host, status_class: '2xx', outcome: 'ok' })).toBe(2);
    // Headroom: the last values seen; the 429 said none is left at /token.
    expect(valueAt(collected.get('oin_oidc.rate_limit.remaining'), { issuer_host: host, endpoint: 'token' })).toBe(0);
    expect(valueAt(collected.get('oin_oidc.rate_limit.limit'), { issuer_host: host, endpoint: 'token' })).toBe(org.config.rateLimit.limit);
    expect(valueAt(collected.get('oin_oidc.rate_limit.remaining'), { issuer_host: host, endpoint: 'introspection' })).toBeGreaterThan(0);

    const spans = otel.spans();
    expect(new Set(spans.map((s) => s.name))).toEqual(new Set(['oin-oidc jwks', 'oin-oidc token', 'oin-oidc introspection']));
    for (const span of spans) {
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.attributes['server.address']).toBe(host);
      const [startSec, startNs] = span.startTime;
      const [endSec, endNs] = span.endTime;
      expect(endSec * 1e9 + endNs).toBeGreaterThanOrEqual(startSec * 1e9 + startNs);
    }
    const tokenSpans = spans.filter((s) => s.name === 'oin-oidc token');
    expect(tokenSpans.map((s) => s.attributes['http.response.status_code'])).toEqual([200, 200, 429]);
    expect(tokenSpans.every((s) => s.attributes['oin_oidc.tenant'] === 'acme' && s.attributes['oin_oidc.endpoint'] === 'token')).toBe(true);
    expect(tokenSpans[0]!.status.code).toBe(SpanStatusCode.UNSET);
    expect(tokenSpans[2]!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'rate-limited' });
    expect(tokenSpans[2]!.attributes['oin_oidc.outcome']).toBe('rate-limited');
    expect(tokenSpans[2]!.attributes['oin_oidc.rate_limit.remaining']).toBe(0);

    // Nothing exported holds a secret: the access token, the client secret (and its Basic
    // credentials), the authorization codes, the session cookie, the ID token.
    const session = (await auth.getSession(second.request('GET', `${APP}/`))).session;
    expect(session?.idToken).toBeTypeOf('string');
    const exported = JSON.stringify({
      metrics: [...collected.values()].map((m) => ({ descriptor: m.descriptor, dataPoints: m.dataPoints })),
      spans: spans.map((s) => ({ name: s.name, attributes: s.attributes, status: s.status, events: s.events, links: s.links })),
    });
    const secrets = [
      accessToken,
      CLIENT_SECRET,
      btoa(`${CLIENT_ID}:${CLIENT_SECRET}`),
      first.code,
      afterRotation.code,
      limited.code,
      session?.idToken,
      ...[...second.cookies.values()],
    ];
    for (const secret of secrets) {
      expect(typeof secret === 'string' && secret.length > 8).toBe(true);
      expect(exported).not.toContain(secret);
    }
    await otel.shutdown();
  });

  it('uses a custom prefix, and refuses one Prometheus could not name', async () => {
    const otel = sdk();
    const listener = createOpenTelemetryListener({ meter: otel.meter, tracer: otel.tracer, prefix: 'acme_sso' });
    listener({ type: 'sign-in', tenantId: 'acme', flow: 'simplified', outcome: 'success' });
    listener({ type: 'introspection', tenantId: 'acme', outcome: 'refused-locally', active: false });
    listener({ type: 'jwks', action: 'refetch-refused', issuer: org.issuer, jwksUri: `${org.issuer}/oauth2/v1/keys`, channel: 'front' });
    listener({ type: 'http', endpoint: 'jwks', issuer: org.issuer, outcome: 'timeout', durationMs: 5000 });
    const collected = await otel.collect();
    expect([...collected.keys()].sort()).toEqual(['acme_sso.http.duration', 'acme_sso.introspection', 'acme_sso.jwks.refresh', 'acme_sso.sign_in']);
    expect(valueAt(collected.get('acme_sso.jwks.refresh'), { issuer_host: host, reason: 'unknown-kid', outcome: 'refused' })).toBe(1);
    expect(valueAt(collected.get('acme_sso.http.duration'), { endpoint: 'jwks', issuer_host: host, status_class: 'none', outcome: 'timeout' })).toBe(1);
    const [timeout] = otel.spans();
    expect(timeout?.attributes['http.response.status_code']).toBeUndefined();
    expect(timeout?.status.code).toBe(SpanStatusCode.ERROR);
    await otel.shutdown();

    for (const prefix of ['Bad-Prefix', '', '1x', 'a.b']) {
      let error: unknown;
      try {
        createOpenTelemetryListener({ prefix });
      } catch (caught) {
        error = caught;
      }
      expect(isOidcError(error) && error.code).toBe('ERR_OIDC_INVALID_OPTIONS');
    }
  });

  it('with no meter or tracer given, records through the global providers registered before the first event', async () => {
    // Created first, as an app's config module would; the SDK is registered afterwards.
    const listener = createOpenTelemetryListener();
    const otel = sdk();
    expect(metrics.setGlobalMeterProvider(otel.meterProvider)).toBe(true);
    expect(trace.setGlobalTracerProvider(otel.tracerProvider)).toBe(true);
    const auth = makeAuth(listener);
    expect((await new Browser(auth).signIn()).response.status).toBe(302);
    const collected = await otel.collect();
    expect(valueAt(collected.get('oin_oidc.sign_in'), { tenant: 'acme', flow: 'code', outcome: 'success' })).toBe(1);
    expect(otel.spans().map((s) => s.name)).toContain('oin-oidc token');
    await otel.shutdown();
  });
});
