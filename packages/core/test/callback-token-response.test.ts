/**
 * handleCallback's token-response rules (catalogue TK-04, TK-05, TK-06) against a real local HTTP
 * server that answers what Okta must never answer. ID token validation itself is covered by the
 * emulator tests; here a recorder stands in for it to observe what it is asked to check.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Transaction } from '../src/authorize/transaction';
import { handleCallback, type HandleCallbackDeps } from '../src/callback/handle-callback';
import { isOidcError, type OidcError } from '../src/errors';
import { createTransport } from '../src/http/transport';
import { parseTenant, type Tenant } from '../src/tenant/tenant';
import type { IdTokenExpectations } from '../src/tokens/validate-id-token';
import { json, startTestServer, type TestServer } from './http-test-server';

let server: TestServer;
let tenant: Tenant;
let customTenant: Tenant;
const transport = createTransport();
let seen: IdTokenExpectations[] = [];

const deps = (extra: Partial<HandleCallbackDeps> = {}): HandleCallbackDeps => ({
  transport,
  now: () => 1_700_000_000_000,
  validateIdToken: async (t, _idToken, expected) => {
    seen.push(expected);
    return { iss: t.issuer, sub: 'u1', aud: t.clientId, exp: 2_000_000_000, iat: 1_700_000_000, nonce: expected.nonce };
  },
  ...extra,
});

const transaction = (t: Tenant, extra: Partial<Transaction> = {}): Transaction => ({
  state: 'S'.repeat(43),
  nonce: 'N'.repeat(43),
  codeVerifier: 'V'.repeat(43),
  tenantId: t.id,
  redirectUri: 'http://localhost:3000/cb',
  returnTo: '/',
  createdAt: 1_700_000_000_000,
  ...extra,
});

const params = { code: 'the-code', state: 'S'.repeat(43) };

async function failure(promise: Promise<unknown>): Promise<OidcError> {
  try {
    await promise;
  } catch (error) {
    if (isOidcError(error)) return error;
    throw error;
  }
  throw new Error('expected an OidcError');
}

function answer(status: number, body: unknown) {
  server.handle((_req, res) => json(res, status, body));
}

const good = { access_token: 'at-1', token_type: 'Bearer', id_token: 'h.p.s', expires_in: 3600, scope: 'openid profile' };

beforeAll(async () => {
  server = await startTestServer();
  const record = { issuer: server.origin, clientId: 'c1', clientSecret: 's1', redirectUris: ['http://localhost:3000/cb'] };
  tenant = parseTenant({ id: 't1', ...record });
  customTenant = parseTenant({ id: 't2', profile: 'custom', ...record });
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
  seen = [];
});

describe('token request', () => {
  it('sends grant_type, code, redirect_uri and code_verifier to the tenant token endpoint', async () => {
    answer(200, good);
    await handleCallback(deps(), params, transaction(tenant), tenant);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.path).toBe('/oauth2/v1/token');
    expect(Object.fromEntries(new URLSearchParams(server.requests[0]!.body))).toEqual({
      grant_type: 'authorization_code',
      code: 'the-code',
      redirect_uri: 'http://localhost:3000/cb',
      code_verifier: 'V'.repeat(43),
    });
  });
});

describe('token response (RFC 6749 §5.1, OIDC Core §3.1.3.3)', () => {
  it('accepts token_type in any case (TK-04)', async () => {
    for (const tokenType of ['bearer', 'BEARER', 'bEARER']) {
      answer(200, { ...good, token_type: tokenType });
      expect((await handleCallback(deps(), params, transaction(tenant), tenant)).tokenType).toBe('Bearer');
    }
  });

  it('refuses other token types (TK-04)', async () => {
    for (const tokenType of ['mac', 'N_A', 'DPoP']) {
      answer(200, { ...good, token_type: tokenType });
      expect((await failure(handleCallback(deps(), params, transaction(tenant), tenant))).code).toBe('ERR_OIDC_TOKEN_RESPONSE_INVALID');
    }
    expect(seen).toHaveLength(0);
  });

  it('accepts a missing expires_in (TK-05)', async () => {
    const { expires_in: _expiresIn, ...withoutExpiry } = good;
    answer(200, withoutExpiry);
    const result = await handleCallback(deps(), params, transaction(tenant), tenant);
    expect(result.expiresAt).toBeUndefined();
  });

  it('refuses a response without id_token or access_token (TK-06), before any validation', async () => {
    for (const body of [{ ...good, id_token: undefined }, { ...good, access_token: undefined }, { ...good, id_token: 42 }, { ...good, expires_in: '3600' }, 'text', null, []]) {
      answer(200, body);
      const error = await failure(handleCallback(deps(), params, transaction(tenant), tenant));
      expect(error.code).toBe('ERR_OIDC_TOKEN_RESPONSE_INVALID');
    }
    expect(seen).toHaveLength(0);
  });

  it('drops a refresh token in the OIN profile and keeps it in the custom profile', async () => {
    answer(200, { ...good, refresh_token: 'rt-1' });
    expect((await handleCallback(deps(), params, transaction(tenant), tenant)).refreshToken).toBeUndefined();
    answer(200, { ...good, refresh_token: 'rt-1' });
    expect((await handleCallback(deps(), params, transaction(customTenant), customTenant)).refreshToken).toBe('rt-1');
  });

  it('asks the ID token validation for nonce, at_hash (access token) and max_age', async () => {
    answer(200, good);
    const result = await handleCallback(deps(), params, transaction(tenant, { maxAge: 120 }), tenant);
    expect(seen).toEqual([{ nonce: 'N'.repeat(43), accessToken: 'at-1', maxAge: 120 }]);
    expect(result).toMatchObject({ idToken: 'h.p.s', accessToken: 'at-1', scope: 'openid profile', expiresAt: 1_700_000_000_000 + 3_600_000, secretIndex: 0 });
  });

  it('maps OAuth errors to ERR_OIDC_TOKEN_ENDPOINT_ERROR without echoing descriptions', async () => {
    answer(400, { error: 'invalid_grant', error_description: 'code abc123 expired <script>' });
    const error = await failure(handleCallback(deps(), params, transaction(tenant), tenant));
    expect(error.code).toBe('ERR_OIDC_TOKEN_ENDPOINT_ERROR');
    expect(error.details).toMatchObject({ error: 'invalid_grant', status: 400 });
    expect(error.message).not.toMatch(/abc123|script|the-code/);
  });

  it('treats a 4xx without an OAuth error, or with a malformed one, as an invalid response', async () => {
    for (const body of [{}, { error: 'has space"quote' }, { error: 42 }]) {
      answer(400, body);
      const error = await failure(handleCallback(deps(), params, transaction(tenant), tenant));
      expect(error.code).toBe('ERR_OIDC_TOKEN_RESPONSE_INVALID');
      expect(error.message).not.toContain('quote');
    }
  });
});

describe('RFC 9207 iss resolution', () => {
  it('consults the provider setting only when iss is absent', async () => {
    let asked = 0;
    const requireIssParameter = async () => {
      asked++;
      return false;
    };
    answer(200, good);
    await handleCallback(deps({ requireIssParameter }), { ...params, iss: server.origin }, transaction(tenant), tenant);
    expect(asked).toBe(0);
    await handleCallback(deps({ requireIssParameter }), params, transaction(tenant), tenant);
    expect(asked).toBe(1);
  });

  it('refuses an absent iss when required, before any token call', async () => {
    const error = await failure(handleCallback(deps({ requireIssParameter: true }), params, transaction(tenant), tenant));
    expect(error.code).toBe('ERR_OIDC_ISSUER_MISMATCH');
    expect(server.requests).toHaveLength(0);
  });
});
