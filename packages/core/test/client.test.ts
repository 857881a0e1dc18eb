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
import type { Tenant } from '../src/tenant/tenant';

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
