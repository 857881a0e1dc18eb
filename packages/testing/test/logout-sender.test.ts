/**
 * The emulator's logout senders, against a tiny node:http receiver that records each request:
 * Universal Logout (Okta "Build Universal Logout for your app"; draft-parecki-oauth-global-token-revocation)
 * and OIDC Back-Channel Logout 1.0 §2.4–2.5, the exact shapes and every hostile variant.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, type JSONWebKeySet, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BACKCHANNEL_LOGOUT_EVENT, type OktaOrg, startOktaOrg } from '../src/index';

interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const CLIENT_ID = '0oa-logout-app';
const ALICE = { login: 'alice@acme.example', password: 'pw-alice-0123456789', claims: { name: 'Alice', email: 'Alice@Acme.example' } };
const BOB = { login: 'bob', password: 'pw-bob-0123456789', claims: { name: 'Bob' } };

let org: OktaOrg;
let receiver: Server;
let base = '';
const received: Received[] = [];
/** What the receiver answers next (in order); then 204. */
let answers: { status: number; body?: string; readBody?: boolean; headers?: Record<string, string> }[] = [];

beforeAll(async () => {
  org = await startOktaOrg({ name: 'logout-org', clients: [{ clientId: CLIENT_ID, clientSecret: 'logout-app-secret-0123456789', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: ['http://127.0.0.1:9/cb'] }], users: [ALICE, BOB] });
  receiver = createServer((req, res) => {
    const answer = answers.shift() ?? { status: 204 };
    const finish = (body: string) => {
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      res.writeHead(answer.status, { ...(answer.body ? { 'content-type': 'application/json' } : {}), ...answer.headers });
      res.end(answer.body);
    };
    // An app that refuses a large body without reading it (413 from the Content-Length alone).
    if (answer.readBody === false) return finish('');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => finish(Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => {
    if (!receiver) return resolve();
    receiver.close(() => resolve());
    receiver.closeAllConnections();
  });
  await org?.close();
});
beforeEach(() => {
  received.length = 0;
  answers = [];
});

const ulEndpoint = () => `${base}/auth/universal-logout`;
const bclEndpoint = () => `${base}/auth/backchannel-logout`;
const user = (login: string) => org.config.users.find((u) => u.login === login)!;

async function orgJwks() {
  return createLocalJWKSet((await (await fetch(`${org.issuer}/oauth2/v1/keys`)).json()) as JSONWebKeySet);
}

async function activeKid(): Promise<string> {
  return (await org.control.signingKeys()).find((k) => k.active)!.kid;
}

function bearerOf(request: Received | undefined): string {
  const header = request?.headers['authorization'];
  expect(header).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]*$/);
  return String(header).slice('Bearer '.length);
}

function only(): Received {
  expect(received).toHaveLength(1);
  return received[0]!;
}

