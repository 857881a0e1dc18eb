/**
 * The authorization code flow end to end over HTTP against the Okta org emulator: every client
 * authentication method, secret rotation, and the callback checks of catalogue CB-*, TK-*.
 */
import { driveAuthorization, type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transaction } from '../src/authorize/transaction';
import { handleCallback } from '../src/callback/handle-callback';
import { parseCallbackParams, type CallbackParams } from '../src/callback/parse-callback';
import { createOidcClient, type OidcClient } from '../src/client';
import { isOidcError, type OidcError } from '../src/errors';
import { createTransport } from '../src/http/transport';
import { createMemoryCredentialStore } from '../src/tenant/credential-store';
import type { PrivateJwk, TenantRecord } from '../src/tenant/tenant';

const REDIRECT = 'http://localhost:3000/auth/callback';
const REDIRECT_2 = 'http://localhost:3000/other/callback';
const SECRET = 'basic-secret-with:colon+plus%percent/slash=equals-é-0123456789';
const POST_SECRET = 'post-secret-0123456789-0123456789-0123456789';
const OLD_SECRET = 'old-secret-0123456789-0123456789-0123456789';
const NEW_SECRET = 'new-secret-0123456789-0123456789-0123456789';
const USER = { login: 'jane@acme.example', password: 'correct horse', claims: { email: 'jane@acme.example', name: 'Jane Doe' } };

let org: OktaOrg;
let client: OidcClient;
let clientNoIssRequirement: OidcClient;

async function startSignIn(oidc: OidcClient, tenantId: string, options: Parameters<OidcClient['createAuthorizationRequest']>[1] = {}) {
  const tenant = await oidc.getTenant(tenantId);
  const { url, transaction } = await oidc.createAuthorizationRequest(tenant, options);
  const callback = await driveAuthorization(url);
  const params = parseCallbackParams({
    method: callback.method,
    url: callback.url,
    ...(callback.body === undefined ? {} : { body: callback.body, contentType: 'application/x-www-form-urlencoded' }),
  });
  return { params, transaction, callback };
}

async function failure(promise: Promise<unknown>): Promise<OidcError> {
  try {
    await promise;
  } catch (error) {
    if (isOidcError(error)) return error;
    throw error;
  }
  throw new Error('expected an OidcError');
}

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'rp-key-1', alg: 'RS256', use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid: 'rp-key-1', alg: 'RS256' } as PrivateJwk;
  const { publicKey: ecPublic, privateKey: ecPrivate } = await generateKeyPair('ES256', { extractable: true });
  const ecPublicJwk = { ...(await exportJWK(ecPublic)), kid: 'rp-ec-1', use: 'sig' };
  const ecPrivateJwk = { ...(await exportJWK(ecPrivate)), kid: 'rp-ec-1' } as PrivateJwk;

  org = await startOktaOrg({
    clients: [
      { clientId: '0oa-basic', clientSecret: SECRET, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [REDIRECT, REDIRECT_2] },
      { clientId: '0oa-post', clientSecret: POST_SECRET, tokenEndpointAuthMethod: 'client_secret_post', redirectUris: [REDIRECT] },
      { clientId: '0oa-pkjwt', tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [publicJwk as JsonWebKey] }, redirectUris: [REDIRECT] },
      { clientId: '0oa-pkjwt-ec', tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [ecPublicJwk as JsonWebKey] }, redirectUris: [REDIRECT] },
      { clientId: '0oa-rotate', clientSecret: OLD_SECRET, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [REDIRECT] },
      { clientId: '0oa-rotate-post', clientSecret: OLD_SECRET, tokenEndpointAuthMethod: 'client_secret_post', redirectUris: [REDIRECT] },
    ],
    users: [USER],
  });
  const records: TenantRecord[] = [
    { id: 'basic', issuer: org.issuer, clientId: '0oa-basic', clientSecret: SECRET, redirectUris: [REDIRECT, REDIRECT_2] },
    { id: 'post', issuer: org.issuer, clientId: '0oa-post', clientSecret: POST_SECRET, tokenEndpointAuthMethod: 'client_secret_post', redirectUris: [REDIRECT] },
    { id: 'pkjwt', issuer: org.issuer, clientId: '0oa-pkjwt', tokenEndpointAuthMethod: 'private_key_jwt', privateJwk, redirectUris: [REDIRECT] },
    { id: 'pkjwt-ec', issuer: org.issuer, clientId: '0oa-pkjwt-ec', tokenEndpointAuthMethod: 'private_key_jwt', privateJwk: ecPrivateJwk, redirectUris: [REDIRECT] },
    {
      id: 'rotate',
      issuer: org.issuer,
      clientId: '0oa-rotate',
      clientSecrets: [
        { value: NEW_SECRET, active: true },
        { value: OLD_SECRET, active: true },
      ],
      redirectUris: [REDIRECT],
    },
    {
      id: 'rotate-post',
      issuer: org.issuer,
      clientId: '0oa-rotate-post',
      tokenEndpointAuthMethod: 'client_secret_post',
      clientSecrets: [
        { value: NEW_SECRET, active: true },
        { value: OLD_SECRET, active: true },
      ],
      redirectUris: [REDIRECT],
    },
  ];
  const store = createMemoryCredentialStore(records);
  client = createOidcClient({ store, allowLoopbackIssuers: true });
  clientNoIssRequirement = createOidcClient({ store, requireIssParameter: false, allowLoopbackIssuers: true });
});

