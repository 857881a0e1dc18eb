/**
 * The browser journeys every example must pass (login form, /me, sign-out,
 * third-party-initiated sign-in; also the simplified flow and session-secret rotation), plus the
 * HTTP parts of the example contract (CONTRIBUTING.md) a browser cannot show: the login redirect,
 * /me without a session, the bearer API and fail-fast configuration. One Chromium per file;
 * everything is closed in afterAll.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Browser, launchBrowser } from './browser';
import { type Framework, runExampleExpectingExit } from './example';
import { type Fixture, startFixture, TENANTS, USER } from './fixture';

/** The emulator's login form (autoLogin false; fields `username` and `password`): fill it and submit. */
export async function fillLoginForm(page: Page, login: string, password: string): Promise<void> {
  const password$ = page.locator('input[type="password"]');
  await password$.waitFor();
  await page.locator('input[name="username"]').fill(login);
  await password$.fill(password);
  await Promise.all([page.waitForLoadState(), page.locator('form [type="submit"]').first().click()]);
}

async function meJson(page: Page, baseUrl: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await page.goto(`${baseUrl}/me`);
  expect(response, 'navigation to /me').not.toBeNull();
  return { status: response!.status(), body: (await response!.json()) as Record<string, unknown> };
}

export function describeExampleE2E(framework: Framework): void {
  describe(`example in Chromium (${framework})`, () => {
    let browser: Browser | undefined;
    let fixture: Fixture | undefined;
    let setupError: unknown;

    beforeAll(async () => {
      // A failing beforeAll would mark every test "skipped"; keep the error and fail each test with it
      // instead (a missing Chromium must read as a failure with the install command, never a skip).
      try {
        browser = await launchBrowser(framework);
        fixture = await startFixture(framework);
      } catch (error) {
        setupError = error;
      }
    });

    afterAll(async () => {
      await fixture?.close();
      await browser?.close();
    });

    beforeEach(async () => {
      if (setupError) throw setupError;
      // Each journey starts with no app session and no org session, so the login form shows.
      await browser!.context.clearCookies();
    });

    async function signInThroughLink(tenantId: string, step: string): Promise<Page> {
      const { page } = browser!;
      const { baseUrl, org } = fixture!;
      await page.goto(`${baseUrl}/`);
      await Promise.all([page.waitForURL((url) => url.origin === org.issuer), page.locator(`a.sign-in[data-tenant="${tenantId}"]`).click()]);
      await browser!.screenshot(`${step}-login-form`);
      await fillLoginForm(page, USER.login, USER.password);
      await page.waitForURL((url) => url.origin === baseUrl && url.pathname === '/');
      return page;
    }

    it(`shows a public home page with a sign-in link per tenant (${framework})`, async () => {
      const { page } = browser!;
      const response = await page.goto(`${fixture!.baseUrl}/`);
      expect(response!.status()).toBe(200);
      expect(await page.locator('#status').getAttribute('data-signed-in')).toBe('false');
      const tenants = await page.locator('a.sign-in').evaluateAll((links) => links.map((a) => a.getAttribute('data-tenant')));
      expect(tenants).toEqual(TENANTS.map((t) => t.id));
      await browser!.screenshot('home');
    });

    it(`signs in through the org's login form and /me shows the user (${framework})`, async () => {
      const page = await signInThroughLink('acme-sales', 'sign-in');
      expect(await page.locator('#status').getAttribute('data-signed-in')).toBe('true');
      await expect(page.locator('#status').textContent()).resolves.toContain(USER.name);
      await browser!.screenshot('signed-in');

      const me = await meJson(page, fixture!.baseUrl);
      expect(me.status).toBe(200);
      expect(me.body['tenant']).toBe('acme-sales');
      // The sub is the org's user id for the person who filled in the form.
      expect(me.body['sub']).toBe(fixture!.org.config.users.find((u) => u.login === USER.login)!.sub);
      expect((me.body['claims'] as Record<string, unknown>)['name']).toBe(USER.name);
      await browser!.screenshot('me');
    });

    it(`signs out through the org's logout endpoint and lands back signed out (${framework})`, async () => {
      const page = await signInThroughLink('acme-sales', 'sign-out');
      const { baseUrl, org } = fixture!;
      // Requests, not navigations: the org's logout answers with a redirect, which never commits a page.
      const requested: string[] = [];
      const onRequest = (request: { url(): string }) => requested.push(request.url());
      page.on('request', onRequest);
      await page.locator('#sign-out').click();
      await page.waitForURL((url) => url.origin === baseUrl && url.pathname === '/' && requested.some((u) => u.startsWith(`${org.issuer}/`)));
      await page.waitForLoadState();
      page.off('request', onRequest);
      // The browser went through the org's RP-initiated logout (OIDC RP-Initiated Logout 1.0 §2) with the ID token hint.
      const logout = requested.map((u) => new URL(u)).find((u) => u.origin === org.issuer && u.pathname === '/oauth2/v1/logout');
      expect(logout, `requests: ${requested.join(' ')}`).toBeDefined();
      expect(logout!.searchParams.get('id_token_hint')).toBeTruthy();
      expect(logout!.searchParams.get('post_logout_redirect_uri')).toBe(`${baseUrl}/`);
      expect(await page.locator('#status').getAttribute('data-signed-in')).toBe('false');
      await browser!.screenshot('signed-out');

      const me = await meJson(page, baseUrl);
      expect(me.status).toBe(401);
    });

    it(`completes a third-party-initiated sign-in started at the org (${framework})`, async () => {
      const { page } = browser!;
      const { baseUrl, org } = fixture!;
      // The org's admin page plays the Okta dashboard: its link sends the browser to the app's
      // initiate login URI with iss (OIDC Core §4), the app sends it back to authorize.
      await page.goto(org.adminUrl);
      await browser!.screenshot('initiate-admin-page');
      const link = page.locator(`a.initiate[href*="client_id=${TENANTS[1].clientId}&"]`);
      await Promise.all([page.waitForURL((url) => url.origin === org.issuer && url.pathname.startsWith('/login/')), link.click()]);
      await browser!.screenshot('initiate-login-form');
      await fillLoginForm(page, USER.login, USER.password);
      await page.waitForURL((url) => url.origin === baseUrl && url.pathname === '/');
      expect(await page.locator('#status').getAttribute('data-signed-in')).toBe('true');
      await browser!.screenshot('initiate-signed-in');

      const me = await meJson(page, baseUrl);
      expect(me.status).toBe(200);
      expect(me.body['tenant']).toBe('acme-support');
    });

    it(`accepts Okta's simplified sign-in only for a tenant that allows it (${framework})`, async () => {
      const { page } = browser!;
      const { baseUrl, org } = fixture!;
      // The org's admin page auto-submits an ID token (no state) to the tenant's redirect URI: POST /auth/callback.
      await page.goto(org.adminUrl);
      await Promise.all([
        page.waitForURL((url) => url.origin === baseUrl && url.pathname === '/'),
        page.locator(`a.simplified[href*="client_id=${TENANTS[0].clientId}&"]`).click(),
      ]);
      expect(await page.locator('#status').getAttribute('data-signed-in')).toBe('true');
      await browser!.screenshot('simplified-signed-in');
      expect((await meJson(page, baseUrl)).body['tenant']).toBe('acme-sales');

      await browser!.context.clearCookies();
      await page.goto(org.adminUrl);
      const [refused] = await Promise.all([
        page.waitForResponse((r) => r.url() === `${baseUrl}/auth/callback` && r.request().method() === 'POST'),
        page.locator(`a.simplified[href*="client_id=${TENANTS[1].clientId}&"]`).click(),
      ]);
      expect(refused.status()).toBeGreaterThanOrEqual(400);
      expect(refused.status()).toBeLessThan(500);
      expect(await refused.text()).toContain('ERR_OIDC_SIMPLIFIED_FLOW_DISABLED');
      expect(await refused.headerValue('set-cookie')).toBeNull();
      await browser!.screenshot('simplified-refused');
      expect((await meJson(page, baseUrl)).status).toBe(401);
    });

    it(`asks before a sign-in at another tenant replaces the session, and switches only from its own page (SA-13) (${framework})`, async () => {
      const page = await signInThroughLink('acme-sales', 'switch');
      const { baseUrl, org } = fixture!;
      // A second sign-in at another instance of the same org: the org session exists, so Okta
      // answers at once, and the callback holds the new sign-in behind the confirmation page.
      await Promise.all([
        page.waitForURL((url) => url.origin === baseUrl && url.pathname === '/auth/callback'),
        page.locator('a.sign-in[data-tenant="acme-support"]').click(),
      ]);
      if (new URL(page.url()).origin === org.issuer) await fillLoginForm(page, USER.login, USER.password);
      await page.locator('#switch-continue').waitFor();
      await browser!.screenshot('switch-page');
      // Still the first session (asked with the browser's cookies, without leaving the page, whose CSP allows no fetch).
      expect(((await (await browser!.context.request.get(`${baseUrl}/me`)).json()) as { tenant: string }).tenant).toBe('acme-sales');
      // The browser's own form POST (Origin and Sec-Fetch-Site: same-origin) switches.
      await Promise.all([page.waitForURL((url) => url.origin === baseUrl && url.pathname === '/'), page.locator('#switch-continue').click()]);
      expect((await meJson(page, baseUrl)).body['tenant']).toBe('acme-support');
    });

    it(`rotates SESSION_SECRET: a new first secret still opens old sessions until the old one is removed (${framework})`, async () => {
      const page = await signInThroughLink('acme-sales', 'rotation');
      const { baseUrl } = fixture!;
      const old = fixture!.sessionSecret;
      const next = `e2e-${framework}-rotated-session-secret-0123456789`;

      // The cookies exactly as sealed with the old secret.
      const sealedWithOld = await browser!.context.cookies(baseUrl);

      // "new,old": the first seals, all unseal, so the session sealed with the old secret still opens.
      await fixture!.restartApp(`${next},${old}`);
      expect((await meJson(page, baseUrl)).status).toBe(200);

      // "new" alone: a cookie sealed with the old secret no longer opens. (The request above may
      // have re-sealed the session with the new secret, so put the old cookies back first.)
      await fixture!.restartApp(next);
      await browser!.context.clearCookies();
      await browser!.context.addCookies(sealedWithOld);
      expect((await meJson(page, baseUrl)).status).toBe(401);
      await page.goto(`${baseUrl}/`);
      expect(await page.locator('#status').getAttribute('data-signed-in')).toBe('false');
    });

    it(`redirects /auth/login to the tenant's org with PKCE and refuses unknown tenants and issuers (${framework})`, async () => {
      const { baseUrl, org } = fixture!;
      const login = await fetch(`${baseUrl}/auth/login?tenant=acme-support`, { redirect: 'manual' });
      expect(login.status).toBe(302);
      const authorize = new URL(login.headers.get('location')!);
      expect(`${authorize.origin}${authorize.pathname}`).toBe(`${org.issuer}/oauth2/v1/authorize`);
      const params = Object.fromEntries(authorize.searchParams);
      expect(params).toMatchObject({
        response_type: 'code',
        client_id: TENANTS[1].clientId,
        redirect_uri: `${baseUrl}/auth/callback`,
        code_challenge_method: 'S256',
      });
      expect(params['scope']?.split(' ')).toContain('openid');
      for (const name of ['state', 'nonce', 'code_challenge']) expect(params[name], name).toMatch(/^[\w-]{22,}$/);
      // The query response mode is the examples' default (the SDK default they keep).
      expect(params['response_mode'] ?? 'query').toBe('query');

      const unknown = await fetch(`${baseUrl}/auth/login?tenant=nobody`, { redirect: 'manual' });
      expect(unknown.status).toBeGreaterThanOrEqual(400);
      expect(unknown.status).toBeLessThan(500);
      expect(await unknown.text()).toContain('ERR_OIDC_TENANT_UNKNOWN');

      const offsite = await fetch(`${baseUrl}/auth/initiate?iss=${encodeURIComponent('https://attacker.example')}`, { redirect: 'manual' });
      expect(offsite.status).toBeGreaterThanOrEqual(400);
      expect(offsite.status).toBeLessThan(500);
      expect(offsite.headers.get('location')).toBeNull();
    });

    it(`answers /me with 401 JSON when not signed in (${framework})`, async () => {
      const response = await fetch(`${fixture!.baseUrl}/me`, { headers: { accept: 'application/json' } });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect((await response.json()) as unknown).toMatchObject({ error: 'ERR_OIDC_SESSION_MISSING' });
    });

    it(`serves /api/me to an active bearer token and refuses missing or inactive ones (${framework})`, async () => {
      const { baseUrl, org } = fixture!;
      const token = await org.control.issueAccessToken('0oa-acme-sales', { login: USER.login });
      const ok = await fetch(`${baseUrl}/api/me?tenant=acme-sales`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      const body = (await ok.json()) as Record<string, unknown>;
      expect(body['tenant']).toBe('acme-sales');
      expect(body['client_id']).toBe('0oa-acme-sales');
      expect(typeof body['sub']).toBe('string');
      expect(typeof body['scope']).toBe('string');

      const missing = await fetch(`${baseUrl}/api/me?tenant=acme-sales`);
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer\b/);

      const inactive = await fetch(`${baseUrl}/api/me?tenant=acme-sales`, { headers: { authorization: 'Bearer not-a-token-the-org-issued' } });
      expect(inactive.status).toBe(401);
      expect(inactive.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    });

    it(`answers /api/me with 503 when the org is unavailable (${framework})`, async () => {
      const { baseUrl, org } = fixture!;
      const token = await org.control.issueAccessToken('0oa-acme-sales', { login: USER.login });
      org.control.fault('introspect', { type: 'status', status: 503 });
      try {
        const response = await fetch(`${baseUrl}/api/me?tenant=acme-sales`, { headers: { authorization: `Bearer ${token}` } });
        expect(response.status).toBe(503);
      } finally {
        org.control.clearFaults('introspect');
      }
    });

    it(`refuses to start with a clear message when SESSION_SECRET is too short (${framework})`, async () => {
      const { baseUrl, tenantsFile } = fixture!;
      const result = await runExampleExpectingExit(framework, {
        PORT: '0',
        BASE_URL: baseUrl,
        OIN_TENANTS_FILE: tenantsFile,
        SESSION_SECRET: 'too-short',
      });
      expect(result.code).toBe(1);
      expect(result.output).toContain('SESSION_SECRET');
      expect(result.output).not.toMatch(/listening/i);
    });
  });
}
