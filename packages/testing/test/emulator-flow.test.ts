import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driveAuthorization, type EmulatorClient, type OktaOrg, startOktaOrg } from '../src/index';
import { authorizeUrl, type ClientCredentials, clientKeys, clientPost, pkce, REDIRECT, USERS } from './_support/emulator';

let org: OktaOrg;
const creds: Record<string, ClientCredentials> = {};

beforeAll(async () => {
  const keys = await clientKeys();
  const clients: EmulatorClient[] = [
    { clientId: 'basic-app', clientSecret: 'basic-secret', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [REDIRECT] },
    { clientId: 'post-app', clientSecret: 'post-secret', tokenEndpointAuthMethod: 'client_secret_post', redirectUris: [REDIRECT] },
    { clientId: 'jwt-app', tokenEndpointAuthMethod: 'private_key_jwt', jwks: keys.jwks, redirectUris: [REDIRECT] },
    { clientId: 'spa-app', tokenEndpointAuthMethod: 'none', redirectUris: [REDIRECT] },
  ];
  org = await startOktaOrg({ clients, users: USERS });
  creds['basic-app'] = { client: clients[0]!, secret: 'basic-secret' };
  creds['post-app'] = { client: clients[1]!, secret: 'post-secret' };
  creds['jwt-app'] = { client: clients[2]!, privateJwk: keys.privateJwk };
  creds['spa-app'] = { client: clients[3]! };
});
afterAll(() => org.close());

async function signIn(clientId: string, extra: Record<string, string> = {}) {
  const { verifier, challenge } = await pkce();
  const callback = await driveAuthorization(
    authorizeUrl(org.issuer, { client_id: clientId, code_challenge: challenge, code_challenge_method: 'S256', ...extra }),
  );
  const code = callback.url.searchParams.get('code');
  expect(code).toBeTruthy();
  const res = await clientPost(org, '/oauth2/v1/token', creds[clientId]!, {
    grant_type: 'authorization_code',
    code: code!,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
  });
  return { callback, res, body: (await res.json()) as Record<string, string> };
}

