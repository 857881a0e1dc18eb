/**
 * The onboarding admin page of the Express example (docs/operations.md, 'Onboarding a customer') in
 * Chromium: an admin enters a customer's org, `checkTenant` runs, the report is shown, and the
 * tenant is saved only when no check failed — then a user signs in with it. A wrong secret is
 * reported (client.credentials) and not saved; the secret never appears in a page. Without the
 * admin token the page answers 401, and a cross-origin form post is refused even with it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, launchBrowser } from './support/browser';
import { freePort, type RunningExample, startExample } from './support/example';
import { USER } from './support/fixture';
import { fillLoginForm } from './support/suite';

const ADMIN_TOKEN = 'onboarding-admin-token-0123456789abcdef';
const SECRET = 'onboard-secret-0123456789abcdef-NEVER-SHOWN';
const WRONG_SECRET = 'onboard-wrong-secret-0123456789abcdef-NEVER-SHOWN';

let org: OktaOrg;
let app: RunningExample;
let browser: Browser;
let baseUrl: string;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oin-e2e-onboarding-'));
  baseUrl = `http://127.0.0.1:${await freePort()}`;
  const client = (clientId: string, clientSecret: string) => ({
    clientId,
    clientSecret,
    tokenEndpointAuthMethod: 'client_secret_basic' as const,
    redirectUris: [`${baseUrl}/auth/callback`],
    postLogoutRedirectUris: [`${baseUrl}/`],
  });
  org = await startOktaOrg({
    name: 'Newco',
    autoLogin: false,
    users: [{ login: USER.login, password: USER.password, claims: { name: USER.name, email: USER.login } }],
    clients: [client('0oa-existing', 'existing-secret-0123456789abcdef'), { ...client('0oa-newco', SECRET), name: 'Newco (new customer)' }],
  });
  // The example needs one tenant to start; the new customer is added through the admin page.
  const tenantsFile = join(dir, 'tenants.json');
  await writeFile(tenantsFile, JSON.stringify([{ id: 'existing', issuer: org.issuer, clientId: '0oa-existing', clientSecret: 'existing-secret-0123456789abcdef', redirectUris: [`${baseUrl}/auth/callback`] }]));
  app = await startExample('express', {
    PORT: new URL(baseUrl).port,
    BASE_URL: baseUrl,
    OIN_TENANTS_FILE: tenantsFile,
    SESSION_SECRET: 'e2e-onboarding-session-secret-at-least-32-chars',
    OIN_ADMIN_TOKEN: ADMIN_TOKEN,
  });
  browser = await launchBrowser('onboarding');
  await browser.context.setHTTPCredentials({ username: 'admin', password: ADMIN_TOKEN, origin: baseUrl });
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await org?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function submit(secret: string): Promise<number | undefined> {
  const page = browser.page;
  await page.locator('input[name="id"]').fill('newco');
  await page.locator('input[name="issuer"]').fill(org.issuer);
  await page.locator('input[name="clientId"]').fill('0oa-newco');
  await page.locator('input[name="clientSecret"]').fill(secret);
  const [response] = await Promise.all([page.waitForResponse((r) => r.url() === `${baseUrl}/admin/tenants/new` && r.request().method() === 'POST'), page.locator('#check').click()]);
  await page.waitForLoadState();
  return response.status();
}

describe('onboarding a customer through the admin page (Express)', () => {
  it('refuses the admin page without the token, and a form post from another origin with it', async () => {
    const anonymous = await fetch(`${baseUrl}/admin/tenants/new`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('Basic');
    const wrong = await fetch(`${baseUrl}/admin/tenants/new`, { headers: { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` } });
    expect(wrong.status).toBe(401);
    const crossSite = await fetch(`${baseUrl}/admin/tenants/new`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`, origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ id: 'evil', issuer: org.issuer, clientId: '0oa-newco', clientSecret: SECRET, method: 'client_secret_basic' }).toString(),
    });
    expect(crossSite.status).toBe(403);
  });

  it('shows the report and does not save a tenant whose secret Okta refuses', async () => {
    const page = browser.page;
    const form = await page.goto(`${baseUrl}/admin/tenants/new`);
    expect(form?.status()).toBe(200);
    expect(form?.headers()['cache-control']).toBe('no-store');
    // Waits for the form to be attached (Playwright's action deadline), not expect.poll's 1 s.
    await page.locator('#onboard').waitFor({ state: 'attached' });
    expect(await page.locator('#onboard').count()).toBe(1);
    expect(await submit(WRONG_SECRET)).toBe(422);
    await browser.screenshot('wrong-secret-report');
    expect(await page.locator('#verdict').getAttribute('data-ok')).toBe('false');
    expect(await page.locator('#report tr[data-check-id="client.credentials"]').getAttribute('data-status')).toBe('fail');
    expect(await page.locator('#report tr[data-check-id="redirect-uri.registered"]').getAttribute('data-status')).toBe('ok');
    const html = await page.content();
    expect(html).not.toContain(WRONG_SECRET);
    // The form comes back filled in, except the secret.
    expect(await page.locator('input[name="clientId"]').inputValue()).toBe('0oa-newco');
    expect(await page.locator('input[name="clientSecret"]').inputValue()).toBe('');
    // Not saved: the app does not know the tenant.
    const login = await fetch(`${baseUrl}/auth/login?tenant=newco`, { redirect: 'manual' });
    expect(login.status).toBe(404);
  });

  it('saves a tenant that passes, and a user then signs in with it in the browser', async () => {
    const page = browser.page;
    expect(await submit(SECRET)).toBe(201);
    await browser.screenshot('passing-report');
    expect(await page.locator('#verdict').getAttribute('data-ok')).toBe('true');
    expect(await page.locator('#report').getAttribute('data-ok')).toBe('true');
    expect(await page.locator('#report tr[data-status="fail"]').count()).toBe(0);
    expect(await page.content()).not.toContain(SECRET);

    await Promise.all([page.waitForURL((url) => url.origin === org.issuer), page.locator('#sign-in').click()]);
    await fillLoginForm(page, USER.login, USER.password);
    await page.waitForURL((url) => url.origin === baseUrl && url.pathname === '/');
    await browser.screenshot('signed-in-with-new-tenant');
    expect(await page.locator('#status').getAttribute('data-signed-in')).toBe('true');
    expect(await page.locator('#status').textContent()).toContain('newco');

    // Saving it twice is refused before any check.
    await page.goto(`${baseUrl}/admin/tenants/new`);
    expect(await submit(SECRET)).toBe(409);
    expect(await page.locator('#error').textContent()).toContain('exists already');
  });
});
