/**
 * The multi-process proof of a fleet: three processes of the Express example
 * share a real redis-server and PostgreSQL, and behave as one app: sign-ins, sessions, logouts,
 * replay protection, the introspection budget, Okta's 429 back-off and tenant changes hold across
 * them; Redis or PostgreSQL killed mid-run degrade as the failure table says (docs/deployment.md,
 * 'What fails how') and recover without restarting the apps. One Chromium run goes through the
 * round-robin proxy at the end.
 *
 * The tests run in order and share the fleet (later ones rely on what earlier ones changed, e.g. the
 * rotated secret). Deadlines catch a change that never comes; they are not measurements: what the
 * fleet propagates is pushed (well under a second on an idle machine), so its deadline only has to
 * stay below the fleet's one periodic task (PROPAGATION_MS); recovery after a server restart gets a
 * generous one. A loaded machine makes the tests slower, never red.
 */
import { browser, type CookieJar } from '@oin-oidc/testing/conformance';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchBrowser } from './support/browser';
import { bearer, type Fleet, FLEET_TENANTS, FLEET_USER, me, poll, postIdToken, sameOrigin, signIn, startFleet } from './support/fleet';
import { fillLoginForm } from './support/suite';

/**
 * A change (tenant, secret, revocation) reaches every process by push (PostgreSQL LISTEN/NOTIFY,
 * Redis pub/sub), in well under a second on an idle machine. The deadline is not that latency (a
 * loaded machine may take longer, and a test must not fail for it) but stays below the fleet's only
 * periodic work, the listener's 30 s ping: a change that arrives within it was pushed.
 */
const PROPAGATION_MS = 10_000;
/** After a server restart: reconnect backoff plus a full reload (a deadline, sized for a loaded machine). */
const RECOVERY_MS = 60_000;
/**
 * The emulator's X-Rate-Limit-Reset for the 429 case: long enough that the other two processes ask
 * well inside the back-off however slow the machine (their tokens are minted first), short enough
 * that later bearer checks (which poll up to RECOVERY_MS) are not held up long.
 */
const RATE_LIMIT_RESET_SEC = 10;

const { main, simple, late } = FLEET_TENANTS;

