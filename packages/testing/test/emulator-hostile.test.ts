/**
 * Hostile mode (the catalogue's hostile provider answers): each artefact is produced as described, from a real answer, and the
 * rest of the flow stays real. Verification here uses node:crypto and jose directly, never the SDK.
 */
import { createHash, createHmac, createPublicKey, type JsonWebKey as NodeJwk, verify as rsaVerify, constants } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  driveAuthorization,
  type EmulatorClient,
  FOREIGN_ISSUER,
  FOREIGN_LOCATION,
  type HostileArtefact,
  ID_TOKEN_ARTEFACTS,
  OCT_KID,
  type OktaOrg,
  startOktaOrg,
} from '../src/index';
import { authorizeUrl, type ClientCredentials, clientPost, pkce, REDIRECT, USERS } from './_support/emulator';

let org: OktaOrg;
let creds: ClientCredentials;
const CLIENT_ID = 'hostile-app';

beforeAll(async () => {
  const client: EmulatorClient = { clientId: CLIENT_ID, clientSecret: 'hostile-secret', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [REDIRECT] };
  org = await startOktaOrg({ clients: [client, { ...client, clientId: 'other-app' }], users: USERS });
  creds = { client, secret: 'hostile-secret' };
});
afterAll(() => org.close());
afterEach(() => {
  org.control.clearHostile();
  org.control.clearFaults();
});

/** A real sign-in up to the token response; the nonce sent is 'nonce-1'. */
async function tokenResponse(): Promise<{ res: Response; text: string }> {
  const { verifier, challenge } = await pkce();
  const callback = await driveAuthorization(authorizeUrl(org.issuer, { client_id: CLIENT_ID, code_challenge: challenge, code_challenge_method: 'S256' }));
  const res = await clientPost(org, '/oauth2/v1/token', creds, {
    grant_type: 'authorization_code',
    code: callback.url.searchParams.get('code') ?? '',
    redirect_uri: REDIRECT,
    code_verifier: verifier,
  });
  return { res, text: await res.text() };
}

async function forged(artefact: HostileArtefact): Promise<{ body: Record<string, unknown>; idToken: string; header: Record<string, unknown>; claims: Record<string, unknown> }> {
  org.control.hostile('token', artefact, { times: 1 });
  const { res, text } = await tokenResponse();
  expect(res.status).toBe(200);
  const body = JSON.parse(text) as Record<string, unknown>;
  const idToken = String(body.id_token);
  const [h, p] = idToken.split('.');
  const decode = (segment: string | undefined): Record<string, unknown> => {
    try {
      return JSON.parse(Buffer.from(segment ?? '', 'base64url').toString()) as Record<string, unknown>;
    } catch {
      return {}; // a JWE's second segment is an encrypted key, not JSON
    }
  };
  return { body, idToken, header: decode(h), claims: decode(p) };
}

async function publishedKeys(): Promise<{ keys: Record<string, unknown>[] }> {
  return (await (await fetch(`${org.issuer}/oauth2/v1/keys`)).json()) as { keys: Record<string, unknown>[] };
}

async function activeKid(): Promise<string> {
  return (await org.control.signingKeys()).find((k) => k.active)?.kid ?? '';
}

/** Verifies a compact JWS with the org's active RSA key and the given hash / padding. */
async function verifiesWithOrgKey(token: string, hash: 'sha256' | 'sha512', pss = false): Promise<boolean> {
  const kid = await activeKid();
  const jwk = (await publishedKeys()).keys.find((k) => k.kid === kid) as NodeJwk;
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const [h, p, s] = token.split('.');
  const data = Buffer.from(`${h}.${p}`);
  const sig = Buffer.from(s ?? '', 'base64url');
  return pss ? rsaVerify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig) : rsaVerify(hash, data, key, sig);
}

async function verifiesGenuinely(token: string): Promise<boolean> {
  try {
    await jwtVerify(token, createLocalJWKSet((await publishedKeys()) as never), { algorithms: ['RS256'] });
    return true;
  } catch {
    return false;
  }
}