describe('Universal Logout sender', () => {
  it('sends exactly what Okta sends: POST JSON sub_id (email) with a signed global-token-revocation+jwt bearer', async () => {
    answers = [{ status: 204, headers: { 'cache-control': 'no-store' } }];
    const result = await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: `${ulEndpoint()}?ignored=1#frag`, login: ALICE.login });
    expect(result).toEqual({ status: 204, headers: expect.objectContaining({ 'cache-control': 'no-store' }) });
    const request = only();
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/auth/universal-logout?ignored=1');
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.body)).toEqual({ sub_id: { format: 'email', email: ALICE.claims.email } });

    const jwt = bearerOf(request);
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'RS256', kid: await activeKid(), typ: 'global-token-revocation+jwt' });
    const { payload } = await jwtVerify(jwt, await orgJwks(), {
      issuer: org.issuer,
      audience: ulEndpoint(),
      subject: CLIENT_ID,
      typ: 'global-token-revocation+jwt',
      algorithms: ['RS256'],
    });
    expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'sub']);
    expect(payload.aud).toBe(ulEndpoint()); // a string, no query, no fragment
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(60);
    expect(payload.jti).toMatch(/^[\w-]{16,}$/);
  });

  it('iss_sub format: the org issuer and the user id (the ID token sub)', async () => {
    await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint(), login: BOB.login, format: 'iss_sub' });
    expect(JSON.parse(only().body)).toEqual({ sub_id: { format: 'iss_sub', iss: org.issuer, sub: user(BOB.login).sub } });
  });

  it('email format falls back to the login when the user has no email claim; the default user is the first one', async () => {
    await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint(), login: BOB.login });
    expect(JSON.parse(received[0]!.body)).toEqual({ sub_id: { format: 'email', email: BOB.login } });
    await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint() });
    expect(JSON.parse(received[1]!.body)).toEqual({ sub_id: { format: 'email', email: ALICE.claims.email } });
  });

  it('sends the older member name `subject` or a verbatim sub_id when asked', async () => {
    await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint(), login: BOB.login, member: 'subject', format: 'iss_sub' });
    expect(JSON.parse(received[0]!.body)).toEqual({ subject: { format: 'iss_sub', iss: org.issuer, sub: user(BOB.login).sub } });
    await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint(), subId: { format: 'opaque', id: 'x' } });
    expect(JSON.parse(received[1]!.body)).toEqual({ sub_id: { format: 'opaque', id: 'x' } });
  });

  it("answers the receiver's status (Okta reads only the status)", async () => {
    answers = [{ status: 404 }, { status: 422 }];
    expect(await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint() })).toMatchObject({ status: 404 });
    expect(await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint() })).toMatchObject({ status: 422 });
  });

  it('signs with the active key after a rotation (the same JWKS and rotation rules as ID tokens)', async () => {
    const { kid } = await org.control.rotateSigningKey();
    await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint() });
    const jwt = bearerOf(only());
    expect(decodeProtectedHeader(jwt).kid).toBe(kid);
    await expect(jwtVerify(jwt, await orgJwks(), { issuer: org.issuer, audience: ulEndpoint() })).resolves.toBeDefined();
  });

  it('unsigned: alg none and an empty signature, the claims otherwise valid', async () => {
    await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint(), variant: 'unsigned' });
    const jwt = bearerOf(only());
    expect(jwt.endsWith('.')).toBe(true);
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'none', typ: 'global-token-revocation+jwt' });
    expect(decodeJwt(jwt)).toMatchObject({ iss: org.issuer, sub: CLIENT_ID, aud: ulEndpoint() });
  });

  it("wrong-key: the active key's kid, a signature the org's JWKS does not verify", async () => {
    await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint(), variant: 'wrong-key' });
    const jwt = bearerOf(only());
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'RS256', kid: await activeKid(), typ: 'global-token-revocation+jwt' });
    await expect(jwtVerify(jwt, await orgJwks())).rejects.toBeInstanceOf(errors.JWSSignatureVerificationFailed);
  });

  it('wrong-aud, other-org-issuer, wrong-typ: validly signed, one thing wrong each', async () => {
    const jwks = await orgJwks();
    await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint(), variant: 'wrong-aud' });
    await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint(), variant: 'other-org-issuer' });
    await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint(), variant: 'wrong-typ' });
    const [aud, iss, typ] = received.map((r) => bearerOf(r));
    const audClaims = (await jwtVerify(aud!, jwks, { issuer: org.issuer, subject: CLIENT_ID })).payload;
    expect(audClaims.aud).not.toBe(ulEndpoint());
    expect(typeof audClaims.aud).toBe('string');
    const issClaims = (await jwtVerify(iss!, jwks, { audience: ulEndpoint(), subject: CLIENT_ID })).payload;
    expect(issClaims.iss).toMatch(/^https:\/\//);
    expect(issClaims.iss).not.toBe(org.issuer);
    const typed = await jwtVerify(typ!, jwks, { issuer: org.issuer, audience: ulEndpoint() });
    expect(typed.protectedHeader.typ).toBe('JWT');
  });

  it('expired and not-yet-valid: a 5-minute token outside the window', async () => {
    await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint(), variant: 'expired' });
    await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint(), variant: 'not-yet-valid' });
    const now = Date.now() / 1000;
    const [expired, future] = received.map((r) => decodeJwt(bearerOf(r)));
    expect(expired!.exp!).toBeLessThan(now);
    expect(expired!.exp! - expired!.iat!).toBe(300);
    expect(future!.iat!).toBeGreaterThan(now);
    expect(future!.nbf).toBe(future!.iat);
    await expect(jwtVerify(bearerOf(received[0]), await orgJwks())).rejects.toBeInstanceOf(errors.JWTExpired);
    await expect(jwtVerify(bearerOf(received[1]), await orgJwks())).rejects.toBeInstanceOf(errors.JWTClaimValidationFailed);
  });

  it('replayed: the same request twice, the second answer returned, beforeReplay in between', async () => {
    answers = [{ status: 204 }, { status: 401 }];
    const seen: number[] = [];
    const result = await org.control.universalLogout({
      clientId: CLIENT_ID,
      endpoint: ulEndpoint(),
      variant: 'replayed',
      beforeReplay: (first) => {
        seen.push(first.status, received.length);
      },
    });
    expect(result).toMatchObject({ status: 401 });
    expect(seen).toEqual([204, 1]);
    expect(received).toHaveLength(2);
    expect(received[1]!.headers['authorization']).toBe(received[0]!.headers['authorization']);
    expect(received[1]!.body).toBe(received[0]!.body);
  });

  it('malformed-body: a valid bearer and a body that is not JSON', async () => {
    await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint(), variant: 'malformed-body' });
    const request = only();
    await expect(jwtVerify(bearerOf(request), await orgJwks(), { issuer: org.issuer, audience: ulEndpoint() })).resolves.toBeDefined();
    expect(request.headers['content-type']).toBe('application/json');
    expect(() => JSON.parse(request.body)).toThrow(SyntaxError);
  });

  it('oversized-body: more than 64 KiB of JSON; the status of an app that answers before reading is still read', async () => {
    await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint(), variant: 'oversized-body' });
    const request = only();
    expect(Buffer.byteLength(request.body)).toBeGreaterThan(64 * 1024);
    expect((JSON.parse(request.body) as { sub_id: unknown }).sub_id).toEqual({ format: 'email', email: ALICE.claims.email });
    answers = [{ status: 413, readBody: false }];
    expect(await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint(), variant: 'oversized-body' })).toMatchObject({ status: 413 });
  });

  it('missing-auth: no Authorization header, the body as usual', async () => {
    await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint(), variant: 'missing-auth' });
    const request = only();
    expect(request.headers['authorization']).toBeUndefined();
    expect(JSON.parse(request.body)).toEqual({ sub_id: { format: 'email', email: ALICE.claims.email } });
  });

  it('refuses an unknown user or variant before sending anything', async () => {
    await expect(org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint(), login: 'nobody' })).rejects.toThrow(/unknown user/);
    await expect(org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ulEndpoint(), variant: 'bogus' as never })).rejects.toThrow(/unknown Universal Logout variant/);
    expect(received).toHaveLength(0);
  });
});

