import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driveAuthorization, type OktaOrg, startOktaOrg } from '../src/index';
import { authorizeUrl, clientPost, pkce, REDIRECT, USERS } from './_support/emulator';

let org: OktaOrg;
const client = { clientId: 'app', clientSecret: 'secret', tokenEndpointAuthMethod: 'client_secret_basic' as const, redirectUris: [REDIRECT] };

beforeAll(async () => {
  org = await startOktaOrg({ clients: [client], users: USERS });
});
afterAll(() => org.close());

async function publishedKids(): Promise<string[]> {
  const res = await fetch(`${org.issuer}/oauth2/v1/keys`);
  return ((await res.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
}

async function idTokenFromCodeFlow(): Promise<string> {
  const { verifier, challenge } = await pkce();
  const callback = await driveAuthorization(authorizeUrl(org.issuer, { client_id: 'app', code_challenge: challenge, code_challenge_method: 'S256' }));
  const res = await clientPost(org, '/oauth2/v1/token', { client, secret: 'secret' }, {
    grant_type: 'authorization_code',
    code: callback.url.searchParams.get('code')!,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
  });
  return ((await res.json()) as { id_token: string }).id_token;
}

async function verifyWithPublishedKeys(token: string) {
  const jwks = (await (await fetch(`${org.issuer}/oauth2/v1/keys`)).json()) as Parameters<typeof createLocalJWKSet>[0];
  return jwtVerify(token, createLocalJWKSet(jwks), { issuer: org.issuer });
}

describe('signing key rotation (in-process control)', () => {
  it('rotates: new kid on new tokens, old key stays published until removed', async () => {
    const [initial] = await org.control.signingKeys();
    expect(initial?.active).toBe(true);
    const before = await idTokenFromCodeFlow();
    expect(decodeProtectedHeader(before).kid).toBe(initial!.kid);

    const { kid } = await org.control.rotateSigningKey();
    expect(kid).not.toBe(initial!.kid);
    expect(await publishedKids()).toEqual(expect.arrayContaining([initial!.kid, kid]));
    expect(await org.control.signingKeys()).toEqual(
      expect.arrayContaining([
        { kid: initial!.kid, active: false },
        { kid, active: true },
      ]),
    );

    const after = await idTokenFromCodeFlow();
    expect(decodeProtectedHeader(after).kid).toBe(kid);
    await verifyWithPublishedKeys(after);
    await verifyWithPublishedKeys(before);

    // an ID token minted by the control API also uses the active key
    expect(decodeProtectedHeader(await org.control.issueIdToken('app')).kid).toBe(kid);

    await expect(org.control.removeSigningKey(kid)).rejects.toThrow(/active/);
    await org.control.removeSigningKey(initial!.kid);
    expect(await publishedKids()).toEqual([kid]);
    await expect(verifyWithPublishedKeys(before)).rejects.toThrow();
  });

  it('adds an inactive key (published, not used) and activates it later', async () => {
    const [current] = (await org.control.signingKeys()).filter((k) => k.active);
    const { kid } = await org.control.addSigningKey();
    expect(await publishedKids()).toContain(kid);
    expect(decodeProtectedHeader(await idTokenFromCodeFlow()).kid).toBe(current!.kid);
    await org.control.activateSigningKey(kid);
    expect(decodeProtectedHeader(await idTokenFromCodeFlow()).kid).toBe(kid);
    await expect(org.control.activateSigningKey('no-such-kid')).rejects.toThrow(/unknown/);
  });
});

describe('signing key rotation (HTTP admin)', () => {
  const admin = (path: string, init?: RequestInit) => fetch(`${org.adminUrl}${path}`, init);

  it('rotates, lists, adds, activates and removes keys over /__admin/keys', async () => {
    const rotated = (await (await admin('/keys/rotate', { method: 'POST' })).json()) as { kid: string };
    const listed = (await (await admin('/keys')).json()) as { kid: string; active: boolean }[];
    expect(listed.find((k) => k.active)?.kid).toBe(rotated.kid);
    expect(decodeProtectedHeader(await idTokenFromCodeFlow()).kid).toBe(rotated.kid);

    const addRes = await admin('/keys', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ activate: false }) });
    const added = (await addRes.json()) as { kid: string };
    expect(await publishedKids()).toContain(added.kid);

    expect((await admin(`/keys/${encodeURIComponent(added.kid)}/activate`, { method: 'POST' })).status).toBe(200);
    expect(decodeProtectedHeader(await idTokenFromCodeFlow()).kid).toBe(added.kid);

    expect((await admin(`/keys/${encodeURIComponent(rotated.kid)}`, { method: 'DELETE' })).status).toBe(200);
    expect(await publishedKids()).not.toContain(rotated.kid);

    const refused = await admin(`/keys/${encodeURIComponent(added.kid)}`, { method: 'DELETE' });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toMatch(/active/);
  });
});

describe('several orgs', () => {
  it('each org has its own issuer and its own signing keys', async () => {
    const other = await startOktaOrg({ clients: [client], users: USERS });
    try {
      expect(other.issuer).not.toBe(org.issuer);
      const otherKids = ((await (await fetch(`${other.issuer}/oauth2/v1/keys`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
      const ours = await publishedKids();
      expect(otherKids.some((kid) => ours.includes(kid))).toBe(false);
      const foreign = await other.control.issueIdToken('app');
      await expect(verifyWithPublishedKeys(foreign)).rejects.toThrow();
    } finally {
      await other.close();
    }
  });
});
