/**
 * checkTenant (docs/doctor.md) against the Okta org emulator over HTTP, one passing and one
 * failing case per check id. Documents an org cannot be made to serve (a 1024-bit key, a discovery
 * document without PKCE or DPoP, responses without Cache-Control or rate-limit headers) come from a
 * real local HTTP server. Every report is also checked for secrets (JSON.stringify of the report).
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkTenant } from '../src/doctor/check-tenant';
import { type CheckTenantOptions, TENANT_CHECK_IDS, type TenantCheck, type TenantCheckId, type TenantReport } from '../src/doctor/types';
import { isOidcError } from '../src/errors';
import { parseTenant, type PrivateJwk, type TenantRecord } from '../src/tenant/tenant';
import { json, startTestServer, type TestServer } from './http-test-server';

const R1 = 'http://localhost:3000/auth/callback';
const R2 = 'http://localhost:3000/not-registered/callback';
const SECRET = 'doctor-basic-secret-0123456789abcdef';
const POST_SECRET = 'doctor-post-secret-0123456789abcdef';
const DPOP_SECRET = 'doctor-dpop-secret-0123456789abcdef';
const ROTATE_SECRET = 'doctor-rotate-secret-0123456789abcdef';
const WRONG_SECRET = 'doctor-wrong-secret-0123456789abcdef';
const LIMITED_SECRET = 'doctor-limited-secret-0123456789abcd';

let org: OktaOrg;
let limitedOrg: OktaOrg;
let crafted: TestServer;
let privateJwk: PrivateJwk;
/** Every secret value any test uses: none may appear in any report. */
const secrets = [SECRET, POST_SECRET, DPOP_SECRET, ROTATE_SECRET, WRONG_SECRET, LIMITED_SECRET];

const options: CheckTenantOptions = { allowLoopbackIssuers: true, timeoutMs: 3000 };

function record(overrides: Partial<TenantRecord> = {}): TenantRecord {
  return { id: 'acme', issuer: org.issuer, clientId: 'app', clientSecret: SECRET, redirectUris: [R1], ...overrides };
}

/** checkTenant plus the invariants every report must hold. */
async function check(input: unknown, extra: CheckTenantOptions = {}): Promise<TenantReport> {
  const report = await checkTenant(input as TenantRecord, { ...options, ...extra });
  const text = JSON.stringify(report);
  for (const secret of [...secrets, String(privateJwk.d)]) expect(text).not.toContain(secret);
  // Every id is reported; redirect-uri.registered once per redirect URI, the others once.
  for (const id of TENANT_CHECK_IDS) expect(report.checks.some((c) => c.id === id)).toBe(true);
  expect(report.ok).toBe(!report.checks.some((c) => c.status === 'fail'));
  expect(new Date(report.checkedAt).toISOString()).toBe(report.checkedAt);
  for (const c of report.checks) expect(c.message.length).toBeGreaterThan(0);
  return report;
}

function find(report: TenantReport, id: TenantCheckId): TenantCheck {
  const found = report.checks.find((c) => c.id === id);
  if (found === undefined) throw new Error(`no ${id} in the report`);
  return found;
}

function statusOf(report: TenantReport, id: TenantCheckId): TenantCheck['status'] {
  return find(report, id).status;
}

/** A crafted org on a real HTTP server: discovery, keys, introspect, token and authorize, each overridable. */
interface CraftedOrg {
  discovery?: (base: Record<string, unknown>) => Record<string, unknown>;
  keys?: () => Promise<unknown> | unknown;
  keysHeaders?: Record<string, string>;
  rateLimitHeaders?: boolean;
}