describe('back-channel logout sender', () => {
  function tokenOf(request: Received): string {
    const form = new URLSearchParams(request.body);
    expect([...form.keys()]).toEqual(['logout_token']);
    return form.get('logout_token')!;
  }

  it('sends a logout token as OIDC Back-Channel Logout 1.0 §2.4–2.5 says', async () => {
    answers = [{ status: 200, body: '' }];
    const result = await org.control.backchannelLogout({ clientId: CLIENT_ID, endpoint: bclEndpoint(), login: BOB.login });
    expect(result).toMatchObject({ status: 200, body: '' });
    const request = only();
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/auth/backchannel-logout');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request.headers['authorization']).toBeUndefined();
    const token = tokenOf(request);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', kid: await activeKid(), typ: 'logout+jwt' });
    const { payload } = await jwtVerify(token, await orgJwks(), { issuer: org.issuer, audience: CLIENT_ID, typ: 'logout+jwt', algorithms: ['RS256'] });
    expect(Object.keys(payload).sort()).toEqual(['aud', 'events', 'exp', 'iat', 'iss', 'jti', 'sub']);
    expect(payload.sub).toBe(user(BOB.login).sub);
    expect(payload['events']).toEqual({ [BACKCHANNEL_LOGOUT_EVENT]: {} });
    expect(payload['nonce']).toBeUndefined();
  });

  it('puts sid in when given, and can leave sub out', async () => {
    await org.control.backchannelLogout({ clientId: CLIENT_ID, endpoint: bclEndpoint(), sid: 'session-7' });
    await org.control.backchannelLogout({ clientId: CLIENT_ID, endpoint: bclEndpoint(), sid: 'session-8', omitSub: true });
    const [both, sidOnly] = received.map((r) => decodeJwt(tokenOf(r)));
    expect(both).toMatchObject({ sid: 'session-7', sub: user(ALICE.login).sub });
    expect(sidOnly!.sid).toBe('session-8');
    expect(sidOnly!.sub).toBeUndefined();
  });

  it("answers the receiver's status and body", async () => {
    answers = [{ status: 400, body: '{"error":"invalid_request"}' }];
    expect(await org.control.backchannelLogout({ clientId: CLIENT_ID, endpoint: bclEndpoint(), variant: 'expired' })).toMatchObject({ status: 400, body: '{"error":"invalid_request"}', headers: { 'content-type': 'application/json' } });
  });

  it('nonce-present, no-events, no-sub-or-sid: validly signed, one rule of §2.4 broken each', async () => {
    const jwks = await orgJwks();
    for (const variant of ['nonce-present', 'no-events', 'no-sub-or-sid'] as const) {
      await org.control.backchannelLogout({ clientId: CLIENT_ID, endpoint: bclEndpoint(), sid: 's-1', variant });
    }
    const [nonce, noEvents, anonymous] = await Promise.all(received.map(async (r) => (await jwtVerify(tokenOf(r), jwks, { issuer: org.issuer, audience: CLIENT_ID, typ: 'logout+jwt' })).payload));
    expect(nonce!['nonce']).toEqual(expect.any(String));
    expect(nonce!['events']).toEqual({ [BACKCHANNEL_LOGOUT_EVENT]: {} });
    expect(noEvents!['events']).toBeUndefined();
    expect(noEvents!.sub).toEqual(expect.any(String));
    expect(anonymous!.sub).toBeUndefined();
    expect(anonymous!['sid']).toBeUndefined();
    expect(anonymous!['events']).toEqual({ [BACKCHANNEL_LOGOUT_EVENT]: {} });
  });

  it('the shared variants apply to the logout token', async () => {
    const jwks = await orgJwks();
    const send = (variant: Parameters<OktaOrg['control']['backchannelLogout']>[0]['variant']) => org.control.backchannelLogout({ clientId: CLIENT_ID, endpoint: bclEndpoint(), variant });
    await send('unsigned');
    expect(decodeProtectedHeader(tokenOf(received[0]!))).toEqual({ alg: 'none', typ: 'logout+jwt' });
    await send('wrong-key');
    await expect(jwtVerify(tokenOf(received[1]!), jwks)).rejects.toBeInstanceOf(errors.JWSSignatureVerificationFailed);
    await send('wrong-aud');
    expect(decodeJwt(tokenOf(received[2]!)).aud).toBe(`${CLIENT_ID}-other`);
    await send('wrong-typ');
    expect(decodeProtectedHeader(tokenOf(received[3]!)).typ).toBe('JWT');
    await send('other-org-issuer');
    expect(decodeJwt(tokenOf(received[4]!)).iss).not.toBe(org.issuer);
    await send('not-yet-valid');
    expect(decodeJwt(tokenOf(received[5]!)).iat!).toBeGreaterThan(Date.now() / 1000);
    await send('missing-auth');
    expect(received[6]!.body).toBe('');
    await send('malformed-body');
    expect(new URLSearchParams(received[7]!.body).get('logout_token')).toBe('not-a-jwt');
    await send('oversized-body');
    expect(Buffer.byteLength(received[8]!.body)).toBeGreaterThan(64 * 1024);
    await expect(jwtVerify(new URLSearchParams(received[8]!.body).get('logout_token')!, jwks, { issuer: org.issuer })).resolves.toBeDefined();
  });

  it('replayed: the same token twice, the second answer returned', async () => {
    answers = [{ status: 200 }, { status: 400, body: '{"error":"invalid_request"}' }];
    const result = await org.control.backchannelLogout({ clientId: CLIENT_ID, endpoint: bclEndpoint(), variant: 'replayed' });
    expect(result).toMatchObject({ status: 400, body: '{"error":"invalid_request"}', headers: { 'content-type': 'application/json' } });
    expect(received).toHaveLength(2);
    expect(received[1]!.body).toBe(received[0]!.body);
  });
});

