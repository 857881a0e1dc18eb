import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeOrg, driveAuthorization, type EmulatorClient, type OktaOrg, startOktaOrg } from '../src/index';
import { authorizeUrl, clientPost, pkce, REDIRECT, USERS } from './_support/emulator';

let org: OktaOrg;
const basic: EmulatorClient = {
  clientId: 'rotating-basic',
  tokenEndpointAuthMethod: 'client_secret_basic',
  clientSecrets: [
    { value: 'new-secret', active: true },
    { value: 'old-secret', active: true },
  ],
  redirectUris: [REDIRECT, 'http://127.0.0.1:9/second'],
  postLogoutRedirectUris: ['http://127.0.0.1:9/signed-out'],
  initiateLoginUri: 'http://127.0.0.1:9/auth/initiate',
};
const post: EmulatorClient = {
  clientId: 'rotating-post',
  tokenEndpointAuthMethod: 'client_secret_post',
  clientSecrets: [
    { value: 'post-new', active: true },
    { value: 'post-old', active: true },
  ],
  redirectUris: [REDIRECT],
};

beforeAll(async () => {
  org = await startOktaOrg({ name: 'control-org', clients: [basic, post], users: USERS });
});
afterAll(() => org.close());
beforeEach(() => {
  org.control.clearFaults();
  org.control.resetCounters();
});

const introspectAs = (client: EmulatorClient, secret: string) => clientPost(org, '/oauth2/v1/introspect', { client, secret }, { token: 'unknown' });
const admin = (path: string, init?: RequestInit) => fetch(`${org.adminUrl}${path}`, init);
const adminJson = (path: string, body: unknown, method = 'POST') =>
  admin(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('client secret rotation', () => {
  for (const [client, [current, previous]] of [
    [basic, ['new-secret', 'old-secret']],
    [post, ['post-new', 'post-old']],
  ] as const) {
    it(`${client.tokenEndpointAuthMethod}: both active secrets work; a deactivated one gets 401 invalid_client`, async () => {
      await org.control.setClientSecrets(client.clientId, [
        { value: current, active: true },
        { value: previous, active: true },
      ]);
      expect((await introspectAs(client, current)).status).toBe(200);
      expect((await introspectAs(client, previous)).status).toBe(200);

      await org.control.setClientSecrets(client.clientId, [
        { value: current, active: true },
        { value: previous, active: false },
      ]);
      const refused = await introspectAs(client, previous);
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { error: string }).error).toBe('invalid_client');
      expect((await introspectAs(client, current)).status).toBe(200);
      expect((await introspectAs(client, 'never-registered')).status).toBe(401);
    });
  }

  it('completes a token exchange with the second active secret', async () => {
    await org.control.setClientSecrets('rotating-basic', [
      { value: 'new-secret', active: true },
      { value: 'old-secret', active: true },
    ]);
    const { verifier, challenge } = await pkce();
    const callback = await driveAuthorization(authorizeUrl(org.issuer, { client_id: 'rotating-basic', code_challenge: challenge, code_challenge_method: 'S256' }));
    const res = await clientPost(org, '/oauth2/v1/token', { client: basic, secret: 'old-secret' }, {
      grant_type: 'authorization_code',
      code: callback.url.searchParams.get('code')!,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });
    expect(res.status).toBe(200);
  });

  it('sets secrets over POST /__admin/clients/:id/secrets and refuses more than two active', async () => {
    const ok = await adminJson('/clients/rotating-basic/secrets', { secrets: [{ value: 'third', active: true }] });
    expect(ok.status).toBe(200);
    expect((await introspectAs(basic, 'third')).status).toBe(200);
    expect((await introspectAs(basic, 'new-secret')).status).toBe(401);
    expect(describeOrg(org).clients.find((c) => c.clientId === 'rotating-basic')?.secrets).toEqual([{ value: 'third', active: true }]);
    const config = (await (await admin('/config')).json()) as { issuer: string; clients: EmulatorClient[] };
    expect(config.issuer).toBe(org.issuer);
    expect(config.clients.find((c) => c.clientId === 'rotating-basic')?.clientSecrets).toEqual([{ value: 'third', active: true }]);
    const tooMany = await adminJson('/clients/rotating-basic/secrets', {
      secrets: ['a', 'b', 'c'].map((value) => ({ value, active: true })),
    });
    expect(tooMany.status).toBe(400);
    await org.control.setClientSecrets('rotating-basic', [{ value: 'new-secret', active: true }]);
  });
});