async function keysOf(bits: number): Promise<{ keys: JsonWebKey[] }> {
  const pair = (await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
  const jwk = await exportJWK(pair.publicKey);
  return { keys: [{ ...jwk, kid: `k${bits}`, alg: 'RS256', use: 'sig' } as JsonWebKey] };
}

let goodKeys: { keys: JsonWebKey[] };

function serveCrafted(spec: CraftedOrg = {}): void {
  const origin = crafted.origin;
  const base = {
    issuer: origin,
    authorization_endpoint: `${origin}/oauth2/v1/authorize`,
    token_endpoint: `${origin}/oauth2/v1/token`,
    jwks_uri: `${origin}/oauth2/v1/keys`,
    introspection_endpoint: `${origin}/oauth2/v1/introspect`,
    code_challenge_methods_supported: ['S256'],
    dpop_signing_alg_values_supported: ['RS256', 'ES256'],
    scopes_supported: ['openid', 'profile', 'email', 'address', 'phone'],
  };
  crafted.handle(async (req, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', origin);
    const limits: Record<string, string> =
      spec.rateLimitHeaders === false ? {} : { 'x-rate-limit-limit': '100', 'x-rate-limit-remaining': '99', 'x-rate-limit-reset': '9999999999' };
    switch (url.pathname) {
      case '/.well-known/openid-configuration':
        return json(res, 200, spec.discovery ? spec.discovery(base) : base);
      case '/oauth2/v1/keys':
        return json(res, 200, spec.keys ? await spec.keys() : goodKeys, spec.keysHeaders ?? { 'cache-control': 'max-age=3600' });
      case '/oauth2/v1/introspect':
        return json(res, 200, { active: false }, limits);
      case '/oauth2/v1/token':
        return json(res, 400, { error: 'invalid_grant', error_description: 'The authorization code is invalid or has expired.' }, limits);
      case '/oauth2/v1/authorize': {
        const back = new URL(url.searchParams.get('redirect_uri') ?? R1);
        back.searchParams.set('error', 'login_required');
        back.searchParams.set('state', url.searchParams.get('state') ?? '');
        res.writeHead(302, { location: back.toString(), ...limits });
        res.end();
        return;
      }
      default:
        return json(res, 404, { errorCode: 'E0000022' });
    }
  });
}

function craftedRecord(overrides: Partial<TenantRecord> = {}): TenantRecord {
  return { id: 'crafted', issuer: crafted.origin, clientId: 'app', clientSecret: SECRET, redirectUris: [R1], ...overrides };
}

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  privateJwk = { ...(await exportJWK(privateKey)), kid: 'doctor-key', alg: 'RS256' } as PrivateJwk;
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'doctor-key', alg: 'RS256', use: 'sig' };
  org = await startOktaOrg({
    clients: [
      { clientId: 'app', clientSecret: SECRET, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [R1] },
      { clientId: 'app-post', clientSecret: POST_SECRET, tokenEndpointAuthMethod: 'client_secret_post', redirectUris: [R1] },
      { clientId: 'app-pkjwt', tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [publicJwk as JsonWebKey] }, redirectUris: [R1] },
      { clientId: 'app-dpop', clientSecret: DPOP_SECRET, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [R1], dpopBoundAccessTokens: true },
      { clientId: 'app-rotate', clientSecret: ROTATE_SECRET, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [R1] },
    ],
    users: [{ login: 'jane@acme.example', password: 'correct horse' }],
    // Okta refuses a secret sent with the other secret method (okta-client-checks.ts).
    strictClientAuthMethod: true,
  });
  // A window far longer than the test, so the calls burnt below are still counted when the check runs.
  limitedOrg = await startOktaOrg({
    clients: [{ clientId: 'app', clientSecret: LIMITED_SECRET, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [R1] }],
    rateLimit: { limit: 10, windowSec: 3600 },
  });
  crafted = await startTestServer();
  goodKeys = await keysOf(2048);
});
afterAll(async () => {
  await Promise.all([org?.close(), limitedOrg?.close(), crafted?.close()]);
});
beforeEach(() => {
  org.control.clearFaults();
  org.control.clearHostile();
  org.control.resetCounters();
  serveCrafted();
});

