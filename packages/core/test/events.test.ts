/**
 * The `onEvent` hook (docs/operations.md, 'Telemetry'): each event type, raised by the real code
 * paths against the Okta org emulator over HTTP (a local server that never answers for the
 * timeout), a listener that throws, the log formatter, and no work at all without a listener.
 */
import { driveAuthorization, type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOidcClient } from '../src/client';
import { isOidcError } from '../src/errors';
import { eventLogLevel, formatEventForLog, type OidcEvent, type OidcHttpEvent, type OidcIntrospectionEvent, type OidcSignInEvent } from '../src/events';
import { createOidcAuth } from '../src/flow/auth';
import type { OidcAuth } from '../src/flow/types';
import { createTransport } from '../src/http/transport';
import type { RateLimitEvent } from '../src/http/types';
import type { JwksEvent } from '../src/jwks/jwks-registry';
import { MemoryCredentialStore } from '../src/tenant/credential-store';
import type { TenantRecord } from '../src/tenant/tenant';
import { MemoryTtlStore } from '../src/ttl-store';
import { startTestServer } from './http-test-server';
import { errorCode, FlowBrowser, sessionCookies } from './support/flow-browser';

const APP = 'http://127.0.0.1:4000';
const SECRET = 'events-test-session-secret-0123456789-abc';
const CLIENT_SECRET = 'acme-client-secret-for-events';
const SIMPLE_SECRET = 'simple-client-secret-for-events';

let org: OktaOrg;
let tenants: TenantRecord[];
let events: OidcEvent[];

beforeAll(async () => {
  org = await startOktaOrg({
    clients: [
      {
        clientId: 'app-acme',
        clientSecret: CLIENT_SECRET,
        tokenEndpointAuthMethod: 'client_secret_basic',
        redirectUris: [`${APP}/auth/callback`],
        initiateLoginUri: `${APP}/auth/initiate?tenant=acme`,
      },
      { clientId: 'app-simple', clientSecret: SIMPLE_SECRET, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [`${APP}/auth/callback`] },
    ],
    users: [{ login: 'alice@acme.example', password: 'pw', claims: { name: 'Alice' } }],
  });
  tenants = [
    { id: 'acme', issuer: org.issuer, clientId: 'app-acme', clientSecret: CLIENT_SECRET, redirectUris: [`${APP}/auth/callback`], initiateLoginUri: `${APP}/auth/initiate?tenant=acme` },
    { id: 'simple', issuer: org.issuer, clientId: 'app-simple', clientSecret: SIMPLE_SECRET, redirectUris: [`${APP}/auth/callback`], allowSimplifiedFlow: true },
  ];
});
afterAll(() => org?.close());
beforeEach(() => {
  events = [];
  org.control.clearFaults();
  org.control.resetCounters();
});

const listen = (event: OidcEvent) => {
  events.push(event);
};

function makeAuth(onEvent: (event: OidcEvent) => void = listen): OidcAuth {
  return createOidcAuth({
    store: tenants,
    session: { secret: SECRET },
    client: { allowLoopbackIssuers: true, httpTimeoutMs: 2000, onWarning: () => {}, onEvent },
  });
}

const ofType = <T extends OidcEvent['type']>(type: T) => events.filter((e): e is Extract<OidcEvent, { type: T }> => e.type === type);

function bearer(auth: OidcAuth, token: string) {
  return auth.requireAccessToken(new FlowBrowser(auth, APP).request('GET', `${APP}/api?tenant=acme`, { headers: { authorization: `Bearer ${token}` } }), {
    tenantId: 'acme',
  });
}