afterAll(async () => {
  await org?.close();
});

describe('code flow: client authentication (emulator)', () => {
  it('signs in with client_secret_basic (secret with reserved and non-ASCII characters, CA-01)', async () => {
    const { params, transaction } = await startSignIn(client, 'basic', { returnTo: '/orders' });
    expect(params.iss).toBe(org.issuer);
    const result = await client.handleCallback(params, transaction);
    expect(result.tenant.id).toBe('basic');
    expect(result.claims).toMatchObject({ iss: org.issuer, aud: '0oa-basic', nonce: transaction.nonce, email: USER.claims.email });
    expect(result.idToken.split('.')).toHaveLength(3);
    expect(typeof result.accessToken).toBe('string');
    expect(result.tokenType).toBe('Bearer');
    expect(result.secretIndex).toBe(0);
    expect(result.refreshToken).toBeUndefined();
    expect(result.expiresAt).toBeGreaterThan(Date.now());
    expect(transaction.returnTo).toBe('/orders');
  });

  it('signs in with client_secret_post', async () => {
    const { params, transaction } = await startSignIn(client, 'post');
    const result = await client.handleCallback(params, transaction);
    expect(result.claims.aud).toBe('0oa-post');
    expect(result.secretIndex).toBe(0);
  });

  it('signs in with private_key_jwt (RS256)', async () => {
    const { params, transaction } = await startSignIn(client, 'pkjwt');
    const result = await client.handleCallback(params, transaction);
    expect(result.claims.aud).toBe('0oa-pkjwt');
    expect(result.secretIndex).toBeUndefined();
  });

  it('signs in with private_key_jwt (ES256 key, alg from the curve)', async () => {
    const { params, transaction } = await startSignIn(client, 'pkjwt-ec');
    const result = await client.handleCallback(params, transaction);
    expect(result.claims.aud).toBe('0oa-pkjwt-ec');
  });

  it('signs in with response_mode=form_post', async () => {
    const { params, transaction, callback } = await startSignIn(client, 'basic', { responseMode: 'form_post' });
    expect(callback.method).toBe('POST');
    const result = await client.handleCallback(params, transaction);
    expect(result.claims.sub).toBeTruthy();
  });

  it('honours max_age (auth_time checked)', async () => {
    const { params, transaction } = await startSignIn(client, 'basic', { maxAge: 300 });
    const result = await client.handleCallback(params, transaction);
    expect(typeof result.claims.auth_time).toBe('number');
  });
});