describe('a tenant that is configured right', () => {
  it('passes every check against the emulator (client_secret_basic)', async () => {
    const report = await check(record());
    expect(report.ok).toBe(true);
    expect(report.tenantId).toBe('acme');
    expect(report.issuer).toBe(org.issuer);
    const expected: Partial<Record<TenantCheckId, TenantCheck['status']>> = {
      'issuer.org-server': 'ok',
      'discovery.reachable': 'ok',
      'discovery.issuer-match': 'ok',
      'keys.reachable': 'ok',
      'keys.usable': 'ok',
      'keys.cache-control': 'ok',
      'clock.skew': 'ok',
      'client.credentials': 'ok',
      'client.auth-method': 'ok',
      'redirect-uri.registered': 'ok',
      'pkce.required': 'ok',
      'scopes.oin': 'ok',
      'dpop.required': 'ok',
      'rate-limit.headroom': 'ok',
    };
    expect(Object.fromEntries(report.checks.map((c) => [c.id, c.status]))).toEqual(expected);
    // Report order is TENANT_CHECK_IDS.
    expect(report.checks.map((c) => c.id)).toEqual([...TENANT_CHECK_IDS]);
    expect(find(report, 'client.auth-method').details).toMatchObject({ method: 'client_secret_basic', accepted: 'client_secret_basic' });
    expect(find(report, 'redirect-uri.registered').details).toMatchObject({ redirectUri: R1, error: 'login_required' });
    // Side-effect free: no code was issued, nothing reached the token endpoint but the DPoP probe.
    expect(org.control.counters().token).toBe(1);
  });

  it('accepts a parsed Tenant as well as a record', async () => {
    const report = await check(parseTenant(record()));
    expect(report.ok).toBe(true);
  });

  it('passes with client_secret_post and with private_key_jwt', async () => {
    const post = await check(record({ clientId: 'app-post', clientSecret: POST_SECRET, tokenEndpointAuthMethod: 'client_secret_post' }));
    expect(statusOf(post, 'client.credentials')).toBe('ok');
    expect(find(post, 'client.auth-method')).toMatchObject({ status: 'ok', details: { accepted: 'client_secret_post' } });
    const pkjwt = await check(record({ clientId: 'app-pkjwt', clientSecret: undefined, tokenEndpointAuthMethod: 'private_key_jwt', privateJwk }));
    expect(pkjwt.ok).toBe(true);
    expect(find(pkjwt, 'client.auth-method')).toMatchObject({ status: 'ok', details: { accepted: 'private_key_jwt' } });
  });
});

describe('issuer.org-server', () => {
  it('fails a custom authorization server issuer with the fix, and sends nothing', async () => {
    const report = await check(record({ issuer: `${org.issuer}/oauth2/default` }));
    const first = report.checks[0]!;
    expect(first).toMatchObject({ id: 'issuer.org-server', status: 'fail', details: { code: 'ERR_OIDC_CUSTOM_AUTHORIZATION_SERVER' } });
    expect(first.message).toContain('https://{yourOktaDomain}');
    expect(first.message).toContain(org.issuer);
    expect(report.ok).toBe(false);
    expect(report.checks.slice(1).every((c) => c.status === 'skip')).toBe(true);
    expect(org.control.counters().discovery).toBe(0);
  });

  it('fails a loopback issuer unless allowLoopbackIssuers, before any request', async () => {
    const report = await check(record(), { allowLoopbackIssuers: false });
    expect(find(report, 'issuer.org-server')).toMatchObject({ status: 'fail', details: { code: 'ERR_OIDC_ISSUER_NOT_ALLOWED', reason: 'loopback' } });
    expect(statusOf(report, 'discovery.reachable')).toBe('skip');
    expect(Object.values(org.control.counters()).every((count) => count === 0)).toBe(true);
  });

  it('never throws for a record that does not parse: the first check carries the parse error', async () => {
    for (const input of [null, 42, {}, { id: 'x', issuer: 'not a url', clientId: 'c', clientSecret: SECRET, redirectUris: [R1] }]) {
      const report = await check(input);
      expect(report.ok).toBe(false);
      expect(report.checks[0]).toMatchObject({ status: 'fail', details: { code: 'ERR_OIDC_INVALID_TENANT' } });
      expect(report.checks.slice(1).every((c) => c.status === 'skip')).toBe(true);
    }
  });

  it('puts a record error into the check it belongs to (a missing secret: client.credentials)', async () => {
    const report = await check(record({ clientSecret: undefined }));
    expect(report.checks[0]).toMatchObject({ id: 'client.credentials', status: 'fail', details: { code: 'ERR_OIDC_INVALID_TENANT', field: 'clientSecret' } });
  });
});

