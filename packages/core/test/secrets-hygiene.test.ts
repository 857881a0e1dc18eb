/**
 * Secrets hygiene (catalogue LG-01, LG-03, LG-04): representative full flows through
 * createOidcAuth against the Okta org emulator — sign-in with every client authentication method and DPoP,
 * secret rotation, failed callbacks of several kinds, the emulator's faults, bearer checks,
 * introspection, the simplified flow, initiate login and logout — while capturing everything the
 * SDK emits:
 *
 * - console.* (spied for the whole file),
 * - every error the SDK reports (onError, and errors thrown by the client API), serialised with
 *   its details and whole cause chain (JSON and util.inspect, as a logger would print it),
 * - every response of handle(), getSession(), requireSession() and requireAccessToken(): status,
 *   every header, every Set-Cookie and the body,
 * - the onRateLimit and onJwks monitoring events.
 *
 * Then no secret may appear anywhere in the capture except where it legitimately must (the
 * ALLOWANCES below). Secrets are collected from the real wire (an HttpClient wrapper reads the
 * token endpoint's answers and our requests' credentials) and from the configuration.
 */
import { inspect } from 'node:util';
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Transaction } from '../src/authorize/transaction';
import { createSealer } from '../src/crypto/seal';
import { isOidcError } from '../src/errors';
import { createOidcAuth } from '../src/flow/auth';
import type { OidcAuth, OidcAuthOptions, OidcRequest, OidcResponse } from '../src/flow/types';
import type { HttpClient } from '../src/http/http-client';
import type { PrivateJwk, TenantRecord } from '../src/tenant/tenant';
import { Browser } from './support/browser';

const APP = 'http://127.0.0.1:4100';
const SESSION_SECRET = 'hygiene-session-secret-0123456789-ABCDEFGHIJ';
const BASIC_SECRET = 'basic-client-secret-0123456789-s3cr3t-basic';
const POST_SECRET = 'post-client-secret-0123456789-s3cr3t-posted';
const OLD_SECRET = 'rotated-old-secret-0123456789-s3cr3t-rotate';
const NEW_SECRET = 'rotated-new-secret-0123456789-not-yet-at-okta';
const STALE_SECRET = 'stale-client-secret-0123456789-refused-okta';
const DPOP_SECRET = 'dpop-client-secret-0123456789-s3cr3t-dpop';
const USER = { login: 'alice@acme.example', password: 'correct horse battery', claims: { name: 'Alice', email: 'alice@acme.example' } };
const CALLBACK = `${APP}/auth/callback`;

// ---- capture ---------------------------------------------------------------------------------------

/** Everything the SDK emitted, each with where it came from. */
interface Captured {
  where: string;
  text: string;
}
const captured: Captured[] = [];
let responseCount = 0;
let errorCount = 0;
const errorCodes = new Set<string>();

function record(where: string, text: string): void {
  captured.push({ where, text });
}

