import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { driveAuthorization, type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { computeCodeChallenge, randomCodeVerifier } from '../src/authorize/pkce';
import { authenticatedPost } from '../src/client-auth/authenticated-post';
import { clientCredentialsToken, refreshTokens } from '../src/custom-profile/grants';
import { createTransport } from '../src/http/transport';
import { createIntrospector } from '../src/introspection/introspect';
import { parseTenant, type Tenant } from '../src/tenant/tenant';

const REDIRECT = 'http://localhost:3000/auth/callback';
let org: OktaOrg;
let custom: Tenant;
let oin: Tenant;
const deps = () => ({ transport: createTransport({ timeoutMs: 3_000 }), now: Date.now });

beforeAll(async () => {
  org = await startOktaOrg({
    clients: [{ clientId: 'app-custom', clientSecret: 'secret-c', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [REDIRECT] }],
    users: [{ login: 'alice@acme.example', password: 'pw' }],
  });
  const record = { issuer: org.issuer, clientId: 'app-custom', clientSecret: 'secret-c', redirectUris: [REDIRECT] };
  custom = parseTenant({ id: 'custom', ...record, profile: 'custom', scopes: ['openid', 'profile', 'offline_access'] });
  oin = parseTenant({ id: 'oin', ...record });
});
afterAll(async () => {
  await org?.close();
});
beforeEach(() => {
  org.control.clearFaults();
  org.control.resetCounters();
});

/** A refresh token through a real code flow with offline_access (the emulator grants consent itself). */
async function signInForRefreshToken(): Promise<string> {
  const verifier = randomCodeVerifier();
  const url = new URL(custom.endpoints.authorization);
  url.search = new URLSearchParams({
    client_id: custom.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: 'openid profile offline_access',
    prompt: 'consent',
    state: 'state-1',
    nonce: 'nonce-1',
    code_challenge: await computeCodeChallenge(verifier),
    code_challenge_method: 'S256',
  }).toString();
  const callback = await driveAuthorization(url);
  const code = callback.url.searchParams.get('code');
  expect(code).toBeTruthy();
  const response = await authenticatedPost(deps(), custom, 'token', custom.endpoints.token, {
    grant_type: 'authorization_code',
    code: code!,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
  });
  expect(response.status).toBe(200);
  const refreshToken = (response.json as { refresh_token?: string }).refresh_token;
  expect(typeof refreshToken).toBe('string');
  return refreshToken!;
}

describe('custom-profile grants against the emulator', () => {
  it('refreshes tokens; the new access token introspects as active', async () => {
    const refreshToken = await signInForRefreshToken();
    const tokens = await refreshTokens(deps(), custom, refreshToken);
    expect(tokens.tokenType.toLowerCase()).toBe('bearer');
    expect(tokens.expiresAt).toBeGreaterThan(Date.now());
    expect((await createIntrospector(deps()).introspect(custom, tokens.accessToken)).client_id).toBe('app-custom');
    expect(tokens).not.toHaveProperty('idToken');
  });

  it('reports a spent or unknown refresh token as ERR_OIDC_TOKEN_ENDPOINT_ERROR (invalid_grant)', async () => {
    await expect(refreshTokens(deps(), custom, 'not-a-refresh-token')).rejects.toMatchObject({
      code: 'ERR_OIDC_TOKEN_ENDPOINT_ERROR',
      details: { error: 'invalid_grant' },
    });
  });

  it('refuses both grants for OIN-profile tenants without calling Okta (TK-08)', async () => {
    await expect(refreshTokens(deps(), oin, 'rt')).rejects.toMatchObject({ code: 'ERR_OIDC_INVALID_REQUEST', details: { field: 'profile' } });
    await expect(clientCredentialsToken(deps(), oin, 'api:read')).rejects.toMatchObject({ code: 'ERR_OIDC_INVALID_REQUEST', details: { field: 'profile' } });
    expect(org.control.counters().token).toBe(0);
  });

  it('refuses malformed input without calling Okta', async () => {
    await expect(refreshTokens(deps(), custom, '')).rejects.toMatchObject({ code: 'ERR_OIDC_INVALID_REQUEST', details: { field: 'refreshToken' } });
    for (const scope of ['', ' api', 'api  read', 'a"b', 'x'.repeat(2000)]) {
      await expect(clientCredentialsToken(deps(), custom, scope)).rejects.toMatchObject({ code: 'ERR_OIDC_INVALID_REQUEST', details: { field: 'scope' } });
    }
    expect(org.control.counters().token).toBe(0);
  });

  it('sends grant_type=client_credentials and reports the refusal as a typed error', async () => {
    // The emulated org authorization server, like Okta's, does not offer client_credentials to this app.
    await expect(clientCredentialsToken(deps(), custom, 'api:read')).rejects.toMatchObject({ code: 'ERR_OIDC_TOKEN_ENDPOINT_ERROR' });
    expect(org.control.counters().token).toBe(1);
  });

  it('parses a client-credentials token response', async () => {
    org.control.fault('token', { type: 'status', status: 200, body: '{"access_token":"eyJ.a.b","token_type":"Bearer","expires_in":3600,"scope":"api:read"}' }, { times: 1 });
    const before = Date.now();
    const tokens = await clientCredentialsToken(deps(), custom, 'api:read');
    expect(tokens).toMatchObject({ accessToken: 'eyJ.a.b', tokenType: 'Bearer', scope: 'api:read' });
    expect(tokens.expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
  });

  it.each([
    ['no access_token', '{"token_type":"Bearer"}'],
    ['an unknown token_type', '{"access_token":"x","token_type":"mac"}'],
    ['a negative expires_in', '{"access_token":"x","token_type":"Bearer","expires_in":-5}'],
  ])('refuses a token response with %s (ERR_OIDC_TOKEN_RESPONSE_INVALID)', async (_, body) => {
    org.control.fault('token', { type: 'status', status: 200, body }, { times: 1 });
    await expect(clientCredentialsToken(deps(), custom, 'api:read')).rejects.toMatchObject({ code: 'ERR_OIDC_TOKEN_RESPONSE_INVALID' });
  });
});
