import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driveAuthorization, type EmulatorClient, type OktaOrg, startOktaOrg } from '../src/index';
import { authorizeUrl, clientPost, pkce, REDIRECT, USERS } from './_support/emulator';

let org: OktaOrg;
const client: EmulatorClient = {
  clientId: 'dpop-app',
  clientSecret: 'dpop-secret',
  tokenEndpointAuthMethod: 'client_secret_basic',
  redirectUris: [REDIRECT],
  dpopBoundAccessTokens: true,
};

beforeAll(async () => {
  org = await startOktaOrg({ clients: [client], users: USERS });
});
afterAll(() => org.close());

async function proofFactory() {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  return {
    thumbprint: await calculateJwkThumbprint(jwk),
    async proof(htm: string, htu: string, extra: Record<string, unknown> = {}) {
      return new SignJWT({ htm, htu, jti: crypto.randomUUID(), ...extra })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .setIssuedAt()
        .sign(privateKey);
    },
  };
}

describe('DPoP (RFC 9449)', () => {
  it('asks for a nonce at the token endpoint like Okta, then issues a DPoP-bound access token', async () => {
    const dpop = await proofFactory();
    const { verifier, challenge } = await pkce();
    const callback = await driveAuthorization(authorizeUrl(org.issuer, { client_id: 'dpop-app', code_challenge: challenge, code_challenge_method: 'S256' }));
    const tokenUrl = `${org.issuer}/oauth2/v1/token`;
    const params = { grant_type: 'authorization_code', code: callback.url.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier };
    const tokenRequest = async (proof: string) => {
      const headers = { authorization: `Basic ${Buffer.from('dpop-app:dpop-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded', dpop: proof };
      return fetch(tokenUrl, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
    };

    const first = await tokenRequest(await dpop.proof('POST', tokenUrl));
    expect(first.status).toBe(400);
    expect(((await first.json()) as { error: string }).error).toBe('use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce');
    expect(nonce).toBeTruthy();

    const second = await tokenRequest(await dpop.proof('POST', tokenUrl, { nonce }));
    expect(second.status).toBe(200);
    const body = (await second.json()) as { access_token: string; token_type: string };
    expect(body.token_type).toBe('DPoP');
    expect(decodeJwt(body.access_token).cnf).toEqual({ jkt: dpop.thumbprint });

    const info = await clientPost(org, '/oauth2/v1/introspect', { client, secret: 'dpop-secret' }, { token: body.access_token });
    expect(await info.json()).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: dpop.thumbprint } });

    const userinfoUrl = `${org.issuer}/oauth2/v1/userinfo`;
    const ath = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body.access_token))).toString('base64url');
    const ok = await fetch(userinfoUrl, { headers: { authorization: `DPoP ${body.access_token}`, dpop: await dpop.proof('GET', userinfoUrl, { ath }) } });
    expect(ok.status).toBe(200);
    const bearer = await fetch(userinfoUrl, { headers: { authorization: `Bearer ${body.access_token}` } });
    expect(bearer.status).toBe(401);
  });
});
