/**
 * The flow layer end to end over HTTP against the Okta org emulator: handle() is driven with
 * OidcRequest objects built from URLs, and a small cookie jar plays the browser.
 */
import { driveAuthorization, type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isOidcError } from '../src/errors';
import { createOidcAuth } from '../src/flow/auth';
import type { OidcAuth, OidcAuthOptions } from '../src/flow/types';
import { fromWebRequest, toWebResponse } from '../src/flow/web';
import type { Session, SessionStore } from '../src/session/types';
import type { TenantRecord } from '../src/tenant/tenant';
import { FlowBrowser, errorCode, SAME_ORIGIN, sessionCookies } from './support/flow-browser';

const APP = 'http://127.0.0.1:4000';
class Browser extends FlowBrowser {
  constructor(auth: OidcAuth, basePath = '') {
    super(auth, APP, basePath);
  }
}
const HTTPS_APP = 'https://app.example.com';
const SECRET = 'flow-test-secret-0123456789-0123456789';
const USER = { login: 'alice@acme.example', password: 'pw', claims: { name: 'Alice Doe', email: 'alice@acme.example', given_name: 'Alice' } };

let org: OktaOrg;
let tenants: TenantRecord[];

beforeAll(async () => {
  org = await startOktaOrg({
    clients: [
      {
        clientId: 'app-acme',
        clientSecret: 'acme-secret',
        tokenEndpointAuthMethod: 'client_secret_basic',
        redirectUris: [`${APP}/auth/callback`, `${APP}/app/auth/callback`, `${HTTPS_APP}/auth/callback`],
        postLogoutRedirectUris: [`${APP}/`],
        initiateLoginUri: `${APP}/auth/initiate?tenant=acme`,
      },
      { clientId: 'app-simple', clientSecret: 'simple-secret', tokenEndpointAuthMethod: 'client_secret_post', redirectUris: [`${APP}/auth/callback`] },
      { clientId: 'app-beta', clientSecret: 'beta-secret', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [`${APP}/auth/callback`] },
    ],
    users: [USER],
  });
  tenants = [
    {
      id: 'acme',
      issuer: org.issuer,
      clientId: 'app-acme',
      clientSecret: 'acme-secret',
      redirectUris: [`${APP}/auth/callback`, `${APP}/app/auth/callback`, `${HTTPS_APP}/auth/callback`],
      postLogoutRedirectUris: [`${APP}/`],
      initiateLoginUri: `${APP}/auth/initiate?tenant=acme`,
    },
    {
      id: 'simple',
      issuer: org.issuer,
      clientId: 'app-simple',
      clientSecret: 'simple-secret',
      tokenEndpointAuthMethod: 'client_secret_post',
      redirectUris: [`${APP}/auth/callback`],
      allowSimplifiedFlow: true,
    },
    { id: 'beta', issuer: org.issuer, clientId: 'app-beta', clientSecret: 'beta-secret', redirectUris: [`${APP}/auth/callback`] },
  ];
});
afterAll(async () => {
  await org?.close();
});
beforeEach(() => {
  org.control.clearFaults();
  org.control.resetCounters();
});

function makeAuth(extra: Partial<OidcAuthOptions> = {}): OidcAuth {
  return createOidcAuth({ store: tenants, session: { secret: SECRET }, client: { httpTimeoutMs: 2_000, allowLoopbackIssuers: true }, ...extra });
}

