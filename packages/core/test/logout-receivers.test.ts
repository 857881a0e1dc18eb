/**
 * The Universal Logout and Back-Channel Logout receivers of the flow layer in core
 * (docs/universal-logout.md), over HTTP, with the Okta org emulator sending the requests exactly as
 * Okta would (and its hostile variants). The app is `createOidcAuth` behind a bare node:http server
 * (fromWebRequest / toWebResponse), as an adapter would mount it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOidcAuth } from '../src/flow/auth';
import type { LogoutRequestInfo, OidcAuth, OidcAuthOptions } from '../src/flow/types';
import { fromWebRequest, toWebResponse } from '../src/flow/web';
import { MemoryRevocationList } from '../src/session/revocation-list';
import { MemoryCredentialStore } from '../src/tenant/credential-store';
import { FlowBrowser } from './support/flow-browser';

const SECRET = 'logout-receivers-secret-0123456789-0123456789';
const ALICE = { login: 'alice@acme.example', password: 'pw-alice', claims: { email: 'Alice@Acme.example' } };
const BOB = { login: 'bob@acme.example', password: 'pw-bob', claims: { email: 'bob@acme.example' } };

let org: OktaOrg;
let other: OktaOrg;
let server: Server;
let app = '';
/** The auth instance the server answers with (tests swap it). */
let current: OidcAuth;
/**
 * The flow's clock runs `aheadMs` ahead of the real one (which the emulator signs with): a test that
 * needs a sign-in strictly later than a revocation mark moves it on, instead of sleeping past the
 * millisecond and hoping the machine keeps up.
 */