describe('admin endpoints', () => {
  const adminPost = (path: string, body: unknown) =>
    fetch(`${org.adminUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('POST /__admin/universal-logout sends the request and answers the app status', async () => {
    answers = [{ status: 204 }];
    const response = await adminPost('/universal-logout', { clientId: CLIENT_ID, endpoint: ulEndpoint(), login: BOB.login, format: 'iss_sub' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 204 });
    expect(JSON.parse(only().body)).toEqual({ sub_id: { format: 'iss_sub', iss: org.issuer, sub: user(BOB.login).sub } });
  });

  it('POST /__admin/backchannel-logout sends a logout token and answers status and body', async () => {
    answers = [{ status: 200, body: 'ok' }];
    const response = await adminPost('/backchannel-logout', { clientId: CLIENT_ID, endpoint: bclEndpoint(), sid: 'abc', variant: 'nonce-present' });
    expect(await response.json()).toEqual({ status: 200, body: 'ok' });
    const token = decodeJwt(new URLSearchParams(only().body).get('logout_token')!);
    expect(token['sid']).toBe('abc');
    expect(token['nonce']).toEqual(expect.any(String));
  });

  it('missing fields or an unknown variant → 400, nothing sent', async () => {
    const missing = await adminPost('/universal-logout', { endpoint: ulEndpoint() });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toMatch(/clientId/);
    const bogus = await adminPost('/backchannel-logout', { clientId: CLIENT_ID, endpoint: bclEndpoint(), variant: 'bogus' });
    expect(bogus.status).toBe(400);
    expect(((await bogus.json()) as { error: string }).error).toMatch(/variant/);
    expect(received).toHaveLength(0);
  });

  it('the admin index page mentions Clear User Sessions and both routes', async () => {
    const html = await (await fetch(org.adminUrl)).text();
    expect(html).toContain('Clear User Sessions');
    expect(html).toContain('/__admin/universal-logout');
    expect(html).toContain('/__admin/backchannel-logout');
  });
});