describe('login', () => {
  it('redirects to the tenant authorize endpoint with PKCE, state, nonce, and a transaction cookie', async () => {
    const browser = new Browser(makeAuth());
    const response = await browser.send('GET', `${APP}/auth/login?tenant=acme&returnTo=/orders&login_hint=alice%40acme.example`);
    expect(response.status).toBe(302);
    expect(response.headers['Cache-Control']).toBe('no-store');
    const location = new URL(response.headers['Location']!);
    expect(`${location.origin}${location.pathname}`).toBe(`${org.issuer}/oauth2/v1/authorize`);
    const p = location.searchParams;
    expect(p.get('response_type')).toBe('code');
    expect(p.get('client_id')).toBe('app-acme');
    expect(p.get('redirect_uri')).toBe(`${APP}/auth/callback`);
    expect(p.get('scope')).toBe('openid profile email');
    expect(p.get('code_challenge_method')).toBe('S256');
    expect(p.get('login_hint')).toBe('alice@acme.example');
    for (const name of ['state', 'nonce', 'code_challenge']) expect(p.get(name)?.length).toBeGreaterThanOrEqual(43);
    // Loopback http: no Secure, so SameSite=Lax (same-site across ports); no __Host- prefix.
    expect(response.setCookies).toEqual([expect.stringMatching(/^oin_tx_[A-Za-z0-9_-]{8}=[A-Za-z0-9_.-]+; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax$/)]);
  });

  it('answers an unknown tenant with 404 and a missing one with 400, naming the code', async () => {
    const browser = new Browser(makeAuth());
    const unknown = await browser.send('GET', `${APP}/auth/login?tenant=nope`);
    expect(unknown.status).toBe(404);
    expect(errorCode(unknown)).toBe('ERR_OIDC_TENANT_UNKNOWN');
    expect(unknown.setCookies).toEqual([]);
    const missing = await browser.send('GET', `${APP}/auth/login`, { headers: { accept: 'application/json' } });
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.body!)).toMatchObject({ error: 'ERR_OIDC_INVALID_REQUEST' });
  });

  it('reduces an off-site returnTo to / (AR-07)', async () => {
    const browser = new Browser(makeAuth());
    const done = await browser.signIn('acme', '//evil.example/x');
    expect(done.headers['Location']).toBe('/');
  });

  it('on https sets the transaction cookie Secure with the __Host- prefix (SameSite=None only for form_post), and the session Secure; SameSite=Lax (FP-01, CK-05, SA-08)', async () => {
    const formPost = await new Browser(makeAuth({ responseMode: 'form_post' })).send('GET', `${HTTPS_APP}/auth/login?tenant=acme`);
    expect(formPost.setCookies).toEqual([expect.stringMatching(/^__Host-oin_tx_[A-Za-z0-9_-]{8}=[^;]+; Path=\/; Max-Age=600; HttpOnly; Secure; SameSite=None$/)]);
    const browser = new Browser(makeAuth());
    const login = await browser.send('GET', `${HTTPS_APP}/auth/login?tenant=acme`);
    expect(new URL(login.headers['Location']!).searchParams.get('redirect_uri')).toBe(`${HTTPS_APP}/auth/callback`);
    expect(login.setCookies).toEqual([expect.stringMatching(/^__Host-oin_tx_[A-Za-z0-9_-]{8}=[^;]+; Path=\/; Max-Age=600; HttpOnly; Secure; SameSite=Lax$/)]);
    const done = await browser.complete(login);
    expect(done.status).toBe(302);
    expect(sessionCookies(done)).toEqual([expect.stringMatching(/^__Host-oin_session=[^;]+; Path=\/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax$/)]);
    expect(done.setCookies.join('\n')).not.toMatch(/Domain=/i);
  });
});