describe('discovery.reachable', () => {
  it('fails an unreachable issuer (a closed port) and skips what depends on it', async () => {
    const closed = await startTestServer();
    const issuer = closed.origin;
    await closed.close();
    const report = await check(record({ issuer }));
    expect(find(report, 'discovery.reachable')).toMatchObject({ status: 'fail', details: { code: 'ERR_OIDC_UNAVAILABLE' } });
    for (const id of ['keys.reachable', 'client.credentials', 'redirect-uri.registered', 'clock.skew', 'rate-limit.headroom'] as const) {
      expect(find(report, id).status).toBe('skip');
      expect(find(report, id).message).toContain('could not be reached');
    }
    expect(statusOf(report, 'issuer.org-server')).toBe('ok');
  });

  it('fails a discovery endpoint that answers 404, and still probes the rest', async () => {
    org.control.fault('discovery', { type: 'status', status: 404, body: '{"errorCode":"E0000022"}' });
    const report = await check(record());
    expect(find(report, 'discovery.reachable')).toMatchObject({ status: 'fail', details: { status: 404 } });
    expect(statusOf(report, 'discovery.issuer-match')).toBe('skip');
    expect(statusOf(report, 'client.credentials')).toBe('ok');
  });
});

describe('discovery.issuer-match', () => {
  it('fails a document naming another issuer', async () => {
    org.control.hostile('discovery', 'discovery-issuer-mismatch');
    const report = await check(record());
    expect(statusOf(report, 'discovery.reachable')).toBe('ok');
    expect(find(report, 'discovery.issuer-match')).toMatchObject({ status: 'fail', details: { code: 'ERR_OIDC_DISCOVERY_FAILED', field: 'issuer' } });
  });

  it('fails endpoints on another origin', async () => {
    org.control.hostile('discovery', 'discovery-foreign-endpoints');
    const report = await check(record());
    expect(find(report, 'discovery.issuer-match')).toMatchObject({ status: 'fail', details: { code: 'ERR_OIDC_DISCOVERY_FAILED' } });
  });
});