describe('a fleet: three Express processes sharing Redis and PostgreSQL', () => {
  let fleet: Fleet | undefined;
  let setupError: unknown;

  beforeAll(async () => {
    // A failing beforeAll would mark every test skipped: keep the error and fail each test with it
    // (a missing redis-server or PostgreSQL reads as a failure with the install instruction).
    try {
      fleet = await startFleet();
    } catch (error) {
      setupError = error;
    }
  });

  afterAll(async () => {
    await fleet?.close();
  });

  beforeEach(() => {
    if (setupError) throw setupError;
  });

  const f = () => fleet!;
  const sub = () => f().org.config.users.find((u) => u.login === FLEET_USER.login)!.sub;
  const newAccessToken = () => f().org.control.issueAccessToken(main.clientId, { login: FLEET_USER.login });
  const expectAllAlive = () => {
    for (const p of f().processes) expect(p.app.exitCode(), `process ${p.name} exited. Output:\n${p.app.output()}`).toBeNull();
  };

  let signedIn: CookieJar;
  /** A copy of a cookie taken before its logout (test 3). */
  let loggedOut: CookieJar;

  it('finishes on process b a sign-in started on process a', async () => {
    const [a, b] = f().processes;
    const { callback, jar } = await signIn(a, b, main.id);
    expect(callback.status, await callback.clone().text()).toBe(302);
    expect(callback.headers.get('location')).toBe('/');
    expect(jar.cookies.has('oin_session')).toBe(true);
    signedIn = jar;
  });

  it('opens that session on all three processes', async () => {
    const answers = await Promise.all(f().processes.map((p) => me(p, signedIn)));
    for (const answer of answers) expect(answer).toEqual({ status: 200, sub: sub(), tenant: main.id });
  });

  it('refuses a copy of the cookie on the other two processes promptly after a logout on one (pushed, not reloaded)', async () => {
    const [a, b, c] = f().processes;
    const copy = signedIn.clone();
    loggedOut = copy;
    const logout = await browser(a.origin, signedIn).fetch('/auth/logout', { headers: sameOrigin(f().baseUrl) });
    expect(logout.status).toBe(302);
    expect(new URL(logout.headers.get('location')!).pathname).toBe('/oauth2/v1/logout');
    expect((await me(a, copy)).status).toBe(401);
    await Promise.all(
      [b, c].map((p) =>
        poll(`the copied cookie refused on ${p.name}`, PROPAGATION_MS, async () => {
          const answer = await me(p, copy);
          return answer.status === 401 || `status ${answer.status}`;
        }),
      ),
    );
  });

  it('accepts a simplified-flow ID token on one process and refuses it on the other two', async () => {
    const { org, processes, baseUrl } = f();
    const [a, b, c] = processes;
    const { action, fields } = await org.control.simplifiedSignIn(simple.clientId, { login: FLEET_USER.login });
    expect(action).toBe(`${baseUrl}/auth/callback`);
    // b knows this tenant only through the database: process a upserted it from its OIN_TENANTS_FILE.
    const accepted = await postIdToken(b, fields.id_token, org.issuer);
    expect(accepted.status, await accepted.clone().text()).toBe(302);
    for (const p of [a, c]) {
      const replay = await postIdToken(p, fields.id_token, org.issuer);
      expect(replay.status).toBe(400);
      expect(await replay.text()).toContain('ERR_OIDC_ID_TOKEN_REPLAYED');
      expect(replay.headers.getSetCookie().some((c) => c.startsWith('oin_session=') && !/max-age=0/i.test(c))).toBe(false);
    }
  });

  it('introspects a new bearer token once for the whole fleet when all three see it at once', async () => {
    const { org, processes } = f();
    const token = await newAccessToken();
    org.control.resetCounters();
    const answers = await Promise.all(processes.map((p) => bearer(p, token, main.id)));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    // An Okta access token's sub is the user's login.
    for (const answer of answers) expect(((await answer.json()) as { sub: string }).sub).toBe(FLEET_USER.login);
    expect(org.control.counters().introspect).toBe(1);
  });

  it("makes every process back off when one sees Okta's 429", async () => {
    const { org, processes } = f();
    const [a, b, c] = processes;
    const tokens = [await newAccessToken(), await newAccessToken(), await newAccessToken()] as const;
    org.control.fault('introspect', { type: 'rate-limit', resetInSec: RATE_LIMIT_RESET_SEC }, { times: 1 });
    try {
      const first = await bearer(a, tokens[0], main.id);
      expect([429, 503]).toContain(first.status);
      expect(Number(first.headers.get('retry-after'))).toBeGreaterThan(0);
      const seen = org.control.counters().introspect;
      for (const [p, token] of [[b, tokens[1]], [c, tokens[2]]] as const) {
        const held = await bearer(p, token, main.id);
        expect([429, 503], `process ${p.name}`).toContain(held.status);
        expect(Number(held.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(await held.text()).toContain('ERR_OIDC_RATE_LIMITED');
      }
      // b and c waited for the reset without asking Okta.
      expect(org.control.counters().introspect).toBe(seen);
    } finally {
      org.control.clearFaults('introspect');
    }
  });

  it('uses a tenant added to the database on every process, pushed (no reload)', async () => {
    const { processes, tenants, record } = f();
    for (const p of processes) {
      const unknown = await fetch(`${p.origin}/auth/login?tenant=${late.id}`, { redirect: 'manual' });
      expect(unknown.status).toBeGreaterThanOrEqual(400);
      expect(await unknown.text()).toContain('ERR_OIDC_TENANT_UNKNOWN');
    }
    await tenants.put(record(late));
    await Promise.all(
      processes.map((p) =>
        poll(`process ${p.name} knows the new tenant`, PROPAGATION_MS, async () => {
          const login = await fetch(`${p.origin}/auth/login?tenant=${late.id}`, { redirect: 'manual' });
          return login.status === 302 || `status ${login.status}`;
        }),
      ),
    );
    for (const p of processes) expect((await signIn(p, p, late.id)).callback.status, `process ${p.name}`).toBe(302);
  });

  it('signs in with a client secret rotated in the database on every process, pushed (no reload)', async () => {
    const { org, processes, tenants, record } = f();
    const [a] = processes;
    const rotated = 'fleet-main-rotated-secret-0123456789abcdef';
    // The org now accepts only the new secret: sign-ins fail until the database holds it.
    await org.control.setClientSecrets(main.clientId, [{ value: rotated, active: true }]);
    const stale = await signIn(a, a, main.id);
    expect(stale.callback.status).not.toBe(302);
    await tenants.put(record(main, rotated));
    await Promise.all(
      processes.map((p) =>
        poll(`process ${p.name} signs in with the rotated secret`, PROPAGATION_MS, async () => {
          const { callback } = await signIn(p, p, main.id);
          return callback.status === 302 || `callback status ${callback.status}`;
        }),
      ),
    );
  });

  it('with Redis hung (SIGSTOP): the one-time check fails closed at the store deadline, sessions and bearer checks go on; it resumes on SIGCONT', async () => {
    const { org, processes, redis } = f();
    const [a, b] = processes;
    const { jar } = await signIn(a, b, main.id);
    // A server that accepts connections but never answers: only the per-call deadline ends a wait.
    process.kill(redis.pid, 'SIGSTOP');
    try {
      const { fields } = await org.control.simplifiedSignIn(simple.clientId, { login: FLEET_USER.login });
      const refused = await postIdToken(b, fields.id_token, org.issuer);
      expect(refused.status).toBe(503);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await refused.text()).toContain('ERR_OIDC_STORE_FAILURE');
      for (const p of processes) expect(await me(p, jar), `process ${p.name}`).toEqual({ status: 200, sub: sub(), tenant: main.id });
      const token = await newAccessToken();
      // Polled: the 429 back-off of an earlier test may still run.
      await poll('a bearer check with Redis hung', RECOVERY_MS, async () => {
        const answer = await bearer(a, token, main.id);
        return answer.status === 200 || `status ${answer.status}`;
      });
      expectAllAlive();
    } finally {
      process.kill(redis.pid, 'SIGCONT');
    }
    await poll('a simplified sign-in after SIGCONT', RECOVERY_MS, async () => {
      const { fields: again } = await org.control.simplifiedSignIn(simple.clientId, { login: FLEET_USER.login });
      const answer = await postIdToken(b, again.id_token, org.issuer);
      return answer.status === 302 || `status ${answer.status}`;
    });
  });

  it('with Redis killed: a typed 503 where a one-time check is needed, cookie sessions and bearer checks go on, no crash; all back after a restart', async () => {
    const { org, processes, redis, baseUrl } = f();
    const [a, b, c] = processes;
    const { callback, jar } = await signIn(a, c, main.id);
    expect(callback.status).toBe(302);

    await redis.kill();

    // The simplified flow needs the shared replay cache: it fails closed, typed, with Retry-After.
    const { fields } = await org.control.simplifiedSignIn(simple.clientId, { login: FLEET_USER.login });
    const refused = await postIdToken(a, fields.id_token, org.issuer);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.text()).toContain('ERR_OIDC_STORE_FAILURE');
    expect(refused.headers.getSetCookie().some((cookie) => cookie.startsWith('oin_session=') && !/max-age=0/i.test(cookie))).toBe(false);

    // Sealed-cookie sessions need no store.
    for (const p of processes) expect(await me(p, jar), `process ${p.name}`).toEqual({ status: 200, sub: sub(), tenant: main.id });
    // Bearer checks fall back to direct introspection (polled: the previous test's back-off may still run).
    const token = await newAccessToken();
    for (const p of processes) {
      await poll(`process ${p.name} answers a bearer check without Redis`, RECOVERY_MS, async () => {
        const answer = await bearer(p, token, main.id);
        return answer.status === 200 || `status ${answer.status}`;
      });
    }
    // A code-flow sign-in keeps its one-time state in the sealed transaction cookie.
    expect((await signIn(b, a, main.id)).callback.status).toBe(302);
    expectAllAlive();

    await redis.restart();

    // Back without restarting the apps: each accepts a simplified sign-in again...
    for (const p of processes) {
      await poll(`process ${p.name} accepts a simplified sign-in after the restart`, RECOVERY_MS, async () => {
        const { fields: again } = await org.control.simplifiedSignIn(simple.clientId, { login: FLEET_USER.login });
        const answer = await postIdToken(p, again.id_token, org.issuer);
        return answer.status === 302 || `status ${answer.status}`;
      });
    }
    // ...and the state is shared again: a replay is refused on another process,
    const { fields: once } = await org.control.simplifiedSignIn(simple.clientId, { login: FLEET_USER.login });
    expect((await postIdToken(c, once.id_token, org.issuer)).status).toBe(302);
    const replay = await postIdToken(b, once.id_token, org.issuer);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('ERR_OIDC_ID_TOKEN_REPLAYED');
    // a logout on one ends the session on the others,
    const { jar: later } = await signIn(c, b, main.id);
    const copy = later.clone();
    expect((await browser(b.origin, later).fetch('/auth/logout', { headers: sameOrigin(baseUrl) })).status).toBe(302);
    for (const p of [a, c]) {
      await poll(`process ${p.name} refuses the logged-out cookie after the restart`, RECOVERY_MS, async () => {
        const answer = await me(p, copy);
        return answer.status === 401 || `status ${answer.status}`;
      });
    }
    // a cookie logged out before the crash stays refused, though Redis came back empty (no persistence),
    for (const p of processes) expect((await me(p, loggedOut)).status, `process ${p.name}`).toBe(401);
    // and a new token is introspected once for the fleet.
    const fresh = await newAccessToken();
    org.control.resetCounters();
    expect((await Promise.all(processes.map((p) => bearer(p, fresh, main.id)))).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(org.control.counters().introspect).toBe(1);
    expectAllAlive();
  });

  it('with PostgreSQL killed: known tenants still sign in, no crash; a change made after its restart is seen', async () => {
    const { processes, postgres, tenants } = f();
    await postgres.kill();
    for (const [i, p] of processes.entries()) {
      const next = processes[(i + 1) % processes.length]!;
      const { callback } = await signIn(p, next, main.id);
      expect(callback.status, `sign-in from ${p.name} to ${next.name}`).toBe(302);
    }
    expectAllAlive();

    await postgres.restart();
    await poll('the test removes a tenant once PostgreSQL is back', RECOVERY_MS, async () => (await tenants.delete(late.id)) || 'not deleted');
    await Promise.all(
      processes.map((p) =>
        poll(`process ${p.name} no longer knows the removed tenant`, RECOVERY_MS, async () => {
          const login = await fetch(`${p.origin}/auth/login?tenant=${late.id}`, { redirect: 'manual' });
          return (login.status >= 400 && login.status < 500 && (await login.text()).includes('ERR_OIDC_TENANT_UNKNOWN')) || `status ${login.status}`;
        }),
      ),
    );
    expectAllAlive();
  });

  it("ends a user's sessions on all three processes, pushed, after a Universal Logout received by one", async () => {
    const [a, b, c] = f().processes;
    const { jar } = await signIn(b, c, main.id);
    const elsewhere = (await signIn(c, a, main.id)).jar;
    for (const p of f().processes) expect((await me(p, jar)).status).toBe(200);
    // Through the proxy, as Okta sends it (aud = the public URL): exactly one process receives it.
    const answer = await f().org.control.universalLogout({ clientId: main.clientId, endpoint: `${f().baseUrl}/auth/universal-logout`, login: FLEET_USER.login, format: 'iss_sub' });
    expect(answer.status).toBe(204);
    expect(['a', 'b', 'c']).toContain(answer.headers['x-served-by']);
    await Promise.all(
      f().processes.flatMap((p) =>
        [jar, elsewhere].map((cookies) =>
          poll(`the session refused on ${p.name}`, PROPAGATION_MS, async () => {
            const result = await me(p, cookies);
            return result.status === 401 || `status ${result.status}`;
          }),
        ),
      ),
    );
    // A sign-in after the logout is a new session and works everywhere.
    const again = (await signIn(a, b, main.id)).jar;
    for (const p of f().processes) expect((await me(p, again)).status).toBe(200);
    expectAllAlive();
  });

  it('signs a person in through the proxy in Chromium: login on one process, callback on another, signed in on every process; a Universal Logout signs them out on every process', async () => {
    const { baseUrl, org } = f();
    const chromium = await launchBrowser('fleet');
    try {
      const { page } = chromium;
      const servedBy = new Map<string, string[]>();
      page.on('response', (response) => {
        const url = new URL(response.url());
        const by = response.headers()['x-served-by'];
        if (url.origin === baseUrl && by !== undefined) servedBy.set(url.pathname, [...(servedBy.get(url.pathname) ?? []), by]);
      });
      await page.goto(`${baseUrl}/`);
      await Promise.all([page.waitForURL((url) => url.origin === org.issuer), page.locator(`a.sign-in[data-tenant="${main.id}"]`).click()]);
      await fillLoginForm(page, FLEET_USER.login, FLEET_USER.password);
      await page.waitForURL((url) => url.origin === baseUrl && url.pathname === '/');
      expect(await page.locator('#status').getAttribute('data-signed-in')).toBe('true');
      await expect(page.locator('#status').textContent()).resolves.toContain(FLEET_USER.name);
      await chromium.screenshot('signed-in');

      const [login] = servedBy.get('/auth/login') ?? [];
      const [callback] = servedBy.get('/auth/callback') ?? [];
      expect(['a', 'b', 'c']).toContain(login);
      expect(['a', 'b', 'c']).toContain(callback);
      expect(callback, 'the callback went to another process than the login').not.toBe(login);

      // Reload until every process has served the page: signed in on each.
      const homeBy = new Set<string>();
      for (let i = 0; i < 6 && homeBy.size < 3; i++) {
        const response = await page.reload();
        expect(response!.status()).toBe(200);
        expect(await page.locator('#status').getAttribute('data-signed-in')).toBe('true');
        homeBy.add(response!.headers()['x-served-by'] ?? '?');
      }
      expect([...homeBy].sort()).toEqual(['a', 'b', 'c']);
      await chromium.screenshot('reloaded');

      // Okta's Universal Logout reaches one process (through the proxy, as Okta would); the person
      // is signed out on every process (docs/universal-logout.md: a revocation reaches every
      // process of the fleet).
      const logout = await org.control.universalLogout({ clientId: main.clientId, endpoint: `${baseUrl}/auth/universal-logout`, login: FLEET_USER.login });
      expect(logout.status).toBe(204);
      const signedOutBy = new Set<string>();
      await poll('signed out on every process after Universal Logout', PROPAGATION_MS, async () => {
        const response = await page.reload();
        if ((await page.locator('#status').getAttribute('data-signed-in')) !== 'false') return `signed in on ${response!.headers()['x-served-by']}`;
        signedOutBy.add(response!.headers()['x-served-by'] ?? '?');
        return signedOutBy.size === 3 || `signed out on ${[...signedOutBy].join(', ')} so far`;
      });
      await chromium.screenshot('universal-logout');
    } finally {
      await chromium.close();
    }
    expectAllAlive();
  });
});
