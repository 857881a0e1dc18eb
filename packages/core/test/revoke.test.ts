import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTransport } from '../src/http/transport';
import { createIntrospector } from '../src/introspection/introspect';
import { revokeToken } from '../src/revoke';
import { parseTenant, type Tenant } from '../src/tenant/tenant';

const REDIRECT = 'http://localhost:3000/auth/callback';
let org: OktaOrg;
let basic: Tenant;
let post: Tenant;
const deps = () => ({ transport: createTransport({ timeoutMs: 2_000 }), now: Date.now });

beforeAll(async () => {
  org = await startOktaOrg({
    clients: [
      { clientId: 'app-a', clientSecret: 'secret-a', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [REDIRECT] },
      { clientId: 'app-b', clientSecret: 'secret-b', tokenEndpointAuthMethod: 'client_secret_post', redirectUris: [REDIRECT] },
    ],
    users: [{ login: 'alice@acme.example', password: 'pw' }],
  });
  basic = parseTenant({ id: 'a', issuer: org.issuer, clientId: 'app-a', clientSecret: 'secret-a', redirectUris: [REDIRECT] });
  post = parseTenant({ id: 'b', issuer: org.issuer, clientId: 'app-b', clientSecret: 'secret-b', tokenEndpointAuthMethod: 'client_secret_post', redirectUris: [REDIRECT] });
});
afterAll(async () => {
  await org?.close();
});
beforeEach(() => {
  org.control.clearFaults();
  org.control.resetCounters();
});

describe('revokeToken against the Okta org emulator', () => {
  it.each([
    ['client_secret_basic', () => basic, 'app-a'],
    ['client_secret_post', () => post, 'app-b'],
  ] as const)('revokes an access token with %s; introspection then reports it inactive (CA-07)', async (_, tenant, clientId) => {
    const token = await org.control.issueAccessToken(clientId, { login: 'alice@acme.example' });
    // No cache: the second introspection must reach Okta to see the revocation (the default cache
    // would answer from its positive entry for up to maxTtlSec; client.revoke forgets it, revokeToken does not).
    const introspector = createIntrospector({ ...deps(), cache: false });
    expect((await introspector.introspect(tenant(), token)).active).toBe(true);
    await revokeToken(deps(), tenant(), token, 'access_token');
    await expect(introspector.introspect(tenant(), token)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    expect(org.control.counters().revoke).toBe(1);
  });

  it('treats an unknown or already revoked token as success (RFC 7009 §2.2)', async () => {
    const token = await org.control.issueAccessToken('app-a', { login: 'alice@acme.example' });
    await revokeToken(deps(), basic, token);
    await revokeToken(deps(), basic, token);
    await revokeToken(deps(), basic, 'eyJhbGciOiJSUzI1NiJ9.e30.bm90LWEtdG9rZW4');
    expect(org.control.counters().revoke).toBe(3);
  });

  it('refuses a malformed token without calling Okta', async () => {
    await expect(revokeToken(deps(), basic, '')).rejects.toMatchObject({ code: 'ERR_OIDC_INVALID_REQUEST' });
    await expect(revokeToken(deps(), basic, 'a b')).rejects.toMatchObject({ code: 'ERR_OIDC_INVALID_REQUEST' });
    await expect(revokeToken(deps(), basic, 'x', 'id_token' as 'access_token')).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    expect(org.control.counters().revoke).toBe(0);
  });

  it('reports refused client credentials as ERR_OIDC_UNAVAILABLE', async () => {
    const stale = parseTenant({ id: 's', issuer: org.issuer, clientId: 'app-a', clientSecret: 'wrong', redirectUris: [REDIRECT] });
    await expect(revokeToken(deps(), stale, 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln')).rejects.toMatchObject({ code: 'ERR_OIDC_UNAVAILABLE', details: { error: 'invalid_client' } });
  });

  it('reports an OAuth error answer as ERR_OIDC_TOKEN_ENDPOINT_ERROR with a 502 hint', async () => {
    org.control.fault('revoke', { type: 'status', status: 400, body: '{"error":"unsupported_token_type"}' }, { times: 1 });
    await expect(revokeToken(deps(), basic, 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln')).rejects.toMatchObject({
      code: 'ERR_OIDC_TOKEN_ENDPOINT_ERROR',
      status: 502,
      details: { error: 'unsupported_token_type' },
    });
  });

  it('propagates the transport error on a 5xx or 429', async () => {
    org.control.fault('revoke', { type: 'status', status: 500 }, { times: 1 });
    await expect(revokeToken(deps(), basic, 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln')).rejects.toMatchObject({ code: 'ERR_OIDC_UNAVAILABLE' });
    org.control.fault('revoke', { type: 'rate-limit' }, { times: 1 });
    await expect(revokeToken(deps(), basic, 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln')).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED' });
  });
});
