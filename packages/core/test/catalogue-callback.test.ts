/**
 * Catalogue §A, §B, §G, §I, §J, §P, §Q cases through the flow layer that no older test named:
 * error responses with a wrong state, form_post variants, login loops, initiation over an existing
 * session, oversized bearer headers, and where tokens may travel (never in a URL).
 */
import { driveAuthorization } from '@oin-oidc/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HttpClient } from '../src/http/http-client';
import { APP, Browser, CLIENT_ID, errorCode, type Harness, sessionCookies, startHarness } from './catalogue-harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());
afterEach(() => {
  h.org.control.clearHostile();
  h.org.control.resetCounters();
});

describe('catalogue: error responses and form_post (CB-06, FP-04, FP-06)', () => {
  it('CB-06: ?error=access_denied with a wrong state is a state failure, not an error page for this login', async () => {
    const browser = new Browser(h.auth());
    await browser.send('GET', `${APP}/auth/login?tenant=acme`);
    h.org.control.resetCounters();
    const response = await browser.send('GET', `${APP}/auth/callback?error=access_denied&state=${'W'.repeat(43)}&iss=${encodeURIComponent(h.org.issuer)}`);
    expect(response.status).toBe(400);
    expect(errorCode(response)).toBe('ERR_OIDC_STATE_MISMATCH');
    expect(sessionCookies(response)).toEqual([]);
    expect(Object.values(h.org.control.counters()).every((n) => n === 0)).toBe(true);
  });

  it('FP-04: a form_post callback with a mismatching state is refused without a token request', async () => {
    const browser = new Browser(h.auth({ responseMode: 'form_post' }));
    const login = await browser.send('GET', `${APP}/auth/login?tenant=acme`);
    const callback = await driveAuthorization(login.headers.Location ?? '');
    expect(callback.method).toBe('POST');
    const body = new URLSearchParams(callback.body);
    body.set('state', 'X'.repeat(43));
    h.org.control.resetCounters();
    const response = await browser.send('POST', callback.url, { body: body.toString() });
    expect(response.status).toBe(400);
    expect(errorCode(response)).toBe('ERR_OIDC_STATE_MISMATCH');
    expect(sessionCookies(response)).toEqual([]);
    // The transaction the forged state does not name stays for the real response (SA-08).
    expect(browser.has('oin_tx_')).toBe(true);
    expect(h.org.control.counters().token).toBe(0);
  });

  it('FP-04: a form_post callback with an extra state in the query is refused (duplicate parameter)', async () => {
    const browser = new Browser(h.auth({ responseMode: 'form_post' }));
    const login = await browser.send('GET', `${APP}/auth/login?tenant=acme`);
    const callback = await driveAuthorization(login.headers.Location ?? '');
    const url = new URL(callback.url);
    url.searchParams.set('state', 'Y'.repeat(43));
    h.org.control.resetCounters();
    const response = await browser.send('POST', url, { body: callback.body ?? '' });
    expect(response.status).toBe(400);
    expect(errorCode(response)).toBe('ERR_OIDC_DUPLICATE_PARAMETER');
    expect(sessionCookies(response)).toEqual([]);
    expect(h.org.control.counters().token).toBe(0);
  });

  it('FP-06: a form_post error (login_required) with the right state shows an error page, no session, no token request', async () => {
    const browser = new Browser(h.auth({ responseMode: 'form_post' }));
    const login = await browser.send('GET', `${APP}/auth/login?tenant=acme`);
    const state = new URL(login.headers.Location ?? '').searchParams.get('state') ?? '';
    h.org.control.resetCounters();
    const response = await browser.send('POST', `${APP}/auth/callback`, {
      body: new URLSearchParams({ error: 'login_required', state, iss: h.org.issuer }).toString(),
      headers: { accept: 'text/html' },
    });
    expect(response.status).toBe(400);
    expect(errorCode(response)).toBe('ERR_OIDC_AUTHORIZATION_DENIED');
    expect(response.headers['Content-Type']).toBe('text/html; charset=utf-8');
    expect(sessionCookies(response)).toEqual([]);
    expect(browser.has('oin_tx_')).toBe(false);
    expect(h.org.control.counters().token).toBe(0);
  });
});

