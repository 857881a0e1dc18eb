/**
 * A browser for flow-layer tests: a cookie jar (our cookies all use Path=/) that sends OidcRequest
 * objects through `handle()`, follows logins through the Okta org emulator, and answers the
 * "Switch account?" page like a person pressing a button.
 */
import { driveAuthorization } from '@oin-oidc/testing';
import { expect } from 'vitest';
import type { OidcAuth, OidcRequest, OidcResponse } from '../../src/flow/types';

/** A browser: a cookie jar (our cookies all use Path=/) that sends requests through handle(). */
export class FlowBrowser {
  readonly cookies = new Map<string, string>();

  constructor(
    readonly auth: OidcAuth,
    /** The app's origin, for the confirmation form's POST. */
    readonly app: string,
    readonly basePath = '',
  ) {}

  request(method: string, url: string | URL, options: { body?: string; headers?: Record<string, string> } = {}): OidcRequest {
    const headers = new Headers(options.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; '));
    if (options.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded');
    return { method, url: new URL(url), basePath: this.basePath, headers, readBody: async () => options.body ?? '' };
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
    if (response === null) throw new Error(`not an auth route: ${url}`);
    this.apply(response.setCookies);
    return response;
  }

  /** Follow a login (or initiate) response through the emulator and deliver the callback. */
  async complete(loginResponse: OidcResponse): Promise<OidcResponse> {
    expect(loginResponse.status).toBe(302);
    const callback = await driveAuthorization(loginResponse.headers['Location']!);
    return this.send(callback.method, callback.url, callback.body === undefined ? {} : { body: callback.body });
  }

  async signIn(tenant = 'acme', returnTo?: string): Promise<OidcResponse> {
    const query = new URLSearchParams({ tenant, ...(returnTo ? { returnTo } : {}) });
    return this.complete(await this.send('GET', `${this.app}${this.basePath}/auth/login?${query}`));
  }

  has(prefix: string): boolean {
    return [...this.cookies.keys()].some((name) => name.startsWith(prefix));
  }

  /** Press a button of the "Switch account?" page (a same-origin form POST, as a browser sends it). */
  async decideSwitch(page: OidcResponse, decision: 'continue' | 'cancel', origin = this.app): Promise<OidcResponse> {
    expect(page.status).toBe(409);
    const value = /name="oin_switch" value="([^"]+)"/.exec(page.body ?? '')?.[1];
    expect(value).toBeDefined();
    const body = new URLSearchParams({ oin_switch: value!, oin_decision: decision }).toString();
    return this.send('POST', `${origin}/auth/callback`, { body, headers: { origin, 'sec-fetch-site': 'same-origin' } });
  }
}

/** What a browser adds to a same-origin navigation or form (Fetch Metadata). */
export const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' };

export function sessionCookies(response: OidcResponse): string[] {
  return response.setCookies.filter((c) => /^(__Host-)?oin_session(\.\d+)?=[^;]/.test(c));
}

export function errorCode(response: OidcResponse): string | undefined {
  return /ERR_OIDC_[A-Z_]+/.exec(response.body ?? '')?.[0];
}