describe('keys.reachable, keys.usable, keys.cache-control', () => {
  it('fails keys that cannot be fetched', async () => {
    org.control.fault('keys', { type: 'status', status: 404, body: '{"errorCode":"E0000022"}' });
    const report = await check(record());
    expect(find(report, 'keys.reachable')).toMatchObject({ status: 'fail', details: { status: 404 } });
    expect(statusOf(report, 'keys.usable')).toBe('skip');
    expect(statusOf(report, 'keys.cache-control')).toBe('skip');
  });

  it('fails keys answered with an HTML page (the transport error code is kept)', async () => {
    org.control.fault('keys', { type: 'html' });
    const report = await check(record());
    expect(find(report, 'keys.reachable')).toMatchObject({ status: 'fail', details: { code: 'ERR_OIDC_HTTP_ERROR' } });
  });

  it('fails a key set with a duplicated kid', async () => {
    org.control.hostile('keys', 'jwks-duplicate-kids');
    const report = await check(record());
    expect(statusOf(report, 'keys.reachable')).toBe('ok');
    const usable = find(report, 'keys.usable');
    expect(usable.status).toBe('fail');
    expect(usable.details).toMatchObject({ duplicateKids: [expect.any(String)] });
  });

  it('fails a 1024-bit RSA key and passes a 2048-bit one (crafted org)', async () => {
    serveCrafted({ keys: () => keysOf(1024) });
    const small = await check(craftedRecord());
    expect(find(small, 'keys.usable')).toMatchObject({ status: 'fail', details: { tooSmall: 1, usable: 0 } });
    serveCrafted();
    const good = await check(craftedRecord());
    expect(find(good, 'keys.usable')).toMatchObject({ status: 'ok', details: { usable: 1 } });
  });

  it('fails a key set that publishes a symmetric key', async () => {
    org.control.hostile('keys', 'jwks-symmetric-key');
    const report = await check(record());
    expect(find(report, 'keys.usable')).toMatchObject({ status: 'fail', details: { privateMaterial: 1 } });
  });

  it('warns when /keys has no Cache-Control, passes a max-age', async () => {
    serveCrafted({ keysHeaders: {} });
    const none = await check(craftedRecord());
    expect(statusOf(none, 'keys.cache-control')).toBe('warn');
    serveCrafted({ keysHeaders: { 'cache-control': 'no-store' } });
    expect(find(await check(craftedRecord()), 'keys.cache-control')).toMatchObject({ status: 'warn', details: { maxAgeSec: 0 } });
    serveCrafted();
    expect(find(await check(craftedRecord()), 'keys.cache-control')).toMatchObject({ status: 'ok', details: { maxAgeSec: 3600 } });
  });
});

describe('clock.skew', () => {
  it('warns past 30 s and fails past 300 s of difference with Okta\'s Date header', async () => {
    const ahead = await check(record(), { now: () => Date.now() + 120_000 });
    expect(find(ahead, 'clock.skew').status).toBe('warn');
    expect(find(ahead, 'clock.skew').message).toContain('ahead of');
    const behind = await check(record(), { now: () => Date.now() - 600_000 });
    expect(find(behind, 'clock.skew').status).toBe('fail');
    expect(find(behind, 'clock.skew').message).toContain('behind');
    expect((find(behind, 'clock.skew').details?.offsetSec as number) > 300).toBe(true);
  });

  it('reads a skewed Date header from the org (crafted org)', async () => {
    crafted.handle((_req, res) => {
      res.sendDate = false;
      json(res, 200, {}, { date: new Date(Date.now() - 3_600_000).toUTCString() });
    });
    const report = await check(craftedRecord());
    expect(find(report, 'clock.skew').status).toBe('fail');
  });
});

describe('client.credentials', () => {
  it('fails a wrong secret with the fix', async () => {
    const report = await check(record({ clientSecret: WRONG_SECRET }));
    const credentials = find(report, 'client.credentials');
    expect(credentials).toMatchObject({ status: 'fail', details: { error: 'invalid_client' } });
    expect(credentials.message).toContain("the client secret (or private key) is wrong, or the client id is not this org's");
    expect(statusOf(report, 'client.auth-method')).toBe('skip');
    expect(report.ok).toBe(false);
  });

  it('fails a private key Okta does not hold', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const other = { ...(await exportJWK(privateKey)), kid: 'doctor-key', alg: 'RS256' } as PrivateJwk;
    secrets.push(String(other.d));
    const report = await check(record({ clientId: 'app-pkjwt', clientSecret: undefined, tokenEndpointAuthMethod: 'private_key_jwt', privateJwk: other }));
    expect(find(report, 'client.credentials')).toMatchObject({ status: 'fail', details: { method: 'private_key_jwt', error: 'invalid_client' } });
  });

  it('warns when the second active secret of a rotation is refused', async () => {
    const report = await check(
      record({ clientId: 'app-rotate', clientSecret: undefined, clientSecrets: [{ value: ROTATE_SECRET, active: true }, { value: WRONG_SECRET, active: true }] }),
    );
    expect(find(report, 'client.credentials')).toMatchObject({ status: 'warn', details: { secretIndex: 0, refusedSecretIndex: 1 } });
  });

  it('warns when only the second active secret is accepted', async () => {
    const report = await check(
      record({ clientId: 'app-rotate', clientSecret: undefined, clientSecrets: [{ value: WRONG_SECRET, active: true }, { value: ROTATE_SECRET, active: true }] }),
    );
    expect(find(report, 'client.credentials')).toMatchObject({ status: 'warn', details: { secretIndex: 1, refusedSecretIndex: 0 } });
  });
});