describe('catalogue: no login loops (AR-08)', () => {
  it('AR-08: a failed callback answers with an error page, never an automatic redirect back to login or Okta', async () => {
    const browser = new Browser(h.auth());
    const login = await browser.send('GET', `${APP}/auth/login?tenant=acme`);
    const callback = await driveAuthorization(login.headers.Location ?? '');
    h.org.control.hostile('token', 'id-token-nonce-wrong', { times: 1 });
    h.org.control.resetCounters();
    const response = await browser.send('GET', callback.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(400);
    expect(response.headers.Location).toBeUndefined();
    expect(errorCode(response)).toBe('ERR_OIDC_NONCE_MISMATCH');
    expect(h.org.control.counters().authorize).toBe(0);
  });
});

describe('catalogue: initiation over an existing session (TP-09)', () => {
  it('TP-09/SA-13: an Okta-initiated login for another tenant starts a fresh transaction and replaces the session once confirmed', async () => {
    const auth = h.auth();
    const browser = new Browser(auth);
    const first = await browser.send('GET', `${APP}/auth/login?tenant=acme`);
    const cb1 = await driveAuthorization(first.headers.Location ?? '');
    const done1 = await browser.send(cb1.method, cb1.url);
    expect(done1.status).toBe(302);
    const before = (await auth.getSession(browser.request('GET', `${APP}/`))).session;
    expect(before?.tenant).toBe('acme');

    const initiate = await browser.send('GET', `${APP}/auth/initiate?iss=${encodeURIComponent(h.org.issuer)}&tenant=other`);
    expect(initiate.status).toBe(302);
    const authorize = new URL(initiate.headers.Location ?? '');
    expect(authorize.searchParams.get('client_id')).not.toBe(CLIENT_ID);
    expect(initiate.setCookies.some((c) => /^oin_tx_/.test(c))).toBe(true);
    const cb2 = await driveAuthorization(authorize);
    const held = await browser.send(cb2.method, cb2.url);
    // Another tenant's session is not replaced silently (SA-13): the app's own page confirms.
    expect(held.status).toBe(409);
    expect((await auth.getSession(browser.request('GET', `${APP}/`))).session?.id).toBe(before?.id);
    const value = /name="oin_switch" value="([^"]+)"/.exec(held.body ?? '')?.[1] ?? '';
    const done2 = await browser.send('POST', `${APP}/auth/callback`, {
      body: new URLSearchParams({ oin_switch: value, oin_decision: 'continue' }).toString(),
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(done2.status).toBe(302);
    const after = (await auth.getSession(browser.request('GET', `${APP}/`))).session;
    expect(after?.tenant).toBe('other');
    expect(after?.id).not.toBe(before?.id);
  });
});

describe('catalogue: bearer header limits and token transport (DS-01, UI-04, LG-04)', () => {
  it('DS-01: a 64 KiB Authorization header is refused as invalid_token without calling Okta', async () => {
    const auth = h.auth();
    h.org.control.resetCounters();
    const result = await auth.requireAccessToken(new Browser(auth).request('GET', `${APP}/api`, { headers: { authorization: `Bearer ${'a'.repeat(64 * 1024)}` } }), { tenantId: 'acme' });
    if (!('response' in result)) throw new Error('accepted');
    expect(result.response.status).toBe(401);
    expect(result.response.headers['WWW-Authenticate']).toMatch(/error="invalid_token"/);
    expect(h.org.control.counters().introspect).toBe(0);
  });

  it('UI-04, LG-04: tokens, codes and verifiers travel only in headers or bodies, never in a back-channel URL or an app redirect', async () => {
    const urls: string[] = [];
    const recording: HttpClient = (url, init) => {
      urls.push(url);
      return fetch(url, init);
    };
    const auth = h.auth({ client: { http: recording, httpTimeoutMs: 2_000, allowLoopbackIssuers: true } });
    const browser = new Browser(auth);
    const login = await browser.send('GET', `${APP}/auth/login?tenant=acme&returnTo=/orders`);
    const callback = await driveAuthorization(login.headers.Location ?? '');
    const done = await browser.send(callback.method, callback.url);
    expect(done.status).toBe(302);
    expect(done.headers.Location).toBe('/orders');
    const tenant = await auth.client.getTenant('acme');
    const accessToken = await h.org.control.issueAccessToken(CLIENT_ID, { scope: 'openid profile email' });
    const sub = h.org.config.users[0]?.sub ?? '';
    await auth.client.userinfo(tenant, accessToken, sub);
    await auth.client.introspect(tenant, accessToken);
    await auth.client.revoke(tenant, accessToken, 'access_token');
    expect(urls.length).toBeGreaterThanOrEqual(4);
    const code = callback.url.searchParams.get('code') ?? '';
    for (const url of [...urls, done.headers.Location ?? '']) {
      expect(url).not.toContain(accessToken.slice(-20));
      expect(url).not.toContain(code);
      expect(new URL(url, APP).search).toBe('');
    }
  });
});
