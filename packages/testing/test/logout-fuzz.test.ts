/**
 * Property-based test of the two logout surfaces over HTTP: random methods, content
 * types, `Authorization` headers, bodies and JWT-shaped strings (headers and claims drawn from the
 * real ones: this org's issuer, the client id, the endpoint URL, the active kid, a signature lifted
 * from a real ID token) against an app mounted on a bare node:http server through core's own
 * request translation (`fromHeaderMap`, `readNodeRequestBody`).
 *
 * Nothing forged can succeed: every answer is a 4xx (never 2xx, never 5xx), no session cookie is
 * set, and the app keeps serving; afterwards a genuine Universal Logout still answers 204, so the
 * property is not vacuous.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOidcAuth, fromHeaderMap, type OidcAuth } from '@oin-oidc/core';
import { readNodeRequestBody } from '@oin-oidc/core/node';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostRequest } from '../src/conformance/http';
import { BACKCHANNEL_LOGOUT_EVENT, type OktaOrg, startOktaOrg } from '../src/index';

const CLIENT_ID = '0oa-fuzz-app';
const USER = { login: 'alice@acme.example', password: 'pw-alice-0123456789', claims: { email: 'alice@acme.example' } };
const NUM_RUNS = 150;

let org: OktaOrg;
let server: Server;
let origin = '';
let auth: OidcAuth;
let kid = '';
/** The signature segment of a real ID token of this org: valid RS256, for another signing input. */
let liftedSignature = '';
/** A real ID token of this org (right issuer, key and signature; not a logout token of any kind). */
let idToken = '';
const unexpected: unknown[] = [];