describe('client.auth-method', () => {
  it('fails a record whose secret method the app refuses, naming the one it accepts', async () => {
    const report = await check(record({ tokenEndpointAuthMethod: 'client_secret_post' }));
    expect(statusOf(report, 'client.credentials')).toBe('ok');
    const method = find(report, 'client.auth-method');
    expect(method).toMatchObject({ status: 'fail', details: { method: 'client_secret_post', accepted: 'client_secret_basic' } });
    expect(method.message).toContain("tokenEndpointAuthMethod: 'client_secret_basic'");
  });
});

describe('redirect-uri.registered', () => {
  it('passes a registered URI and fails an unregistered one, one entry each', async () => {
    const report = await check(record({ redirectUris: [R1, R2] }));
    const entries = report.checks.filter((c) => c.id === 'redirect-uri.registered');
    expect(entries.map((c) => [c.details?.redirectUri, c.status])).toEqual([
      [R1, 'ok'],
      [R2, 'fail'],
    ]);
    expect(entries[1]!.details).toMatchObject({ status: 400 });
    expect(entries[1]!.message).toContain(`Register ${R2} as a Sign-in redirect URI in the Okta app`);
    expect(report.ok).toBe(false);
  });

  it('fails every redirect URI for a client id the org does not know', async () => {
    const report = await check(record({ clientId: 'not-this-orgs-app' }));
    expect(statusOf(report, 'redirect-uri.registered')).toBe('fail');
    expect(statusOf(report, 'client.credentials')).toBe('fail');
  });

  it('fails an authorize endpoint that never answers, within the deadline', async () => {
    org.control.fault('authorize', { type: 'hang' });
    const report = await check(record(), { timeoutMs: 500 });
    expect(find(report, 'redirect-uri.registered')).toMatchObject({ status: 'fail', details: { code: 'ERR_OIDC_HTTP_TIMEOUT', redirectUri: R1 } });
    expect(statusOf(report, 'client.credentials')).toBe('ok');
  });
});

describe('redirect-uri.registered with an HTTP client that hides redirects', () => {
  it("skips instead of guessing (a browser's fetch answers a manual redirect with status 0)", async () => {
    // A test double only for what no server can send: the browser's opaque-redirect filtered response.
    const hiding: CheckTenantOptions['http'] = (url, init) => (url.includes('/authorize') ? Promise.resolve(Response.error()) : fetch(url, init));
    const report = await check(record(), { http: hiding });
    expect(find(report, 'redirect-uri.registered')).toMatchObject({ status: 'skip', details: { redirectUri: R1 } });
    expect(statusOf(report, 'client.credentials')).toBe('ok');
  });
});

describe('pkce.required', () => {
  it('fails an org that does not offer S256, warns when it advertises nothing', async () => {
    serveCrafted({ discovery: (base) => ({ ...base, code_challenge_methods_supported: ['plain'] }) });
    expect(find(await check(craftedRecord()), 'pkce.required')).toMatchObject({ status: 'fail', details: { methods: ['plain'] } });
    serveCrafted({ discovery: ({ code_challenge_methods_supported: _omitted, ...rest }) => rest });
    expect(statusOf(await check(craftedRecord()), 'pkce.required')).toBe('warn');
  });
});