describe('sign-in events', () => {
  it('a code sign-in reports success for its tenant, and http + rate-limit events for the token and keys calls', async () => {
    const browser = new FlowBrowser(makeAuth(), APP);
    const login = await browser.send('GET', `${APP}/auth/login?tenant=acme`);
    const callback = await driveAuthorization(login.headers['Location']!);
    const done = await browser.send(callback.method, callback.url);
    expect(done.status).toBe(302);
    expect(sessionCookies(done)).toHaveLength(1);

    expect(ofType('sign-in')).toEqual([{ type: 'sign-in', flow: 'code', outcome: 'success', tenantId: 'acme' }]);
    const http = ofType('http');
    // The callback carries `iss`, so discovery is not needed (RFC 9207); the endpoints come from the issuer.
    expect(http.map((e) => e.endpoint).sort()).toEqual(['jwks', 'token']);
    for (const event of http) {
      expect(event).toMatchObject({ issuer: org.issuer, status: 200, outcome: 'ok' });
      expect(event.durationMs).toBeTypeOf('number');
      expect(event.durationMs).toBeGreaterThanOrEqual(0);
    }
    // Okta sends X-Rate-Limit-* on every answer; the emulator does too.
    const token = http.find((e) => e.endpoint === 'token')!;
    expect(token.tenantId).toBe('acme');
    expect(token.rateLimit?.limit).toBeGreaterThan(0);
    const headroom = ofType('rate-limit').find((e) => e.endpoint === 'token');
    expect(headroom).toMatchObject({ issuer: org.issuer, tenantId: 'acme', limit: token.rateLimit?.limit, remaining: token.rateLimit?.remaining });

    // Nothing secret: the authorization code, the client secret, the ID token, the cookies.
    const code = new URL(callback.url).searchParams.get('code')!;
    const wire = JSON.stringify(events);
    for (const secret of [code, CLIENT_SECRET, ...sessionCookies(done).map((c) => c.split(';')[0]!.split('=')[1]!)]) {
      expect(secret.length).toBeGreaterThan(8);
      expect(wire).not.toContain(secret);
    }
  });

  it('a failed callback reports failure with its error code, and a 429 at /token with the rate-limited outcome', async () => {
    const auth = makeAuth();
    // No transaction cookie: the callback is refused before any Okta call.
    const stray = await new FlowBrowser(auth, APP).send('GET', `${APP}/auth/callback?code=abc&state=xyz`);
    expect(errorCode(stray)).toBe('ERR_OIDC_TRANSACTION_INVALID');
    expect(ofType('sign-in')).toEqual([{ type: 'sign-in', flow: 'code', outcome: 'failure', errorCode: 'ERR_OIDC_TRANSACTION_INVALID' }]);

    events = [];
    org.control.fault('token', { type: 'rate-limit', resetInSec: 30 });
    const browser = new FlowBrowser(auth, APP);
    const limited = await browser.signIn('acme');
    expect(errorCode(limited)).toBe('ERR_OIDC_RATE_LIMITED');
    expect(ofType('sign-in')).toEqual([{ type: 'sign-in', flow: 'code', outcome: 'failure', tenantId: 'acme', errorCode: 'ERR_OIDC_RATE_LIMITED' }]);
    const token = ofType('http').find((e) => e.endpoint === 'token');
    expect(token).toMatchObject({ status: 429, outcome: 'rate-limited', tenantId: 'acme', rateLimit: { remaining: 0 } });
    expect(ofType('rate-limit').find((e) => e.endpoint === 'token')).toMatchObject({ remaining: 0, tenantId: 'acme' });
  });

  it('the simplified flow and a third-party-initiated login report their own flow', async () => {
    const auth = makeAuth();
    const { fields } = await org.control.simplifiedSignIn('app-simple');
    const posted = await new FlowBrowser(auth, APP).send('POST', `${APP}/auth/callback`, {
      body: new URLSearchParams(fields).toString(),
      headers: { origin: org.issuer },
    });
    expect(posted.status).toBe(302);
    expect(ofType('sign-in')).toEqual([{ type: 'sign-in', flow: 'simplified', outcome: 'success', tenantId: 'simple' }]);
    expect(JSON.stringify(events)).not.toContain(fields.id_token);

    // The same ID token again is a replay: a failure, and no tenant named from the request.
    events = [];
    const replay = await new FlowBrowser(auth, APP).send('POST', `${APP}/auth/callback`, { body: new URLSearchParams(fields).toString(), headers: { origin: org.issuer } });
    expect(errorCode(replay)).toBe('ERR_OIDC_ID_TOKEN_REPLAYED');
    expect(ofType('sign-in')).toEqual([{ type: 'sign-in', flow: 'simplified', outcome: 'failure', errorCode: 'ERR_OIDC_ID_TOKEN_REPLAYED' }]);

    events = [];
    const browser = new FlowBrowser(auth, APP);
    const initiated = await browser.send('GET', org.control.initiateLoginUrl('app-acme'));
    expect(initiated.status).toBe(302);
    expect(ofType('sign-in')).toEqual([{ type: 'sign-in', flow: 'initiate', outcome: 'success', tenantId: 'acme' }]);
    await browser.complete(initiated);
    expect(ofType('sign-in').map((e) => `${e.flow}:${e.outcome}`)).toEqual(['initiate:success', 'code:success']);

    events = [];
    const unknown = await new FlowBrowser(auth, APP).send('GET', `${APP}/auth/initiate?iss=${encodeURIComponent('https://attacker.example')}`);
    expect(unknown.status).toBeGreaterThanOrEqual(400);
    const [failed] = ofType('sign-in') as OidcSignInEvent[];
    expect(failed).toMatchObject({ flow: 'initiate', outcome: 'failure' });
    expect(failed?.tenantId).toBeUndefined();
    expect(JSON.stringify(events)).not.toContain('attacker.example');
  });
});