describe('callback', () => {
  it('signs in: new session cookie, transaction cookie deleted, 302 to returnTo, session readable', async () => {
    const auth = makeAuth();
    const browser = new Browser(auth);
    const done = await browser.signIn('acme', '/orders?id=7');
    expect(done.status).toBe(302);
    expect(done.headers['Location']).toBe('/orders?id=7');
    expect(done.headers['Cache-Control']).toBe('no-store');
    expect(done.setCookies.some((c) => /^oin_tx_[^=]+=; .*Max-Age=0/.test(c))).toBe(true);
    expect(sessionCookies(done)).toHaveLength(1);
    expect(browser.has('oin_tx_')).toBe(false);

    const { session, setCookies } = await auth.getSession(browser.request('GET', `${APP}/`));
    expect(setCookies).toEqual([]);
    expect(session).toMatchObject({ tenant: 'acme', claims: { name: 'Alice Doe', email: 'alice@acme.example', given_name: 'Alice' } });
    expect(session!.sub).toMatch(/.+/);
    expect(session!.idToken).toMatch(/^eyJ/);
  });

  it('supports response_mode=form_post (POST callback) and refuses the other method (CB-13)', async () => {
    const auth = makeAuth({ responseMode: 'form_post' });
    const browser = new Browser(auth);
    const login = await browser.send('GET', `${APP}/auth/login?tenant=acme`);
    expect(new URL(login.headers['Location']!).searchParams.get('response_mode')).toBe('form_post');
    const callback = await driveAuthorization(login.headers['Location']!);
    expect(callback.method).toBe('POST');
    const done = await browser.send('POST', callback.url, { body: callback.body! });
    expect(done.status).toBe(302);
    expect(sessionCookies(done)).toHaveLength(1);

    // Same transaction, but the response arrives as a GET query.
    const other = new Browser(auth);
    const login2 = await other.send('GET', `${APP}/auth/login?tenant=acme`);
    const cb2 = await driveAuthorization(login2.headers['Location']!);
    const asGet = await other.send('GET', `${cb2.url.origin}${cb2.url.pathname}?${cb2.body}`);
    expect(asGet.status).toBe(400);
    expect(errorCode(asGet)).toBe('ERR_OIDC_CALLBACK_INVALID');
    expect(sessionCookies(asGet)).toEqual([]);
    expect(org.control.counters().token).toBe(1); // only the successful one
  });

  it('keeps concurrent logins in two tabs apart (AR-09, CK-09)', async () => {
    const browser = new Browser(makeAuth());
    const first = await browser.send('GET', `${APP}/auth/login?tenant=acme&returnTo=/one`);
    const second = await browser.send('GET', `${APP}/auth/login?tenant=beta&returnTo=/two`);
    expect([...browser.cookies.keys()].filter((n) => n.startsWith('oin_tx_'))).toHaveLength(2);
    const doneSecond = await browser.complete(second);
    expect(doneSecond.headers['Location']).toBe('/two');
    // The first tab's sign-in would replace the second's session of another tenant: confirmed first (SA-13).
    const held = await browser.complete(first);
    expect(held.status).toBe(409);
    const doneFirst = await browser.decideSwitch(held, 'continue');
    expect(doneFirst.headers['Location']).toBe('/one');
    const { session } = await browser.auth.getSession(browser.request('GET', `${APP}/`));
    expect(session?.tenant).toBe('acme');
  });

  it('refuses a state mismatch: no session cookie, no token request, and the login in flight is left alone (CB-01, SA-08)', async () => {
    const browser = new Browser(makeAuth());
    const login = await browser.send('GET', `${APP}/auth/login?tenant=acme`);
    const callback = await driveAuthorization(login.headers['Location']!);
    const real = new URL(callback.url);
    callback.url.searchParams.set('state', 'A'.repeat(43));
    const response = await browser.send('GET', callback.url);
    expect(response.status).toBe(400);
    expect(errorCode(response)).toBe('ERR_OIDC_STATE_MISMATCH');
    expect(sessionCookies(response)).toEqual([]);
    // A forged callback consumes nothing: the transaction its state does not name stays.
    expect(response.setCookies).toEqual([]);
    expect(browser.has('oin_tx_')).toBe(true);
    expect(org.control.counters().token).toBe(0);
    // The real callback still completes.
    expect((await browser.send('GET', real)).status).toBe(302);
  });

  it('refuses a callback without its transaction cookie, and one without state (CB-02, CB-03, CB-04)', async () => {
    const auth = makeAuth();
    const starter = new Browser(auth);
    const login = await starter.send('GET', `${APP}/auth/login?tenant=acme`);
    const callback = await driveAuthorization(login.headers['Location']!);
    const victim = new Browser(auth); // another browser: no transaction cookie
    const response = await victim.send('GET', callback.url, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body!)).toMatchObject({ error: 'ERR_OIDC_TRANSACTION_INVALID' });
    expect(sessionCookies(response)).toEqual([]);

    callback.url.searchParams.delete('state');
    const noState = await starter.send('GET', callback.url);
    expect(noState.status).toBe(400);
    expect(errorCode(noState)).toBe('ERR_OIDC_STATE_MISSING');
    expect(starter.has('oin_tx_')).toBe(true); // no state names no cookie: nothing is deleted (SA-08)
    expect(org.control.counters().token).toBe(0);
  });

  it('never processes a replayed callback: 400 without a session, 302 home with one, and no second token request (CB-08)', async () => {
    const auth = makeAuth();
    const browser = new Browser(auth);
    const login = await browser.send('GET', `${APP}/auth/login?tenant=acme`);
    const jarBefore = new Map(browser.cookies);
    const callback = await driveAuthorization(login.headers['Location']!);
    const done = await browser.send('GET', callback.url);
    expect(done.status).toBe(302);
    expect(org.control.counters().token).toBe(1);

    const again = await browser.send('GET', callback.url); // signed in: back button
    expect(again.status).toBe(302);
    expect(again.headers['Location']).toBe('/');
    expect(sessionCookies(again)).toEqual([]);

    const attacker = new Browser(auth);
    for (const [n, v] of jarBefore) attacker.cookies.set(n, v); // even with the old transaction cookie…
    const replay = await attacker.send('GET', callback.url);
    expect(replay.status).toBe(400); // …Okta refuses the used code
    expect(sessionCookies(replay)).toEqual([]);
    const noTx = await new Browser(auth).send('GET', callback.url);
    expect(noTx.status).toBe(400);
    expect(sessionCookies(noTx)).toEqual([]);
  });

  it('shows an escaped error page for ?error=… and a JSON body when JSON is preferred (CB-06)', async () => {
    const browser = new Browser(makeAuth());
    const login = await browser.send('GET', `${APP}/auth/login?tenant=acme`);
    const state = new URL(login.headers['Location']!).searchParams.get('state')!;
    const url = `${APP}/auth/callback?error=access_denied&error_description=${encodeURIComponent('<script>alert(1)</script>')}&state=${state}&iss=${encodeURIComponent(org.issuer)}&error_uri=https://evil.example`;
    const page = await browser.send('GET', url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(400);
    expect(page.headers['Content-Type']).toBe('text/html; charset=utf-8');
    expect(page.headers['Cache-Control']).toBe('no-store');
    expect(errorCode(page)).toBe('ERR_OIDC_AUTHORIZATION_DENIED');
    expect(page.body).not.toContain('<script>');
    expect(page.body).not.toContain('evil.example');
    expect(sessionCookies(page)).toEqual([]);
  });

  it('maps Okta trouble at the token endpoint to 503 with Retry-After, and no session (HF-01, TK-02)', async () => {
    const browser = new Browser(makeAuth());
    const login = await browser.send('GET', `${APP}/auth/login?tenant=acme`);
    const callback = await driveAuthorization(login.headers['Location']!);
    org.control.fault('token', { type: 'rate-limit', resetInSec: 30 });
    const response = await browser.send('GET', callback.url);
    expect(response.status).toBe(503);
    expect(errorCode(response)).toBe('ERR_OIDC_RATE_LIMITED');
    expect(Number(response.headers['Retry-After'])).toBeGreaterThan(0);
    expect(sessionCookies(response)).toEqual([]);
  });

  it('maps an HTML answer from Okta to 502, a 5xx to 503 and a hanging token endpoint to 504 (TK-02, HF-04)', async () => {
    const auth = makeAuth({ client: { httpTimeoutMs: 300, allowLoopbackIssuers: true } });
    for (const [fault, status, code] of [
      [{ type: 'html' }, 502, 'ERR_OIDC_HTTP_ERROR'],
      [{ type: 'status', status: 500 }, 503, 'ERR_OIDC_UNAVAILABLE'],
      [{ type: 'hang' }, 504, 'ERR_OIDC_HTTP_TIMEOUT'],
    ] as const) {
      const browser = new Browser(auth);
      const login = await browser.send('GET', `${APP}/auth/login?tenant=acme`);
      const callback = await driveAuthorization(login.headers['Location']!);
      org.control.fault('token', fault);
      const response = await browser.send('GET', callback.url);
      org.control.clearFaults();
      expect(response.status).toBe(status);
      expect(errorCode(response)).toBe(code);
      expect(sessionCookies(response)).toEqual([]);
      expect(browser.has('oin_tx_')).toBe(false);
    }
  });

  it('replaces a planted or previous session with a new id on login (CK-01, CK-02)', async () => {
    const auth = makeAuth();
    const browser = new Browser(auth);
    browser.cookies.set('oin_session', 'planted.value');
    await browser.signIn('acme');
    const first = (await auth.getSession(browser.request('GET', `${APP}/`))).session!;
    expect(browser.cookies.get('oin_session')).not.toBe('planted.value');
    await browser.decideSwitch(await browser.signIn('beta'), 'continue');
    const second = (await auth.getSession(browser.request('GET', `${APP}/`))).session!;
    expect(second.id).not.toBe(first.id);
    expect(second.tenant).toBe('beta');
  });
});