let aheadMs = 0;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = new Request(`${app}${req.url}`, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: Buffer.concat(chunks) }),
    });
    const answer = await current.handle(fromWebRequest(request));
    const response = answer === null ? new Response('not found', { status: 404 }) : toWebResponse(answer);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  app = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = (id: string) => ({
    clientId: `app-${id}`,
    clientSecret: `${id}-secret-0123456789`,
    tokenEndpointAuthMethod: 'client_secret_basic' as const,
    redirectUris: [`${app}/auth/callback`],
  });
  org = await startOktaOrg({ clients: [client('acme'), client('beta'), client('simple')], users: [ALICE, BOB] });
  other = await startOktaOrg({ clients: [client('acme')], users: [ALICE] });
});
afterAll(async () => {
  await org?.close();
  await other?.close();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

function setup(extra: Partial<OidcAuthOptions> = {}) {
  const record = (id: string) => ({ id, issuer: org.issuer, clientId: `app-${id}`, clientSecret: `${id}-secret-0123456789`, redirectUris: [`${app}/auth/callback`] });
  const store = new MemoryCredentialStore([record('acme'), record('beta'), { ...record('simple'), allowSimplifiedFlow: true }]);
  aheadMs = 0;
  const client = { allowLoopbackIssuers: true, httpTimeoutMs: 2_000, now: () => Date.now() + aheadMs };
  current = createOidcAuth({ store, session: { secret: SECRET }, baseUrl: app, client, ...extra });
  return current;
}

class Browser extends FlowBrowser {
  constructor(auth: OidcAuth) {
    super(auth, app);
  }

  async signInAs(tenant: string, user: { login: string; password: string }) {
    const { driveAuthorization } = await import('@oin-oidc/testing');
    const login = await this.send('GET', `${app}/auth/login?tenant=${tenant}&login_hint=${encodeURIComponent(user.login)}`);
    const callback = await driveAuthorization(login.headers['Location']!, { login: user.login, password: user.password });
    return this.send(callback.method, callback.url, callback.body === undefined ? {} : { body: callback.body });
  }

  async session() {
    return (await this.auth.getSession(this.request('GET', `${app}/`))).session;
  }

  copy(): Browser {
    const twin = new Browser(this.auth);
    for (const [name, value] of this.cookies) twin.cookies.set(name, value);
    return twin;
  }
}

const endpoint = () => `${app}/auth/universal-logout`;
const backchannel = () => `${app}/auth/backchannel-logout`;

beforeEach(() => {
  org.control.resetCounters();
});

describe('Universal Logout', () => {
  it.each(['email', 'iss_sub'] as const)('ends every session of the user at that tenant, cookie copies included (%s) → 204', async (format) => {
    const auth = setup();
    const alice = new Browser(auth);
    await alice.signInAs('acme', ALICE);
    const aliceElsewhere = new Browser(auth);
    await aliceElsewhere.signInAs('acme', ALICE);
    const stolen = alice.copy();
    const bob = new Browser(auth);
    await bob.signInAs('acme', BOB);
    const aliceAtBeta = new Browser(auth);
    await aliceAtBeta.signInAs('beta', ALICE);
    expect((await org.control.universalLogout({ clientId: 'app-acme', endpoint: endpoint(), login: ALICE.login, format })).status).toBe(204);
    for (const browser of [alice, aliceElsewhere, stolen]) expect(await browser.session()).toBeNull();
    expect((await bob.session())?.tenant).toBe('acme');
    // Only the tenant the JWT's sub names: Alice's session at the other app instance stays.
    expect((await aliceAtBeta.session())?.tenant).toBe('beta');
    // A sign-in after the logout is a new session and works.
    const again = new Browser(auth);
    await again.signInAs('acme', ALICE);
    expect((await again.session())?.tenant).toBe('acme');
  });

  it('accepts the older body member name "subject"', async () => {
    const auth = setup();
    const alice = new Browser(auth);
    await alice.signInAs('acme', ALICE);
    expect((await org.control.universalLogout({ clientId: 'app-acme', endpoint: endpoint(), login: ALICE.login, format: 'iss_sub', member: 'subject' })).status).toBe(204);
    expect(await alice.session()).toBeNull();
  });

  it.each([
    ['unsigned', 401],
    ['wrong-key', 401],
    ['wrong-aud', 401],
    ['expired', 401],
    ['not-yet-valid', 401],
    ['other-org-issuer', 401],
    ['wrong-typ', 401],
    ['missing-auth', 401],
    ['malformed-body', 400],
    ['oversized-body', 413],
  ] as const)('refuses the %s variant with %i and revokes nothing', async (variant, status) => {
    const auth = setup();
    const alice = new Browser(auth);
    await alice.signInAs('acme', ALICE);
    const result = await org.control.universalLogout({ clientId: 'app-acme', endpoint: endpoint(), login: ALICE.login, variant });
    expect(result.status).toBe(status);
    expect((await alice.session())?.tenant).toBe('acme');
  });

  it("refuses a valid JWT from another org for a client id it does not own (401), and that org's own app is not ours", async () => {
    const auth = setup();
    const alice = new Browser(auth);
    await alice.signInAs('acme', ALICE);
    // `other` has a client with the same id, signed by its own keys: no tenant here has that issuer.
    expect((await other.control.universalLogout({ clientId: 'app-acme', endpoint: endpoint(), login: ALICE.login })).status).toBe(401);
    expect((await alice.session())?.tenant).toBe('acme');
  });

  it('lets the hook end app state, refuse as unknown (404) or failed (422), or add user ids', async () => {
    const seen: LogoutRequestInfo[] = [];
    let answer: 'unknown-user' | 'failed' | undefined = 'unknown-user';
    const auth = setup({
      onLogoutRequest: (request) => {
        seen.push(request);
        return answer;
      },
    });
    const alice = new Browser(auth);
    await alice.signInAs('acme', ALICE);
    expect((await org.control.universalLogout({ clientId: 'app-acme', endpoint: endpoint(), login: ALICE.login, format: 'iss_sub' })).status).toBe(404);
    answer = 'failed';
    expect((await org.control.universalLogout({ clientId: 'app-acme', endpoint: endpoint(), login: ALICE.login, format: 'iss_sub' })).status).toBe(422);
    expect((await alice.session())?.tenant).toBe('acme');
    answer = undefined;
    expect((await org.control.universalLogout({ clientId: 'app-acme', endpoint: endpoint(), login: ALICE.login, format: 'email' })).status).toBe(204);
    expect(await alice.session()).toBeNull();
    expect(seen.map((request) => [request.tenant.id, request.format])).toEqual([
      ['acme', 'iss_sub'],
      ['acme', 'iss_sub'],
      ['acme', 'email'],
    ]);
    expect(seen[2]!.email?.toLowerCase()).toBe('alice@acme.example');
  });

  it('refuses a replayed JWT with 401: a session signed in after the first request survives the replay', async () => {
    const auth = setup();
    const alice = new Browser(auth);
    await alice.signInAs('acme', ALICE);
    let fresh: Browser | undefined;
    const result = await org.control.universalLogout({
      clientId: 'app-acme',
      endpoint: endpoint(),
      login: ALICE.login,
      variant: 'replayed',
      beforeReplay: async (first) => {
        expect(first.status).toBe(204);
        fresh = new Browser(auth);
        // Signed in after the first request, so its issuedAt is later than the revocation mark.
        aheadMs += 1_000;
        await fresh.signInAs('acme', ALICE);
      },
    });
    expect(result.status).toBe(401);
    expect(await alice.session()).toBeNull();
    expect((await fresh!.session())?.tenant).toBe('acme');
  });

  it('refuses other methods with 405 and Allow: POST', async () => {
    setup();
    const response = await fetch(endpoint());
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('with a shared revocation list, a logout received by one process ends the session on another', async () => {
    const revocations = new MemoryRevocationList();
    const first = setup({ session: { secret: SECRET, revocations } });
    const second = setup({ session: { secret: SECRET, revocations } });
    const alice = new Browser(second);
    await alice.signInAs('acme', ALICE);
    current = first; // the emulator's request reaches the first process
    expect((await org.control.universalLogout({ clientId: 'app-acme', endpoint: endpoint(), login: ALICE.login, format: 'iss_sub' })).status).toBe(204);
    expect(await alice.session()).toBeNull();
  });

  it('accepts a JWT whose issuer is one of the tenant\'s issuerAliases, and no other', async () => {
    const store = new MemoryCredentialStore([
      { id: 'acme', issuer: other.issuer, issuerAliases: [org.issuer], clientId: 'app-acme', clientSecret: 'acme-secret-0123456789', redirectUris: [`${app}/auth/callback`] },
    ]);
    current = createOidcAuth({ store, session: { secret: SECRET }, baseUrl: app, client: { allowLoopbackIssuers: true } });
    // Signed by org (an alias), but the keys are fetched from the tenant's issuer (other): refused.
    expect((await org.control.universalLogout({ clientId: 'app-acme', endpoint: endpoint(), login: ALICE.login })).status).toBe(401);
    expect((await other.control.universalLogout({ clientId: 'app-acme', endpoint: endpoint(), login: ALICE.login })).status).toBe(204);
  });
});

describe('Back-Channel Logout 1.0', () => {
  it('ends the sessions of the logout token\'s sub → 200 no-store', async () => {
    const auth = setup();
    const alice = new Browser(auth);
    await alice.signInAs('acme', ALICE);
    const bob = new Browser(auth);
    await bob.signInAs('acme', BOB);
    const result = await org.control.backchannelLogout({ clientId: 'app-acme', endpoint: backchannel(), login: ALICE.login });
    expect(result.status).toBe(200);
    expect(result.body).toBe('');
    expect(await alice.session()).toBeNull();
    expect((await bob.session())?.tenant).toBe('acme');
  });

  it('ends only the session whose sid claim the token names (sid kept in session.claims)', async () => {
    const auth = setup({ session: { secret: SECRET, claims: ['email', 'sid'] } });
    // The org authorization server's ID tokens carry no sid; a simplified-flow ID token can (other OPs' do).
    const signInWithSid = async (sid: string) => {
      const browser = new Browser(auth);
      const idToken = await org.control.issueIdToken('app-simple', { login: ALICE.login, claims: { sid } });
      const response = await browser.send('POST', `${app}/auth/callback`, { body: `id_token=${idToken}`, headers: { origin: org.issuer, 'sec-fetch-site': 'cross-site' } });
      expect(response.status).toBe(302);
      expect((await browser.session())?.claims['sid']).toBe(sid);
      return browser;
    };
    const first = await signInWithSid('sid-first');
    const second = await signInWithSid('sid-second');
    const result = await org.control.backchannelLogout({ clientId: 'app-simple', endpoint: backchannel(), sid: 'sid-first', omitSub: true });
    expect(result.status).toBe(200);
    expect(await first.session()).toBeNull();
    expect((await second.session())?.tenant).toBe('simple');
  });

  it('refuses a replayed logout token with 400; a session signed in after the first survives', async () => {
    const auth = setup();
    const alice = new Browser(auth);
    await alice.signInAs('acme', ALICE);
    let fresh: Browser | undefined;
    const result = await org.control.backchannelLogout({
      clientId: 'app-acme',
      endpoint: backchannel(),
      login: ALICE.login,
      variant: 'replayed',
      beforeReplay: async (first) => {
        expect(first.status).toBe(200);
        // Signed in after the first request, so its issuedAt is later than the revocation mark.
        aheadMs += 1_000;
        fresh = new Browser(auth);
        await fresh.signInAs('acme', ALICE);
      },
    });
    expect(result.status).toBe(400);
    expect(await alice.session()).toBeNull();
    expect((await fresh!.session())?.tenant).toBe('acme');
  });

  it.each([
    'unsigned',
    'wrong-key',
    'wrong-aud',
    'expired',
    'not-yet-valid',
    'other-org-issuer',
    'wrong-typ',
    'malformed-body',
    'nonce-present',
    'no-events',
    'no-sub-or-sid',
  ] as const)('refuses the %s variant with 400 invalid_request and revokes nothing', async (variant) => {
    const auth = setup();
    const alice = new Browser(auth);
    await alice.signInAs('acme', ALICE);
    const result = await org.control.backchannelLogout({ clientId: 'app-acme', endpoint: backchannel(), login: ALICE.login, variant });
    expect(result.status).toBe(400);
    expect(JSON.parse(result.body)).toMatchObject({ error: 'invalid_request' });
    expect((await alice.session())?.tenant).toBe('acme');
  });
});
