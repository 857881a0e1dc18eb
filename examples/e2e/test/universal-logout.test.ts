/**
 * Universal Logout in a real browser (docs/universal-logout.md), for every example: a person signs
 * in through the org's login form, the org (as an admin's "Clear User Sessions" with "Also include
 * logout enabled apps" does) sends Universal Logout to the example's default endpoint `POST
 * ${BASE_URL}/auth/universal-logout`, and the next page load is signed out; a refused request
 * (another org's issuer) leaves the person signed in. One Chromium for the file; one example at a
 * time.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Browser, launchBrowser } from './support/browser';
import type { Framework } from './support/example';
import { type Fixture, startFixture, TENANTS, USER } from './support/fixture';
import { fillLoginForm } from './support/suite';

const FRAMEWORKS: Framework[] = ['express', 'fastify', 'hono', 'koa'];

let browser: Browser | undefined;
let setupError: unknown;

beforeAll(async () => {
  try {
    browser = await launchBrowser('universal-logout');
  } catch (error) {
    setupError = error;
  }
});

afterAll(async () => {
  await browser?.close();
});

for (const framework of FRAMEWORKS) {
  describe(`Universal Logout in Chromium (${framework})`, () => {
    let fixture: Fixture | undefined;
    let fixtureError: unknown;

    beforeAll(async () => {
      // Kept and rethrown by each test: a failing beforeAll would only mark the tests skipped.
      try {
        fixture = await startFixture(framework);
      } catch (error) {
        fixtureError = error;
      }
    });

    afterAll(async () => {
      await fixture?.close();
    });

    beforeEach(async () => {
      if (setupError) throw setupError;
      if (fixtureError) throw fixtureError;
      await browser!.context.clearCookies();
    });

    async function signIn(tenantId: string): Promise<void> {
      const { page } = browser!;
      const { baseUrl, org } = fixture!;
      await page.goto(`${baseUrl}/`);
      await Promise.all([page.waitForURL((url) => url.origin === org.issuer), page.locator(`a.sign-in[data-tenant="${tenantId}"]`).click()]);
      await fillLoginForm(page, USER.login, USER.password);
      await page.waitForURL((url) => url.origin === baseUrl && url.pathname === '/');
    }

    it(`the org's Universal Logout signs the person out on the next page load (${framework})`, async () => {
      const { page } = browser!;
      const { baseUrl, org } = fixture!;
      await signIn(TENANTS[0].id);
      expect(await page.locator('#status').getAttribute('data-signed-in')).toBe('true');
      await browser!.screenshot(`${framework}-signed-in`);

      const result = await org.control.universalLogout({ clientId: TENANTS[0].clientId, endpoint: `${baseUrl}/auth/universal-logout`, login: USER.login });
      expect(result.status).toBe(204);

      const reloaded = await page.reload();
      expect(reloaded!.status()).toBe(200);
      expect(await page.locator('#status').getAttribute('data-signed-in')).toBe('false');
      await browser!.screenshot(`${framework}-signed-out`);
      const me = await page.goto(`${baseUrl}/me`);
      expect(me!.status()).toBe(401);
    });

    it(`a refused Universal Logout (another org's issuer) leaves the person signed in (${framework})`, async () => {
      const { page } = browser!;
      const { baseUrl, org } = fixture!;
      await signIn(TENANTS[0].id);
      const result = await org.control.universalLogout({ clientId: TENANTS[0].clientId, endpoint: `${baseUrl}/auth/universal-logout`, login: USER.login, variant: 'other-org-issuer' });
      expect(result.status).toBe(401);
      await page.reload();
      expect(await page.locator('#status').getAttribute('data-signed-in')).toBe('true');
      const me = await page.goto(`${baseUrl}/me`);
      expect(me!.status()).toBe(200);
    });
  });
}