describe('code flow: secret rotation (CA-03)', () => {
  for (const tenantId of ['rotate', 'rotate-post']) {
    it(`retries once with the other active secret and reports which worked (${tenantId})`, async () => {
      const clientId = tenantId === 'rotate' ? '0oa-rotate' : '0oa-rotate-post';
      // Okta: the tenant's first secret is not (or no longer) active there.
      await org.control.setClientSecrets(clientId, [
        { value: NEW_SECRET, active: false },
        { value: OLD_SECRET, active: true },
      ]);
      const { params, transaction } = await startSignIn(client, tenantId);
      org.control.resetCounters();
      const result = await client.handleCallback(params, transaction);
      expect(result.secretIndex).toBe(1);
      expect(org.control.counters().token).toBe(2);

      // After rotation at Okta the first secret works again, first time.
      await org.control.setClientSecrets(clientId, [
        { value: NEW_SECRET, active: true },
        { value: OLD_SECRET, active: false },
      ]);
      const next = await startSignIn(client, tenantId);
      org.control.resetCounters();
      expect((await client.handleCallback(next.params, next.transaction)).secretIndex).toBe(0);
      expect(org.control.counters().token).toBe(1);
    });
  }

  it('fails with invalid_client after two attempts when neither secret is active at Okta', async () => {
    await org.control.setClientSecrets('0oa-rotate', [{ value: 'another-secret-0123456789-0123456789', active: true }]);
    const { params, transaction } = await startSignIn(client, 'rotate');
    org.control.resetCounters();
    const error = await failure(client.handleCallback(params, transaction));
    expect(error.code).toBe('ERR_OIDC_TOKEN_ENDPOINT_ERROR');
    expect(error.details?.error).toBe('invalid_client');
    expect(error.status).toBe(503);
    expect(error.message).not.toContain('secret-0123');
    expect(org.control.counters().token).toBe(2);
    await org.control.setClientSecrets('0oa-rotate', [{ value: OLD_SECRET, active: true }]);
  });
});

