/**
 * A minimal browser for flow-layer tests: a cookie jar (our cookies all use `Path=/`) that sends
 * {@link OidcRequest}s through `handle()` and follows the authorize redirect through the emulator.
 */
import { driveAuthorization } from '@oin-oidc/testing';
import type { OidcAuth, OidcRequest, OidcResponse } from '../../src/flow/types';

export interface SentRequest {
  method: string;
  url: string;
  body?: string;
  headers?: Record<string, string>;
}

export class Browser {
  readonly cookies = new Map<string, string>();
  /** Every response handle() produced for this browser, in order. */
  readonly responses: OidcResponse[] = [];
  /** Every authorization code the emulator delivered to this browser's callbacks. */
  readonly codes: string[] = [];

  constructor(readonly auth: OidcAuth) {}

  /** True when the jar holds a cookie whose name starts with `prefix`. */
  has(prefix: string): boolean {
    return [...this.cookies.keys()].some((name) => name.startsWith(prefix));
  }

  cookieHeader(): string | undefined {
    return this.cookies.size === 0 ? undefined : [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }

  request(method: string, url: string | URL, options: { body?: string; headers?: Record<string, string> } = {}): OidcRequest {
    const headers = new Headers(options.headers);
    const cookie = this.cookieHeader();
    if (cookie !== undefined && !headers.has('cookie')) headers.set('cookie', cookie);
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
    this.responses.push(response);
    this.apply(response.setCookies);
    return response;
  }

  /** Follow a login response through the emulator; returns the callback request without sending it. */
  async authorize(loginResponse: OidcResponse): Promise<{ method: 'GET' | 'POST'; url: URL; body?: string }> {
    const location = loginResponse.headers['Location'];
    if (loginResponse.status !== 302 || location === undefined) throw new Error(`login did not redirect: ${loginResponse.status}`);
    const callback = await driveAuthorization(location);
    const params = callback.body === undefined ? callback.url.searchParams : new URLSearchParams(callback.body);
    const code = params.get('code');
    if (code !== null) this.codes.push(code);
    return callback;
  }

  /** Follow a login response through the emulator and deliver the callback. */
  async complete(loginResponse: OidcResponse): Promise<OidcResponse> {
    const callback = await this.authorize(loginResponse);
    return this.send(callback.method, callback.url, callback.body === undefined ? {} : { body: callback.body });
  }
}

/** Our cookies that a response sets (not deletions), as name → value. */
export function setCookieValues(setCookies: string[], name: RegExp): Map<string, string> {
  const found = new Map<string, string>();
  for (const header of setCookies) {
    if (/;\s*Max-Age=0(;|$)/.test(header)) continue;
    const pair = header.split(';')[0] ?? '';
    const eq = pair.indexOf('=');
    if (name.test(pair.slice(0, eq))) found.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return found;
}

/** True when every Set-Cookie is a deletion (Max-Age=0). */
export function onlyDeletions(setCookies: string[]): boolean {
  return setCookies.every((header) => /;\s*Max-Age=0(;|$)/.test(header));
}
