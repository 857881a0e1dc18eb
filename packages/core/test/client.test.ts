/**
 * createOidcClient composition: option validation at creation, and every OidcClient method wired
 * to its module, exercised over HTTP against the Okta org emulator.
 */
import { driveAuthorization, type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCallbackParams } from '../src/callback/parse-callback';
import { createOidcClient, type OidcClient } from '../src/client';
import { isOidcError, type OidcError } from '../src/errors';
import { createMemoryCredentialStore, type CredentialStore } from '../src/tenant/credential-store';
import { parseTenant, type Tenant } from '../src/tenant/tenant';
import { MemoryTtlStore } from '../src/ttl-store';
import type { OidcWarning } from '../src/warnings';

const APP = 'http://localhost:3000';
const SECRET = 'client-secret-0123456789-0123456789';
let org: OktaOrg;
let client: OidcClient;

async function failure(promise: Promise<unknown> | (() => unknown)): Promise<OidcError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (isOidcError(error)) return error;
    throw error;
  }
  throw new Error('expected an OidcError');
}

async function signIn(tenant: Tenant) {
  const { url, transaction } = await client.createAuthorizationRequest(tenant);
  return client.handleCallback(parseCallbackParams(await driveAuthorization(url)), transaction);
}

beforeAll(async () => {
  org = await startOktaOrg({
    clients: [
      {
        clientId: '0oa-app',
        clientSecret: SECRET,
        tokenEndpointAuthMethod: 'client_secret_basic',
        redirectUris: [`${APP}/auth/callback`],
        postLogoutRedirectUris: [`${APP}/`],
        initiateLoginUri: `${APP}/auth/initiate`,
      },
    ],
    users: [{ login: 'jane@acme.example', password: 'pw', claims: { email: 'jane@acme.example' } }],
  });
  client = createOidcClient({
    store: createMemoryCredentialStore([
      {
        id: 'acme',
        issuer: org.issuer,
        clientId: '0oa-app',
        clientSecret: SECRET,
        redirectUris: [`${APP}/auth/callback`],
        postLogoutRedirectUris: [`${APP}/`],
        initiateLoginUri: `${APP}/auth/initiate`,
        allowSimplifiedFlow: true,
      },
    ]),
    introspectionCache: { maxTtlSec: 60 },
    // The emulator listens on 127.0.0.1 (issuer policy, SA-12).
    allowLoopbackIssuers: true,
    onWarning: () => undefined,
  });
});

afterAll(async () => {
  await org?.close();
});

describe('createOidcClient', () => {
  it('validates options once, at creation', async () => {
    const store = createMemoryCredentialStore([]);
    expect((await failure(() => createOidcClient({ store, clockToleranceSec: -1 }))).code).toBe('ERR_OIDC_INVALID_OPTIONS');
    expect((await failure(() => createOidcClient({ store, typo: true } as never))).message).toContain('typo');
    expect((await failure(() => createOidcClient({} as never))).details?.field).toBe('store');
  });

  it('returns a frozen client', () => {
    expect(Object.isFrozen(client)).toBe(true);
  });

  it('wraps credential store failures as ERR_OIDC_STORE_FAILURE', async () => {
    const broken: CredentialStore = {
      get: () => Promise.reject(new Error('db down: password=hunter2')),
      findByIssuer: () => Promise.resolve([]),
    };
    const error = await failure(createOidcClient({ store: broken }).getTenant('acme'));
    expect(error.code).toBe('ERR_OIDC_STORE_FAILURE');
    expect(error.message).not.toContain('hunter2');
  });
});

const RECORD = { clientId: '0oa-x', clientSecret: 'x-secret', redirectUris: ['https://app.example.com/auth/callback'] };

/** An HTTP client that records every call and answers none: the policy must refuse before any. */
function noNetwork(): { http: (url: string) => Promise<Response>; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    http: async (url: string) => {
      calls.push(url);
      throw new Error('unexpected network call');
    },
  };
}