describe('introspection events', () => {
  it('miss, then hot hit; a malformed or forged token is refused locally', async () => {
    const auth = makeAuth();
    const token = await org.control.issueAccessToken('app-acme');
    expect('token' in (await bearer(auth, token))).toBe(true);
    expect('token' in (await bearer(auth, token))).toBe(true);
    expect(ofType('introspection')).toEqual([
      { type: 'introspection', tenantId: 'acme', outcome: 'miss', active: true },
      { type: 'introspection', tenantId: 'acme', outcome: 'hot-hit', active: true },
    ]);
    const introspect = ofType('http').filter((e) => e.endpoint === 'introspection');
    expect(introspect).toHaveLength(1);
    expect(introspect[0]).toMatchObject({ status: 200, outcome: 'ok', tenantId: 'acme' });

    events = [];
    const tenant = await auth.client.getTenant('acme');
    await expect(auth.client.introspect(tenant, 'not a token')).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID' });
    await expect(auth.client.introspect(tenant, 'junk.junk.junk')).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID' });
    expect(ofType('introspection')).toEqual([
      { type: 'introspection', tenantId: 'acme', outcome: 'refused-locally', active: false },
      { type: 'introspection', tenantId: 'acme', outcome: 'refused-locally', active: false },
    ]);
    expect(org.control.counters().introspect).toBe(1);
    expect(JSON.stringify(events)).not.toContain(token);
  });

  it('a shared cache answers a second process (cache-hit), and fleet single flight makes one of two concurrent processes wait (fleet-wait)', async () => {
    const store = new MemoryTtlStore();
    const shared = { store, keySecret: 'k'.repeat(40), fleetSingleFlight: true };
    const client = (id: string) =>
      createOidcClient({
        store: new MemoryCredentialStore(tenants),
        allowLoopbackIssuers: true,
        introspectionCache: shared,
        // Triage would first fetch each process's keys, and the processes would no longer ask at the same moment.
        introspectionTriage: false,
        onEvent: (event) => events.push(event.type === 'introspection' ? ({ ...event, process: id } as OidcEvent) : event),
      });
    const [a, b, c] = [client('a'), client('b'), client('c')];
    const tenant = await a.getTenant('acme');
    const token = await org.control.issueAccessToken('app-acme');
    await Promise.all([a.introspect(tenant, token), b.introspect(tenant, token)]);
    const outcomes = (ofType('introspection') as OidcIntrospectionEvent[]).map((e) => e.outcome).sort();
    expect(outcomes).toEqual(['fleet-wait', 'miss']);
    expect(org.control.counters().introspect).toBe(1);

    events = [];
    await c.introspect(tenant, token);
    expect(ofType('introspection')).toEqual([{ type: 'introspection', tenantId: 'acme', outcome: 'cache-hit', active: true, process: 'c' }]);
    expect(org.control.counters().introspect).toBe(1);
  });

  it('a throttle refusal is refused-locally without an answer', async () => {
    const client = createOidcClient({
      store: new MemoryCredentialStore(tenants),
      allowLoopbackIssuers: true,
      introspectionTriage: false,
      introspectionThrottle: { ratePerSec: 0.001, burst: 1, perCaller: false },
      onEvent: listen,
    });
    const tenant = await client.getTenant('acme');
    // Two distinct well-formed tokens Okta does not know: the first spends the bucket, the second is refused.
    await expect(client.introspect(tenant, 'unknown-token-one')).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    await expect(client.introspect(tenant, 'unknown-token-two')).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED' });
    expect(ofType('introspection')).toEqual([
      { type: 'introspection', tenantId: 'acme', outcome: 'miss', active: false },
      { type: 'introspection', tenantId: 'acme', outcome: 'refused-locally' },
    ]);
  });
});