describe('discovery', () => {
  it('is served at the origin issuer with Okta org AS endpoints and the SDK-relevant metadata', async () => {
    const res = await fetch(`${org.issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, unknown>;
    expect(org.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(doc.issuer).toBe(org.issuer);
    for (const [key, path] of Object.entries({
      authorization_endpoint: '/oauth2/v1/authorize',
      token_endpoint: '/oauth2/v1/token',
      jwks_uri: '/oauth2/v1/keys',
      userinfo_endpoint: '/oauth2/v1/userinfo',
      introspection_endpoint: '/oauth2/v1/introspect',
      revocation_endpoint: '/oauth2/v1/revoke',
      end_session_endpoint: '/oauth2/v1/logout',
    })) {
      expect(doc[key]).toBe(`${org.issuer}${path}`);
    }
    expect(doc.authorization_response_iss_parameter_supported).toBe(true);
    expect(doc.code_challenge_methods_supported).toEqual(['S256']);
    expect(doc.response_modes_supported).toEqual(expect.arrayContaining(['query', 'form_post']));
    expect(doc.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']),
    );
    expect(doc.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS256', 'ES256']));
    expect(doc.id_token_signing_alg_values_supported).toEqual(['RS256']);
  });
});

describe('authorization code flow', () => {
  for (const clientId of ['basic-app', 'post-app', 'jwt-app', 'spa-app']) {
    it(`completes with ${clientId} and returns an Okta-shaped RS256 ID token`, async () => {
      const { callback, res, body } = await signIn(clientId);
      expect(callback.method).toBe('GET');
      expect(callback.url.origin + callback.url.pathname).toBe(REDIRECT);
      expect(callback.url.searchParams.get('state')).toBe('state-1');
      expect(callback.url.searchParams.get('iss')).toBe(org.issuer);
      expect(res.status).toBe(200);
      expect(body.token_type).toBe('Bearer');
      const jwks = createRemoteJWKSet(new URL(`${org.issuer}/oauth2/v1/keys`));
      const { payload, protectedHeader } = await jwtVerify(body.id_token!, jwks, { issuer: org.issuer, audience: clientId });
      expect(protectedHeader.alg).toBe('RS256');
      expect(protectedHeader.kid).toBeTruthy();
      expect(payload).toMatchObject({
        ver: 1,
        amr: ['pwd'],
        nonce: 'nonce-1',
        name: 'Alice Example',
        email: 'alice@example.com',
        email_verified: true,
        preferred_username: 'alice@example.com',
      });
      expect(payload.sub).toMatch(/^00u[A-Za-z0-9]{17}$/);
      expect(payload.idp).toMatch(/^00o[A-Za-z0-9]{17}$/);
      expect(payload.jti).toMatch(/^ID\./);
      expect(typeof payload.auth_time).toBe('number');
      expect(typeof payload.at_hash).toBe('string');
    });
  }

  it('prompt=login and max_age still complete with auto-login and report auth_time', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { body } = await signIn('basic-app', { prompt: 'login', max_age: '0' });
    const after = Math.ceil(Date.now() / 1000);
    const authTime = decodeJwt(body.id_token!).auth_time as number;
    expect(authTime).toBeGreaterThanOrEqual(before); // a fresh sign-in, not an old session
    expect(authTime).toBeLessThanOrEqual(after);
  });

  it('login_hint signs in another scripted user', async () => {
    const { body } = await signIn('basic-app', { login_hint: 'bob@example.com' });
    expect(decodeJwt(body.id_token!)).toMatchObject({ email: 'bob@example.com', name: 'Bob Example' });
  });

  it('returns a form_post callback for response_mode=form_post', async () => {
    const { challenge } = await pkce();
    const callback = await driveAuthorization(
      authorizeUrl(org.issuer, { client_id: 'basic-app', code_challenge: challenge, code_challenge_method: 'S256', response_mode: 'form_post' }),
    );
    expect(callback.method).toBe('POST');
    expect(callback.url.href).toBe(REDIRECT);
    const form = new URLSearchParams(callback.body);
    expect(form.get('code')).toBeTruthy();
    expect(form.get('state')).toBe('state-1');
    expect(form.get('iss')).toBe(org.issuer);
  });

  it('requires PKCE for every client (error redirected to the client, RFC 6749 §4.1.2.1)', async () => {
    for (const clientId of ['basic-app', 'spa-app']) {
      const callback = await driveAuthorization(authorizeUrl(org.issuer, { client_id: clientId }));
      expect(callback.url.searchParams.get('error')).toBe('invalid_request');
      expect(callback.url.searchParams.get('error_description')).toMatch(/PKCE/);
      expect(callback.url.searchParams.get('code')).toBeNull();
    }
  });

  it('refuses a code_verifier that does not match', async () => {
    const { challenge } = await pkce();
    const callback = await driveAuthorization(
      authorizeUrl(org.issuer, { client_id: 'basic-app', code_challenge: challenge, code_challenge_method: 'S256' }),
    );
    const res = await clientPost(org, '/oauth2/v1/token', creds['basic-app']!, {
      grant_type: 'authorization_code',
      code: callback.url.searchParams.get('code')!,
      redirect_uri: REDIRECT,
      code_verifier: 'x'.repeat(43),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('refuses an unregistered redirect_uri (exact match)', async () => {
    const { challenge } = await pkce();
    const url = authorizeUrl(org.issuer, { client_id: 'basic-app', code_challenge: challenge, code_challenge_method: 'S256', redirect_uri: `${REDIRECT}/` });
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('redirect_uri');
    await expect(driveAuthorization(url)).rejects.toThrow(/400/);
  });

  it('refuses a wrong client secret with 401 invalid_client', async () => {
    const bad = await clientPost(org, '/oauth2/v1/token', { ...creds['basic-app']!, secret: 'wrong' }, { grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT, code_verifier: 'y'.repeat(43) });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: string }).error).toBe('invalid_client');
  });
});

describe('access tokens', () => {
  it('are RS256 JWTs typed application/okta-internal-at+jwt, signed with the published key by default, active via /introspect (SA-11)', async () => {
    const { body } = await signIn('basic-app');
    const at = body.access_token!;
    const header = decodeProtectedHeader(at);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'application/okta-internal-at+jwt' });
    const keys = (await (await fetch(`${org.issuer}/oauth2/v1/keys`)).json()) as { keys: { kid: string }[] };
    // accessTokenSigning 'published' (the default): Okta since its March 2024 release.
    expect(keys.keys.map((k) => k.kid)).toContain(header.kid);
    const claims = decodeJwt(at);
    expect(claims).toMatchObject({ ver: 1, iss: org.issuer, aud: org.issuer, cid: 'basic-app', sub: 'alice@example.com' });
    expect(claims.scp).toEqual(['openid', 'profile', 'email']);
    await expect(jwtVerify(at, createRemoteJWKSet(new URL(`${org.issuer}/oauth2/v1/keys`)), { typ: 'application/okta-internal-at+jwt' })).resolves.toBeDefined();

    const res = await clientPost(org, '/oauth2/v1/introspect', creds['basic-app']!, { token: at, token_type_hint: 'access_token' });
    expect(res.status).toBe(200);
    const info = (await res.json()) as Record<string, unknown>;
    expect(info).toMatchObject({ active: true, client_id: 'basic-app', scope: 'openid profile email', token_type: 'Bearer', username: 'alice@example.com', sub: 'alice@example.com', aud: org.issuer, iss: org.issuer });
    expect(info.uid).toBe(decodeJwt(body.id_token!).sub);
    expect(typeof info.exp).toBe('number');
    expect(typeof info.iat).toBe('number');
  });

  it('introspect answers active:false for a forged or unknown token', async () => {
    const { body } = await signIn('basic-app');
    const [h, p] = body.access_token!.split('.');
    for (const token of [`${h}.${p}.AAAA`, 'not-a-token']) {
      const res = await clientPost(org, '/oauth2/v1/introspect', creds['basic-app']!, { token });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ active: false });
    }
  });

  it('works at /userinfo and stops being active after /revoke', async () => {
    const { body } = await signIn('post-app');
    const at = body.access_token!;
    const info = await fetch(`${org.issuer}/oauth2/v1/userinfo`, { headers: { authorization: `Bearer ${at}` } });
    expect(info.status).toBe(200);
    const userinfo = (await info.json()) as Record<string, unknown>;
    expect(userinfo.sub).toBe(decodeJwt(body.id_token!).sub);
    expect(userinfo.email).toBe('alice@example.com');
    expect(userinfo.ver).toBeUndefined();

    const revoke = await clientPost(org, '/oauth2/v1/revoke', creds['post-app']!, { token: at, token_type_hint: 'access_token' });
    expect(revoke.status).toBe(200);
    const res = await clientPost(org, '/oauth2/v1/introspect', creds['post-app']!, { token: at });
    expect(await res.json()).toEqual({ active: false });
  });

  it('a client cannot revoke another client\'s token (200, token stays active)', async () => {
    const at = await org.control.issueAccessToken('basic-app');
    const revoke = await clientPost(org, '/oauth2/v1/revoke', creds['post-app']!, { token: at });
    expect(revoke.status).toBe(200);
    const res = await clientPost(org, '/oauth2/v1/introspect', creds['basic-app']!, { token: at });
    expect(await res.json()).toMatchObject({ active: true });
  });

  it('control.issueAccessToken mints an introspectable token', async () => {
    const at = await org.control.issueAccessToken('jwt-app', { login: 'bob@example.com', scope: 'openid email' });
    const res = await clientPost(org, '/oauth2/v1/introspect', creds['jwt-app']!, { token: at });
    expect(await res.json()).toMatchObject({ active: true, client_id: 'jwt-app', username: 'bob@example.com', scope: 'openid email' });
  });
});
