import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driveAuthorization, type OktaOrg, startOktaOrg } from '../src/index';
import { authorizeUrl, clientPost, pkce, REDIRECT, USERS } from './_support/emulator';

let org: OktaOrg;
const client = { clientId: 'form-app', name: 'Form Portal', clientSecret: 's', tokenEndpointAuthMethod: 'client_secret_basic' as const, redirectUris: [REDIRECT] };

beforeAll(async () => {
  org = await startOktaOrg({ clients: [client], users: USERS, autoLogin: false });
});
afterAll(() => org.close());

function cookies(res: Response, jar: Map<string, string>): string {
  for (const line of res.headers.getSetCookie()) {
    const [pair = ''] = line.split(';');
    const eq = pair.indexOf('=');
    jar.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

describe('login form (autoLogin: false)', () => {
  it('shows a username/password form naming the app; a wrong password shows an error; the right one continues', async () => {
    const { challenge } = await pkce();
    const jar = new Map<string, string>();
    const start = await fetch(authorizeUrl(org.issuer, { client_id: 'form-app', code_challenge: challenge, code_challenge_method: 'S256' }), { redirect: 'manual' });
    expect(start.status).toBe(303);
    const loginUrl = new URL(start.headers.get('location')!, org.issuer);
    expect(loginUrl.pathname).toMatch(/^\/login\//);
    let cookie = cookies(start, jar);

    const form = await fetch(loginUrl, { headers: { cookie } });
    expect(form.status).toBe(200);
    const html = await form.text();
    expect(html).toContain('Sign in to Form Portal');
    expect(html).toMatch(/<input[^>]+name="username"/);
    expect(html).toMatch(/<input[^>]+type="password"[^>]+name="password"/);

    const post = (username: string, password: string) =>
      fetch(loginUrl, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username, password }).toString(),
      });
    const wrong = await post('alice@example.com', 'nope');
    expect(wrong.status).toBe(200);
    const wrongHtml = await wrong.text();
    expect(wrongHtml).toContain('wrong username or password');
    expect(wrongHtml).toContain('value="alice@example.com"');

    const right = await post('bob@example.com', 'bob-pw');
    expect(right.status).toBe(303);
    cookie = cookies(right, jar);
    expect(new URL(right.headers.get('location')!, org.issuer).pathname).toMatch(/^\/oauth2\/v1\/authorize\//);
  });

  it('driveAuthorization submits the form with the given credentials', async () => {
    const { verifier, challenge } = await pkce();
    const callback = await driveAuthorization(
      authorizeUrl(org.issuer, { client_id: 'form-app', code_challenge: challenge, code_challenge_method: 'S256' }),
      { login: 'bob@example.com', password: 'bob-pw' },
    );
    const res = await clientPost(org, '/oauth2/v1/token', { client, secret: 's' }, {
      grant_type: 'authorization_code',
      code: callback.url.searchParams.get('code')!,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });
    const body = (await res.json()) as { id_token: string };
    expect(decodeJwt(body.id_token).email).toBe('bob@example.com');
  });

  it('driveAuthorization fails clearly without credentials or with a wrong password', async () => {
    const { challenge } = await pkce();
    const url = authorizeUrl(org.issuer, { client_id: 'form-app', code_challenge: challenge, code_challenge_method: 'S256' });
    await expect(driveAuthorization(url)).rejects.toThrow(/login form/);
    await expect(driveAuthorization(url, { login: 'alice@example.com', password: 'bad' })).rejects.toThrow(/refused/);
  });

  it('prefills the username from login_hint', async () => {
    const { challenge } = await pkce();
    const start = await fetch(
      authorizeUrl(org.issuer, { client_id: 'form-app', code_challenge: challenge, code_challenge_method: 'S256', login_hint: 'bob@example.com' }),
      { redirect: 'manual' },
    );
    const cookie = cookies(start, new Map());
    const html = await (await fetch(new URL(start.headers.get('location')!, org.issuer), { headers: { cookie } })).text();
    expect(html).toContain('value="bob@example.com"');
  });
});