describe('issuer policy (SA-12)', () => {
  const records = [
    { ...RECORD, id: 'loop', issuer: 'http://127.0.0.1:4101', allowSimplifiedFlow: true },
    { ...RECORD, id: 'localhost', issuer: 'https://localhost:8443', clientId: '0oa-l' },
    { ...RECORD, id: 'ip', issuer: 'https://10.0.0.5', clientId: '0oa-ip', allowSimplifiedFlow: true },
    { ...RECORD, id: 'ipv6', issuer: 'https://[fd00::1]', clientId: '0oa-ip6' },
    { ...RECORD, id: 'acme', issuer: 'https://acme.okta.com', clientId: '0oa-acme' },
    { ...RECORD, id: 'custom', issuer: 'https://login.acme.com', clientId: '0oa-custom' },
    { ...RECORD, id: 'internal', issuer: 'https://metadata.internal.example', clientId: '0oa-int' },
  ];

  it('refuses loopback issuers by default, and any IP literal, before any network call (SA-12)', async () => {
    const net = noNetwork();
    const strict = createOidcClient({ store: createMemoryCredentialStore(records), http: net.http, onWarning: () => undefined });
    for (const [id, reason] of [['loop', 'loopback'], ['localhost', 'loopback'], ['ip', 'ip-literal'], ['ipv6', 'ip-literal']] as const) {
      const error = await failure(strict.getTenant(id));
      expect(error.code, id).toBe('ERR_OIDC_ISSUER_NOT_ALLOWED');
      expect(error.details).toMatchObject({ reason, tenantId: id });
    }
    // A callback for a refused tenant stops at getTenant: no /token call.
    const transaction = { state: 's'.repeat(43), nonce: 'n'.repeat(43), codeVerifier: 'v'.repeat(43), tenantId: 'loop', redirectUri: RECORD.redirectUris[0]!, returnTo: '/', createdAt: Date.now() };
    expect((await failure(strict.handleCallback({ code: 'c', state: 's'.repeat(43) }, transaction))).code).toBe('ERR_OIDC_ISSUER_NOT_ALLOWED');
    expect((await strict.getTenant('acme')).id).toBe('acme');
    expect((await strict.getTenant('internal')).id).toBe('internal'); // no allow-list: any DNS name
    expect(net.calls).toEqual([]);

    const dev = createOidcClient({ store: createMemoryCredentialStore(records), http: net.http, allowLoopbackIssuers: true, onWarning: () => undefined });
    expect((await dev.getTenant('loop')).id).toBe('loop');
    expect((await dev.getTenant('localhost')).id).toBe('localhost');
    // The flag is about loopback only: other IP literals stay refused.
    expect((await failure(dev.getTenant('ip'))).code).toBe('ERR_OIDC_ISSUER_NOT_ALLOWED');
  });

  it('enforces allowedIssuerHosts: exact hosts and leading-dot suffixes (SA-12)', async () => {
    const net = noNetwork();
    const listed = createOidcClient({
      store: createMemoryCredentialStore(records),
      http: net.http,
      allowedIssuerHosts: ['.OKTA.com', '.okta-emea.com', 'login.acme.com'],
      onWarning: () => undefined,
    });
    expect((await listed.getTenant('acme')).id).toBe('acme');
    expect((await listed.getTenant('custom')).id).toBe('custom');
    const error = await failure(listed.getTenant('internal'));
    expect(error).toMatchObject({ code: 'ERR_OIDC_ISSUER_NOT_ALLOWED', details: { reason: 'not-listed' } });
    expect(error.message).not.toContain('metadata.internal');
    expect(net.calls).toEqual([]);
  });

  it('refuses a policy tenant in the simplified flow before fetching keys, and follows the policy on initiate (SA-12)', async () => {
    const net = noNetwork();
    const strict = createOidcClient({ store: createMemoryCredentialStore(records), http: net.http, onWarning: () => undefined });
    const b64 = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const forged = `${b64({ alg: 'RS256', kid: 'k1' })}.${b64({ iss: 'https://10.0.0.5', aud: '0oa-ip', sub: 'x' })}.c2ln`;
    expect((await failure(strict.handleSimplifiedFlow(forged))).code).toBe('ERR_OIDC_ISSUER_NOT_ALLOWED');
    const initiate = await failure(strict.resolveInitiateLogin(new URLSearchParams({ iss: 'http://127.0.0.1:4101' }), 'https://app.example.com'));
    expect(initiate).toMatchObject({ code: 'ERR_OIDC_TENANT_UNKNOWN', details: { reason: 'issuer-not-allowed' } });
    expect(net.calls).toEqual([]);
  });

  it('applies the policy to a Tenant passed in directly, not only to those from the store (SA-12)', async () => {
    const net = noNetwork();
    const strict = createOidcClient({ store: createMemoryCredentialStore([]), http: net.http, onWarning: () => undefined });
    const internal = parseTenant({ ...RECORD, id: 'direct', issuer: 'https://10.0.0.5' });
    const calls: [string, () => Promise<unknown>][] = [
      ['createAuthorizationRequest', () => strict.createAuthorizationRequest(internal)],
      ['validateIdToken', () => strict.validateIdToken(internal, 'a.b.c', { nonce: 'n' })],
      ['introspect', () => strict.introspect(internal, 'a.b.c')],
      ['userinfo', () => strict.userinfo(internal, 'token', 'sub')],
      ['revoke', () => strict.revoke(internal, 'token')],
    ];
    for (const [name, call] of calls) expect((await failure(call())).code, name).toBe('ERR_OIDC_ISSUER_NOT_ALLOWED');
    expect(net.calls).toEqual([]);
  });

  it('checks each Tenant object once (the warm path reads nothing more)', async () => {
    const tenant = parseTenant({ ...RECORD, id: 'acme', issuer: 'https://acme.okta.com' });
    let issuerReads = 0;
    const watched = new Proxy(tenant, {
      get(target, name, receiver) {
        if (name === 'issuer') issuerReads += 1;
        return Reflect.get(target, name, receiver);
      },
    });
    const store: CredentialStore = { get: async () => watched, findByIssuer: async () => [watched] };
    const watchedClient = createOidcClient({ store, allowedIssuerHosts: ['.okta.com'] });
    for (let i = 0; i < 5; i += 1) expect(await watchedClient.getTenant('acme')).toBe(watched);
    expect(issuerReads).toBe(1);
  });

  it.each([[['*.okta.com']], [['com']], [['.com']], [['10.0.0.5']], [['acme.okta.com.']], [['acme.okta.com:443']], [['']], [['https://acme.okta.com']], ['okta.com']])(
    'refuses the allowedIssuerHosts value %j at creation (ERR_OIDC_INVALID_OPTIONS) (SA-12)',
    async (value) => {
      const error = await failure(() => createOidcClient({ store: createMemoryCredentialStore([]), allowedIssuerHosts: value as never }));
      expect(error.code).toBe('ERR_OIDC_INVALID_OPTIONS');
      expect(error.message).toMatch(/^allowedIssuerHosts/);
    },
  );
});