/** A logger's view of an error: JSON with details and the whole cause chain, and util.inspect. */
function serialiseError(error: unknown): string {
  const seen = new Set<unknown>();
  const walk = (value: unknown, depth: number): unknown => {
    if (depth > 10 || seen.has(value)) return '[cycle]';
    if (value instanceof Error) {
      seen.add(value);
      const own: Record<string, unknown> = {};
      for (const name of Object.getOwnPropertyNames(value)) own[name] = (value as unknown as Record<string, unknown>)[name];
      return { ...own, name: value.name, message: value.message, stack: value.stack, cause: walk((value as { cause?: unknown }).cause, depth + 1) };
    }
    return value;
  };
  let json: string;
  try {
    json = JSON.stringify(walk(error, 0), (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    json = String(error);
  }
  return `${json}\n${inspect(error, { depth: 10, showHidden: true })}`;
}

function captureError(where: string, error: unknown): void {
  errorCount += 1;
  if (isOidcError(error)) errorCodes.add(error.code);
  record(`error:${where}`, serialiseError(error));
}

/** Responses: Set-Cookie and Location are recorded separately so the allowances can name them. */
function captureResponse(where: string, response: OidcResponse | null): void {
  if (response === null) return;
  responseCount += 1;
  const { Location, ...headers } = response.headers;
  record(`response:${where}:status+headers`, `${response.status}\n${JSON.stringify(headers)}`);
  if (Location !== undefined) record(`response:${where}:location`, Location);
  for (const [i, cookie] of response.setCookies.entries()) record(`response:${where}:set-cookie:${i}`, cookie);
  if (response.body !== null) record(`response:${where}:body`, response.body);
}

// ---- secrets, from configuration and from the wire --------------------------------------------------

type Kind = 'dpop-proof' | 'client-secret' | 'session-secret' | 'private-key' | 'basic-header' | 'client-assertion' | 'code' | 'code-verifier' | 'access-token' | 'id-token' | 'refresh-token' | 'cookie' | 'state' | 'nonce';
const secrets = new Map<string, Kind>();

function secret(kind: Kind, value: string | undefined | null): void {
  if (typeof value !== 'string' || value.length < 8) return;
  if (!secrets.has(value)) secrets.set(value, kind);
}

/** The wire: our requests' credentials and the token endpoint's answers. */
const wire: HttpClient = async (url, init) => {
  const headers = Object.fromEntries(Object.entries(init.headers).map(([k, v]) => [k.toLowerCase(), v]));
  if (headers['authorization']?.startsWith('Basic ')) secret('basic-header', headers['authorization'].slice(6));
  if (headers['dpop'] !== undefined) secret('dpop-proof', headers['dpop']);
  if (init.body !== undefined) {
    const form = new URLSearchParams(init.body);
    secret('code', form.get('code'));
    secret('code-verifier', form.get('code_verifier'));
    secret('client-assertion', form.get('client_assertion'));
    secret('client-secret', form.get('client_secret'));
    secret('access-token', form.get('token'));
  }
  const response = await fetch(url, init);
  if (url.endsWith('/oauth2/v1/token') && response.ok) {
    // Not awaited: a hanging body must not hold up the transport's own timeout.
    response
      .clone()
      .json()
      .then((json: Record<string, unknown>) => {
        secret('access-token', json.access_token as string);
        secret('id-token', json.id_token as string);
        secret('refresh-token', json.refresh_token as string);
      })
      .catch(() => {});
  }
  return response;
};

/**
 * Where a secret may legitimately appear, and why. Anything else is a leak.
 * - A `Set-Cookie` carries its own cookie's value: that is how the browser gets it.
 * - The logout redirect to Okta carries the ID token as `id_token_hint` (RP-Initiated Logout §2;
 *   Okta requires it), and nothing else.
 * - The authorize redirect carries `state` and `nonce` (RFC 6749 §4.1.1, OIDC Core §3.1.2.1).
 */
const ALLOWANCES: { kind: Kind; where: RegExp; reason: string }[] = [
  { kind: 'cookie', where: /^response:.*:set-cookie:\d+$/, reason: 'Set-Cookie carries the cookie value to the browser' },
  { kind: 'id-token', where: /^response:logout:[^:]+:location$/, reason: 'the logout redirect carries id_token_hint (RP-Initiated Logout §2)' },
  { kind: 'state', where: /^response:(login|initiate):[^:]+:location$/, reason: 'the authorize redirect carries state (RFC 6749 §4.1.1)' },
  { kind: 'nonce', where: /^response:(login|initiate):[^:]+:location$/, reason: 'the authorize redirect carries nonce (OIDC Core §3.1.2.1)' },
];

/** The needles of a secret: the whole value, and for a JWT its payload and signature on their own. */
function needles(value: string): string[] {
  const parts = value.split('.');
  const found = [value];
  if (parts.length === 3) for (const part of parts.slice(1)) if (part.length >= 16) found.push(part);
  return found;
}

/**
 * Fragments: any run of 10 or more token characters in a capture that is part of a secret. Catches
 * what a whole-value search misses, such as the ~10 characters of input V8 quotes in a JSON.parse
 * error message, or a claim value copied out of a token.
 */
const FRAGMENT = /[A-Za-z0-9_~-]{10,}/g;

/** The secret parts of a value: for a JWS or JWE everything but the (public, shared) JOSE header. */
function material(value: string): string[] {
  const parts = value.split('.');
  return parts.length >= 3 ? parts.slice(1).filter((part) => part.length > 0) : [value];
}

function leaks(): { kind: Kind; where: string; needle: string }[] {
  const found: { kind: Kind; where: string; needle: string }[] = [];
  for (const item of captured) {
    for (const [run] of item.text.matchAll(FRAGMENT)) {
      for (const [value, kind] of secrets) {
        if (!material(value).some((part) => part.includes(run))) continue;
        if (ALLOWANCES.some((a) => a.kind === kind && a.where.test(item.where))) continue;
        found.push({ kind, where: item.where, needle: `fragment ${run.slice(0, 12)}…` });
      }
    }
  }
  for (const [value, kind] of secrets) {
    for (const needle of needles(value)) {
      for (const item of captured) {
        if (!item.text.includes(needle)) continue;
        if (ALLOWANCES.some((a) => a.kind === kind && a.where.test(item.where))) continue;
        found.push({ kind, where: item.where, needle: `${needle.slice(0, 12)}…` });
      }
    }
  }
  return found;
}

// ---- the org, the tenants and the app ----------------------------------------------------------------

let org: OktaOrg;
let auth: OidcAuth;
let formPostAuth: OidcAuth;
let tenants: TenantRecord[];
const sealer = createSealer([SESSION_SECRET]);
const consoleSpies: ReturnType<typeof vi.spyOn>[] = [];

function options(extra: Partial<OidcAuthOptions> = {}): OidcAuthOptions {
  return {
    store: tenants,
    session: { secret: SESSION_SECRET },
    onError: (error, context) => captureError(`onError:${context.route}`, error),
    client: {
      allowLoopbackIssuers: true,
      http: wire,
      httpTimeoutMs: 1_500,
      onRateLimit: (event) => record('event:rate-limit', JSON.stringify(event)),
      onJwks: (event) => record('event:jwks', JSON.stringify(event)),
    },
    ...extra,
  };
}

beforeAll(async () => {
  // console first: anything the SDK prints during set-up counts too.
  for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    consoleSpies.push(
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        record(`console.${level}`, args.map((a) => (a instanceof Error ? serialiseError(a) : typeof a === 'string' ? a : inspect(a, { depth: 10 }))).join(' '));
      }),
    );
  }
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'rp-key', alg: 'RS256', use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid: 'rp-key', alg: 'RS256' } as PrivateJwk;
  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) secret('private-key', (privateJwk as Record<string, string>)[member]);
  for (const value of [BASIC_SECRET, POST_SECRET, OLD_SECRET, NEW_SECRET, STALE_SECRET, DPOP_SECRET]) secret('client-secret', value);
  secret('session-secret', SESSION_SECRET);

  const redirectUris = [CALLBACK];
  org = await startOktaOrg({
    clients: [
      { clientId: 'app-basic', clientSecret: BASIC_SECRET, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris, postLogoutRedirectUris: [`${APP}/`] },
      { clientId: 'app-post', clientSecret: POST_SECRET, tokenEndpointAuthMethod: 'client_secret_post', redirectUris },
      { clientId: 'app-pkjwt', tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [publicJwk as JsonWebKey] }, redirectUris },
      { clientId: 'app-rotate', clientSecret: OLD_SECRET, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris },
      { clientId: 'app-stale', clientSecret: 'what-okta-really-has-0123456789', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris },
      { clientId: 'app-dpop', clientSecret: DPOP_SECRET, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris, dpopBoundAccessTokens: true },
    ],
    users: [USER],
  });
  tenants = [
    { id: 'basic', issuer: org.issuer, clientId: 'app-basic', clientSecret: BASIC_SECRET, redirectUris, postLogoutRedirectUris: [`${APP}/`], allowSimplifiedFlow: true },
    { id: 'post', issuer: org.issuer, clientId: 'app-post', clientSecret: POST_SECRET, tokenEndpointAuthMethod: 'client_secret_post', redirectUris },
    { id: 'pkjwt', issuer: org.issuer, clientId: 'app-pkjwt', tokenEndpointAuthMethod: 'private_key_jwt', privateJwk, redirectUris },
    {
      id: 'rotate',
      issuer: org.issuer,
      clientId: 'app-rotate',
      clientSecrets: [
        { value: NEW_SECRET, active: true },
        { value: OLD_SECRET, active: true },
      ],
      redirectUris,
    },
    { id: 'stale', issuer: org.issuer, clientId: 'app-stale', clientSecret: STALE_SECRET, redirectUris },
    { id: 'dpop', issuer: org.issuer, clientId: 'app-dpop', clientSecret: DPOP_SECRET, redirectUris, dpop: true },
  ];
  auth = createOidcAuth(options());
  formPostAuth = createOidcAuth(options({ responseMode: 'form_post' }));
});