describe('code flow: callback checks (CB-*)', () => {
  async function expectNoTokenCall(params: CallbackParams, transaction: Transaction, code: string, oidc = client) {
    org.control.resetCounters();
    const error = await failure(oidc.handleCallback(params, transaction));
    expect(error.code).toBe(code);
    expect(org.control.counters().token).toBe(0);
    return error;
  }

  it('refuses a state mismatch without calling the token endpoint (CB-01)', async () => {
    const { params, transaction } = await startSignIn(client, 'basic');
    await expectNoTokenCall({ ...params, state: `${params.state}x` }, transaction, 'ERR_OIDC_STATE_MISMATCH');
    await expectNoTokenCall(params, { ...transaction, state: 'A'.repeat(43) }, 'ERR_OIDC_STATE_MISMATCH');
  });

  it('refuses a missing state (CB-02, next-auth CVE-2023-27490)', async () => {
    const { params, transaction } = await startSignIn(client, 'basic');
    const { state: _state, ...withoutState } = params;
    await expectNoTokenCall(withoutState, transaction, 'ERR_OIDC_STATE_MISSING');
  });

  it('checks state before error (CB-06a)', async () => {
    const { transaction } = await startSignIn(client, 'basic');
    await expectNoTokenCall({ error: 'access_denied', state: 'WRONG', iss: org.issuer }, transaction, 'ERR_OIDC_STATE_MISMATCH');
  });

  it('turns error=access_denied into ERR_OIDC_AUTHORIZATION_DENIED without echoing the description (CB-06b)', async () => {
    const { transaction } = await startSignIn(client, 'basic');
    const error = await expectNoTokenCall(
      { error: 'access_denied', error_description: '<script>alert(1)</script>', error_uri: 'https://evil.example', state: transaction.state, iss: org.issuer },
      transaction,
      'ERR_OIDC_AUTHORIZATION_DENIED',
    );
    expect(error.details?.error).toBe('access_denied');
    expect(error.message).not.toContain('script');
    expect(error.message).not.toContain('evil');
  });

  it('reports a real error response from the emulator (prompt=none without a session: login_required)', async () => {
    const { params, transaction } = await startSignIn(client, 'basic', { prompt: 'none' });
    expect(params.error).toBe('login_required');
    const error = await expectNoTokenCall(params, transaction, 'ERR_OIDC_AUTHORIZATION_DENIED');
    expect(error.details?.error).toBe('login_required');
  });

  it('does not echo an error code outside the RFC 6749 charset', async () => {
    const { transaction } = await startSignIn(client, 'basic');
    const error = await expectNoTokenCall({ error: 'bad"code\u0001', state: transaction.state, iss: org.issuer }, transaction, 'ERR_OIDC_AUTHORIZATION_DENIED');
    expect(error.details).toEqual({});
    expect(error.message).not.toContain('bad');
  });

  it('refuses an iss mismatch, with no normalisation (CB-07a, c) (CB-07, MT-03)', async () => {
    const { params, transaction } = await startSignIn(client, 'basic');
    for (const iss of ['https://other.okta.example', `${org.issuer}/`, org.issuer.toUpperCase()]) {
      await expectNoTokenCall({ ...params, iss }, transaction, 'ERR_OIDC_ISSUER_MISMATCH');
    }
  });

  it('refuses a missing iss when discovery advertises RFC 9207 support (CB-07b), accepts it when not required (CB-07)', async () => {
    const { params, transaction } = await startSignIn(client, 'basic');
    const { iss: _iss, ...withoutIss } = params;
    await expectNoTokenCall(withoutIss, transaction, 'ERR_OIDC_ISSUER_MISMATCH');
    const result = await clientNoIssRequirement.handleCallback(withoutIss, transaction);
    expect(result.claims.iss).toBe(org.issuer);
  });

  it('refuses implicit/hybrid artefacts in a code-flow callback (CB-10)', async () => {
    const { params, transaction } = await startSignIn(client, 'basic');
    for (const name of ['id_token', 'access_token', 'token', 'response']) {
      await expectNoTokenCall({ ...params, [name]: 'x.y.z' }, transaction, 'ERR_OIDC_CALLBACK_INVALID');
    }
  });

  it('refuses a callback without a code', async () => {
    const { params, transaction } = await startSignIn(client, 'basic');
    const { code: _code, ...withoutCode } = params;
    await expectNoTokenCall(withoutCode, transaction, 'ERR_OIDC_CALLBACK_INVALID');
  });

  it('refuses a transaction of another tenant (TK-07, MT-02)', async () => {
    const { params, transaction } = await startSignIn(client, 'basic');
    // Low level: the tenant passed in must be the one that started the transaction.
    org.control.resetCounters();
    const deps = { transport: createTransport(), now: Date.now, validateIdToken: () => Promise.reject(new Error('not reached')) };
    const mismatch = await failure(handleCallback(deps, params, transaction, await client.getTenant('post')));
    expect(mismatch.code).toBe('ERR_OIDC_TRANSACTION_INVALID');
    expect(org.control.counters().token).toBe(0);
    // The client looks the tenant up from the transaction, never from the request.
    await expectNoTokenCall(params, { ...transaction, tenantId: 'no-such-tenant' }, 'ERR_OIDC_TENANT_UNKNOWN');
  });
});