beforeAll(async () => {
  org = await startOktaOrg({ name: 'fuzz', clients: [{ clientId: CLIENT_ID, clientSecret: 'fuzz-client-secret-0123456789', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: ['http://127.0.0.1:9/auth/callback'] }], users: [USER] });
  auth = createOidcAuth({
    store: [{ id: 'acme', issuer: org.issuer, clientId: CLIENT_ID, clientSecret: 'fuzz-client-secret-0123456789', redirectUris: ['http://127.0.0.1:9/auth/callback'] }],
    session: { secret: 'logout-fuzz-session-secret-0123456789abcdef' },
    client: { allowLoopbackIssuers: true, httpTimeoutMs: 5_000 },
  });
  server = createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('up');
      return;
    }
    // The smallest Node adapter: what the Express and Koa adapters do, without a framework.
    const request = fromHeaderMap({
      method: req.method ?? 'GET',
      basePath: '',
      protocol: 'http',
      host: req.headers.host,
      target: req.url ?? '/',
      headers: req.headers,
      readBody: () => readNodeRequestBody(req),
      clientAddress: req.socket.remoteAddress,
    });
    auth
      .handle(request)
      .then((response) => {
        if (!response) return void res.writeHead(404).end();
        res.writeHead(response.status, { ...response.headers, ...(response.setCookies.length > 0 ? { 'set-cookie': response.setCookies } : {}) });
        res.end(response.body ?? undefined);
      })
      .catch((error: unknown) => {
        unexpected.push(error);
        res.writeHead(500).end();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  kid = (await org.control.signingKeys()).find((k) => k.active)!.kid;
  idToken = await org.control.issueIdToken(CLIENT_ID, { login: USER.login });
  liftedSignature = idToken.split('.')[2]!;
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    if (!server) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await org?.close();
});

const b64 = (value: string) => Buffer.from(value, 'utf8').toString('base64url');
const ul = () => `${origin}/auth/universal-logout`;
const bcl = () => `${origin}/auth/backchannel-logout`;
/** What an HTTP header value can carry at all (RFC 9110 §5.5: no CR, LF or NUL; Node sends Latin-1). */
const headerSafe = (value: string) => value.replace(/[^\t\x20-\x7e\x80-\xff]/g, '');

/**
 * The arbitraries, built once the org and the app run (so counterexamples print real strings):
 * header and claim values are drawn from the real ones as often as from junk.
 */
function arbitraries() {
  const junk = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', 'null', '{}', '[]', '\u0000', 'é', '../../etc', 'https://evil.example'));
  const real = fc.constantFrom(org.issuer, CLIENT_ID, ul(), bcl(), 'https://evil.example', 'http://127.0.0.1:1');
  const claimValue = fc.oneof<fc.Arbitrary<unknown>[]>(real, junk, fc.integer(), fc.array(fc.oneof(real, junk), { maxLength: 3 }), fc.constant(null));
  const now = Math.floor(Date.now() / 1000);
  const time = fc.oneof<fc.Arbitrary<unknown>[]>(fc.integer({ min: now - 900, max: now + 900 }), fc.constantFrom(null, 1e20, -1, 'now'));
  /** A JWT-shaped string: header and claims from near-real values, a signature that cannot verify. */
  const jwtish = fc
    .record(
      {
        alg: fc.constantFrom<unknown>('RS256', 'none', 'HS256', 'ES256', 'PS256', 'RS512', '', null),
        kid: fc.oneof(fc.constant(kid), junk),
        typ: fc.constantFrom<unknown>('global-token-revocation+jwt', 'logout+jwt', 'JWT', 'application/logout+jwt', '', 7),
        iss: claimValue,
        sub: claimValue,
        aud: claimValue,
        iat: time,
        exp: time,
        nbf: time,
        jti: fc.oneof(fc.uuid(), junk),
        events: fc.constantFrom<unknown>({ [BACKCHANNEL_LOGOUT_EVENT]: {} }, {}, [], 'x', { [BACKCHANNEL_LOGOUT_EVENT]: 'x' }),
        nonce: junk,
        sid: junk,
        signature: fc.oneof(fc.constant(liftedSignature), fc.base64String({ maxLength: 40 }).map((v) => v.replace(/[+/=]/g, 'A')), fc.constant('')),
      },
      { requiredKeys: ['alg', 'signature'] },
    )
    .map(({ alg, kid: k, typ, signature, ...claims }) => `${b64(JSON.stringify({ alg, kid: k, typ }))}.${b64(JSON.stringify(claims))}.${signature}`);
  /** A token: JWT-shaped, a real ID token of this org (not a logout token), or junk. */
  const token = fc.oneof({ weight: 6, arbitrary: jwtish }, { weight: 1, arbitrary: fc.constant(idToken) }, { weight: 2, arbitrary: junk });
  const subId = fc.oneof<fc.Arbitrary<unknown>[]>(
    fc.record(
      { format: fc.constantFrom('email', 'iss_sub', 'opaque', 'EMAIL', ''), email: fc.oneof(fc.constant(USER.claims.email), junk), iss: fc.oneof(fc.constant(org.issuer), junk), sub: junk },
      { requiredKeys: [] },
    ),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const body = fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom('sub_id', 'subject', 'other'), subId).map(([member, value]) => JSON.stringify({ [member]: value })) },
    { weight: 3, arbitrary: fc.array(fc.tuple(fc.constantFrom('logout_token', 'logout_token', 'other', ''), token), { maxLength: 3 }).map((pairs) => new URLSearchParams(pairs).toString()) },
    { weight: 2, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    // Over the 64 KiB limit of every auth route.
    { weight: 1, arbitrary: fc.constant(`{"sub_id":{"format":"email","email":"${USER.claims.email}"},"pad":"${'x'.repeat(70 * 1024)}"}`) },
  );
  const authorization = fc.oneof(
    { weight: 5, arbitrary: token.map((t) => `Bearer ${t}`) },
    { weight: 1, arbitrary: token.map((t) => `bearer  ${t} `) },
    { weight: 1, arbitrary: token.map((t) => `Basic ${t}`) },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
    { weight: 2, arbitrary: fc.constant(undefined) },
  );
  return fc.record({
    method: fc.oneof({ weight: 8, arbitrary: fc.constant<'POST' | 'GET'>('POST') }, { weight: 1, arbitrary: fc.constant<'POST' | 'GET'>('GET') }),
    path: fc.constantFrom('/auth/universal-logout', '/auth/backchannel-logout', '/auth/universal-logout?x=1', '/auth/backchannel-logout/'),
    contentType: fc.constantFrom<string | undefined>('application/json', 'application/json; charset=utf-8', 'application/x-www-form-urlencoded', 'text/plain', 'application/jwt', 'multipart/form-data; boundary=x', undefined),
    authorization,
    body,
  });
}

describe('logout surfaces under random input', () => {
  it('never a 2xx or a 5xx, never a session cookie, and the app keeps serving', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(arbitraries(), async (r) => {
        const headers: Record<string, string> = {};
        if (r.contentType !== undefined) headers['content-type'] = r.contentType;
        if (r.authorization !== undefined) headers['authorization'] = headerSafe(r.authorization);
        const { host } = new URL(origin);
        const response = await hostRequest(origin, r.path, { host, method: r.method, headers, ...(r.method === 'POST' ? { body: r.body } : {}) });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(response.status, response.body.slice(0, 200)).toBeGreaterThanOrEqual(400);
        expect(response.status, response.body.slice(0, 200)).toBeLessThan(500);
        expect(response.setCookies).toEqual([]);
        expect(unexpected).toEqual([]);
      }),
      { numRuns: NUM_RUNS },
    );
    expect((await fetch(`${origin}/`)).status).toBe(200);
    // Both families of refusal were reached, not only the method check.
    expect(statuses.get(401) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
  });

  it('after the random input, a genuine Universal Logout and back-channel logout still succeed', async () => {
    expect((await org.control.universalLogout({ clientId: CLIENT_ID, endpoint: ul(), login: USER.login })).status).toBe(204);
    expect((await org.control.backchannelLogout({ clientId: CLIENT_ID, endpoint: bcl(), login: USER.login })).status).toBe(200);
  });
});