afterAll(async () => {
  for (const spy of consoleSpies) spy.mockRestore();
  await org?.close();
});

// ---- flows ------------------------------------------------------------------------------------------

/** A browser whose every response is captured, and whose cookies, codes and transactions are secrets. */
class RecordingBrowser extends Browser {
  constructor(
    auth: OidcAuth,
    readonly label: string,
  ) {
    super(auth);
  }

  override async send(method: string, url: string | URL, opts: { body?: string; headers?: Record<string, string> } = {}): Promise<OidcResponse> {
    const route = new URL(url).pathname.split('/').pop() ?? '';
    const response = await super.send(method, url, opts);
    captureResponse(`${route}:${this.label}`, response);
    for (const header of response.setCookies) {
      const value = header.slice(header.indexOf('=') + 1, header.indexOf(';'));
      secret('cookie', value);
      if (/^(__Host-)?oin_tx_/.test(header) && value !== '') await this.#transactionSecrets(value);
    }
    return response;
  }

  override async authorize(loginResponse: OidcResponse) {
    const callback = await super.authorize(loginResponse);
    for (const code of this.codes) secret('code', code);
    return callback;
  }

  /** The transaction's own secrets: the PKCE verifier must never leave the cookie; state and nonce only in the authorize redirect. */
  async #transactionSecrets(sealed: string): Promise<void> {
    const { t } = await sealer.unseal<{ t: Transaction }>(sealed, 'transaction');
    secret('code-verifier', t.codeVerifier);
    secret('state', t.state);
    secret('nonce', t.nonce);
  }
}