describe('simplified flow', () => {
  it('signs in with an ID token posted without state when the tenant allows it, once (FP-03, FP-07)', async () => {
    const browser = new Browser(makeAuth());
    const { fields } = await org.control.simplifiedSignIn('app-simple');
    const body = new URLSearchParams(fields).toString();
    const done = await browser.send('POST', `${APP}/auth/callback`, { body, headers: { origin: org.issuer } });
    expect(done.status).toBe(302);
    expect(done.headers['Location']).toBe('/');
    expect(sessionCookies(done)).toHaveLength(1);
    expect((await browser.auth.getSession(browser.request('GET', `${APP}/`))).session?.tenant).toBe('simple');

    const replay = await new Browser(browser.auth).send('POST', `${APP}/auth/callback`, { body, headers: { origin: org.issuer } });
    expect(replay.status).toBe(400);
    expect(errorCode(replay)).toBe('ERR_OIDC_ID_TOKEN_REPLAYED');
    expect(sessionCookies(replay)).toEqual([]);
  });

  it('refuses it for a tenant that does not allow it', async () => {
    const browser = new Browser(makeAuth());
    const { fields } = await org.control.simplifiedSignIn('app-acme');
    const response = await browser.send('POST', `${APP}/auth/callback`, { body: new URLSearchParams(fields).toString(), headers: { origin: org.issuer } });
    expect(response.status).toBe(400);
    expect(errorCode(response)).toBe('ERR_OIDC_SIMPLIFIED_FLOW_DISABLED');
    expect(sessionCookies(response)).toEqual([]);
  });
});