describe('faults', () => {
  const token = () => clientPost(org, '/oauth2/v1/token', { client: basic, secret: 'new-secret' }, { grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT, code_verifier: 'v'.repeat(43) });

  it('status: 5xx with an Okta error body for the next N requests, then normal', async () => {
    org.control.fault('token', { type: 'status', status: 503 }, { times: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await token();
      expect(res.status).toBe(503);
      expect(((await res.json()) as { errorCode: string }).errorCode).toBe('E0000009');
    }
    expect((await token()).status).toBe(400); // back to the real endpoint: invalid_grant
  });

  it('stays until cleared when no times is given, per endpoint', async () => {
    org.control.fault('keys', { type: 'status', status: 500, body: 'oops' });
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${org.issuer}/oauth2/v1/keys`);
      expect(res.status).toBe(500);
      expect(await res.text()).toBe('oops');
    }
    expect((await fetch(`${org.issuer}/.well-known/openid-configuration`)).status).toBe(200);
    org.control.clearFaults('keys');
    expect((await fetch(`${org.issuer}/oauth2/v1/keys`)).status).toBe(200);
  });

  it('hang: the response never comes (the client has to time out)', async () => {
    org.control.fault('discovery', { type: 'hang' }, { times: 1 });
    const error = await fetch(`${org.issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(300) }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('TimeoutError');
    expect((await fetch(`${org.issuer}/.well-known/openid-configuration`)).status).toBe(200);
  });

  it('delay: the normal response comes after the delay', async () => {
    org.control.fault('keys', { type: 'delay', ms: 150 }, { times: 1 });
    const started = Date.now();
    const res = await fetch(`${org.issuer}/oauth2/v1/keys`);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140); // lower bound only: the delay happened
    expect(((await res.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
  });

  it('rate-limit: 429 with X-Rate-Limit-Limit/Remaining=0/Reset', async () => {
    org.control.fault('introspect', { type: 'rate-limit', resetInSec: 30 }, { times: 1 });
    const before = Math.floor(Date.now() / 1000);
    const res = await introspectAs(basic, 'new-secret');
    const after = Math.ceil(Date.now() / 1000);
    expect(res.status).toBe(429);
    expect(res.headers.get('x-rate-limit-limit')).toBe('600');
    expect(res.headers.get('x-rate-limit-remaining')).toBe('0');
    const reset = Number(res.headers.get('x-rate-limit-reset'));
    expect(reset).toBeGreaterThanOrEqual(before + 30);
    expect(reset).toBeLessThanOrEqual(after + 30);
    expect(((await res.json()) as { errorCode: string }).errorCode).toBe('E0000047');
  });

  it('html: a text/html page instead of JSON (status 200 by default, or the given one)', async () => {
    org.control.fault('discovery', { type: 'html' }, { times: 1 });
    const res = await fetch(`${org.issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toMatch(/<html>/);
    org.control.fault('token', { type: 'html', status: 502 }, { times: 1 });
    expect((await token()).status).toBe(502);
  });

  it('malformed-json: application/json that does not parse', async () => {
    org.control.fault('userinfo', { type: 'malformed-json' }, { times: 1 });
    const res = await fetch(`${org.issuer}/oauth2/v1/userinfo`, { headers: { authorization: 'Bearer x' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    await expect(res.json()).rejects.toThrow(SyntaxError);
  });

  it('redirect: a 3xx where a back channel should answer', async () => {
    org.control.fault('token', { type: 'redirect' }, { times: 1 });
    const res = await fetch(`${org.issuer}/oauth2/v1/token`, { method: 'POST', redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${org.issuer}/moved`);
    org.control.fault('introspect', { type: 'redirect', status: 307, location: 'http://127.0.0.1:9/elsewhere' }, { times: 1 });
    const manual = await fetch(`${org.issuer}/oauth2/v1/introspect`, { method: 'POST', redirect: 'manual' });
    expect(manual.status).toBe(307);
    expect(manual.headers.get('location')).toBe('http://127.0.0.1:9/elsewhere');
  });

  it('oversized: valid JSON of the requested size', async () => {
    org.control.fault('keys', { type: 'oversized', bytes: 100_000 }, { times: 1 });
    const res = await fetch(`${org.issuer}/oauth2/v1/keys`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('100000');
    const text = await res.text();
    expect(text.length).toBe(100_000);
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['padding']);
  });

  it('is armed and cleared over /__admin/faults', async () => {
    expect((await adminJson('/faults', { endpoint: 'token', fault: { type: 'status', status: 500 }, times: 1 })).status).toBe(200);
    expect((await token()).status).toBe(500);
    expect((await token()).status).toBe(400);
    await adminJson('/faults', { endpoint: 'token', fault: { type: 'status', status: 502 } });
    expect((await token()).status).toBe(502);
    expect((await admin('/faults', { method: 'DELETE' })).status).toBe(200);
    expect((await token()).status).toBe(400);
    const bad = await adminJson('/faults', { endpoint: 'nope', fault: { type: 'hang' } });
    expect(bad.status).toBe(400);
  });
});

describe('rate-limit headers and counters', () => {
  it('sends X-Rate-Limit-* on token/introspect/authorize/userinfo/revoke but not on /keys or discovery', async () => {
    const res = await introspectAs(basic, 'new-secret');
    expect(res.headers.get('x-rate-limit-limit')).toBe('600');
    expect(res.headers.get('x-rate-limit-remaining')).toBe('599');
    expect(Number(res.headers.get('x-rate-limit-reset'))).toBeGreaterThan(Date.now() / 1000);
    const auth = await fetch(authorizeUrl(org.issuer, { client_id: 'rotating-basic' }), { redirect: 'manual' });
    expect(auth.headers.get('x-rate-limit-remaining')).toBe('599');
    const userinfo = await fetch(`${org.issuer}/oauth2/v1/userinfo`, { headers: { authorization: 'Bearer x' } });
    expect(userinfo.headers.get('x-rate-limit-limit')).toBe('600');
    expect((await fetch(`${org.issuer}/oauth2/v1/keys`)).headers.get('x-rate-limit-limit')).toBeNull();
    expect((await fetch(`${org.issuer}/.well-known/openid-configuration`)).headers.get('x-rate-limit-limit')).toBeNull();
  });

  it('counts requests per endpoint, in process and over /__admin/counters', async () => {
    await fetch(`${org.issuer}/.well-known/openid-configuration`);
    await fetch(`${org.issuer}/.well-known/openid-configuration`);
    await fetch(`${org.issuer}/oauth2/v1/keys`);
    org.control.fault('token', { type: 'status', status: 500 }, { times: 1 });
    await introspectAs(basic, 'new-secret');
    await clientPost(org, '/oauth2/v1/token', { client: basic, secret: 'new-secret' }, { grant_type: 'refresh_token', refresh_token: 'x' });
    const expected = { discovery: 2, authorize: 0, token: 1, keys: 1, userinfo: 0, introspect: 1, revoke: 0, logout: 0 };
    expect(org.control.counters()).toEqual(expected);
    expect(await (await admin('/counters')).json()).toEqual(expected);
    expect((await admin('/counters', { method: 'DELETE' })).status).toBe(200);
    expect(org.control.counters().discovery).toBe(0);
  });

  it('enforces the window limit with 429 when configured', async () => {
    const limited = await startOktaOrg({ clients: [basic], users: USERS, rateLimit: { limit: 2, windowSec: 60, enforce: true } });
    try {
      const call = () => clientPost(limited, '/oauth2/v1/introspect', { client: basic, secret: 'new-secret' }, { token: 'x' });
      const first = await call();
      expect(first.status).toBe(200);
      expect(first.headers.get('x-rate-limit-remaining')).toBe('1');
      const second = await call();
      expect(second.status).toBe(200);
      expect(second.headers.get('x-rate-limit-remaining')).toBe('0');
      const third = await call();
      expect(third.status).toBe(429);
      expect(third.headers.get('x-rate-limit-limit')).toBe('2');
      expect(third.headers.get('x-rate-limit-remaining')).toBe('0');
      expect(third.headers.get('x-rate-limit-reset')).toBe(second.headers.get('x-rate-limit-reset'));
      // other endpoints have their own window (Okta limits per endpoint)
      expect((await fetch(`${limited.issuer}/oauth2/v1/userinfo`, { headers: { authorization: 'Bearer x' } })).status).toBe(401);
    } finally {
      await limited.close();
    }
  });
});

describe('Okta-initiated sign-ins', () => {
  it('simplified sign-in: a fresh ID token for the first redirect URI, no state', async () => {
    const { action, fields } = await org.control.simplifiedSignIn('rotating-basic', { login: 'bob@example.com' });
    expect(action).toBe(REDIRECT);
    const { payload } = await jwtVerify(fields.id_token, createRemoteJWKSet(new URL(`${org.issuer}/oauth2/v1/keys`)), {
      issuer: org.issuer,
      audience: 'rotating-basic',
    });
    expect(payload).toMatchObject({ email: 'bob@example.com', ver: 1, amr: ['pwd'] });
    expect(payload.nonce).toBeUndefined();
  });

  it('GET /__admin/simplified serves an auto-submitting form that POSTs id_token to the first redirect URI', async () => {
    const res = await admin('/simplified?client_id=rotating-basic&login=alice@example.com');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`action="${REDIRECT}"`);
    expect(html).toContain('method="post"');
    expect(html).toContain('document.forms[0].submit()');
    const idToken = /name="id_token" value="([^"]+)"/.exec(html)?.[1];
    expect(idToken).toBeTruthy();
    expect(html).not.toContain('name="state"');
    const { payload } = await jwtVerify(idToken!, createRemoteJWKSet(new URL(`${org.issuer}/oauth2/v1/keys`)));
    expect(payload.email).toBe('alice@example.com');
  });

  it('GET /__admin/initiate redirects to initiate_login_uri with iss, login_hint and target_link_uri', async () => {
    const res = await admin('/initiate?client_id=rotating-basic&login_hint=bob@example.com&target_link_uri=http://127.0.0.1:9/dashboard', { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(location.origin + location.pathname).toBe('http://127.0.0.1:9/auth/initiate');
    expect(location.searchParams.get('iss')).toBe(org.issuer);
    expect(location.searchParams.get('login_hint')).toBe('bob@example.com');
    expect(location.searchParams.get('target_link_uri')).toBe('http://127.0.0.1:9/dashboard');
    expect(org.control.initiateLoginUrl('rotating-basic')).toBe(`http://127.0.0.1:9/auth/initiate?iss=${encodeURIComponent(org.issuer)}`);
    expect((await admin('/initiate?client_id=rotating-post', { redirect: 'manual' })).status).toBe(400);
  });

  it('GET /__admin lists clients, users and sign-in links', async () => {
    const res = await admin('');
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    for (const text of ['rotating-basic', 'rotating-post', 'alice@example.com', 'alice-pw', '/__admin/initiate?client_id=rotating-basic', '/__admin/simplified?client_id=rotating-post']) {
      expect(html).toContain(text);
    }
  });

  it('POST /__admin/tokens/access mints an introspectable access token', async () => {
    const res = await adminJson('/tokens/access', { clientId: 'rotating-basic', login: 'bob@example.com', scope: 'openid' });
    const { access_token } = (await res.json()) as { access_token: string };
    const info = await clientPost(org, '/oauth2/v1/introspect', { client: basic, secret: 'new-secret' }, { token: access_token });
    expect(await info.json()).toMatchObject({ active: true, username: 'bob@example.com', scope: 'openid', client_id: 'rotating-basic' });
  });
});

describe('RP-initiated logout', () => {
  it('signs out and redirects to the registered post_logout_redirect_uri', async () => {
    const idToken = await org.control.issueIdToken('rotating-basic');
    const url = new URL(`${org.issuer}/oauth2/v1/logout`);
    url.search = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: 'http://127.0.0.1:9/signed-out', state: 's1' }).toString();
    const page = await fetch(url, { redirect: 'manual' });
    expect(page.status).toBe(200);
    const html = await page.text();
    const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    expect(action && xsrf).toBeTruthy();
    const done = await fetch(new URL(action!, org.issuer), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({ xsrf: xsrf!, logout: 'yes' }).toString(),
    });
    expect(done.status).toBe(303);
    const location = new URL(done.headers.get('location')!);
    expect(location.origin + location.pathname).toBe('http://127.0.0.1:9/signed-out');
    expect(location.searchParams.get('state')).toBe('s1');
  });

  it('refuses an unregistered post_logout_redirect_uri', async () => {
    const idToken = await org.control.issueIdToken('rotating-basic');
    const url = new URL(`${org.issuer}/oauth2/v1/logout`);
    url.search = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: 'http://127.0.0.1:9/elsewhere' }).toString();
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('post_logout_redirect_uri');
  });
});