describe('hostile mode: control', () => {
  it('leaves answers real when nothing is armed, and counts only the armed answers (times)', async () => {
    const plain = JSON.parse((await tokenResponse()).text) as Record<string, string>;
    expect(await verifiesGenuinely(plain.id_token ?? '')).toBe(true);
    org.control.hostile('token', 'id-token-nonce-wrong', { times: 1 });
    const first = JSON.parse((await tokenResponse()).text) as Record<string, string>;
    expect(decodeJwt(first.id_token ?? '').nonce).not.toBe('nonce-1');
    const second = JSON.parse((await tokenResponse()).text) as Record<string, string>;
    expect(decodeJwt(second.id_token ?? '').nonce).toBe('nonce-1');
  });

  it('refuses an artefact on an endpoint it does not apply to, and bad times', () => {
    expect(() => org.control.hostile('keys', 'id-token-alg-none')).toThrow(/does not apply/);
    expect(() => org.control.hostile('authorize', 'redirect')).toThrow(/no hostile artefacts/);
    expect(() => org.control.hostile('token', 'id-token-alg-none', { times: 0 })).toThrow(/positive integer/);
  });

  it('is armed and cleared through the HTTP admin API too', async () => {
    const arm = await fetch(`${org.adminUrl}/hostile`, { method: 'POST', body: JSON.stringify({ endpoint: 'keys', artefact: 'jwks-empty', times: 1 }) });
    expect(arm.status).toBe(200);
    expect((await publishedKeys()).keys).toEqual([]);
    expect((await publishedKeys()).keys.length).toBeGreaterThan(0);
    await fetch(`${org.adminUrl}/hostile`, { method: 'POST', body: JSON.stringify({ endpoint: 'keys', artefact: 'jwks-empty' }) });
    expect((await fetch(`${org.adminUrl}/hostile?endpoint=keys`, { method: 'DELETE' })).status).toBe(200);
    expect((await publishedKeys()).keys.length).toBeGreaterThan(0);
    const wrong = await fetch(`${org.adminUrl}/hostile`, { method: 'POST', body: JSON.stringify({ endpoint: 'token', artefact: 'nope' }) });
    expect(wrong.status).toBe(400);
  });

  it('lets an armed fault win over a hostile artefact', async () => {
    org.control.hostile('keys', 'jwks-empty');
    org.control.fault('keys', { type: 'status', status: 503 }, { times: 1 });
    expect((await fetch(`${org.issuer}/oauth2/v1/keys`)).status).toBe(503);
    expect((await publishedKeys()).keys).toEqual([]);
  });

  it('does not rewrite or use up an artefact on an error answer (invalid_grant passes through)', async () => {
    org.control.hostile('token', 'id-token-alg-none', { times: 1 });
    const res = await clientPost(org, '/oauth2/v1/token', creds, { grant_type: 'authorization_code', code: 'bogus', redirect_uri: REDIRECT, code_verifier: 'x'.repeat(43) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
    const { header } = await forged('id-token-alg-none');
    expect(header.alg).toBe('none');
  });
});

describe('hostile mode: ID tokens at the token endpoint', () => {
  it('keeps the rest of the token response real (access token, token_type)', async () => {
    const { body } = await forged('id-token-aud-wrong');
    expect(body.token_type).toBe('Bearer');
    const introspection = await clientPost(org, '/oauth2/v1/introspect', creds, { token: String(body.access_token) });
    expect(((await introspection.json()) as { active: boolean }).active).toBe(true);
  });

  it.each(['id-token-alg-none', 'id-token-alg-none-mixed-case'] as const)('%s: unsigned, alg none in any case', async (artefact) => {
    const { idToken, header, claims } = await forged(artefact);
    expect(String(header.alg).toLowerCase()).toBe('none');
    expect(idToken.endsWith('.')).toBe(true);
    expect(claims.nonce).toBe('nonce-1');
  });

  it('HS256 keyed with the RSA public key (PEM, whitespace PEM, DER, JWK n): the classic key confusion', async () => {
    const kid = await activeKid();
    const jwk = (await publishedKeys()).keys.find((k) => k.kid === kid) as NodeJwk;
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    const pem = key.export({ type: 'spki', format: 'pem' }).toString();
    const secrets: Record<string, Buffer | string> = {
      'id-token-hs256-pubkey-pem': pem,
      'id-token-hs256-pubkey-pem-whitespace': `\n ${pem}`,
      'id-token-hs256-pubkey-der': key.export({ type: 'spki', format: 'der' }),
      'id-token-hs256-pubkey-jwk-n': String(jwk.n),
    };
    for (const [artefact, secret] of Object.entries(secrets)) {
      const { idToken, header } = await forged(artefact as HostileArtefact);
      expect(header).toMatchObject({ alg: 'HS256', kid });
      const [h, p, s] = idToken.split('.');
      expect(createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')).toBe(s);
    }
  });

  it('RS512 and PS256 carry a valid signature by the published key', async () => {
    const rs512 = await forged('id-token-alg-rs512');
    expect(rs512.header.alg).toBe('RS512');
    expect(await verifiesWithOrgKey(rs512.idToken, 'sha512')).toBe(true);
    const ps256 = await forged('id-token-alg-ps256');
    expect(ps256.header.alg).toBe('PS256');
    expect(await verifiesWithOrgKey(ps256.idToken, 'sha256', true)).toBe(true);
  });

  it('bad signature and tampered payload do not verify; unknown kid names a key not in /keys', async () => {
    expect(await verifiesGenuinely((await forged('id-token-bad-signature')).idToken)).toBe(false);
    const tampered = await forged('id-token-tampered-payload');
    expect(tampered.claims.sub).toBe('00uattacker0000000000');
    expect(await verifiesGenuinely(tampered.idToken)).toBe(false);
    const unknown = await forged('id-token-unknown-kid');
    const kids = (await publishedKeys()).keys.map((k) => k.kid);
    expect(kids).not.toContain(unknown.header.kid);
    expect(unknown.header.alg).toBe('RS256');
  });

  it('kid absent while several keys are published, signed with the active key', async () => {
    const { idToken, header } = await forged('id-token-kid-absent');
    expect(header.kid).toBeUndefined();
    expect((await publishedKeys()).keys.length).toBeGreaterThanOrEqual(2);
    expect(await verifiesWithOrgKey(idToken, 'sha256')).toBe(true);
  });

  it('embedded attacker key in jwk / jku / x5u headers, signed with that key', async () => {
    const { idToken, header } = await forged('id-token-embedded-jwk');
    expect(header).toMatchObject({ jku: expect.any(String), x5u: expect.any(String), jwk: expect.objectContaining({ kty: 'RSA' }) });
    const attacker = createPublicKey({ key: header.jwk as NodeJwk, format: 'jwk' });
    const [h, p, s] = idToken.split('.');
    expect(rsaVerify('sha256', Buffer.from(`${h}.${p}`), attacker, Buffer.from(s ?? '', 'base64url'))).toBe(true);
  });

  const claimCases: [HostileArtefact, (claims: Record<string, unknown>) => void][] = [
    ['id-token-iss-trailing-slash', (c) => expect(c.iss).toBe(`${org.issuer}/`)],
    ['id-token-iss-scheme', (c) => expect(c.iss).toBe(org.issuer.replace('http://', 'https://'))],
    ['id-token-iss-other-org', (c) => expect(c.iss).toBe(FOREIGN_ISSUER)],
    ['id-token-iss-custom-as', (c) => expect(c.iss).toBe(`${org.issuer}/oauth2/default`)],
    ['id-token-iss-missing', (c) => expect(c).not.toHaveProperty('iss')],
    ['id-token-aud-wrong', (c) => expect(c.aud).not.toBe(CLIENT_ID)],
    ['id-token-aud-missing', (c) => expect(c).not.toHaveProperty('aud')],
    ['id-token-aud-extra', (c) => expect(c).toMatchObject({ aud: [CLIENT_ID, expect.any(String)] })],
    ['id-token-aud-array', (c) => expect(c.aud).toEqual([CLIENT_ID])],
    ['id-token-azp-mismatch', (c) => expect(c.azp).not.toBe(CLIENT_ID)],
    ['id-token-nonce-wrong', (c) => expect(c.nonce).not.toBe('nonce-1')],
    ['id-token-nonce-missing', (c) => expect(c).not.toHaveProperty('nonce')],
    ['id-token-expired', (c) => expect(Number(c.exp)).toBeLessThan(Date.now() / 1000 - 600)],
    ['id-token-exp-missing', (c) => expect(c).not.toHaveProperty('exp')],
    ['id-token-exp-string', (c) => expect(c.exp).toBe('9999999999')],
    ['id-token-iat-future', (c) => expect(Number(c.iat)).toBeGreaterThan(Date.now() / 1000 + 600)],
    ['id-token-iat-missing', (c) => expect(c).not.toHaveProperty('iat')],
    ['id-token-iat-week-old', (c) => expect(Number(c.iat)).toBeLessThan(Date.now() / 1000 - 6 * 86_400)],
    ['id-token-sub-missing', (c) => expect(c).not.toHaveProperty('sub')],
    ['id-token-sub-empty', (c) => expect(c.sub).toBe('')],
    ['id-token-auth-time-missing', (c) => expect(c).not.toHaveProperty('auth_time')],
  ];
  it.each(claimCases)('%s: the one claim is wrong and the token is validly signed', async (artefact, check) => {
    const { idToken, claims } = await forged(artefact);
    check(claims);
    expect(await verifiesWithOrgKey(idToken, 'sha256')).toBe(true);
  });

  it('wrong at_hash is the untruncated SHA-256 of the real access token', async () => {
    const { body, claims } = await forged('id-token-at-hash-wrong');
    expect(claims.at_hash).toBe(createHash('sha256').update(String(body.access_token)).digest('base64url'));
  });

  it('crit and typ at+jwt headers on a validly signed token', async () => {
    const crit = await forged('id-token-crit');
    expect(crit.header.crit).toEqual(['urn:example:unknown']);
    expect(await verifiesWithOrgKey(crit.idToken, 'sha256')).toBe(true);
    const typ = await forged('id-token-typ-at-jwt');
    expect(typ.header.typ).toBe('at+jwt');
  });

  it('duplicate claims: the raw JSON payload has two "iss" members, the foreign one last', async () => {
    const { idToken, claims } = await forged('id-token-duplicate-iss');
    const raw = Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString();
    expect(raw.match(/"iss":/g)).toHaveLength(2);
    expect(raw.indexOf(`"iss":"${org.issuer}"`)).toBeLessThan(raw.indexOf(`"iss":"${FOREIGN_ISSUER}"`));
    expect(claims.iss).toBe(FOREIGN_ISSUER); // JSON.parse keeps the last member
    expect(await verifiesWithOrgKey(idToken, 'sha256')).toBe(true);
  });

  it('oversized, malformed (two segments), JWE bomb and missing ID tokens', async () => {
    const big = await forged('id-token-oversized');
    expect(big.idToken.length).toBeGreaterThan(1024 * 1024);
    expect((await forged('id-token-malformed')).idToken.split('.')).toHaveLength(2);
    const jwe = (await forged('id-token-jwe')).idToken;
    expect(jwe.split('.')).toHaveLength(5);
    expect(decodeProtectedHeader(jwe)).toMatchObject({ alg: 'PBES2-HS512+A256KW', p2c: 2_147_483_647 });
    const missing = await forged('id-token-missing');
    expect(missing.body).not.toHaveProperty('id_token');
    expect(missing.body.access_token).toEqual(expect.any(String));
  });

  it('every ID token artefact is produced (none is silently a real token)', async () => {
    const real = JSON.parse((await tokenResponse()).text) as Record<string, string>;
    const seen = new Set<string>();
    for (const artefact of ID_TOKEN_ARTEFACTS) {
      if (artefact === 'id-token-aud-array' || artefact === 'id-token-missing') continue; // checked above
      const { idToken } = await forged(artefact);
      expect(idToken, artefact).not.toBe(real.id_token);
      seen.add(idToken);
    }
    expect(seen.size).toBe(ID_TOKEN_ARTEFACTS.length - 2);
  });
});

describe('hostile mode: token responses', () => {
  it('token_type mac and bearer (lower case)', async () => {
    expect((await forged('token-type-mac')).body.token_type).toBe('mac');
    expect((await forged('token-type-lowercase')).body.token_type).toBe('bearer');
  });

  it('malformed JSON, a JSON array, and a 2 MiB answer', async () => {
    org.control.hostile('token', 'token-response-malformed-json', { times: 1 });
    const malformed = await tokenResponse();
    expect(malformed.res.headers.get('content-type')).toContain('application/json');
    expect(() => JSON.parse(malformed.text)).toThrow();
    org.control.hostile('token', 'token-response-not-object', { times: 1 });
    expect(Array.isArray(JSON.parse((await tokenResponse()).text))).toBe(true);
    org.control.hostile('token', 'token-response-oversized', { times: 1 });
    const big = await tokenResponse();
    expect(big.text.length).toBeGreaterThan(2 * 1024 * 1024);
    expect(Number(big.res.headers.get('content-length'))).toBe(Buffer.byteLength(big.text));
  });

  it('an HTML error page and a redirect to another host', async () => {
    org.control.hostile('token', 'html-error-page', { times: 1 });
    const html = await tokenResponse();
    expect(html.res.status).toBe(500);
    expect(html.res.headers.get('content-type')).toContain('text/html');
    org.control.hostile('token', 'redirect', { times: 1 });
    const res = await fetch(`${org.issuer}/oauth2/v1/token`, { method: 'POST', redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(FOREIGN_LOCATION);
  });
});

describe('hostile mode: introspection', () => {
  async function introspect(): Promise<{ status: number; type: string; text: string }> {
    const accessToken = await org.control.issueAccessToken(CLIENT_ID);
    const res = await clientPost(org, '/oauth2/v1/introspect', creds, { token: accessToken, token_type_hint: 'access_token' });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  }
  it.each([
    ['introspection-active-string', (b: Record<string, unknown>) => expect(b.active).toBe('true')],
    ['introspection-active-missing', (b: Record<string, unknown>) => expect(b).not.toHaveProperty('active')],
    ['introspection-other-client', (b: Record<string, unknown>) => expect(b).toMatchObject({ active: true, client_id: expect.not.stringMatching(CLIENT_ID) })],
    ['introspection-other-issuer', (b: Record<string, unknown>) => expect(b).toMatchObject({ active: true, iss: FOREIGN_ISSUER })],
    ['introspection-refresh-token-shape', (b: Record<string, unknown>) => {
      expect(b).toMatchObject({ active: true, token_type: 'Bearer', client_id: CLIENT_ID });
      for (const name of ['iss', 'aud', 'jti', 'uid']) expect(b).not.toHaveProperty(name);
    }],
  ] as const)('%s', async (artefact, check) => {
    org.control.hostile('introspect', artefact, { times: 1 });
    const { status, text } = await introspect();
    expect(status).toBe(200);
    check(JSON.parse(text) as Record<string, unknown>);
  });

  it('malformed JSON and an HTML page', async () => {
    org.control.hostile('introspect', 'introspection-malformed-json', { times: 1 });
    const malformed = (await introspect()).text;
    expect(() => JSON.parse(malformed)).toThrow();
    org.control.hostile('introspect', 'html-error-page', { times: 1 });
    expect((await introspect()).type).toContain('text/html');
  });
});

describe('hostile mode: JWKS', () => {
  async function keysText(): Promise<string> {
    return (await fetch(`${org.issuer}/oauth2/v1/keys`)).text();
  }
  it('keys not an array, a symmetric key in the set, duplicate kids, a huge set, malformed JSON', async () => {
    org.control.hostile('keys', 'jwks-keys-not-array', { times: 1 });
    const notArray = JSON.parse(await keysText()) as { keys: unknown };
    expect(typeof notArray.keys === 'object' && !Array.isArray(notArray.keys)).toBe(true);

    org.control.hostile('keys', 'jwks-symmetric-key', { times: 1 });
    const withOct = JSON.parse(await keysText()) as { keys: Record<string, unknown>[] };
    expect(withOct.keys).toContainEqual(expect.objectContaining({ kty: 'oct', kid: OCT_KID, alg: 'HS256' }));

    org.control.hostile('keys', 'jwks-duplicate-kids', { times: 1 });
    const kid = await activeKid();
    const dup = JSON.parse(await keysText()) as { keys: Record<string, unknown>[] };
    const same = dup.keys.filter((k) => k.kid === kid);
    expect(same).toHaveLength(2);
    expect(same[0]?.n).not.toBe(same[1]?.n);

    org.control.hostile('keys', 'jwks-huge', { times: 1 });
    const huge = await keysText();
    expect(huge.length).toBeGreaterThan(1024 * 1024);
    expect((JSON.parse(huge) as { keys: unknown[] }).keys.length).toBeGreaterThan(5000);

    org.control.hostile('keys', 'jwks-malformed-json', { times: 1 });
    const malformed = await keysText();
    expect(() => JSON.parse(malformed)).toThrow();
  });

  it('the HS256 token for the published oct key is keyed with that key', async () => {
    const { idToken, header } = await forged('id-token-hs256-jwks-oct');
    expect(header).toMatchObject({ alg: 'HS256', kid: OCT_KID });
    org.control.hostile('keys', 'jwks-symmetric-key', { times: 1 });
    const oct = (JSON.parse(await (await fetch(`${org.issuer}/oauth2/v1/keys`)).text()) as { keys: Record<string, string>[] }).keys.find((k) => k.kty === 'oct');
    const [h, p, s] = idToken.split('.');
    expect(createHmac('sha256', Buffer.from(oct?.k ?? '', 'base64url')).update(`${h}.${p}`).digest('base64url')).toBe(s);
  });
});

describe('hostile mode: discovery, userinfo and redirects on back channels', () => {
  it('discovery with a near-miss issuer and endpoints on another host', async () => {
    org.control.hostile('discovery', 'discovery-issuer-mismatch', { times: 1 });
    const doc = (await (await fetch(`${org.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(doc.issuer).toBe(`${org.issuer}/`);
    org.control.hostile('discovery', 'discovery-foreign-endpoints', { times: 1 });
    const moved = (await (await fetch(`${org.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(moved.issuer).toBe(org.issuer);
    expect(moved.authorization_endpoint).toMatch(/^https:\/\/attacker\.example\//);
    expect(moved.jwks_uri).toMatch(/^https:\/\/attacker\.example\//);
  });

  it('userinfo with another sub', async () => {
    const accessToken = await org.control.issueAccessToken(CLIENT_ID, { scope: 'openid profile' });
    org.control.hostile('userinfo', 'userinfo-sub-mismatch', { times: 1 });
    const res = await fetch(`${org.issuer}/oauth2/v1/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(body.sub).toBe('00uSomeoneElse000000');
    expect(body.name).toBeDefined();
  });

  it.each(['keys', 'introspect', 'revoke', 'userinfo', 'discovery'] as const)('a 302 to another host on %s', async (endpoint) => {
    org.control.hostile(endpoint, 'redirect', { times: 1 });
    const path = { keys: '/oauth2/v1/keys', introspect: '/oauth2/v1/introspect', revoke: '/oauth2/v1/revoke', userinfo: '/oauth2/v1/userinfo', discovery: '/.well-known/openid-configuration' }[endpoint];
    const method = endpoint === 'introspect' || endpoint === 'revoke' ? 'POST' : 'GET';
    const res = await fetch(`${org.issuer}${path}`, { method, redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(FOREIGN_LOCATION);
  });
});
