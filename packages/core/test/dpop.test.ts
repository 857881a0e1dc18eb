/**
 * DPoP (RFC 9449): proof syntax, the use_dpop_nonce retry and its bounds (a real local server plays
 * an AS that misbehaves: endless challenges, a missing header), and a DPoP-bound code flow against
 * the emulator, which demands a nonce as Okta does.
 */
import { driveAuthorization, type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { decodeJwt, decodeProtectedHeader, EmbeddedJWK, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handleCallback } from '../src/callback/handle-callback';
import { parseCallbackParams } from '../src/callback/parse-callback';
import { authenticatedPost } from '../src/client-auth/authenticated-post';
import { createOidcClient } from '../src/client';
import { createDpopKeyPair, createDpopProof, type DpopKeyPair, dpopHtu, readDpopNonce } from '../src/dpop/dpop';
import { isOidcError, type OidcError } from '../src/errors';
import { createTransport } from '../src/http/transport';
import { createMemoryCredentialStore } from '../src/tenant/credential-store';
import { parseTenant, type Tenant } from '../src/tenant/tenant';
import { json, startTestServer, type TestServer } from './http-test-server';

const NONCE = 'eyJ7S_zG.eyJH0-Z.HX4w-7v';

async function failure(promise: Promise<unknown>): Promise<OidcError> {
  try {
    await promise;
  } catch (error) {
    if (isOidcError(error)) return error;
    throw error;
  }
  throw new Error('expected an OidcError');
}

describe('DPoP proofs (RFC 9449 §4.2, DP-01)', () => {
  let key: DpopKeyPair;
  beforeAll(async () => {
    key = await createDpopKeyPair();
  });

  it('has typ dpop+jwt, ES256, a public jwk, and the required claims', async () => {
    const now = 1_562_262_616_000;
    const proof = await createDpopProof(key, { method: 'POST', url: 'https://server.example.com/token?x=1#frag', nowMs: now, nonce: NONCE });
    const header = decodeProtectedHeader(proof);
    expect(header.typ).toBe('dpop+jwt');
    expect(header.alg).toBe('ES256');
    expect(header.jwk).toEqual({ kty: 'EC', crv: 'P-256', x: key.publicJwk.x, y: key.publicJwk.y });
    expect(header.jwk).not.toHaveProperty('d');
    const { payload } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', currentDate: new Date(now) });
    expect(payload).toMatchObject({ htm: 'POST', htu: 'https://server.example.com/token', iat: 1_562_262_616, nonce: NONCE });
    expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{22,}$/);
  });

  it('computes ath from the access token (catalogue §2.3 vector)', async () => {
    const proof = await createDpopProof(key, { method: 'GET', url: 'https://resource.example.org/protectedresource', nowMs: Date.now(), accessToken: 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU' });
    expect(decodeJwt(proof).ath).toBe('fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo');
  });

  it('uses a fresh jti per proof and a non-extractable private key (DP-06, DP-09)', async () => {
    const a = await createDpopProof(key, { method: 'POST', url: 'https://as.example/token', nowMs: Date.now() });
    const b = await createDpopProof(key, { method: 'POST', url: 'https://as.example/token', nowMs: Date.now() });
    expect(decodeJwt(a).jti).not.toBe(decodeJwt(b).jti);
    expect(key.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('jwk', key.privateKey)).rejects.toThrow();
  });

  it('strips query and fragment from htu (DP-07)', () => {
    expect(dpopHtu('https://as.example/oauth2/v1/token?a=1#b')).toBe('https://as.example/oauth2/v1/token');
  });

  it('refuses repeated or malformed DPoP-Nonce headers (DP-08)', () => {
    const repeated = new Headers();
    repeated.append('DPoP-Nonce', 'a');
    repeated.append('DPoP-Nonce', 'b');
    for (const headers of [repeated, new Headers({ 'DPoP-Nonce': 'has space' }), new Headers({ 'DPoP-Nonce': 'quote"' })]) {
      try {
        readDpopNonce(headers);
        expect.unreachable();
      } catch (error) {
        expect(isOidcError(error) && error.code).toBe('ERR_OIDC_DPOP_ERROR');
      }
    }
    expect(readDpopNonce(new Headers({ 'DPoP-Nonce': NONCE }))).toBe(NONCE);
    expect(readDpopNonce(new Headers())).toBeUndefined();
  });
});

describe('use_dpop_nonce (RFC 9449 §8, DP-02, DP-04)', () => {
  let server: TestServer;
  let tenant: Tenant;
  let key: DpopKeyPair;
  const transport = createTransport();

  beforeAll(async () => {
    server = await startTestServer();
    tenant = parseTenant({ id: 'd', issuer: server.origin, clientId: 'c', clientSecret: 's', dpop: true, redirectUris: ['http://localhost:3000/cb'] });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.requests.length = 0;
    key = await createDpopKeyPair();
  });

  const nonceDemandingServer = () =>
    server.handle((req, res) => {
      const proof = String(req.headers.dpop ?? '');
      if (decodeJwt(proof).nonce === NONCE) return json(res, 200, { ok: true });
      return json(res, 400, { error: 'use_dpop_nonce', error_description: 'Authorization server requires nonce in DPoP proof' }, { 'DPoP-Nonce': NONCE });
    });

  it('retries once with a fresh proof carrying the nonce, and remembers it per server', async () => {
    nonceDemandingServer();
    const url = `${server.origin}/oauth2/v1/token`;
    const response = await authenticatedPost({ transport, now: Date.now, dpop: key }, tenant, 'token', url, { grant_type: 'authorization_code' });
    expect(response.status).toBe(200);
    expect(server.requests).toHaveLength(2);
    const [first, second] = server.requests.map((r) => decodeJwt(String(r.headers.dpop)));
    expect(first!.nonce).toBeUndefined();
    expect(second!.nonce).toBe(NONCE);
    expect(second!.jti).not.toBe(first!.jti);
    expect(key.getNonce(server.origin)).toBe(NONCE);

    // The remembered nonce is used straight away next time: one request.
    await authenticatedPost({ transport, now: Date.now, dpop: key }, tenant, 'token', url, {});
    expect(server.requests).toHaveLength(3);
  });

  it('re-mints the private_key_jwt assertion on the nonce retry (DP-06, CA-05)', async () => {
    nonceDemandingServer();
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const pkjwt = parseTenant({
      id: 'p', issuer: server.origin, clientId: 'c', tokenEndpointAuthMethod: 'private_key_jwt', dpop: true,
      privateJwk: await exportJWK(privateKey), redirectUris: ['http://localhost:3000/cb'],
    });
    const response = await authenticatedPost({ transport, now: Date.now, dpop: key }, pkjwt, 'token', `${server.origin}/t`, {});
    expect(response.status).toBe(200);
    const assertions = server.requests.map((r) => decodeJwt(new URLSearchParams(r.body).get('client_assertion')!).jti);
    expect(assertions).toHaveLength(2);
    expect(assertions[0]).not.toBe(assertions[1]);
  });

  it('stops after one retry when the server keeps demanding a nonce (DP-04)', async () => {
    server.handle((_req, res) => json(res, 400, { error: 'use_dpop_nonce' }, { 'DPoP-Nonce': NONCE }));
    const error = await failure(authenticatedPost({ transport, now: Date.now, dpop: key }, tenant, 'token', `${server.origin}/t`, {}));
    expect(error.code).toBe('ERR_OIDC_DPOP_ERROR');
    expect(server.requests).toHaveLength(2);
  });

  it('fails when use_dpop_nonce comes without a DPoP-Nonce header', async () => {
    server.handle((_req, res) => json(res, 400, { error: 'use_dpop_nonce' }));
    const error = await failure(authenticatedPost({ transport, now: Date.now, dpop: key }, tenant, 'token', `${server.origin}/t`, {}));
    expect(error.code).toBe('ERR_OIDC_DPOP_ERROR');
    expect(server.requests).toHaveLength(1);
  });

  it('sends proofs on token requests only, and requires a key for a DPoP tenant', async () => {
    server.handle((_req, res) => json(res, 200, { active: false }));
    await authenticatedPost({ transport, now: Date.now, dpop: key }, tenant, 'introspection', `${server.origin}/i`, { token: 'x' });
    expect(server.requests[0]!.headers.dpop).toBeUndefined();
    const error = await failure(authenticatedPost({ transport, now: Date.now }, tenant, 'token', `${server.origin}/t`, {}));
    expect(error.code).toBe('ERR_OIDC_DPOP_ERROR');
  });

  it('discards a Bearer token response to a DPoP token request (DP-05)', async () => {
    server.handle((_req, res) => json(res, 200, { access_token: 'at', token_type: 'Bearer', id_token: 'a.b.c', expires_in: 3600 }));
    const transaction = {
      state: 'S'.repeat(43), nonce: 'N'.repeat(43), codeVerifier: 'V'.repeat(43), tenantId: 'd',
      redirectUri: 'http://localhost:3000/cb', returnTo: '/', createdAt: Date.now(),
    };
    let validated = false;
    const error = await failure(
      handleCallback(
        { transport, now: Date.now, dpop: key, validateIdToken: async () => { validated = true; throw new Error('not reached'); } },
        { code: 'c', state: transaction.state },
        transaction,
        tenant,
      ),
    );
    expect(error.code).toBe('ERR_OIDC_TOKEN_RESPONSE_INVALID');
    expect(validated).toBe(false);
  });
});

describe('DPoP code flow against the emulator', () => {
  let org: OktaOrg;
  beforeAll(async () => {
    org = await startOktaOrg({
      clients: [{ clientId: '0oa-dpop', clientSecret: 'dpop-secret-0123456789-0123456789', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: ['http://localhost:3000/cb'], dpopBoundAccessTokens: true }],
      users: [{ login: 'jane@acme.example', password: 'pw' }],
    });
  });
  afterAll(async () => {
    await org?.close();
  });

  it('binds the tokens to the client key (token_type DPoP)', async () => {
    const store = createMemoryCredentialStore([
      { id: 'dpop', issuer: org.issuer, clientId: '0oa-dpop', clientSecret: 'dpop-secret-0123456789-0123456789', dpop: true, redirectUris: ['http://localhost:3000/cb'] },
    ]);
    const client = createOidcClient({ store, allowLoopbackIssuers: true });
    const tenant = await client.getTenant('dpop');
    const signIn = async () => {
      const { url, transaction } = await client.createAuthorizationRequest(tenant);
      const callback = await driveAuthorization(url);
      org.control.resetCounters();
      return client.handleCallback(parseCallbackParams(callback), transaction);
    };
    const result = await signIn();
    expect(result.tokenType).toBe('DPoP');
    expect(result.claims.aud).toBe('0oa-dpop');
    // Like Okta, the emulator answers the first proof with use_dpop_nonce: one retry (DP-02).
    expect(org.control.counters().token).toBe(2);
    // The nonce is remembered for the issuer: the next sign-in needs a single token request.
    expect((await signIn()).tokenType).toBe('DPoP');
    expect(org.control.counters().token).toBe(1);
  });

  it('is refused by a DPoP-requiring client when the tenant sends no proof', async () => {
    const store = createMemoryCredentialStore([
      { id: 'nodpop', issuer: org.issuer, clientId: '0oa-dpop', clientSecret: 'dpop-secret-0123456789-0123456789', redirectUris: ['http://localhost:3000/cb'] },
    ]);
    const client = createOidcClient({ store, allowLoopbackIssuers: true });
    const tenant = await client.getTenant('nodpop');
    const { url, transaction } = await client.createAuthorizationRequest(tenant);
    const callback = await driveAuthorization(url);
    const error = await failure(client.handleCallback(parseCallbackParams(callback), transaction));
    expect(error.code).toBe('ERR_OIDC_TOKEN_ENDPOINT_ERROR');
  });
});