async function signIn(app: OidcAuth, tenant: string, label: string): Promise<RecordingBrowser> {
  const browser = new RecordingBrowser(app, label);
  const done = await browser.complete(await browser.send('GET', `${APP}/auth/login?tenant=${tenant}&returnTo=/orders`));
  expect(done.status, `${label}: ${done.body ?? ''}`).toBe(302);
  expect(browser.has('oin_session')).toBe(true);
  return browser;
}

async function guarded(app: OidcAuth, where: string, req: OidcRequest): Promise<void> {
  const session = await app.requireSession(req);
  if ('response' in session) captureResponse(`requireSession:${where}`, session.response);
  const read = await app.getSession(req);
  captureResponse(`getSession:${where}`, { status: 200, headers: {}, setCookies: read.setCookies, body: null });
}

async function bearer(app: OidcAuth, where: string, authorization: string | undefined, tenantId = 'basic'): Promise<OidcResponse | undefined> {
  const headers = new Headers({ accept: where.includes('html') ? 'text/html' : 'application/json' });
  if (authorization !== undefined) headers.set('authorization', authorization);
  const result = await app.requireAccessToken({ method: 'GET', url: new URL(`${APP}/api/orders`), basePath: '', headers, readBody: async () => '' }, { tenantId });
  if ('response' in result) {
    captureResponse(`bearer:${where}`, result.response);
    return result.response;
  }
  return undefined;
}

async function clientCall(where: string, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    captureError(`client:${where}`, error);
  }
}

