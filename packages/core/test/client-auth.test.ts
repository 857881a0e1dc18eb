/**
 * Client authentication on the wire: a real local HTTP server records exactly what is sent
 * (header vs body credentials, assertion claims), which the emulator cannot show.
 */
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { authenticatedPost, basicAuthorization } from '../src/client-auth/authenticated-post';
import { isOidcError } from '../src/errors';
import { createTransport } from '../src/http/transport';
import { parseTenant, type PrivateJwk, type Tenant } from '../src/tenant/tenant';
import { json, startTestServer, type TestServer } from './http-test-server';

let server: TestServer;
const transport = createTransport();
const deps = { transport, now: Date.now };

function tenant(overrides: Record<string, unknown>): Tenant {
  return parseTenant({ id: 't1', issuer: server.origin, clientId: 'client:id', redirectUris: ['http://localhost:3000/cb'], ...overrides });
}

function form(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
  server.handle((_req, res) => json(res, 200, { ok: true }));
});

describe('client_secret_basic (RFC 6749 §2.3.1, CA-01)', () => {
  it('form-urlencodes id and secret before Base64 (CA-01)', () => {
    const header = basicAuthorization('client:id', 'a:b+c%d/e=f é~*');
    expect(header.startsWith('Basic ')).toBe(true);
    expect(atob(header.slice(6))).toBe('client%3Aid:a%3Ab%2Bc%25d%2Fe%3Df+%C3%A9%7E*');
  });

  it('sends credentials in the header only (CA-02)', async () => {
    const t = tenant({ clientSecret: 's3cret:with+chars' });
    const response = await authenticatedPost(deps, t, 'token', `${server.origin}/oauth2/v1/token`, { grant_type: 'authorization_code', code: 'abc' });
    expect(response.status).toBe(200);
    expect(response.secretIndex).toBe(0);
    const [request] = server.requests;
    expect(request!.headers.authorization).toBe(basicAuthorization('client:id', 's3cret:with+chars'));
    expect(form(request!.body)).toEqual({ grant_type: 'authorization_code', code: 'abc' });
    expect(request!.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
  });
});

describe('client_secret_post', () => {
  it('sends credentials in the body only (CA-02)', async () => {
    const t = tenant({ clientSecret: 'post-secret', tokenEndpointAuthMethod: 'client_secret_post' });
    await authenticatedPost(deps, t, 'introspection', `${server.origin}/oauth2/v1/introspect`, { token: 'x' });
    const [request] = server.requests;
    expect(request!.headers.authorization).toBeUndefined();
    expect(form(request!.body)).toEqual({ token: 'x', client_id: 'client:id', client_secret: 'post-secret' });
  });

  it('refuses caller-supplied credential parameters', async () => {
    const t = tenant({ clientSecret: 'post-secret', tokenEndpointAuthMethod: 'client_secret_post' });
    await expect(authenticatedPost(deps, t, 'token', `${server.origin}/t`, { client_secret: 'other' })).rejects.toThrow(TypeError);
    expect(server.requests).toHaveLength(0);
  });
});

describe('secret rotation (CA-03)', () => {
  const two = { clientSecrets: [{ value: 'new-secret', active: true }, { value: 'old-secret', active: true }] };

  it('retries once with the other active secret on invalid_client and reports it (CA-03)', async () => {
    server.handle((req, res) =>
      req.headers.authorization === basicAuthorization('client:id', 'old-secret') ? json(res, 200, { ok: 1 }) : json(res, 401, { error: 'invalid_client' }),
    );
    const response = await authenticatedPost(deps, tenant(two), 'token', `${server.origin}/t`, { a: '1' });
    expect(response.status).toBe(200);
    expect(response.secretIndex).toBe(1);
    expect(server.requests).toHaveLength(2);
  });

  it('also retries on a 400 invalid_client, and stops after two attempts', async () => {
    server.handle((_req, res) => json(res, 400, { error: 'invalid_client' }));
    const response = await authenticatedPost(deps, tenant(two), 'token', `${server.origin}/t`, { a: '1' });
    expect(response.status).toBe(400);
    expect(response.secretIndex).toBe(1);
    expect(server.requests).toHaveLength(2);
  });

  it('does not retry with an inactive secret or on other errors', async () => {
    server.handle((_req, res) => json(res, 401, { error: 'invalid_client' }));
    const inactive = tenant({ clientSecrets: [{ value: 'old-secret', active: false }, { value: 'new-secret', active: true }] });
    expect((await authenticatedPost(deps, inactive, 'token', `${server.origin}/t`, {})).secretIndex).toBe(0);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.headers.authorization).toBe(basicAuthorization('client:id', 'new-secret'));

    server.requests.length = 0;
    server.handle((_req, res) => json(res, 400, { error: 'invalid_grant' }));
    expect((await authenticatedPost(deps, tenant(two), 'token', `${server.origin}/t`, {})).secretIndex).toBe(0);
    expect(server.requests).toHaveLength(1);
  });
});

describe('private_key_jwt (RFC 7523, CA-04, CA-05)', () => {
  let privateJwk: PrivateJwk;
  beforeAll(async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    privateJwk = { ...(await exportJWK(privateKey)), kid: 'k1' } as PrivateJwk;
  });

  it('sends a short-lived assertion with iss = sub = client_id and aud = the endpoint URL (CA-04, CA-06)', async () => {
    const t = tenant({ tokenEndpointAuthMethod: 'private_key_jwt', privateJwk });
    const url = `${server.origin}/oauth2/v1/token`;
    const response = await authenticatedPost(deps, t, 'token', url, { grant_type: 'authorization_code' });
    expect(response.secretIndex).toBeUndefined();
    const [request] = server.requests;
    expect(request!.headers.authorization).toBeUndefined();
    const body = form(request!.body);
    expect(body.client_assertion_type).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(body.client_id).toBe('client:id');
    expect(body.client_secret).toBeUndefined();
    const header = decodeProtectedHeader(body.client_assertion!);
    expect(header).toMatchObject({ alg: 'RS256', kid: 'k1' });
    const claims = decodeJwt(body.client_assertion!);
    expect(claims).toMatchObject({ iss: 'client:id', sub: 'client:id', aud: url });
    expect(typeof claims.aud).toBe('string');
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(60);
    expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{22,}$/);
  });

  it('mints a fresh assertion (new jti) for every request (CA-05)', async () => {
    const t = tenant({ tokenEndpointAuthMethod: 'private_key_jwt', privateJwk });
    await authenticatedPost(deps, t, 'token', `${server.origin}/t`, {});
    await authenticatedPost(deps, t, 'token', `${server.origin}/t`, {});
    const jtis = server.requests.map((r) => decodeJwt(form(r.body).client_assertion!).jti);
    expect(new Set(jtis).size).toBe(2);
  });

  it('refuses a key whose alg is not allowed', async () => {
    const t = tenant({ tokenEndpointAuthMethod: 'private_key_jwt', privateJwk: { ...privateJwk, alg: 'HS256' } });
    try {
      await authenticatedPost(deps, t, 'token', `${server.origin}/t`, {});
      expect.unreachable();
    } catch (error) {
      expect(isOidcError(error) && error.code).toBe('ERR_OIDC_INVALID_TENANT');
    }
    expect(server.requests).toHaveLength(0);
  });
});
