/**
 * Shared harness of the catalogue tests (catalogue-*.test.ts): one emulated Okta org, the flow
 * layer (createOidcAuth) and a small cookie jar that plays the browser. Each catalogue test drives
 * the full flow against the emulator's hostile mode and asserts what a REJECT-CB / REJECT-API /
 * UPSTREAM-5xx means (catalogue §0): the typed error code, the status, no session cookie, and no
 * further call to Okta after the failed check.
 */
import { driveAuthorization, type EmulatorEndpoint, type HostileArtefact, type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { expect } from 'vitest';
import { createOidcClient, type OidcClient } from '../src/client';
import { createOidcAuth } from '../src/flow/auth';
import type { OidcAuth, OidcAuthOptions, OidcRequest, OidcResponse } from '../src/flow/types';
import { createMemoryCredentialStore } from '../src/tenant/credential-store';
import type { TenantRecord } from '../src/tenant/tenant';

export const APP = 'http://127.0.0.1:4000';
export const CLIENT_ID = '0oaCatalogueApp000001';
export const OTHER_CLIENT_ID = '0oaCatalogueOther0001';
const SECRET = 'catalogue-session-secret-0123456789-0123456789';
const USER = { login: 'carol@acme.example', password: 'pw', claims: { name: 'Carol Doe', email: 'carol@acme.example' } };

export interface Harness {
  org: OktaOrg;
  tenants: TenantRecord[];
  auth(extra?: Partial<OidcAuthOptions>): OidcAuth;
  client(extra?: Parameters<typeof createOidcClient>[0] extends infer O ? Partial<O> : never): OidcClient;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const org = await startOktaOrg({
    clients: [
      { clientId: CLIENT_ID, clientSecret: 'catalogue-secret', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [`${APP}/auth/callback`], postLogoutRedirectUris: [`${APP}/`] },
      { clientId: OTHER_CLIENT_ID, clientSecret: 'other-secret', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [`${APP}/auth/callback`] },
    ],
    users: [USER],
  });
  const tenants: TenantRecord[] = [
    { id: 'acme', issuer: org.issuer, clientId: CLIENT_ID, clientSecret: 'catalogue-secret', redirectUris: [`${APP}/auth/callback`], postLogoutRedirectUris: [`${APP}/`] },
    { id: 'other', issuer: org.issuer, clientId: OTHER_CLIENT_ID, clientSecret: 'other-secret', redirectUris: [`${APP}/auth/callback`] },
  ];
  return {
    org,
    tenants,
    auth: (extra = {}) => createOidcAuth({ store: tenants, session: { secret: SECRET }, client: { httpTimeoutMs: 2_000, allowLoopbackIssuers: true }, ...extra }),
    client: (extra = {}) => createOidcClient({ store: createMemoryCredentialStore(tenants), httpTimeoutMs: 2_000, allowLoopbackIssuers: true, ...extra }),
    close: () => org.close(),
  };
}

/** A browser: a cookie jar that sends requests through handle(). */
export class Browser {
  readonly cookies = new Map<string, string>();

  constructor(readonly auth: OidcAuth) {}

  request(method: string, url: string | URL, options: { body?: string; headers?: Record<string, string> } = {}): OidcRequest {
    const headers = new Headers(options.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; '));
    if (options.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded');
    return { method, url: new URL(url), basePath: '', headers, readBody: async () => options.body ?? '' };
  }

  apply(setCookies: string[]): void {
    for (const header of setCookies) {
      const [pair = ''] = header.split(';');
      const eq = pair.indexOf('=');
      if (/;\s*Max-Age=0(;|$)/.test(header)) this.cookies.delete(pair.slice(0, eq));
      else this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }

  async send(method: string, url: string | URL, options: { body?: string; headers?: Record<string, string> } = {}): Promise<OidcResponse> {
    const response = await this.auth.handle(this.request(method, url, options));
    if (response === null) throw new Error(`not an auth route: ${String(url)}`);
    this.apply(response.setCookies);
    return response;
  }

  has(prefix: string): boolean {
    return [...this.cookies.keys()].some((name) => name.startsWith(prefix));
  }
}

export function sessionCookies(response: OidcResponse): string[] {
  return response.setCookies.filter((c) => /^(__Host-)?oin_session(\.\d+)?=[^;]/.test(c));
}

export function errorCode(response: OidcResponse): string | undefined {
  return /ERR_OIDC_[A-Z_]+/.exec(response.body ?? '')?.[0];
}

/**
 * One full sign-in through the flow layer with `artefact` armed once on `endpoint` (default the
 * token endpoint). Counters are reset just before the callback is delivered, so they show exactly
 * the calls the callback made.
 */
export async function hostileSignIn(
  h: Harness,
  artefact: HostileArtefact | undefined,
  options: { endpoint?: EmulatorEndpoint; auth?: OidcAuth; tenant?: string; persistent?: boolean; mutateCallback?: (url: URL) => void } = {},
): Promise<{ response: OidcResponse; browser: Browser; counters: Record<EmulatorEndpoint, number> }> {
  const browser = new Browser(options.auth ?? h.auth());
  const login = await browser.send('GET', `${APP}/auth/login?tenant=${options.tenant ?? 'acme'}`);
  expect(login.status).toBe(302);
  const callback = await driveAuthorization(login.headers.Location ?? '');
  if (artefact) h.org.control.hostile(options.endpoint ?? 'token', artefact, options.persistent ? {} : { times: 1 });
  options.mutateCallback?.(callback.url);
  h.org.control.resetCounters();
  const response = await browser.send(callback.method, callback.url, callback.body === undefined ? {} : { body: callback.body });
  const counters = h.org.control.counters();
  h.org.control.clearHostile();
  return { response, browser, counters };
}

/**
 * REJECT-CB (catalogue §0): `status`, the typed `code`, no session cookie, the transaction cookie
 * deleted, and no call to Okta after the failed check: the one token request (never retried) and
 * nothing else (no userinfo, introspection or revocation).
 */
export function expectRejectedCallback(
  result: { response: OidcResponse; browser: Browser; counters: Record<EmulatorEndpoint, number> },
  code: string,
  status = 400,
  tokenCalls = 1,
): void {
  const { response, browser, counters } = result;
  expect(errorCode(response)).toBe(code);
  expect(response.status).toBe(status);
  expect(sessionCookies(response)).toEqual([]);
  expect(browser.has('oin_session')).toBe(false);
  expect(browser.has('oin_tx_')).toBe(false);
  expect(counters.token).toBe(tokenCalls);
  expect(counters.userinfo + counters.introspect + counters.revoke + counters.logout + counters.authorize).toBe(0);
}