describe('jwks events', () => {
  it('wraps the onJwks events: a cold fetch, then an unknown-kid refetch after a key rotation; onJwks still gets its own', async () => {
    const legacy: JwksEvent[] = [];
    const client = createOidcClient({ store: new MemoryCredentialStore(tenants), allowLoopbackIssuers: true, onEvent: listen, onJwks: (e) => legacy.push(e) });
    const tenant = await client.getTenant('acme');
    const nonce = 'n-0123456789';
    const validate = async () => client.validateIdToken(tenant, await org.control.issueIdToken('app-acme', { claims: { nonce } }), { nonce });
    await validate();
    await org.control.rotateSigningKey();
    await validate();
    const jwks = ofType('jwks');
    expect(jwks.map((e) => [e.action, 'reason' in e ? e.reason : undefined])).toEqual([
      ['fetch', 'cold'],
      ['fetch', 'unknown-kid'],
    ]);
    expect(jwks[0]).toMatchObject({ type: 'jwks', action: 'fetch', issuer: org.issuer, jwksUri: `${org.issuer}/oauth2/v1/keys` });
    expect(legacy.map((e) => e.type)).toEqual(['fetch', 'fetch']);
    expect(ofType('http').filter((e) => e.endpoint === 'jwks')).toHaveLength(2);
  });
});

describe('transport events', () => {
  let hanging: Awaited<ReturnType<typeof startTestServer>> | undefined;
  afterEach(async () => {
    await hanging?.close();
    hanging = undefined;
  });

  it('a deadline reports the timeout outcome without a status; a 5xx reports error', async () => {
    hanging = await startTestServer(() => {
      // Never answers.
    });
    const transport = createTransport({ timeoutMs: 100, retries: 0, onEvent: listen });
    await expect(transport.request('jwks', { issuer: hanging.origin }, `${hanging.origin}/keys`, { method: 'GET' })).rejects.toMatchObject({
      code: 'ERR_OIDC_HTTP_TIMEOUT',
    });
    const [timeout] = ofType('http') as OidcHttpEvent[];
    expect(timeout).toMatchObject({ type: 'http', endpoint: 'jwks', issuer: hanging.origin, outcome: 'timeout' });
    expect(timeout).not.toHaveProperty('status');
    expect(timeout).not.toHaveProperty('tenantId');

    events = [];
    hanging.handle((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{}');
    });
    await expect(transport.request('discovery', { issuer: hanging.origin, tenantId: 't1' }, `${hanging.origin}/d`, { method: 'GET' })).rejects.toMatchObject({
      code: 'ERR_OIDC_UNAVAILABLE',
    });
    expect(ofType('http')).toEqual([expect.objectContaining({ endpoint: 'discovery', status: 503, outcome: 'error', tenantId: 't1' })]);
  });
});

