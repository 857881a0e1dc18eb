/**
 * What the emulator's /introspect answers for ID tokens, and how it signs access tokens (independent audit
 * item 11, SA-11). Okta: "/introspect … takes an access, ID, or refresh token … Besides the claims
 * in the token, the possible top-level members include: active, aud, client_id, … token_type
 * (always Bearer), uid (returned only if the token is an access token …)" (Okta developer docs,
 * OpenID Connect & OAuth 2.0 API, "/introspect").
 */
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driveAuthorization, type EmulatorClient, type OktaOrg, startOktaOrg } from '../src/index';
import { authorizeUrl, type ClientCredentials, clientPost, pkce, REDIRECT, USERS } from './_support/emulator';

const CLIENTS: EmulatorClient[] = [
  { clientId: 'app-a', clientSecret: 'secret-a', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [REDIRECT] },
  { clientId: 'app-b', clientSecret: 'secret-b', tokenEndpointAuthMethod: 'client_secret_post', redirectUris: [REDIRECT] },
];
const A: ClientCredentials = { client: CLIENTS[0]!, secret: 'secret-a' };
const B: ClientCredentials = { client: CLIENTS[1]!, secret: 'secret-b' };

let org: OktaOrg;
let privateOrg: OktaOrg;

beforeAll(async () => {
  [org, privateOrg] = await Promise.all([
    startOktaOrg({ clients: CLIENTS, users: USERS }),
    startOktaOrg({ clients: CLIENTS, users: USERS, accessTokenSigning: 'private' }),
  ]);
});
afterAll(async () => {
  await Promise.all([org?.close(), privateOrg?.close()]);
});

