/**
 * The callback route: sign-in, cookies of a session, and catalogue §CB (state, transaction cookie,
 * iss, replay, response mode, parameter syntax, body size).
 */
import { describe, expect, it } from 'vitest';
import { driveAuthorization } from '../../index';
import { USER, LARGE_USER, LONG_NAME, XSS, TX_COOKIE, JSON_ACCEPT, cookiesSet, bodyOf, expectNoStore, expectNoSession, withQuery, type Harness } from '../harness';
import { CookieJar, form, setCookiesOf } from '../http';

/** Registers this section's cases in the suite's `describe` (see `describeAdapterConformance`). */
export function describeCallbackCases(h: Harness): void {
  const { t, login, callback, signIn, pendingCallback, counters, expectNoOktaCall, expectRejected } = h;
  const apps = () => h.apps();
  const orgs = () => h.orgs();

  // --- callback ----------------------------------------------------------------------------

  it(t('sign-in: the callback sets a session and redirects; /me answers the user'), async () => {
    const { b, response } = await signIn(h.plain, 'acme');
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toMatch(/^(\/|https?:\/\/127\.0\.0\.1:\d+\/)$/);
    expectNoStore(response);
    expect(cookiesSet(response).length).toBeGreaterThan(0);
    const me = await b.fetch(h.plain.url('/me'), { headers: { accept: 'application/json' } });
    expect(me.status).toBe(200);
    const body = (await me.json()) as { tenant: string; sub: string; claims: Record<string, unknown> };
    expect(body.tenant).toBe('acme');
    expect(body.sub).toMatch(/.+/);
    expect(body.claims['email']).toBe(USER.claims.email);
  });

  it(t('sign-in returns to the requested same-origin path'), async () => {
    const { response } = await signIn(h.plain, 'acme', { returnTo: '/dashboard?tab=1' });
    expect(response.status).toBe(302);
    expect(new URL(response.headers.get('location') ?? '', h.plain.origin).pathname).toBe('/dashboard');
  });

  it(t('sign-in through the second instance of the same org keeps the tenants apart'), async () => {
    const { b, response } = await signIn(h.plain, 'acme-2');
    expect(response.status).toBe(302);
    const me = await b.fetch(h.plain.url('/me'), { headers: { accept: 'application/json' } });
    expect(((await me.json()) as { tenant: string }).tenant).toBe('acme-2');
  });

  it(t('callback keeps several Set-Cookie headers apart'), async () => {
    const { response } = await signIn(h.plain, 'acme');
    const all = setCookiesOf(response);
    // At least the new session and the deleted transaction: one header each, never folded.
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(new Set(all.map((c) => c.name)).size).toBe(all.length);
    expect(all.some((c) => c.deletes)).toBe(true);
    expect(all.some((c) => !c.deletes)).toBe(true);
    for (const raw of response.headers.getSetCookie()) expect(raw.split('=')[0]).not.toMatch(/[,\s]/);
  });

  it(t('a large session is split over several cookies and read back whole'), async () => {
    const b = h.plain.browser();
    const { authorize } = await login(h.plain, b, { tenant: 'globex', login_hint: LARGE_USER.login });
    const response = await callback(b, await driveAuthorization(authorize, { login: LARGE_USER.login, password: LARGE_USER.password }));
    expect(response.status).toBe(302);
    expect(cookiesSet(response).length).toBeGreaterThanOrEqual(2);
    const me = await b.fetch(h.plain.url('/me'), { headers: { accept: 'application/json' } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { claims: { name?: string } }).claims.name).toBe(LONG_NAME);
  });

  it(t('a state mismatch answers 400 ERR_OIDC_STATE_MISMATCH, sets no session and never calls /token'), async () => {
    const b = h.plain.browser();
    const { authorize } = await login(h.plain, b, { tenant: 'acme' });
    const request = await driveAuthorization(authorize);
    request.url.searchParams.set('state', `${request.url.searchParams.get('state')}x`);
    const tokenCalls = h.acmeOrg.control.counters().token;
    const response = await callback(b, request);
    expect(response.status).toBe(400);
    expect(await bodyOf(response)).toContain('ERR_OIDC_STATE_MISMATCH');
    expectNoSession(response);
    expectNoStore(response);
    expect(h.acmeOrg.control.counters().token).toBe(tokenCalls);
    const me = await b.fetch(h.plain.url('/me'), { headers: { accept: 'application/json' } });
    expect(me.status).toBe(401);
  });

  it(t("the options' own client.verifySignature checks the ID token: accepted signs in, refused answers 400 with no session"), async () => {
    h.verifier.calls = 0;
    h.verifier.refuse = false;
    const accepted = await signIn(h.ownVerifier, 'acme');
    expect(accepted.response.status).toBe(302);
    expect(h.verifier.calls).toBe(1);
    h.verifier.refuse = true;
    try {
      const { b, response } = await signIn(h.ownVerifier, 'acme');
      expect(response.status).toBe(400);
      expect(await bodyOf(response)).toContain('ERR_OIDC_ID_TOKEN_INVALID');
      expectNoSession(response);
      expect(h.verifier.calls).toBe(2);
      expect((await b.fetch(h.ownVerifier.url('/me'), { headers: { accept: 'application/json' } })).status).toBe(401);
    } finally {
      h.verifier.refuse = false;
    }
    // The app keeps serving.
    expect((await h.ownVerifier.browser().fetch(h.ownVerifier.url('/'))).status).toBe(200);
  });

  it(t('a callback without its transaction cookie is refused without calling /token'), async () => {
    const b = h.plain.browser();
    const { authorize } = await login(h.plain, b, { tenant: 'acme' });
    const request = await driveAuthorization(authorize);
    const tokenCalls = h.acmeOrg.control.counters().token;
    const response = await callback(b, request, { jar: new CookieJar() });
    expect(response.status).toBe(400);
    expect(await bodyOf(response)).toMatch(/ERR_OIDC_(STATE_MISSING|STATE_MISMATCH|TRANSACTION_INVALID)/);
    expectNoSession(response);
    expect(h.acmeOrg.control.counters().token).toBe(tokenCalls);
  });

  it(t('a replayed callback is refused and creates no session'), async () => {
    const { b, request, response, beforeCallback } = await signIn(h.plain, 'acme');
    expect(response.status).toBe(302);
    // The same browser (back button; its transaction cookie is consumed): nothing is reprocessed,
    // no new session is issued and Okta is not called again (catalogue CB-03, CB-08).
    const tokenCalls = h.acmeOrg.control.counters().token;
    const again = await callback(b, request);
    expect(again.status === 302 || (again.status >= 400 && again.status < 500)).toBe(true);
    expectNoSession(again);
    expect(h.acmeOrg.control.counters().token).toBe(tokenCalls);
    // … and an attacker who kept the transaction cookie: the code is single-use at Okta.
    const replay = await callback(b, request, { jar: beforeCallback });
    expect(replay.status).toBeGreaterThanOrEqual(400);
    expect(replay.status).toBeLessThan(500);
    expect(await bodyOf(replay)).toMatch(/ERR_OIDC_[A-Z_]+/);
    expectNoSession(replay);
  });

  it(t('form_post: the POST callback signs in'), async () => {
    const { b, request, response } = await signIn(h.formPost, 'acme');
    expect(request.method).toBe('POST');
    expect(response.status).toBe(302);
    expectNoStore(response);
    const me = await b.fetch(h.formPost.url('/me'), { headers: { accept: 'application/json' } });
    expect(me.status).toBe(200);
  });

  it(t('form_post: a repeated parameter in the body is refused with ERR_OIDC_DUPLICATE_PARAMETER'), async () => {
    const b = h.formPost.browser();
    const { authorize } = await login(h.formPost, b, { tenant: 'acme' });
    expect(authorize.searchParams.get('response_mode')).toBe('form_post');
    const request = await driveAuthorization(authorize);
    const body = new URLSearchParams(request.body);
    body.append('state', body.get('state') ?? '');
    const tokenCalls = h.acmeOrg.control.counters().token;
    const response = await b.fetch(request.url, form(body));
    expect(response.status).toBe(400);
    expect(await bodyOf(response)).toContain('ERR_OIDC_DUPLICATE_PARAMETER');
    expectNoSession(response);
    expect(h.acmeOrg.control.counters().token).toBe(tokenCalls);
  });

  it(t('an oversized callback body is refused with 413'), async () => {
    const b = h.formPost.browser();
    await login(h.formPost, b, { tenant: 'acme' });
    const response = await b.fetch(h.formPost.url('/auth/callback'), form({ code: 'x', state: 'y', padding: 'p'.repeat(200 * 1024) }));
    expect(response.status).toBe(413);
    expectNoSession(response);
  });

  it(t('an error from Okta is shown escaped with its code'), async () => {
    const b = h.plain.browser();
    const { authorize } = await login(h.plain, b, { tenant: 'acme' });
    const state = authorize.searchParams.get('state') ?? '';
    const query = new URLSearchParams({ error: 'access_denied', error_description: '<script>alert(1)</script>', state, iss: h.acmeOrg.issuer });
    const response = await b.fetch(`${h.plain.url('/auth/callback')}?${query}`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(400);
    const body = await bodyOf(response);
    expect(body).toContain('ERR_OIDC_AUTHORIZATION_DENIED');
    expect(body).not.toContain('<script>');
    expectNoSession(response);
    expectNoStore(response);
  });

  // =====================================================================================
  describe('security catalogue: callback (CB)', () => {
    it(t('CB-01/SA-08: state mismatch → 400, no session, no token call; the login in flight is kept and completes'), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain);
      const before = counters();
      const response = await h.callback(b, withQuery(request, (q) => q.set('state', `${q.get('state')}x`)));
      // A state that names no transaction of this browser deletes nothing (SA-08): a forged
      // callback cannot wipe the user's login in flight.
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_STATE_MISMATCH', before, txKept: true });
      expect((await b.fetch(plain.url('/me'), { headers: JSON_ACCEPT })).status).toBe(401);
      expect((await h.callback(b, request)).status).toBe(302);
      expect((await b.fetch(plain.url('/me'), { headers: JSON_ACCEPT })).status).toBe(200);
    });

    it(t('IT-13: a hostile ID token with a wrong or missing nonce from /token → 400 ERR_OIDC_NONCE_MISMATCH, no session, nothing after the token call'), async () => {
      const { plain, formPost } = apps();
      for (const app of [plain, formPost]) {
        for (const artefact of ['id-token-nonce-wrong', 'id-token-nonce-missing'] as const) {
          const { b, request } = await pendingCallback(app);
          orgs().acme.control.hostile('token', artefact, { times: 1 });
          try {
            const before = counters();
            const response = await h.callback(b, request);
            // The code is redeemed once (that is where the ID token comes from); then only the JWKS may be read.
            const body = await expectRejected(app, response, { status: 400, code: 'ERR_OIDC_NONCE_MISMATCH', before, allow: { token: true, keys: true }, txDeleted: true });
            expect(counters().acme.token - before.acme.token, artefact).toBe(1);
            expect(body).not.toContain(h.users.acme.claims['email'] as string);
            expect((await b.fetch(app.url('/me'), { headers: JSON_ACCEPT })).status).toBe(401);
          } finally {
            orgs().acme.control.clearHostile('token');
          }
        }
      }
    });

    it(t('CB-01/FP-04: form_post with a mismatching state → 400, no token call'), async () => {
      const { formPost } = apps();
      const { b, request } = await pendingCallback(formPost);
      const body = new URLSearchParams(request.body);
      body.set('state', 'attacker-state-AAAAAAAAAAAAAAAAAAAAA');
      const before = counters();
      const response = await b.fetch(request.url, form(body));
      await expectRejected(formPost, response, { status: 400, code: 'ERR_OIDC_STATE_MISMATCH', before, txKept: true });
    });

    it(t('CB-02: state absent although one was sent → 400 ERR_OIDC_STATE_MISSING, no token call'), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain);
      const before = counters();
      const response = await h.callback(b, withQuery(request, (q) => q.delete('state')));
      // No state names no transaction: none is consumed (SA-08).
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_STATE_MISSING', before, txKept: true });
    });

    it(t('CB-02: an empty state is treated as absent'), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain);
      const before = counters();
      const response = await h.callback(b, withQuery(request, (q) => q.set('state', '')));
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_STATE_MISSING', before, txKept: true });
    });

    it(t('CB-03: no transaction cookie → 400, no code exchange'), async () => {
      const { plain } = apps();
      const { request } = await pendingCallback(plain);
      const before = counters();
      const response = await h.callback(plain.browser(), request, { jar: new CookieJar() });
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_TRANSACTION_INVALID', before });
    });

    it(t('CB-03: an undecryptable transaction cookie → 400, deleted, no code exchange'), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain);
      for (const [name, value] of b.jar.cookies) if (TX_COOKIE.test(name)) b.jar.cookies.set(name, `${value.slice(0, 20)}A${value.slice(21)}`);
      const before = counters();
      const response = await h.callback(b, request);
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_TRANSACTION_INVALID', before, txDeleted: true });
    });

    it(t('CB-03: an expired transaction → 400 ERR_OIDC_TRANSACTION_EXPIRED, no code exchange'), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain);
      const before = counters();
      try {
        h.setClockOffset(11 * 60 * 1000); // the transaction lives 10 minutes
        const response = await h.callback(b, request);
        await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_TRANSACTION_EXPIRED', before, txDeleted: true });
      } finally {
        h.setClockOffset(0);
      }
    });

    it(t('CB-03: a stale callback while signed in goes home without reprocessing'), async () => {
      const { plain } = apps();
      const { b } = await h.signIn(plain, 'acme');
      const { request } = await pendingCallback(plain); // another browser's callback, replayed into a signed-in one
      const before = counters();
      const response = await h.callback(b, request);
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe('/');
      expect(cookiesSet(response)).toEqual([]);
      expectNoOktaCall(before);
      expect((await b.fetch(plain.url('/me'), { headers: JSON_ACCEPT })).status).toBe(200);
    });

    it(t('CB-04: an unsolicited response (no login started) → 400, no token call'), async () => {
      const { plain } = apps();
      const before = counters();
      const query = new URLSearchParams({ code: 'unsolicited-code', state: 'unsolicited-state-0123456789', iss: orgs().acme.issuer });
      const response = await plain.browser().fetch(`${plain.url('/auth/callback')}?${query}`);
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_TRANSACTION_INVALID', before });
    });

    it(t('CB-06: error=access_denied with a wrong state is a state failure'), async () => {
      const { plain } = apps();
      const b = plain.browser();
      await h.login(plain, b, { tenant: 'acme' });
      const before = counters();
      const query = new URLSearchParams({ error: 'access_denied', state: 'WRONG', error_description: XSS });
      const response = await b.fetch(`${plain.url('/auth/callback')}?${query}`);
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_STATE_MISMATCH', before, txKept: true });
    });

    it(t('CB-06: an error response is shown escaped, error_uri is never followed'), async () => {
      const { plain } = apps();
      const b = plain.browser();
      const { authorize } = await h.login(plain, b, { tenant: 'acme' });
      const before = counters();
      const query = new URLSearchParams({
        error: `access_denied${XSS}`,
        error_description: `${XSS}<img src=x onerror=alert(1)>`,
        error_uri: 'https://evil.example/phish',
        state: authorize.searchParams.get('state') ?? '',
        iss: orgs().acme.issuer,
      });
      const response = await b.fetch(`${plain.url('/auth/callback')}?${query}`, { headers: { accept: 'text/html' } });
      await expectRejected(plain, response, {
        status: 400,
        code: 'ERR_OIDC_AUTHORIZATION_DENIED',
        before,
        txDeleted: true,
        notReflected: ['<img', 'evil.example'],
      });
    });

    it(t('FP-06: a form_post error response → 400 error page, no token call'), async () => {
      const { formPost } = apps();
      const b = formPost.browser();
      const { authorize } = await h.login(formPost, b, { tenant: 'acme' });
      const before = counters();
      const body = { error: 'login_required', error_description: XSS, state: authorize.searchParams.get('state') ?? '', iss: orgs().acme.issuer };
      const response = await b.fetch(formPost.url('/auth/callback'), form(body));
      await expectRejected(formPost, response, { status: 400, code: 'ERR_OIDC_AUTHORIZATION_DENIED', before, txDeleted: true });
    });

    it(t('CB-07: iss of another org, or with a trailing slash → 400 ERR_OIDC_ISSUER_MISMATCH, no token call'), async () => {
      const { plain } = apps();
      for (const iss of [orgs().globex.issuer, `${orgs().acme.issuer}/`, orgs().acme.issuer.replace('127.0.0.1', 'localhost')]) {
        const { b, request } = await pendingCallback(plain);
        const before = counters();
        const response = await h.callback(b, withQuery(request, (q) => q.set('iss', iss)));
        await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_ISSUER_MISMATCH', before, txDeleted: true });
      }
    });

    it(t('CB-07: iss absent while the metadata advertises authorization_response_iss_parameter_supported → 400, no token call'), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain);
      const before = counters();
      const response = await h.callback(b, withQuery(request, (q) => q.delete('iss')));
      // Reading the (cached) discovery document is the check itself; nothing after it.
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_ISSUER_MISMATCH', before, allow: { discovery: true }, txDeleted: true });
    });

    it(t('CB-08/TK-01: a replayed callback never makes a second token request'), async () => {
      const { plain } = apps();
      const { request, response, beforeCallback } = await h.signIn(plain, 'acme');
      expect(response.status).toBe(302);
      // Without a session, with the consumed browser state: REJECT-CB and no Okta call at all.
      const before = counters();
      const fresh = await h.callback(plain.browser(), request, { jar: new CookieJar() });
      await expectRejected(plain, fresh, { status: 400, code: 'ERR_OIDC_TRANSACTION_INVALID', before });
      // With the transaction cookie kept by an attacker: Okta refuses the used code (one token call, invalid_grant).
      const kept = await h.callback(plain.browser(), request, { jar: beforeCallback.clone() });
      await expectRejected(plain, kept, { status: 400, code: 'ERR_OIDC_TOKEN_ENDPOINT_ERROR', txDeleted: true });
    });

    it(t('CB-10: implicit/hybrid/JARM artefacts on a code callback → 400, no token call'), async () => {
      const { plain } = apps();
      for (const name of ['id_token', 'access_token', 'token', 'response']) {
        const { b, request } = await pendingCallback(plain);
        const before = counters();
        const response = await h.callback(b, withQuery(request, (q) => q.set(name, 'eyJhbGciOiJub25lIn0.e30.')));
        await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_CALLBACK_INVALID', before, txDeleted: true });
      }
    });

    it(t('CB-x: the code missing → 400 ERR_OIDC_CALLBACK_INVALID, no token call'), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain);
      const before = counters();
      const response = await h.callback(b, withQuery(request, (q) => q.delete('code')));
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_CALLBACK_INVALID', before, txDeleted: true });
    });

    it(t('CB-x: a duplicated parameter in the query → 400 ERR_OIDC_DUPLICATE_PARAMETER, no token call'), async () => {
      const { plain } = apps();
      for (const name of ['code', 'state', 'iss']) {
        const { b, request } = await pendingCallback(plain);
        const before = counters();
        const response = await h.callback(b, withQuery(request, (q) => q.append(name, q.get(name) ?? 'x')));
        // A request that does not parse consumes nothing (SA-08).
        await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_DUPLICATE_PARAMETER', before, txKept: true });
      }
    });

    it(t('CB-x: a parameter in both the query and the body → 400, no token call'), async () => {
      const { formPost } = apps();
      const { b, request } = await pendingCallback(formPost);
      const body = new URLSearchParams(request.body);
      const url = new URL(request.url);
      url.searchParams.set('code', 'attacker-code');
      const before = counters();
      const response = await b.fetch(url, form(body));
      await expectRejected(formPost, response, { status: 400, code: 'ERR_OIDC_DUPLICATE_PARAMETER', before, txKept: true });
    });

    it(t('CB-13: a GET callback when form_post was requested → 400, no token call'), async () => {
      const { formPost } = apps();
      const { b, request } = await pendingCallback(formPost);
      expect(request.method).toBe('POST');
      const url = new URL(request.url);
      url.search = request.body ?? '';
      const before = counters();
      const response = await b.fetch(url);
      await expectRejected(formPost, response, { status: 400, code: 'ERR_OIDC_CALLBACK_INVALID', before, txDeleted: true });
    });

    it(t('CB-13: a POST callback when query was requested → 400, no token call'), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain);
      expect(request.method).toBe('GET');
      const url = new URL(request.url);
      const body = url.searchParams.toString();
      url.search = '';
      const before = counters();
      const response = await b.fetch(url, form(body));
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_CALLBACK_INVALID', before, txDeleted: true });
    });

    it(t('CB-13: a POST callback that is not urlencoded → 415, no token call'), async () => {
      const { formPost } = apps();
      const { b, request } = await pendingCallback(formPost);
      const before = counters();
      const json = JSON.stringify(Object.fromEntries(new URLSearchParams(request.body)));
      const response = await b.fetch(request.url, { method: 'POST', body: json, headers: { 'content-type': 'application/json' } });
      await expectRejected(formPost, response, { status: 415, code: 'ERR_OIDC_CALLBACK_INVALID', before, txKept: true });
    });

    it(t('DS-01: an oversized callback body → 413, no session, the app keeps serving'), async () => {
      const { formPost } = apps();
      const { b, request } = await pendingCallback(formPost);
      const body = new URLSearchParams(request.body);
      body.set('padding', 'p'.repeat(300 * 1024));
      const before = counters();
      const response = await b.fetch(request.url, form(body));
      await expectRejected(formPost, response, { status: 413, code: /ERR_OIDC_PAYLOAD_TOO_LARGE|Payload Too Large|too large/i, before });
    });

    it(t('DS-01: a 20 KB posted id_token → 413 before any decode or key fetch'), async () => {
      const { plain } = apps();
      const before = counters();
      const response = await plain.browser().fetch(plain.url('/auth/callback'), form({ id_token: `eyJ${'A'.repeat(20 * 1024)}.e30.sig` }));
      await expectRejected(plain, response, { status: 413, code: 'ERR_OIDC_PAYLOAD_TOO_LARGE', before });
    });

    it(t('DS-01: an oversized initiate POST → 413'), async () => {
      const { plain } = apps();
      const before = counters();
      const response = await plain.browser().fetch(plain.url('/auth/initiate'), form({ iss: orgs().globex.issuer, padding: 'p'.repeat(200 * 1024) }));
      await expectRejected(plain, response, { status: 413, code: /ERR_OIDC_PAYLOAD_TOO_LARGE|Payload Too Large|too large/i, before });
    });
  });
}