describe('listeners', () => {
  it('a throwing listener is ignored: sign-in and bearer calls work and every later event is still delivered', async () => {
    const seen: string[] = [];
    const auth = makeAuth((event) => {
      seen.push(event.type === 'introspection' ? `introspection:${event.outcome}` : event.type);
      throw new Error('listener bug');
    });
    const done = await new FlowBrowser(auth, APP).signIn('acme');
    expect(done.status).toBe(302);
    expect(sessionCookies(done)).toHaveLength(1);
    const token = await org.control.issueAccessToken('app-acme');
    expect('token' in (await bearer(auth, token))).toBe(true);
    expect('token' in (await bearer(auth, token))).toBe(true);
    expect(seen).toContain('sign-in');
    expect(seen).toContain('http');
    expect(seen).toContain('rate-limit');
    expect(seen.slice(-2)).toEqual(['introspection:miss', 'introspection:hot-hit']);
  });

  it('without a listener nothing is measured: the transport never reads the clock, onRateLimit and onJwks still work', async () => {
    const rateLimits: RateLimitEvent[] = [];
    const jwks: JwksEvent[] = [];
    const auth = createOidcAuth({
      store: tenants,
      session: { secret: SECRET },
      client: { allowLoopbackIssuers: true, onWarning: () => {}, onRateLimit: (e) => rateLimits.push(e), onJwks: (e) => jwks.push(e) },
    });
    // Reads of the clock by the transport itself (the emulator and fetch in this process read it too).
    const original = performance.now;
    let reads = 0;
    performance.now = () => {
      // Stack line 1 is this function, line 2 its caller (fetch, called by the transport, reads the clock too).
      if (new Error().stack?.split('\n')[2]?.includes('/src/http/transport')) reads += 1;
      return original.call(performance);
    };
    try {
      const browser = new FlowBrowser(auth, APP);
      expect((await browser.signIn('acme')).status).toBe(302);
      const token = await org.control.issueAccessToken('app-acme');
      expect('token' in (await bearer(auth, token))).toBe(true);
      expect('token' in (await bearer(auth, token))).toBe(true);
      expect((await auth.getSession(browser.request('GET', `${APP}/`))).session?.tenant).toBe('acme');
      const untimed = reads;
      // The same paths with a listener do read it: the check above can fail.
      const timed = makeAuth();
      expect((await new FlowBrowser(timed, APP).signIn('acme')).status).toBe(302);
      expect(untimed).toBe(0);
      expect(reads).toBeGreaterThan(0);
    } finally {
      performance.now = original;
    }
    expect(rateLimits.map((e) => e.endpoint)).toContain('token');
    expect(jwks.map((e) => e.type)).toEqual(['fetch']);
    expect(events.filter((e) => e.type !== 'http' && e.type !== 'rate-limit' && e.type !== 'jwks').map((e) => e.type)).toEqual(['sign-in']);
  });

  it('refuses a non-function onEvent at start-up', () => {
    let error: unknown;
    try {
      createOidcClient({ store: new MemoryCredentialStore(tenants), onEvent: 'log' as never });
    } catch (caught) {
      error = caught;
    }
    expect(isOidcError(error) && error.code).toBe('ERR_OIDC_INVALID_OPTIONS');
    expect(isOidcError(error) && error.message).toMatch(/^onEvent:/);
  });
});

describe('formatEventForLog', () => {
  it('flattens an event into one level of keys with a message, and picks a level', () => {
    const http: OidcEvent = {
      type: 'http',
      endpoint: 'token',
      issuer: 'https://acme.okta.com',
      tenantId: 'acme',
      status: 429,
      outcome: 'rate-limited',
      durationMs: 12.5,
      rateLimit: { limit: 600, remaining: 0, reset: 1_700_000_060 },
    };
    expect(formatEventForLog(http)).toEqual({
      msg: 'oin-oidc http token rate-limited 429',
      event: 'http',
      endpoint: 'token',
      issuer: 'https://acme.okta.com',
      tenantId: 'acme',
      status: 429,
      outcome: 'rate-limited',
      durationMs: 12.5,
      rateLimitLimit: 600,
      rateLimitRemaining: 0,
      rateLimitReset: 1_700_000_060,
    });
    expect(eventLogLevel(http)).toBe('warn');
    const fetch: OidcEvent = { type: 'jwks', action: 'fetch', issuer: 'https://acme.okta.com', jwksUri: 'https://acme.okta.com/oauth2/v1/keys', reason: 'unknown-kid', keys: 2, ignored: 0, maxAgeSec: 3600 };
    expect(formatEventForLog(fetch)).toMatchObject({ msg: 'oin-oidc jwks fetch (unknown-kid)', event: 'jwks', action: 'fetch', keys: 2 });
    expect(eventLogLevel(fetch)).toBe('info');
    const hit: OidcEvent = { type: 'introspection', tenantId: 'acme', outcome: 'hot-hit', active: true };
    expect(eventLogLevel(hit)).toBe('debug');
    const failed: OidcEvent = { type: 'sign-in', flow: 'code', outcome: 'failure', errorCode: 'ERR_OIDC_STATE_MISMATCH' };
    expect(formatEventForLog(failed)).toEqual({ msg: 'oin-oidc sign-in code failure ERR_OIDC_STATE_MISMATCH', event: 'sign-in', flow: 'code', outcome: 'failure', errorCode: 'ERR_OIDC_STATE_MISMATCH' });
    expect(eventLogLevel(failed)).toBe('warn');
    for (const event of [http, fetch, hit, failed]) {
      for (const value of Object.values(formatEventForLog(event))) expect(['string', 'number', 'boolean']).toContain(typeof value);
    }
  });
});