describe('scopes.oin', () => {
  it('fails scopes outside the OIN allow-list first, and still checks the rest', async () => {
    const report = await check(record({ scopes: ['openid', 'profile', 'offline_access'] }));
    expect(report.checks[0]).toMatchObject({ id: 'scopes.oin', status: 'fail', details: { code: 'ERR_OIDC_SCOPE_NOT_ALLOWED' } });
    expect(report.checks[0]!.message).toContain('offline_access');
    expect(report.checks.filter((c) => c.id === 'scopes.oin')).toHaveLength(1);
    expect(statusOf(report, 'client.credentials')).toBe('ok');
    expect(statusOf(report, 'redirect-uri.registered')).toBe('ok');
  });

  it("skips the custom profile, which is not limited to the OIN scopes", async () => {
    const report = await check(record({ profile: 'custom', scopes: ['openid', 'offline_access'] }));
    expect(statusOf(report, 'scopes.oin')).toBe('skip');
  });
});

describe('dpop.required', () => {
  it('fails a record without DPoP for an app that requires it, passes with dpop: true', async () => {
    const without = await check(record({ clientId: 'app-dpop', clientSecret: DPOP_SECRET }));
    expect(find(without, 'dpop.required')).toMatchObject({ status: 'fail', details: { recordDpop: false, appRequiresDpop: true } });
    expect(find(without, 'dpop.required').message).toContain('set dpop: true');
    const withDpop = await check(record({ clientId: 'app-dpop', clientSecret: DPOP_SECRET, dpop: true }));
    expect(find(withDpop, 'dpop.required')).toMatchObject({ status: 'ok', details: { recordDpop: true, appRequiresDpop: true } });
    expect(withDpop.ok).toBe(true);
  });

  it('warns when the record sends DPoP but the org does not advertise it (crafted org)', async () => {
    serveCrafted({ discovery: ({ dpop_signing_alg_values_supported: _omitted, ...rest }) => rest });
    const report = await check(craftedRecord({ dpop: true }));
    expect(find(report, 'dpop.required')).toMatchObject({ status: 'warn', details: { advertised: false } });
  });
});

describe('rate-limit.headroom', () => {
  it('warns below 20 % of the window left', async () => {
    // Spend 8 of the 10 authorize calls of the window; the probe takes the 9th.
    for (let i = 0; i < 8; i++) {
      const response = await fetch(`${limitedOrg.issuer}/oauth2/v1/authorize`, { redirect: 'manual' });
      await response.body?.cancel();
    }
    const report = await check({ id: 'limited', issuer: limitedOrg.issuer, clientId: 'app', clientSecret: LIMITED_SECRET, redirectUris: [R1] });
    const headroom = find(report, 'rate-limit.headroom');
    expect(headroom.status).toBe('warn');
    expect(headroom.message).toContain('authorize');
    expect(headroom.details).toMatchObject({ endpoints: { authorize: { remaining: 1, limit: 10 } } });
  });

  it('skips when no response carries rate-limit headers (crafted org)', async () => {
    serveCrafted({ rateLimitHeaders: false });
    expect(statusOf(await check(craftedRecord()), 'rate-limit.headroom')).toBe('skip');
  });
});

describe('options', () => {
  it('refuses an invalid timeoutMs with ERR_OIDC_INVALID_OPTIONS', async () => {
    const error = await checkTenant(record(), { timeoutMs: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isOidcError(error) && error.code).toBe('ERR_OIDC_INVALID_OPTIONS');
  });
});

describe('docs/doctor.md', () => {
  it('has a section under "## Check ids" for every check id, in report order', () => {
    const page = readFileSync(new URL('../../../docs/doctor.md', import.meta.url), 'utf8');
    const section = page.split(/^## Check ids$/m)[1]?.split(/^## /m)[0] ?? '';
    const headings = [...section.matchAll(/^### (.+)$/gm)].map((m) => m[1]);
    expect(headings).toEqual([...TENANT_CHECK_IDS]);
  });
});