describe('warnings (SA-07)', () => {
  const simplifiedRecord = { ...RECORD, id: 'acme', issuer: 'https://acme.okta.com', allowSimplifiedFlow: true };

  it('warns once at creation when the store lists a simplified-flow tenant on the default replay store', async () => {
    const warnings: OidcWarning[] = [];
    createOidcClient({ store: createMemoryCredentialStore([simplifiedRecord]), onWarning: (w) => warnings.push(w) });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(warnings).toEqual([expect.objectContaining({ code: 'WARN_OIDC_REPLAY_STORE_PER_PROCESS', tenantId: 'acme' })]);
    expect(warnings[0]!.message).toMatch(/replayStore/);
  });

  it('says nothing with a shared replay store, or when no tenant uses the simplified flow', async () => {
    const warnings: OidcWarning[] = [];
    createOidcClient({ store: createMemoryCredentialStore([simplifiedRecord]), replayStore: new MemoryTtlStore(), onWarning: (w) => warnings.push(w) });
    createOidcClient({ store: createMemoryCredentialStore([{ ...simplifiedRecord, allowSimplifiedFlow: false }]), onWarning: (w) => warnings.push(w) });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(warnings).toEqual([]);
  });

  it('without list(), warns at the first simplified sign-in on the default store, once, and a throwing handler breaks nothing', async () => {
    const warnings: OidcWarning[] = [];
    const memory = createMemoryCredentialStore([
      { ...RECORD, id: 'acme', issuer: org.issuer, clientId: '0oa-app', clientSecret: SECRET, redirectUris: [`${APP}/auth/callback`], allowSimplifiedFlow: true },
    ]);
    const store: CredentialStore = { get: (id) => memory.get(id), findByIssuer: (iss) => memory.findByIssuer(iss) };
    const quiet = createOidcClient({
      store,
      allowLoopbackIssuers: true,
      onWarning: (w) => {
        warnings.push(w);
        throw new Error('logger down');
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(warnings).toEqual([]);
    for (let i = 0; i < 2; i += 1) {
      const { fields } = await org.control.simplifiedSignIn('0oa-app');
      expect((await quiet.handleSimplifiedFlow(fields.id_token)).tenant.id).toBe('acme');
    }
    expect(warnings.map((w) => [w.code, w.tenantId])).toEqual([['WARN_OIDC_REPLAY_STORE_PER_PROCESS', 'acme']]);
  });

  it('validates onWarning and the replay quota at creation', async () => {
    const store = createMemoryCredentialStore([]);
    expect((await failure(() => createOidcClient({ store, onWarning: 'log' as never }))).details?.field).toBe('onWarning');
    for (const quota of [0, 1.5, 100_001, '10']) {
      expect((await failure(() => createOidcClient({ store, replayQuotaPerTenant: quota as never }))).details?.field).toBe('replayQuotaPerTenant');
    }
    const both = await failure(() => createOidcClient({ store, replayStore: new MemoryTtlStore(), replayQuotaPerTenant: 10 }));
    expect(both).toMatchObject({ code: 'ERR_OIDC_INVALID_OPTIONS', details: { field: 'replayQuotaPerTenant' } });
    expect((await failure(() => createOidcClient({ store, allowLoopbackIssuers: 'yes' as never }))).details?.field).toBe('allowLoopbackIssuers');
  });
});

describe('OidcClient methods against the emulator', () => {
  it('signs in, then userinfo, introspect, revoke work with the tokens', async () => {
    const tenant = await client.getTenant('acme');
    const result = await signIn(tenant);
    const accessToken = result.accessToken!;

    const info = await client.userinfo(tenant, accessToken, result.claims.sub);
    expect(info.sub).toBe(result.claims.sub);
    expect((await failure(client.userinfo(tenant, accessToken, 'someone-else'))).code).toBe('ERR_OIDC_SUBJECT_MISMATCH');

    const active = await client.introspect(tenant, accessToken);
    expect(active).toMatchObject({ active: true, client_id: '0oa-app' });

    await client.revoke(tenant, accessToken, 'access_token');
    // revoke() forgets the cached introspection result, so the revocation is seen at once.
    expect((await failure(client.introspect(tenant, accessToken))).code).toBe('ERR_OIDC_ACCESS_TOKEN_INACTIVE');
  });

  it('isAccessTokenWarm: true only for the exact token after an active answer, false again after revoke, never without a cache', async () => {
    const tenant = await client.getTenant('acme');
    const accessToken = (await signIn(tenant)).accessToken!;
    expect(client.isAccessTokenWarm(accessToken)).toBe(false);
    await client.introspect(tenant, accessToken);
    expect(client.isAccessTokenWarm(accessToken)).toBe(true);
    expect(client.isAccessTokenWarm(`${accessToken}x`)).toBe(false);
    expect(client.isAccessTokenWarm(accessToken.slice(1))).toBe(false);
    expect(client.isAccessTokenWarm(42 as unknown as string)).toBe(false);
    await client.revoke(tenant, accessToken, 'access_token');
    expect(client.isAccessTokenWarm(accessToken)).toBe(false);
    expect((await failure(client.introspect(tenant, accessToken))).code).toBe('ERR_OIDC_ACCESS_TOKEN_INACTIVE');

    const uncached = createOidcClient({ store: client.store, allowLoopbackIssuers: true, introspectionCache: false, onWarning: () => undefined });
    const fresh = (await signIn(tenant)).accessToken!;
    await uncached.introspect(tenant, fresh);
    expect(uncached.isAccessTokenWarm(fresh)).toBe(false);
  });

  it('validates an ID token with the shared JWKS cache', async () => {
    const tenant = await client.getTenant('acme');
    const idToken = await org.control.issueIdToken('0oa-app', { claims: { nonce: 'n-123' } });
    const claims = await client.validateIdToken(tenant, idToken, { nonce: 'n-123' });
    expect(claims.iss).toBe(org.issuer);
    expect((await failure(client.validateIdToken(tenant, idToken, { nonce: 'other' }))).code).toBe('ERR_OIDC_NONCE_MISMATCH');
  });

  it('builds the logout URL', async () => {
    const tenant = await client.getTenant('acme');
    const result = await signIn(tenant);
    const url = client.buildLogoutUrl(tenant, { idTokenHint: result.idToken, state: 'xyz' });
    expect(`${url.origin}${url.pathname}`).toBe(`${org.issuer}/oauth2/v1/logout`);
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe(`${APP}/`);
  });

  it('resolves a third-party-initiated login to the tenant', async () => {
    const initiate = new URL(org.control.initiateLoginUrl('0oa-app', { loginHint: 'jane@acme.example', targetLinkUri: `${APP}/reports?x=1` }));
    const resolved = await client.resolveInitiateLogin(initiate.searchParams, APP);
    expect(resolved.tenant.id).toBe('acme');
    expect(resolved.loginHint).toBe('jane@acme.example');
    expect(resolved.returnTo).toBe('/reports?x=1');
  });

  it('accepts the simplified flow once and refuses a replay', async () => {
    const { fields } = await org.control.simplifiedSignIn('0oa-app');
    const result = await client.handleSimplifiedFlow(fields.id_token);
    expect(result.tenant.id).toBe('acme');
    expect(result.claims.iss).toBe(org.issuer);
    expect((await failure(client.handleSimplifiedFlow(fields.id_token))).code).toBe('ERR_OIDC_ID_TOKEN_REPLAYED');
  });
});