describe('initiate', () => {
  it('starts a login from iss by GET and by POST, keeping a same-origin target_link_uri and ignoring an off-site one (TP-07, TP-04)', async () => {
    const browser = new Browser(makeAuth());
    const url = org.control.initiateLoginUrl('app-acme', { loginHint: 'alice@acme.example', targetLinkUri: `${APP}/reports?q=1` });
    const response = await browser.send('GET', url);
    expect(response.body).toBeNull();
    expect(response.status).toBe(302);
    const location = new URL(response.headers['Location']!);
    expect(`${location.origin}${location.pathname}`).toBe(`${org.issuer}/oauth2/v1/authorize`);
    expect(location.searchParams.get('login_hint')).toBe('alice@acme.example');
    const done = await browser.complete(response);
    expect(done.headers['Location']).toBe('/reports?q=1');

    const post = await browser.send('POST', `${APP}/auth/initiate`, {
      body: new URLSearchParams({ iss: org.issuer, tenant: 'acme', target_link_uri: 'https://evil.example/x' }).toString(),
    });
    expect(post.status).toBe(302);
    expect((await browser.complete(post)).headers['Location']).toBe('/');
  });

  it('refuses an unknown iss without calling any endpoint (TP-01)', async () => {
    const browser = new Browser(makeAuth());
    const response = await browser.send('GET', `${APP}/auth/initiate?iss=${encodeURIComponent('https://attacker.example')}`);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(errorCode(response)).toMatch(/^ERR_OIDC_/);
    expect(response.setCookies).toEqual([]);
    expect(Object.values(org.control.counters() as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(0);
  });
});

describe('logout', () => {
  it('clears the session first, then redirects to the org logout with id_token_hint, post_logout_redirect_uri and state (LO-01, LO-03, LO-04)', async () => {
    const auth = makeAuth();
    const browser = new Browser(auth);
    await browser.signIn('acme');
    const idToken = (await auth.getSession(browser.request('GET', `${APP}/`))).session!.idToken!;
    const response = await browser.send('GET', `${APP}/auth/logout?post_logout_redirect_uri=https://evil.example`, { headers: SAME_ORIGIN });
    expect(response.status).toBe(302);
    expect(response.headers['Cache-Control']).toBe('no-store');
    const location = new URL(response.headers['Location']!);
    expect(`${location.origin}${location.pathname}`).toBe(`${org.issuer}/oauth2/v1/logout`);
    expect(location.searchParams.get('id_token_hint')).toBe(idToken);
    expect(location.searchParams.get('post_logout_redirect_uri')).toBe(`${APP}/`);
    expect(location.searchParams.get('state')).toMatch(/.{16,}/);
    expect(response.setCookies).toEqual([expect.stringMatching(/^oin_session=; Path=\/; Max-Age=0;/)]);
    expect(browser.has('oin_session')).toBe(false);
    expect((await auth.getSession(browser.request('GET', `${APP}/`))).session).toBeNull();
  });

  it('redirects to the normalised afterLogoutPath, the string its check judged (SA-10)', async () => {
    const response = await new Browser(makeAuth({ afterLogoutPath: '/x/./y/../bye' })).send('GET', `${APP}/auth/logout`);
    expect(response.headers['Location']).toBe('/x/bye');
  });

  it('redirects to afterLogoutPath when not signed in', async () => {
    const response = await new Browser(makeAuth({ afterLogoutPath: '/bye' })).send('GET', `${APP}/auth/logout`);
    expect(response.status).toBe(302);
    expect(response.headers['Location']).toBe('/bye');
  });
});

describe('server-side session store', () => {
  it('keeps only the sealed id in the cookie, and logout deletes the entry before redirecting (LO-01)', async () => {
    const entries = new Map<string, Session>();
    const store: SessionStore = {
      get: async (id) => entries.get(id),
      set: async (id, session) => {
        entries.set(id, session);
      },
      delete: async (id) => {
        entries.delete(id);
      },
    };
    const auth = makeAuth({ session: { secret: [SECRET], store } });
    const browser = new Browser(auth);
    await browser.signIn('acme');
    expect(entries.size).toBe(1);
    const [stored] = [...entries.values()];
    const cookie = browser.cookies.get('oin_session')!;
    expect(cookie.length).toBeLessThan(400); // no ID token, no claims in the cookie
    expect((await auth.getSession(browser.request('GET', `${APP}/`))).session).toEqual(stored);

    const stolen = browser.request('GET', `${APP}/`);
    const out = await browser.send('GET', `${APP}/auth/logout`, { headers: SAME_ORIGIN });
    expect(new URL(out.headers['Location']!).searchParams.get('id_token_hint')).toBe(stored!.idToken);
    expect(entries.size).toBe(0);
    expect((await auth.getSession(stolen)).session).toBeNull(); // the old cookie no longer works anywhere
  });
});

describe('routing', () => {
  it('returns null off the auth routes, 405 with Allow for other methods, and matches under a base path', async () => {
    const auth = makeAuth();
    expect(await auth.handle(new Browser(auth).request('GET', `${APP}/other`))).toBeNull();
    const put = await new Browser(auth).send('PUT', `${APP}/auth/callback`);
    expect(put.status).toBe(405);
    expect(put.headers['Allow']).toBe('GET, POST');
    expect(put.headers['Cache-Control']).toBe('no-store');
    expect(errorCode(put)).toBe('ERR_OIDC_METHOD_NOT_ALLOWED');

    const mounted = new Browser(auth, '/app');
    expect(await auth.handle(mounted.request('GET', `${APP}/auth/login?tenant=acme`))).toBeNull();
    const login = await mounted.send('GET', `${APP}/app/auth/login?tenant=acme&returnTo=/app/home`);
    expect(new URL(login.headers['Location']!).searchParams.get('redirect_uri')).toBe(`${APP}/app/auth/callback`);
    const done = await mounted.complete(login);
    expect(done.headers['Location']).toBe('/app/home');
  });

  it('resolves the tenant from the path, the subdomain, or a function', async () => {
    const byPath = await new Browser(makeAuth({ tenant: 'path' })).send('GET', `${APP}/auth/login/beta`);
    expect(new URL(byPath.headers['Location']!).searchParams.get('client_id')).toBe('app-beta');
    const bySub = await new Browser(makeAuth({ tenant: 'subdomain' })).send('GET', 'http://beta.localhost:4000/auth/login');
    expect(bySub.status).toBe(302);
    expect(new URL(bySub.headers['Location']!).searchParams.get('client_id')).toBe('app-beta');
    const byFn = await new Browser(makeAuth({ tenant: (req) => req.headers.get('x-tenant') ?? undefined })).send('GET', `${APP}/auth/login`, {
      headers: { 'x-tenant': 'acme' },
    });
    expect(new URL(byFn.headers['Location']!).searchParams.get('client_id')).toBe('app-acme');
  });

  it('turns an unexpected error into a generic 500 without detail and reports it to onError (LG-03)', async () => {
    const seen: unknown[] = [];
    const auth = makeAuth({
      tenant: () => {
        throw new Error('secret internal detail');
      },
      onError: (error) => seen.push(error),
    });
    const response = await new Browser(auth).send('GET', `${APP}/auth/login`);
    expect(response.status).toBe(500);
    expect(response.body).not.toContain('secret internal detail');
    expect(seen).toHaveLength(1);
  });
});

describe('requireSession', () => {
  it('returns the session when signed in, and refuses a session of another tenant (MT-08, MT-05)', async () => {
    const auth = makeAuth();
    const browser = new Browser(auth);
    await browser.signIn('acme');
    const ok = await auth.requireSession(browser.request('GET', `${APP}/dashboard?tenant=acme`));
    expect('session' in ok && ok.session.tenant).toBe('acme');
    const other = await auth.requireSession(browser.request('GET', `${APP}/dashboard?tenant=beta`));
    expect('response' in other && other.response.status).toBe(302);
  });

  it('redirects pages to login with returnTo and tenant, and answers APIs with 401 JSON', async () => {
    const auth = makeAuth();
    const browser = new Browser(auth);
    const page = await auth.requireSession(browser.request('GET', `${APP}/orders?id=7&tenant=acme`, { headers: { accept: 'text/html' } }));
    if (!('response' in page)) throw new Error('expected a response');
    expect(page.response.status).toBe(302);
    const location = new URL(page.response.headers['Location']!, APP);
    expect(location.pathname).toBe('/auth/login');
    expect(location.searchParams.get('returnTo')).toBe('/orders?id=7&tenant=acme');
    expect(location.searchParams.get('tenant')).toBe('acme');

    const api = await auth.requireSession(browser.request('GET', `${APP}/me`, { headers: { accept: 'application/json' } }));
    if (!('response' in api)) throw new Error('expected a response');
    expect(api.response.status).toBe(401);
    expect(JSON.parse(api.response.body!)).toMatchObject({ error: 'ERR_OIDC_SESSION_MISSING' });
    const post = await auth.requireSession(browser.request('POST', `${APP}/form`));
    expect('response' in post && post.response.status).toBe(401);
    const status = async (accept: string) => {
      const result = await auth.requireSession(browser.request('GET', `${APP}/x`, { headers: { accept } }));
      return 'response' in result ? result.response.status : 200;
    };
    expect(await status('application/json, text/plain, */*')).toBe(401); // axios
    expect(await status('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toBe(302); // browsers
    expect(await status('*/*')).toBe(302);
    expect(await status('text/html;q=0.5, application/json;q=0.9')).toBe(401);
  });

  it('treats a tampered session cookie as signed out and deletes it (CK-04)', async () => {
    const auth = makeAuth();
    const browser = new Browser(auth);
    await browser.signIn('acme');
    const value = browser.cookies.get('oin_session')!;
    browser.cookies.set('oin_session', value.slice(0, 40) + (value[40] === 'A' ? 'B' : 'A') + value.slice(41));
    const read = await auth.getSession(browser.request('GET', `${APP}/`));
    expect(read.session).toBeNull();
    expect(read.setCookies).toEqual([expect.stringMatching(/^oin_session=; .*Max-Age=0/)]);
  });
});

describe('requireAccessToken', () => {
  it('accepts an active token, introspected at the tenant', async () => {
    const auth = makeAuth();
    const token = await org.control.issueAccessToken('app-acme');
    const result = await auth.requireAccessToken(new Browser(auth).request('GET', `${APP}/api/me?tenant=acme`, { headers: { authorization: `Bearer ${token}` } }));
    if ('response' in result) throw new Error(`expected a token, got ${result.response.status} ${result.response.body}`);
    expect(result.tenant.id).toBe('acme');
    expect(result.token.active).toBe(true);
    expect(result.token.client_id).toBe('app-acme');
    // scheme is case-insensitive (RFC 6750 §2.1 via RFC 9110 §11.1)
    const lower = await auth.requireAccessToken(new Browser(auth).request('GET', `${APP}/api/me`, { headers: { authorization: `bearer ${token}` } }), {
      tenantId: 'acme',
    });
    expect('token' in lower).toBe(true);
  });

  it('answers 401 with a bare challenge when no token is sent, and invalid_token when malformed or inactive (IN-01)', async () => {
    const auth = makeAuth();
    const check = async (authorization?: string) => {
      const result = await auth.requireAccessToken(
        new Browser(auth).request('GET', `${APP}/api/me?tenant=acme`, { headers: authorization === undefined ? {} : { authorization } }),
      );
      if (!('response' in result)) throw new Error('expected a response');
      return result.response;
    };
    const missing = await check();
    expect(missing.status).toBe(401);
    expect(missing.headers['WWW-Authenticate']).toBe('Bearer realm="oin-oidc"');
    expect(JSON.parse(missing.body!)).toMatchObject({ error: 'ERR_OIDC_ACCESS_TOKEN_MISSING' });
    expect((await check('Basic dXNlcjpwYXNz')).headers['WWW-Authenticate']).toBe('Bearer realm="oin-oidc"');
    for (const malformed of ['Bearer', 'Bearer  two-spaces', 'Bearer a b', 'Bearer tok, Bearer other', 'Bearer t\u00e9st']) {
      const response = await check(malformed);
      expect(response.status).toBe(401);
      expect(response.headers['WWW-Authenticate']).toBe('Bearer realm="oin-oidc", error="invalid_token"');
    }
    expect(org.control.counters().introspect).toBe(0);
    // Not a JWT of this org and client: refused by triage, without spending Okta's budget (SA-01).
    const junk = await check('Bearer not-a-real-token');
    expect(junk.status).toBe(401);
    expect(junk.headers['WWW-Authenticate']).toBe('Bearer realm="oin-oidc", error="invalid_token"');
    expect(JSON.parse(junk.body!)).toMatchObject({ error: 'ERR_OIDC_ACCESS_TOKEN_INVALID' });
    expect(org.control.counters().introspect).toBe(0);
  });

  it('answers 503 with Retry-After when Okta rate-limits introspection (never fails open) (IN-07, HF-01)', async () => {
    const auth = makeAuth();
    const token = await org.control.issueAccessToken('app-acme');
    org.control.fault('introspect', { type: 'rate-limit', resetInSec: 20 });
    const result = await auth.requireAccessToken(new Browser(auth).request('GET', `${APP}/api/me?tenant=acme`, { headers: { authorization: `Bearer ${token}` } }));
    if (!('response' in result)) throw new Error('expected a response');
    expect(result.response.status).toBe(503);
    expect(Number(result.response.headers['Retry-After'])).toBeGreaterThan(0);
    expect(JSON.parse(result.response.body!)).toMatchObject({ error: 'ERR_OIDC_RATE_LIMITED' });
  });
});

describe('options', () => {
  it('refuses a short secret and unknown keys, naming the field', () => {
    const codeAndMessage = (options: unknown) => {
      try {
        createOidcAuth(options as OidcAuthOptions);
        return 'no error';
      } catch (error) {
        if (!isOidcError(error)) throw error;
        return `${error.code} ${error.message}`;
      }
    };
    expect(codeAndMessage({ store: tenants, session: { secret: 'short' } })).toMatch(/^ERR_OIDC_INVALID_OPTIONS .*session\.secret/);
    expect(codeAndMessage({ store: tenants, session: { secret: [SECRET, 'short'] } })).toMatch(/^ERR_OIDC_INVALID_OPTIONS .*session\.secret\.1/);
    expect(codeAndMessage({ store: tenants, session: { secret: SECRET }, tenant: 'cookie' })).toMatch(/^ERR_OIDC_INVALID_OPTIONS .*tenant/);
    expect(codeAndMessage({ store: tenants, session: { secret: SECRET, rollingSec: 'x' } })).toMatch(/session\.rollingSec/);
    expect(codeAndMessage({ store: tenants, session: { secret: SECRET }, afterLogoutPath: '//evil.example' })).toMatch(/afterLogoutPath/);
    expect(codeAndMessage({ store: tenants, session: { secret: SECRET }, routes: { login: '/auth/x', callback: '/auth/x' } })).toMatch(/routes/);
    expect(codeAndMessage({ store: tenants, session: { secret: SECRET }, typo: 1 })).toMatch(/^ERR_OIDC_INVALID_OPTIONS/);
  });
});

describe('Web Request/Response helpers', () => {
  it('round-trips through fromWebRequest and keeps every Set-Cookie in toWebResponse', async () => {
    const auth = makeAuth();
    const browser = new Browser(auth);
    await browser.signIn('acme');
    const login = await auth.handle(fromWebRequest(new Request(`${APP}/auth/login?tenant=beta`, { headers: { cookie: browser.request('GET', APP).headers.get('cookie')! } })));
    expect(login?.status).toBe(302);
    const response = toWebResponse({ status: 302, headers: { Location: '/x' }, setCookies: ['a=1; Path=/', 'b=2; Path=/'], body: null });
    expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(response.headers.get('location')).toBe('/x');
  });

  it('caps the body it reads', async () => {
    const request = fromWebRequest(new Request(`${APP}/auth/callback`, { method: 'POST', body: 'x'.repeat(70_000) }));
    await expect(request.readBody()).rejects.toMatchObject({ code: 'ERR_OIDC_PAYLOAD_TOO_LARGE' });
    const ok = fromWebRequest(new Request(`${APP}/auth/callback`, { method: 'POST', body: 'a=1' }));
    expect(await ok.readBody()).toBe('a=1');
    expect(await ok.readBody()).toBe('a=1'); // read once, cached
  });
});
