import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTransport } from '../src/http/transport';
import { parseTenant, type Tenant } from '../src/tenant/tenant';
import { fetchUserInfo } from '../src/userinfo';

const REDIRECT = 'http://localhost:3000/auth/callback';
let org: OktaOrg;
let tenant: Tenant;
let alice: string;
const deps = () => ({ transport: createTransport({ timeoutMs: 2_000 }) });

beforeAll(async () => {
  org = await startOktaOrg({
    clients: [{ clientId: 'app-a', clientSecret: 'secret-a', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [REDIRECT] }],
    users: [
      { login: 'alice@acme.example', password: 'pw-alice', claims: { email: 'alice@acme.example', name: 'Alice' } },
      { login: 'bob@acme.example', password: 'pw-bob' },
    ],
  });
  tenant = parseTenant({ id: 'acme', issuer: org.issuer, clientId: 'app-a', clientSecret: 'secret-a', redirectUris: [REDIRECT] });
  alice = org.config.users.find((u) => u.login === 'alice@acme.example')!.sub;
});
afterAll(async () => {
  await org?.close();
});
beforeEach(() => {
  org.control.clearFaults();
  org.control.resetCounters();
});

describe('fetchUserInfo against the Okta org emulator', () => {
  it('returns the claims when sub matches the ID token sub', async () => {
    const token = await org.control.issueAccessToken('app-a', { login: 'alice@acme.example', scope: 'openid profile email' });
    const claims = await fetchUserInfo(deps(), tenant, token, alice);
    expect(claims.sub).toBe(alice);
    expect(claims.email).toBe('alice@acme.example');
    expect(org.control.counters().userinfo).toBe(1);
  });

  it('refuses a userinfo sub that differs from the ID token sub (UI-01, OIDC Core §5.3.2)', async () => {
    const token = await org.control.issueAccessToken('app-a', { login: 'bob@acme.example' });
    await expect(fetchUserInfo(deps(), tenant, token, alice)).rejects.toMatchObject({ code: 'ERR_OIDC_SUBJECT_MISMATCH', status: 400 });
  });

  it('maps a revoked or unknown token (401) to ERR_OIDC_ACCESS_TOKEN_INACTIVE (UI-03)', async () => {
    await expect(fetchUserInfo(deps(), tenant, 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln', alice)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE', status: 401 });
  });

  it('refuses a malformed token without calling Okta', async () => {
    for (const token of ['', 'a b', 'x'.repeat(9000), 'tok\r\nen']) {
      await expect(fetchUserInfo(deps(), tenant, token, alice)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID' });
    }
    expect(org.control.counters().userinfo).toBe(0);
  });

  it.each([
    ['no sub', '{"email":"a@b.c"}'],
    ['an empty sub', '{"sub":""}'],
    ['a numeric sub', '{"sub":42}'],
    ['a foreign iss', '{"sub":"SUB","iss":"https://evil.okta.com"}'],
    ['a foreign aud', '{"sub":"SUB","aud":"someone-else"}'],
  ])('refuses a userinfo body with %s (ERR_OIDC_USERINFO_INVALID) (UI-05)', async (_, body) => {
    org.control.fault('userinfo', { type: 'status', status: 200, body: body.replace('SUB', alice) }, { times: 1 });
    await expect(fetchUserInfo(deps(), tenant, 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln', alice)).rejects.toMatchObject({ code: 'ERR_OIDC_USERINFO_INVALID' });
  });

  it('accepts iss and aud members that name this tenant', async () => {
    org.control.fault('userinfo', { type: 'status', status: 200, body: JSON.stringify({ sub: alice, iss: org.issuer, aud: ['app-a'] }) }, { times: 1 });
    expect((await fetchUserInfo(deps(), tenant, 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln', alice)).sub).toBe(alice);
  });

  it('refuses a signed (JWT) userinfo response rather than trusting it unverified', async () => {
    org.control.fault('userinfo', { type: 'status', status: 200, body: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' }, { times: 1 });
    await expect(fetchUserInfo(deps(), tenant, 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln', alice)).rejects.toMatchObject({
      code: expect.stringMatching(/^ERR_OIDC_(USERINFO_INVALID|HTTP_ERROR)$/),
    });
  });

  it('maps a 403 to ERR_OIDC_USERINFO_INVALID and a 5xx to the transport error', async () => {
    org.control.fault('userinfo', { type: 'status', status: 403, body: '{"error":"insufficient_scope"}' }, { times: 1 });
    await expect(fetchUserInfo(deps(), tenant, 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln', alice)).rejects.toMatchObject({ code: 'ERR_OIDC_USERINFO_INVALID' });
    org.control.fault('userinfo', { type: 'status', status: 503 }, { times: 1 });
    await expect(fetchUserInfo(deps(), tenant, 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln', alice)).rejects.toMatchObject({ code: 'ERR_OIDC_UNAVAILABLE' });
  });
});
