/**
 * One Okta org emulator (autoLogin off: the real login form) holding two instances of the app,
 * a tenants file for them, and one example started against it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { type Framework, freePort, type RunningExample, startExample } from './example';

export const USER = { login: 'alice@acme.example', password: 'correct horse battery staple', name: 'Alice Example' } as const;

/** Two instances of the app in one org: sign-in and initiate must pick the right one. */
export const TENANTS = [
  { id: 'acme-sales', name: 'Acme Sales', clientId: '0oa-acme-sales', clientSecret: 'acme-sales-secret-0123456789abcdef' },
  { id: 'acme-support', name: 'Acme Support', clientId: '0oa-acme-support', clientSecret: 'acme-support-secret-0123456789abcdef' },
] as const;

export interface Fixture {
  org: OktaOrg;
  /** The running example; replaced by {@link Fixture.restartApp}. */
  readonly app: RunningExample;
  baseUrl: string;
  tenantsFile: string;
  /** The SESSION_SECRET the example runs with. */
  readonly sessionSecret: string;
  /** Stop the example and start it again on the same port with another SESSION_SECRET. */
  restartApp(sessionSecret: string): Promise<void>;
  close(): Promise<void>;
}

export async function startFixture(framework: Framework): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), `oin-e2e-${framework}-`));
  const closers: (() => Promise<void>)[] = [() => rm(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => {});
  };
  try {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const org = await startOktaOrg({
      name: 'Acme',
      autoLogin: false,
      users: [{ login: USER.login, password: USER.password, claims: { name: USER.name, email: USER.login } }],
      clients: TENANTS.map((t) => ({
        clientId: t.clientId,
        name: t.name,
        clientSecret: t.clientSecret,
        tokenEndpointAuthMethod: 'client_secret_basic' as const,
        redirectUris: [`${baseUrl}/auth/callback`],
        postLogoutRedirectUris: [`${baseUrl}/`],
        // The org holds two instances: the tenant parameter tells them apart (the example contract,
        // /auth/initiate?tenant=ID).
        initiateLoginUri: `${baseUrl}/auth/initiate?tenant=${t.id}`,
      })),
    });
    closers.push(() => org.close());

    const tenantsFile = join(dir, 'tenants.json');
    const records = TENANTS.map((t) => ({
      id: t.id,
      issuer: org.issuer,
      clientId: t.clientId,
      clientSecret: t.clientSecret,
      redirectUris: [`${baseUrl}/auth/callback`],
      postLogoutRedirectUris: [`${baseUrl}/`],
      initiateLoginUri: `${baseUrl}/auth/initiate?tenant=${t.id}`,
      // Only the first instance accepts Okta's simplified flow (an ID token posted without state).
      allowSimplifiedFlow: t.id === 'acme-sales',
    }));
    await writeFile(tenantsFile, JSON.stringify(records, null, 2));

    const start = (secret: string) =>
      startExample(framework, { PORT: String(port), BASE_URL: baseUrl, OIN_TENANTS_FILE: tenantsFile, SESSION_SECRET: secret });
    let sessionSecret = `e2e-${framework}-session-secret-at-least-32-characters`;
    let app = await start(sessionSecret);
    closers.push(() => app.stop());
    return {
      org,
      get app() {
        return app;
      },
      get sessionSecret() {
        return sessionSecret;
      },
      baseUrl,
      tenantsFile,
      async restartApp(secret) {
        await app.stop();
        sessionSecret = secret;
        app = await start(secret);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
