/**
 * Trouble at Okta: catalogue §HF (429, 5xx, HTML, hanging endpoints), IN-07 and JK-04, a failing
 * session store, warm caches, the per-org concurrency limit and key rotation. Every one answers
 * 502/503/504 with no session, and the app keeps serving.
 */
import { describe, expect, it } from 'vitest';
import { driveAuthorization } from '../../index';
import { CLIENTS, USER, FAULT_TIMEOUT_MS, SESSION_COOKIE, TX_COOKIE, JSON_ACCEPT, cookiesSet, bodyOf, expectNoStore, expectNoSession, withQuery, bearer, type App, type Harness } from '../harness';
import { setCookiesOf } from '../http';

/** Registers this section's cases in the suite's `describe` (see `describeAdapterConformance`). */
export function describeFaultCases(h: Harness): void {
  const { t, login, callback, signIn, expectServing, isolated } = h;
  const apps = () => h.apps();
  const orgs = () => h.orgs();

  // --- trouble at Okta (429, 5xx → 502/503/504, no session, the app keeps serving) ---

  it(t('a 5xx from the token endpoint answers 502/503 with no session'), async () => {
    const b = h.plain.browser();
    const { authorize } = await login(h.plain, b, { tenant: 'acme' });
    const request = await driveAuthorization(authorize);
    h.acmeOrg.control.fault('token', { type: 'status', status: 500 });
    try {
      const response = await callback(b, request);
      expect([502, 503]).toContain(response.status);
      expect(await bodyOf(response)).toMatch(/ERR_OIDC_(HTTP_ERROR|UNAVAILABLE)/);
      expectNoSession(response);
      expectNoStore(response);
    } finally {
      h.acmeOrg.control.clearFaults('token');
    }
  });

  it(t('a 429 from the token endpoint answers 503 with Retry-After'), async () => {
    const b = h.limited.browser();
    const { authorize } = await login(h.limited, b, { tenant: 'acme' });
    const request = await driveAuthorization(authorize);
    h.acmeOrg.control.fault('token', { type: 'rate-limit', resetInSec: 20 });
    try {
      const response = await callback(b, request);
      expect(response.status).toBe(503);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await bodyOf(response)).toContain('ERR_OIDC_RATE_LIMITED');
      expectNoSession(response);
    } finally {
      h.acmeOrg.control.clearFaults('token');
    }
  });

  it(t("a server-side session store that fails answers 503 with Retry-After on the app's pages, never the framework's 500; the app recovers"), async () => {
    const { b, response } = await signIn(h.storeBacked, 'acme');
    expect(response.status).toBe(302);
    const whoami = () => b.fetch(h.storeBacked.url('/whoami'), { headers: { accept: 'application/json' } });
    expect(await (await whoami()).json()).toMatchObject({ isAuthenticated: true, tenant: 'acme' });
    h.setSessionStoreDown(true);
    try {
      const down = await whoami();
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('5');
      expect(await bodyOf(down)).toContain('ERR_OIDC_STORE_FAILURE');
      expectNoStore(down);
      const page = await b.fetch(h.storeBacked.url('/'), { headers: { accept: 'text/html' } });
      expect(page.status).toBe(503);
      expect(page.headers.get('retry-after')).toBe('5');
    } finally {
      h.setSessionStoreDown(false);
    }
    expect(await (await whoami()).json()).toMatchObject({ isAuthenticated: true, tenant: 'acme' });
  });

  it(t('an unavailable introspection endpoint answers 503 to the bearer API, then waits for the reset without calling Okta'), async () => {
    const token = await h.acmeOrg.control.issueAccessToken(CLIENTS.acme.clientId, { login: USER.login });
    const bearerTo = (app: App) => app.browser().fetch(`${app.url('/api/me')}?tenant=acme`, { headers: { authorization: `Bearer ${token}` } });
    h.acmeOrg.control.fault('introspect', { type: 'rate-limit', resetInSec: 20 });
    try {
      const response = await bearerTo(h.limited);
      expect(response.status).toBe(503);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await bodyOf(response)).toContain('ERR_OIDC_RATE_LIMITED');
    } finally {
      h.acmeOrg.control.clearFaults('introspect');
    }
    // Okta said the window is spent: until its reset this app does not ask again (Okta's rate limits: X-Rate-Limit-Reset).
    const before = h.acmeOrg.control.counters().introspect;
    const waiting = await bearerTo(h.limited);
    expect(waiting.status).toBe(503);
    expect(Number(waiting.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(h.acmeOrg.control.counters().introspect).toBe(before);
    // Without a shared rate-limit store the back-off is this app's own: another one is served.
    expect((await bearerTo(h.plain)).status).toBe(200);
  });

  // =====================================================================================
  describe('security catalogue: Okta faults (HF, IN-07, JK-04)', () => {
    it(t('HF-01: 429 at /token → 503 with Retry-After derived from X-Rate-Limit-Reset, no session; later sign-ins wait for the reset'), async () => {
      // An app of its own per case: after a 429 the app waits for the reset (Okta's rate limits: X-Rate-Limit-Reset).
      for (const resetInSec of [7, 40]) {
        const iso = await isolated();
        try {
          const b = iso.app.browser();
          const { authorize } = await h.login(iso.app, b, { tenant: 'acme' });
          const request = await driveAuthorization(authorize);
          iso.org.control.fault('token', { type: 'rate-limit', resetInSec }, { times: 1 });
          const before = iso.org.control.counters().token;
          const response = await h.callback(b, request);
          const retryAfter = Number(response.headers.get('retry-after'));
          expect(response.status).toBe(503);
          expect(await response.text()).toContain('ERR_OIDC_RATE_LIMITED');
          expect(cookiesSet(response).filter((c) => SESSION_COOKIE.test(c.name) && c.value !== '')).toEqual([]);
          expect(retryAfter).toBeGreaterThanOrEqual(1);
          expect(retryAfter).toBeLessThanOrEqual(resetInSec + 1);
          expect(iso.org.control.counters().token).toBe(before + 1); // no immediate retry
          // The next sign-in before the reset is refused here, without spending more of the org's budget.
          const next = await h.signIn(iso.app, 'acme');
          expect(next.response.status).toBe(503);
          expect(iso.org.control.counters().token).toBe(before + 1);
        } finally {
          await iso.close();
        }
      }
      expect((await h.signIn(apps().plain, 'acme')).response.status).toBe(302);
    });

    it(t('IN-07: 429 at /introspect → 503 with Retry-After derived from X-Rate-Limit-Reset; never fails open, never asks again before the reset'), async () => {
      const iso = await isolated();
      try {
        const token = await iso.org.control.issueAccessToken(h.clients.acme.clientId, { login: h.users.acme.login });
        iso.org.control.fault('introspect', { type: 'rate-limit', resetInSec: 9 }, { times: 1 });
        const response = await bearer(iso.app, `Bearer ${token}`);
        const retryAfter = Number(response.headers.get('retry-after'));
        expect(response.status).toBe(503);
        expect(await response.text()).toContain('ERR_OIDC_RATE_LIMITED');
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(10);
        const calls = iso.org.control.counters().introspect;
        const again = await bearer(iso.app, `Bearer ${token}`);
        expect(again.status).toBe(503);
        expect(Number(again.headers.get('retry-after'))).toBeLessThanOrEqual(10);
        expect(iso.org.control.counters().introspect).toBe(calls);
      } finally {
        await iso.close();
      }
      // An app that never saw the 429 is served (the back-off is per process without a shared store).
      const token = await orgs().acme.control.issueAccessToken(h.clients.acme.clientId, { login: h.users.acme.login });
      expect((await bearer(apps().plain, `Bearer ${token}`)).status).toBe(200);
    });

    it(t('HF-01: the emulator enforcing its rate limit at /introspect → 503 with Retry-After, then recovery is Okta’s'), async () => {
      // Every request asks Okta: with the positive cache (on by default since SA-01) the same token would be answered here.
      const iso = await isolated({ introspectionCache: false }, { rateLimit: { limit: 3, windowSec: 30, enforce: true } });
      try {
        const token = await iso.org.control.issueAccessToken(h.clients.acme.clientId, { login: h.users.acme.login });
        const statuses: number[] = [];
        let retryAfter = Number.NaN;
        for (let i = 0; i < 5; i++) {
          const response = await bearer(iso.app, `Bearer ${token}`);
          statuses.push(response.status);
          if (response.status === 503) {
            retryAfter = Number(response.headers.get('retry-after'));
            expect(await response.text()).toContain('ERR_OIDC_RATE_LIMITED');
          } else await response.text();
        }
        expect(statuses).toEqual([200, 200, 200, 503, 503]);
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(31);
        await expectServing(iso.app);
      } finally {
        await iso.close();
      }
    });

    it(t('JK-04/HF-04: /keys down, hanging, or answering HTML with a cold cache → 503/504, no session, no crash'), async () => {
      for (const [fault, status, code] of [
        [{ type: 'status', status: 500 }, 503, /ERR_OIDC_(JWKS_UNAVAILABLE|UNAVAILABLE|HTTP_ERROR)/],
        [{ type: 'html' }, 503, /ERR_OIDC_(JWKS_UNAVAILABLE|UNAVAILABLE|HTTP_ERROR)/],
        [{ type: 'hang' }, 0, /ERR_OIDC_(HTTP_TIMEOUT|JWKS_UNAVAILABLE)/],
      ] as const) {
        const iso = await isolated({ httpTimeoutMs: FAULT_TIMEOUT_MS });
        try {
          const b = iso.app.browser();
          const { authorize } = await h.login(iso.app, b, { tenant: 'acme' });
          const request = await driveAuthorization(authorize);
          iso.org.control.fault('keys', fault);
          const response = await h.callback(b, request);
          const body = await response.text();
          expect([status, 502, 503, 504], `${fault.type}: ${response.status} ${body.slice(0, 200)}`).toContain(response.status);
          // A hang is 504 from the transport, or 503 once the key layer gives up on it (both "UPSTREAM").
          if (status === 0) expect([503, 504]).toContain(response.status);
          else expect(response.status, fault.type).toBe(status);
          expect(body).toMatch(code);
          expect(response.headers.get('cache-control') ?? '').toMatch(/no-store/);
          expect(cookiesSet(response).filter((c) => SESSION_COOKIE.test(c.name))).toEqual([]);
          await expectServing(iso.app);
          // Recovery: once /keys answers, a new sign-in works with the same app.
          iso.org.control.clearFaults('keys');
          const again = iso.app.browser();
          const retry = await h.login(iso.app, again, { tenant: 'acme' });
          expect((await h.callback(again, await driveAuthorization(retry.authorize))).status).toBe(302);
        } finally {
          await iso.close();
        }
      }
    });

    it(t('HF-04/TK-02: /token hanging → 504, 5xx → 502/503, HTML → 502; never retried'), async () => {
      const iso = await isolated({ httpTimeoutMs: FAULT_TIMEOUT_MS });
      try {
        for (const [fault, statuses, code] of [
          [{ type: 'hang' }, [504], 'ERR_OIDC_HTTP_TIMEOUT'],
          [{ type: 'status', status: 500 }, [502, 503], /ERR_OIDC_(HTTP_ERROR|UNAVAILABLE)/],
          [{ type: 'status', status: 503 }, [502, 503], /ERR_OIDC_(HTTP_ERROR|UNAVAILABLE)/],
          [{ type: 'html' }, [502, 503], /ERR_OIDC_(HTTP_ERROR|UNAVAILABLE|TOKEN_RESPONSE_INVALID)/],
          [{ type: 'html', status: 502 }, [502, 503], /ERR_OIDC_(HTTP_ERROR|UNAVAILABLE)/],
          [{ type: 'malformed-json' }, [502, 503], /ERR_OIDC_(HTTP_ERROR|UNAVAILABLE|TOKEN_RESPONSE_INVALID)/],
          [{ type: 'redirect' }, [502], 'ERR_OIDC_HTTP_ERROR'],
          [{ type: 'oversized' }, [502], 'ERR_OIDC_HTTP_RESPONSE_TOO_LARGE'],
        ] as const) {
          const b = iso.app.browser();
          const { authorize } = await h.login(iso.app, b, { tenant: 'acme' });
          const request = await driveAuthorization(authorize);
          iso.org.control.fault('token', fault);
          const tokenCalls = iso.org.control.counters().token;
          const response = await h.callback(b, request);
          iso.org.control.clearFaults('token');
          const body = await response.text();
          expect(statuses as readonly number[], `${JSON.stringify(fault)}: ${response.status} ${body.slice(0, 200)}`).toContain(response.status);
          if (typeof code === 'string') expect(body).toContain(code);
          else expect(body).toMatch(code);
          expect(body).not.toMatch(/<script/i);
          expect(response.headers.get('cache-control') ?? '').toMatch(/no-store/);
          expect(cookiesSet(response)).toEqual([]);
          expect(setCookiesOf(response).some((c) => c.deletes && TX_COOKIE.test(c.name))).toBe(true);
          expect(iso.org.control.counters().token).toBe(tokenCalls + 1); // the code is single-use: no retry
          await expectServing(iso.app);
        }
        const b = iso.app.browser();
        const { authorize } = await h.login(iso.app, b, { tenant: 'acme' });
        expect((await h.callback(b, await driveAuthorization(authorize))).status).toBe(302);
      } finally {
        await iso.close();
      }
    });

    it(t('IN-03/IN-07: /introspect hanging → 504, 5xx/HTML/invalid_client → 502/503; never fails open'), async () => {
      const iso = await isolated({ httpTimeoutMs: FAULT_TIMEOUT_MS });
      try {
        const token = await iso.org.control.issueAccessToken(h.clients.acme.clientId, { login: h.users.acme.login });
        for (const [fault, statuses] of [
          [{ type: 'hang' }, [504]],
          [{ type: 'status', status: 500 }, [502, 503]],
          [{ type: 'html' }, [502, 503]],
          [{ type: 'malformed-json' }, [502, 503]],
          [{ type: 'redirect' }, [502]],
          [{ type: 'status', status: 401, body: '{"error":"invalid_client","error_description":"No client credentials found."}' }, [502, 503]],
        ] as const) {
          iso.org.control.fault('introspect', fault);
          const response = await bearer(iso.app, `Bearer ${token}`);
          iso.org.control.clearFaults('introspect');
          const body = await response.text();
          expect(statuses as readonly number[], `${JSON.stringify(fault)}: ${response.status} ${body}`).toContain(response.status);
          expect((JSON.parse(body) as { error: string }).error).toMatch(/^ERR_OIDC_(HTTP_TIMEOUT|HTTP_ERROR|UNAVAILABLE|INTROSPECTION_INVALID)$/);
          expect(response.headers.get('cache-control') ?? '').toMatch(/no-store/);
        }
        expect((await bearer(iso.app, `Bearer ${token}`)).status).toBe(200);
      } finally {
        await iso.close();
      }
    });

    it(t('AR-06/HF-07: discovery down, hanging or HTML when it decides on an iss-less callback → 502/503/504, fails closed'), async () => {
      for (const [fault, statuses] of [
        [{ type: 'status', status: 500 }, [502, 503]],
        [{ type: 'html' }, [502, 503]],
        [{ type: 'hang' }, [502, 503, 504]],
      ] as const) {
        const iso = await isolated({ httpTimeoutMs: FAULT_TIMEOUT_MS });
        try {
          const b = iso.app.browser();
          const { authorize } = await h.login(iso.app, b, { tenant: 'acme' });
          const request = withQuery(await driveAuthorization(authorize), (q) => q.delete('iss'));
          iso.org.control.fault('discovery', fault);
          const response = await h.callback(b, request);
          const body = await response.text();
          expect(statuses as readonly number[], `${fault.type}: ${response.status} ${body.slice(0, 200)}`).toContain(response.status);
          expect(body).toMatch(/ERR_OIDC_(DISCOVERY_FAILED|HTTP_ERROR|HTTP_TIMEOUT|UNAVAILABLE)/);
          expect(response.headers.get('cache-control') ?? '').toMatch(/no-store/);
          expect(cookiesSet(response)).toEqual([]);
          expect(iso.org.control.counters().token).toBe(0); // never redeemed without the iss decision
          await expectServing(iso.app);
        } finally {
          await iso.close();
        }
      }
    });
  });

  // =====================================================================================
  describe('faults: warm caches, concurrency and key rotation', () => {
    it(t('/keys down or hanging with warm keys: sign-ins keep working'), async () => {
      const iso = await isolated();
      try {
        const signIn = async () => {
          const b = iso.app.browser();
          const { authorize } = await h.login(iso.app, b, { tenant: 'acme' });
          const response = await h.callback(b, await driveAuthorization(authorize));
          expect(response.status).toBe(302);
          expect((await b.fetch(iso.app.url('/me'), { headers: JSON_ACCEPT })).status).toBe(200);
        };
        await signIn(); // warms the key cache
        for (const fault of [{ type: 'status', status: 503 }, { type: 'hang' }, { type: 'html' }] as const) {
          iso.org.control.fault('keys', fault);
          await signIn();
          await signIn();
          iso.org.control.clearFaults('keys');
        }
      } finally {
        await iso.close();
      }
    });

    it(t('the per-org concurrency limit keeps a burst of /introspect and /token calls under it'), async () => {
      let inFlight = { token: 0, introspect: 0 };
      const peak = { token: 0, introspect: 0 };
      // A pass-through to the real emulator that only counts what is in flight per endpoint.
      const http = async (url: string, init: RequestInit) => {
        const kind = url.endsWith('/introspect') ? 'introspect' : url.endsWith('/token') ? 'token' : undefined;
        if (kind) {
          inFlight = { ...inFlight, [kind]: inFlight[kind] + 1 };
          peak[kind] = Math.max(peak[kind], inFlight[kind]);
        }
        try {
          return await fetch(url, init);
        } finally {
          if (kind) inFlight = { ...inFlight, [kind]: inFlight[kind] - 1 };
        }
      };
      const iso = await isolated({ maxConcurrentPerOrg: 2, http });
      try {
        const tokens = await Promise.all(Array.from({ length: 8 }, () => iso.org.control.issueAccessToken(h.clients.acme.clientId, { login: h.users.acme.login })));
        iso.org.control.fault('introspect', { type: 'delay', ms: 60 }, { times: 8 });
        const responses = await Promise.all(tokens.map((token) => bearer(iso.app, `Bearer ${token}`)));
        expect(responses.map((r) => r.status)).toEqual(tokens.map(() => 200));
        expect(peak.introspect).toBeGreaterThanOrEqual(1);
        expect(peak.introspect).toBeLessThanOrEqual(2);
        // Sign-ins: the code exchanges queue the same way.
        const pending = await Promise.all(
          Array.from({ length: 6 }, async () => {
            const b = iso.app.browser();
            const { authorize } = await h.login(iso.app, b, { tenant: 'acme' });
            return { b, request: await driveAuthorization(authorize) };
          }),
        );
        iso.org.control.fault('token', { type: 'delay', ms: 60 }, { times: 6 });
        const done = await Promise.all(pending.map(({ b, request }) => h.callback(b, request)));
        expect(done.map((r) => r.status)).toEqual(pending.map(() => 302));
        expect(peak.token).toBeGreaterThanOrEqual(1);
        expect(peak.token).toBeLessThanOrEqual(2);
      } finally {
        await iso.close();
      }
    });

    it(t('JK-01: key rotation in the middle of 20 concurrent sign-ins: none fails'), async () => {
      const iso = await isolated();
      try {
        const pending = await Promise.all(
          Array.from({ length: 20 }, async () => {
            const b = iso.app.browser();
            const { authorize } = await h.login(iso.app, b, { tenant: 'acme' });
            return { b, request: await driveAuthorization(authorize) };
          }),
        );
        const [firstKid] = (await iso.org.control.signingKeys()).filter((k) => k.active).map((k) => k.kid);
        const first = pending.slice(0, 10).map(({ b, request }) => h.callback(b, request));
        await Promise.race(first); // at least one sign-in verified with the old key: the cache is warm
        const rotated = await iso.org.control.rotateSigningKey();
        expect(rotated.kid).not.toBe(firstKid);
        const second = pending.slice(10).map(({ b, request }) => h.callback(b, request));
        const responses = await Promise.all([...first, ...second]);
        expect(responses.map((r) => r.status)).toEqual(pending.map(() => 302));
        const me = await Promise.all(pending.map(({ b }) => b.fetch(iso.app.url('/me'), { headers: JSON_ACCEPT })));
        expect(me.map((r) => r.status)).toEqual(pending.map(() => 200));
        // The rotated key was fetched once or a few times (single-flight), not once per sign-in.
        const keys = iso.org.control.counters().keys;
        expect(keys).toBeGreaterThanOrEqual(2);
        expect(keys).toBeLessThanOrEqual(4);
      } finally {
        await iso.close();
      }
    });
  });
}