async function introspect(target: OktaOrg, creds: ClientCredentials, token: string, hint?: string): Promise<Record<string, unknown>> {
  const res = await clientPost(target, '/oauth2/v1/introspect', creds, { token, ...(hint ? { token_type_hint: hint } : {}) });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

async function codeFlowTokens(target: OktaOrg): Promise<{ id_token: string; access_token: string }> {
  const { verifier, challenge } = await pkce();
  const callback = await driveAuthorization(authorizeUrl(target.issuer, { client_id: 'app-a', code_challenge: challenge, code_challenge_method: 'S256' }));
  const res = await clientPost(target, '/oauth2/v1/token', A, {
    grant_type: 'authorization_code',
    code: callback.url.searchParams.get('code')!,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
  });
  return (await res.json()) as { id_token: string; access_token: string };
}

async function publishedJwks(target: OktaOrg) {
  return createLocalJWKSet((await (await fetch(`${target.issuer}/oauth2/v1/keys`)).json()) as Parameters<typeof createLocalJWKSet>[0]);
}

describe('/introspect of ID tokens, as Okta answers (SA-11)', () => {
  it('answers active with the ID token’s own claims to the client in its aud (SA-11)', async () => {
    const { id_token: idToken } = await codeFlowTokens(org);
    const claims = decodeJwt(idToken);
    for (const hint of [undefined, 'access_token', 'id_token']) {
      const info = await introspect(org, A, idToken, hint);
      expect(info).toMatchObject({ active: true, token_type: 'Bearer', client_id: 'app-a', aud: 'app-a', iss: org.issuer, sub: claims.sub, jti: claims.jti, exp: claims.exp });
      expect(String(info.jti)).toMatch(/^ID\./);
      expect(info.uid).toBeUndefined();
      expect(info.scope).toBeUndefined();
    }
    expect(String(claims.sub)).toMatch(/^00u/);
  });

  it('answers active for an ID token minted by the control API, inactive once expired (SA-11)', async () => {
    const live = await org.control.issueIdToken('app-a');
    expect(await introspect(org, A, live)).toMatchObject({ active: true, aud: 'app-a', client_id: 'app-a' });
    const now = Math.floor(Date.now() / 1000);
    const expired = await org.control.issueIdToken('app-a', { claims: { iat: now - 7200, exp: now - 3600 } });
    expect(await introspect(org, A, expired)).toEqual({ active: false });
  });

  it('answers inactive to a client that is not in the ID token’s aud (SA-11)', async () => {
    const idToken = await org.control.issueIdToken('app-a');
    expect(await introspect(org, B, idToken)).toEqual({ active: false });
  });

  it('answers inactive for a forged ID token: tampered signature, a key the org never published, another issuer (SA-11)', async () => {
    const real = await org.control.issueIdToken('app-a');
    const [h, p, sig] = real.split('.');
    const tampered = `${h}.${p}.${sig![0] === 'A' ? 'B' : 'A'}${sig!.slice(1)}`;
    const { privateKey } = await generateKeyPair('RS256');
    const orgKid = decodeProtectedHeader(real).kid!;
    // The org's kid, but another key: only the org's own key verifies.
    const foreign = await new SignJWT(decodeJwt(real)).setProtectedHeader({ alg: 'RS256', kid: orgKid }).sign(privateKey);
    const otherIssuer = await privateOrg.control.issueIdToken('app-a');
    for (const token of [tampered, foreign, otherIssuer]) expect(await introspect(org, A, token)).toEqual({ active: false });
  });
});

describe('access-token signing (SA-11)', () => {
  it('published (default): the active published key signs access tokens, typed okta-internal-at+jwt; ID token checks refuse them by typ (SA-11)', async () => {
    const { access_token: at, id_token: idToken } = await codeFlowTokens(org);
    const header = decodeProtectedHeader(at);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'application/okta-internal-at+jwt', kid: decodeProtectedHeader(idToken).kid });
    const jwks = await publishedJwks(org);
    await expect(jwtVerify(at, jwks, { issuer: org.issuer })).resolves.toBeDefined();
    // An ID token validator that requires typ JWT (or none) refuses it; the audience differs too.
    await expect(jwtVerify(at, jwks, { issuer: org.issuer, typ: 'JWT' })).rejects.toThrow();
    await expect(jwtVerify(at, jwks, { issuer: org.issuer, audience: 'app-a' })).rejects.toThrow();
    expect(decodeProtectedHeader(idToken).typ).not.toBe('application/okta-internal-at+jwt');
    expect(await introspect(org, A, at, 'access_token')).toMatchObject({ active: true, client_id: 'app-a', aud: org.issuer, token_type: 'Bearer' });
  });

  it('published: tokens signed before a rotation stay active, also after their key is removed from /keys (SA-11)', async () => {
    const before = await org.control.issueAccessToken('app-a');
    const oldKid = decodeProtectedHeader(before).kid!;
    const { kid } = await org.control.rotateSigningKey();
    const after = await org.control.issueAccessToken('app-a');
    expect(decodeProtectedHeader(after).kid).toBe(kid);
    expect(await introspect(org, A, before)).toMatchObject({ active: true });
    expect(await introspect(org, A, after)).toMatchObject({ active: true });
    await org.control.removeSigningKey(oldKid);
    // Okta keeps its own tokens' state; the key's publication does not decide it.
    expect(await introspect(org, A, before)).toMatchObject({ active: true });
    const userinfo = await fetch(`${org.issuer}/oauth2/v1/userinfo`, { headers: { authorization: `Bearer ${after}` } });
    expect(userinfo.status).toBe(200);
  });

  it('private: access tokens are signed with a key never published at /keys, active only via /introspect (SA-11)', async () => {
    const at = await privateOrg.control.issueAccessToken('app-a');
    const header = decodeProtectedHeader(at);
    expect(header.typ).toBe('application/okta-internal-at+jwt');
    const published = ((await (await fetch(`${privateOrg.issuer}/oauth2/v1/keys`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(published).not.toContain(header.kid);
    await expect(jwtVerify(at, await publishedJwks(privateOrg))).rejects.toThrow();
    expect(await introspect(privateOrg, A, at)).toMatchObject({ active: true, client_id: 'app-a', aud: privateOrg.issuer });
    // A rotation of the published keys does not touch the private access-token key.
    await privateOrg.control.rotateSigningKey();
    expect(await introspect(privateOrg, A, at)).toMatchObject({ active: true });
    expect(decodeProtectedHeader(await privateOrg.control.issueAccessToken('app-a')).kid).toBe(header.kid);
  });

  it('refuses an unknown accessTokenSigning value at start-up', async () => {
    await expect(startOktaOrg({ clients: CLIENTS, accessTokenSigning: 'public' as never })).rejects.toThrow(/accessTokenSigning/);
  });
});

describe('the emulator keeps live tokens (a store large enough for load runs)', () => {
  it("still introspects an early access token as active after 700 more were issued (oidc-provider's default store holds 1,000 entries)", async () => {
    const early = await org.control.issueAccessToken('app-a');
    for (let i = 0; i < 700; i += 50) await Promise.all(Array.from({ length: 50 }, () => org.control.issueAccessToken('app-a')));
    expect(await introspect(org, A, early)).toMatchObject({ active: true, client_id: 'app-a' });
  });
});