describe('code flow: code exchange failures (TK-*)', () => {
  it('refuses a replayed code: one token call, invalid_grant (CB-08, TK-01)', async () => {
    const { params, transaction } = await startSignIn(client, 'basic');
    await client.handleCallback(params, transaction);
    org.control.resetCounters();
    const error = await failure(client.handleCallback(params, transaction));
    expect(error.code).toBe('ERR_OIDC_TOKEN_ENDPOINT_ERROR');
    expect(error.details?.error).toBe('invalid_grant');
    expect(org.control.counters().token).toBe(1);
  });

  it('refuses a redirect_uri different from the authorization request', async () => {
    const { params, transaction } = await startSignIn(client, 'basic');
    const error = await failure(client.handleCallback(params, { ...transaction, redirectUri: REDIRECT_2 }));
    expect(error.code).toBe('ERR_OIDC_TOKEN_ENDPOINT_ERROR');
    expect(error.details?.error).toBe('invalid_grant');
  });

  it('refuses an unregistered redirect URI before anything is sent', async () => {
    const tenant = await client.getTenant('basic');
    org.control.resetCounters();
    const error = await failure(client.createAuthorizationRequest(tenant, { redirectUri: 'http://localhost:3000/evil' }));
    expect(error.code).toBe('ERR_OIDC_REDIRECT_URI_NOT_REGISTERED');
    const { params, transaction } = await startSignIn(client, 'basic');
    expect((await failure(client.handleCallback(params, { ...transaction, redirectUri: 'http://localhost:3000/evil' }))).code).toBe('ERR_OIDC_TRANSACTION_INVALID');
  });

  it('refuses a wrong PKCE verifier (CB-09)', async () => {
    const { params, transaction } = await startSignIn(client, 'basic');
    const other = await startSignIn(client, 'basic');
    const error = await failure(client.handleCallback(params, { ...transaction, codeVerifier: other.transaction.codeVerifier }));
    expect(error.code).toBe('ERR_OIDC_TOKEN_ENDPOINT_ERROR');
    expect(error.details?.error).toBe('invalid_grant');
  });

  it('refuses an ID token whose nonce is not the transaction nonce (CB-09)', async () => {
    const { params, transaction } = await startSignIn(client, 'basic');
    const error = await failure(client.handleCallback(params, { ...transaction, nonce: 'B'.repeat(43) }));
    expect(error.code).toBe('ERR_OIDC_NONCE_MISMATCH');
  });

  it('maps a token endpoint outage to a transport error without retrying the code (TK-02)', async () => {
    const { params, transaction } = await startSignIn(client, 'basic');
    org.control.fault('token', { type: 'status', status: 500 }, { times: 1 });
    org.control.resetCounters();
    const error = await failure(client.handleCallback(params, transaction));
    expect(['ERR_OIDC_HTTP_ERROR', 'ERR_OIDC_UNAVAILABLE']).toContain(error.code);
    expect(org.control.counters().token).toBe(1);
  });

  it('refuses a token response that is not JSON', async () => {
    const { params, transaction } = await startSignIn(client, 'basic');
    org.control.fault('token', { type: 'malformed-json' }, { times: 1 });
    const error = await failure(client.handleCallback(params, transaction));
    expect(['ERR_OIDC_HTTP_ERROR', 'ERR_OIDC_TOKEN_RESPONSE_INVALID']).toContain(error.code);
  });
});

describe('client: tenants', () => {
  it('getTenant refuses unknown ids without echoing them in the message (error pages show it, LG-03); short printable ones go to details', async () => {
    const short = await failure(client.getTenant('nope'));
    expect(short.code).toBe('ERR_OIDC_TENANT_UNKNOWN');
    expect(short.message).not.toContain('nope');
    expect(short.details).toEqual({ tenantId: 'nope' });
    const long = await failure(client.getTenant('x'.repeat(65)));
    expect(long.code).toBe('ERR_OIDC_TENANT_UNKNOWN');
    expect(long.message).not.toContain('xxxx');
    expect(long.details).toBeUndefined();
    const control = await failure(client.getTenant('evil\r\nSet-Cookie: a=b'));
    expect(control.code).toBe('ERR_OIDC_TENANT_UNKNOWN');
    expect(control.message).not.toContain('Set-Cookie');
  });
});