describe('secrets hygiene across full flows (LG-01, LG-03, LG-04)', () => {
  it('runs the flows', async () => {
    // 1. Sign-in with each client authentication method, rotation included; then session reads and logout.
    const basic = await signIn(auth, 'basic', 'basic');
    await signIn(formPostAuth, 'post', 'post-form_post');
    await signIn(auth, 'pkjwt', 'private_key_jwt');
    await signIn(auth, 'rotate', 'rotation');
    // DPoP-bound tokens (RFC 9449): proofs on the token request, the use_dpop_nonce retry.
    await signIn(auth, 'dpop', 'dpop');
    await guarded(auth, 'signed-in', basic.request('GET', `${APP}/orders`));
    await guarded(auth, 'api-anonymous', new RecordingBrowser(auth, 'x').request('GET', `${APP}/api/me`, { headers: { accept: 'application/json' } }));

    // 2. Failed callbacks of several kinds.
    {
      // Okta refuses our client secret (invalid_client → 503).
      const b = new RecordingBrowser(auth, 'stale-secret');
      const r = await b.complete(await b.send('GET', `${APP}/auth/login?tenant=stale`, { headers: { accept: 'text/html' } }));
      expect(r.status).toBe(503);
    }
    {
      // State mismatch, and a replayed code (invalid_grant) from a copy of the cookie jar.
      const b = new RecordingBrowser(auth, 'replay');
      const login = await b.send('GET', `${APP}/auth/login?tenant=basic`);
      const callback = await b.authorize(login);
      const tampered = new URL(callback.url);
      tampered.searchParams.set('state', 'x'.repeat(43));
      const copy = new RecordingBrowser(auth, 'replay-copy');
      for (const [n, v] of b.cookies) copy.cookies.set(n, v);
      expect((await b.send('GET', tampered, { headers: { accept: 'application/json' } })).status).toBe(400);
      // The state-mismatch attempt deleted the transaction cookie in `b`; the copy still has it.
      const second = new RecordingBrowser(auth, 'replay-second');
      for (const [n, v] of copy.cookies) second.cookies.set(n, v);
      expect((await copy.send('GET', callback.url)).status).toBe(302);
      const replayed = await second.send('GET', callback.url, { headers: { accept: 'text/html' } });
      expect(replayed.status).toBe(400);
      expect(replayed.body).toContain('ERR_OIDC_TOKEN_ENDPOINT_ERROR');
    }
    {
      // An error response relayed by the browser, with a description that echoes a code and a token.
      const b = new RecordingBrowser(auth, 'error-response');
      const login = await b.send('GET', `${APP}/auth/login?tenant=basic`);
      const state = new URL(login.headers['Location']!).searchParams.get('state')!;
      const leaky = [...secrets].find(([, k]) => k === 'code')?.[0] ?? 'no-code';
      const query = new URLSearchParams({ state, error: 'access_denied', error_description: `denied ${leaky} <script>`, iss: org.issuer });
      expect((await b.send('GET', `${CALLBACK}?${query}`)).status).toBe(400);
      // iss mismatch, and no transaction cookie at all.
      const b2 = new RecordingBrowser(auth, 'iss-mismatch');
      const login2 = await b2.send('GET', `${APP}/auth/login?tenant=basic`);
      const cb2 = await b2.authorize(login2);
      const wrongIss = new URL(cb2.url);
      wrongIss.searchParams.set('iss', 'https://evil.example');
      expect((await b2.send('GET', wrongIss)).status).toBe(400);
      expect((await new RecordingBrowser(auth, 'no-cookie').send('GET', cb2.url)).status).toBe(400);
    }
    {
      // A tampered transaction cookie.
      const b = new RecordingBrowser(auth, 'tampered-tx');
      const login = await b.send('GET', `${APP}/auth/login?tenant=basic`);
      const callback = await b.authorize(login);
      for (const [name, value] of b.cookies) b.cookies.set(name, `${value.slice(0, -4)}AAAA`);
      expect((await b.send('GET', callback.url)).status).toBe(400);
    }

    // 3. The emulator's faults at the token endpoint, each in the middle of a real sign-in.
    for (const fault of [
      { type: 'status', status: 500, body: '{"error":"server_error"}' },
      { type: 'html', status: 502 },
      { type: 'malformed-json' },
      { type: 'rate-limit', resetInSec: 30 },
      { type: 'redirect' },
      { type: 'oversized', bytes: 300_000 },
      { type: 'hang' },
    ] as const) {
      // A 429 makes the transport wait for Okta's reset on every later sign-in
      // (docs/rate-limits.md): that case gets an instance of its own, so the flows after it still
      // reach the emulator.
      const b = new RecordingBrowser(fault.type === 'rate-limit' ? createOidcAuth(options()) : auth, `token-${fault.type}`);
      const login = await b.send('GET', `${APP}/auth/login?tenant=basic`);
      const callback = await b.authorize(login);
      org.control.fault('token', fault, { times: 1 });
      const r = await b.send('GET', callback.url, { headers: { accept: fault.type === 'html' ? 'text/html' : 'application/json' } });
      expect(r.status, fault.type).toBeGreaterThanOrEqual(500);
      org.control.clearFaults('token');
    }
    {
      // A token answer that carries a refresh token and a valid ID token: the OIN profile drops the refresh token.
      const b = new RecordingBrowser(auth, 'refresh-token');
      const login = await b.send('GET', `${APP}/auth/login?tenant=basic`);
      const nonce = new URL(login.headers['Location']!).searchParams.get('nonce')!;
      const callback = await b.authorize(login);
      const idToken = await org.control.issueIdToken('app-basic', { claims: { nonce } });
      const body = { access_token: 'injected-access-token-0123456789', token_type: 'Bearer', expires_in: 3600, id_token: idToken, refresh_token: 'injected-refresh-token-0123456789', scope: 'openid' };
      for (const [k, v] of [['access-token', body.access_token], ['id-token', idToken], ['refresh-token', body.refresh_token]] as const) secret(k, v);
      org.control.fault('token', { type: 'status', status: 200, body: JSON.stringify(body) }, { times: 1 });
      expect((await b.send('GET', callback.url)).status).toBe(302);
    }
      // Malformed token responses whose JSON breaks right next to a token: no fragment of it may
      // reach an error (V8's JSON.parse messages quote the input around the error).
      for (const [label, cut] of [['malformed-access-token', (j: string) => j.replace(':"malformed-case', ':malformed-case')], ['malformed-id-token', (j: string) => j.replace(':"eyJ', ':eyJ')]] as const) {
        const b = new RecordingBrowser(auth, label);
        const callback = await b.authorize(await b.send('GET', `${APP}/auth/login?tenant=basic`));
        const fake = { access_token: `malformed-case-access-token-${label}-0123456789`, token_type: 'Bearer', id_token: await org.control.issueIdToken('app-basic') };
        secret('access-token', fake.access_token);
        secret('id-token', fake.id_token);
        org.control.fault('token', { type: 'status', status: 200, body: cut(JSON.stringify(fake)) }, { times: 1 });
        expect((await b.send('GET', callback.url)).status).toBe(502);
      }
      // ID tokens that fail a claim check (wrong iss, wrong aud) carrying this login's nonce: the
      // error must not carry the claims (nonce, e-mail) along (jose puts the payload on its errors).
      for (const claims of [{ iss: 'https://evil.example' }, { aud: 'someone-else' }]) {
        const b = new RecordingBrowser(auth, `claims-${Object.keys(claims)[0]}`);
        const login = await b.send('GET', `${APP}/auth/login?tenant=basic`);
        const nonce = new URL(login.headers['Location']!).searchParams.get('nonce')!;
        const callback = await b.authorize(login);
        const idToken = await org.control.issueIdToken('app-basic', { claims: { nonce, ...claims } });
        secret('id-token', idToken);
        org.control.fault('token', { type: 'status', status: 200, body: JSON.stringify({ access_token: 'claims-case-access-token-0123456789', token_type: 'Bearer', id_token: idToken }) }, { times: 1 });
        expect((await b.send('GET', callback.url)).status).toBe(400);
      }
    {
      // Cold JWKS with /keys failing: 503, no crash.
      const cold = createOidcAuth(options());
      const b = new RecordingBrowser(cold, 'keys-down');
      const login = await b.send('GET', `${APP}/auth/login?tenant=basic`);
      const callback = await b.authorize(login);
      org.control.fault('keys', { type: 'status', status: 500 }, { times: 10 });
      expect((await b.send('GET', callback.url)).status).toBe(503);
      org.control.clearFaults('keys');
    }

    // 4. Simplified flow (allowed and refused) and initiate login.
    {
      const { fields } = await org.control.simplifiedSignIn('app-basic');
      secret('id-token', fields.id_token);
      const b = new RecordingBrowser(auth, 'simplified');
      // Okta's auto-submitted page posts from the org's origin (SA-04).
      const fromOkta = { origin: org.issuer };
      expect((await b.send('POST', `${CALLBACK}?tenant=basic`, { body: new URLSearchParams(fields).toString(), headers: fromOkta })).status).toBe(302);
      const replay = new RecordingBrowser(auth, 'simplified-replay');
      expect((await replay.send('POST', `${CALLBACK}?tenant=basic`, { body: new URLSearchParams(fields).toString(), headers: fromOkta })).status).toBe(400);
      const refused = new RecordingBrowser(auth, 'simplified-refused');
      const other = await org.control.issueIdToken('app-post');
      secret('id-token', other);
      expect((await refused.send('POST', `${CALLBACK}?tenant=post`, { body: new URLSearchParams({ id_token: other }).toString(), headers: fromOkta })).status).toBe(400);
      const init = new RecordingBrowser(auth, 'initiate');
      expect((await init.send('GET', `${APP}/auth/initiate?iss=${encodeURIComponent(org.issuer)}&tenant=basic&target_link_uri=${encodeURIComponent(`${APP}/x`)}`)).status).toBe(302);
    }

    // 5. Bearer checks and introspection, with Okta's faults.
    {
      const token = await org.control.issueAccessToken('app-basic', { login: USER.login });
      secret('access-token', token);
      expect(await bearer(auth, 'active', `Bearer ${token}`)).toBeUndefined();
      const forged = `${token.slice(0, -6)}AAAAAA`;
      secret('access-token', forged);
      expect((await bearer(auth, 'forged', `Bearer ${forged}`))?.status).toBe(401);
      expect((await bearer(auth, 'other-client', `Bearer ${token}`, 'post'))?.status).toBe(401);
      expect((await bearer(auth, 'malformed-html', `Bearer ${token} extra`))?.status).toBe(401);
      expect((await bearer(auth, 'missing', undefined))?.status).toBe(401);
      // The stale tenant's own token (triage refuses another client's token before Okta, SA-01).
      const staleToken = await org.control.issueAccessToken('app-stale', { login: USER.login });
      secret('access-token', staleToken);
      expect((await bearer(auth, 'stale-secret', `Bearer ${staleToken}`, 'stale'))?.status).toBe(503);
      for (const fault of [{ type: 'status', status: 500 }, { type: 'rate-limit', resetInSec: 20 }, { type: 'html' }, { type: 'malformed-json' }] as const) {
        // A token not yet cached, so the call reaches Okta's fault (the cache is on by default, SA-01).
        const fresh = await org.control.issueAccessToken('app-basic', { login: USER.login });
        secret('access-token', fresh);
        org.control.fault('introspect', fault, { times: 1 });
        expect((await bearer(auth, `introspect-${fault.type}`, `Bearer ${fresh}`))?.status, fault.type).toBeGreaterThanOrEqual(500);
      }
      // The client API directly: userinfo with the wrong subject, revocation and introspection failures.
      const tenant = await auth.client.getTenant('basic');
      await clientCall('userinfo-subject', () => auth.client.userinfo(tenant, token, 'someone-else'));
      org.control.fault('revoke', { type: 'status', status: 503 }, { times: 1 });
      await clientCall('revoke-503', () => auth.client.revoke(tenant, token));
      await clientCall('introspect-inactive', () => auth.client.introspect(tenant, forged));
      await clientCall('validate-garbage', () => auth.client.validateIdToken(tenant, forged, { nonce: 'n' }));
    }

    // 6. Logout: local session gone, redirect to Okta with id_token_hint.
    {
      // The app's own sign-out link (SA-06: only a same-origin request ends the Okta session).
      const out = await basic.send('GET', `${APP}/auth/logout`, { headers: { 'sec-fetch-site': 'same-origin' } });
      expect(out.status).toBe(302);
      expect(new URL(out.headers['Location']!).searchParams.get('id_token_hint')).toBeTruthy();
      expect((await basic.send('GET', `${APP}/auth/logout`)).headers['Location']).toBe('/');
    }
  });

  it('captured enough to mean something (the capture itself works)', () => {
    const kindsSummary = [...new Set(secrets.values())].map((k) => `${k}=${[...secrets.values()].filter((v) => v === k).length}`).join(' ');
    process.stdout.write(
      `[secrets hygiene] ${captured.length} captured items: ${responseCount} responses, ${errorCount} errors (${errorCodes.size} codes), ` +
        `${captured.filter((c) => c.where.startsWith('event:')).length} events, ${captured.filter((c) => c.where.startsWith('console.')).length} console lines; ` +
        `${secrets.size} secrets: ${kindsSummary}\n`,
    );
    expect(responseCount).toBeGreaterThanOrEqual(50);
    expect(captured.some((c) => c.where === 'event:rate-limit')).toBe(true);
    expect(captured.some((c) => c.where === 'event:jwks')).toBe(true);
    expect(errorCount).toBeGreaterThanOrEqual(20);
    expect(errorCodes.size).toBeGreaterThanOrEqual(10);
    const kinds = new Map<Kind, number>();
    for (const kind of secrets.values()) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    expect(kinds.get('code') ?? 0).toBeGreaterThanOrEqual(10);
    expect(kinds.get('access-token') ?? 0).toBeGreaterThanOrEqual(5);
    expect(kinds.get('id-token') ?? 0).toBeGreaterThanOrEqual(5);
    expect(kinds.get('refresh-token') ?? 0).toBeGreaterThanOrEqual(1);
    expect(kinds.get('cookie') ?? 0).toBeGreaterThanOrEqual(10);
    expect(kinds.get('code-verifier') ?? 0).toBeGreaterThanOrEqual(10);
    expect(kinds.get('client-assertion') ?? 0).toBeGreaterThanOrEqual(1);
    expect(kinds.get('dpop-proof') ?? 0).toBeGreaterThanOrEqual(2);
    expect(kinds.get('basic-header') ?? 0).toBeGreaterThanOrEqual(2);
    expect(kinds.get('private-key')).toBe(6);
    // The allowed places were captured too: otherwise the allowances would hide nothing and prove nothing.
    expect(captured.some((c) => /:set-cookie:/.test(c.where))).toBe(true);
    expect(captured.some((c) => /^response:logout:[^:]+:location$/.test(c.where) && c.text.includes('id_token_hint='))).toBe(true);
    // The console spy records (checked with a canary, then removed so it cannot match a secret).
    console.warn('canary-0123456789');
    expect(captured.pop()).toEqual({ where: 'console.warn', text: 'canary-0123456789' });
  });

  it('the scanner finds a secret planted deep in a cause chain (it can fail)', () => {
    const code = [...secrets].find(([, k]) => k === 'code')![0];
    const before = captured.length;
    captureError('planted', new Error('outer', { cause: { nested: [{ value: `x${code}y` }] } }));
    try {
      expect(leaks().some((l) => l.kind === 'code' && l.where === 'error:planted')).toBe(true);
    } finally {
      captured.splice(before);
      errorCount -= 1;
    }
  });

  it('no client secret, private key, code, verifier, token or cookie value appears outside its allowance', () => {
    const found = leaks();
    expect(found, `leaks:\n${found.map((l) => `${l.kind} in ${l.where} (${l.needle})`).join('\n')}`).toEqual([]);
  });
});
