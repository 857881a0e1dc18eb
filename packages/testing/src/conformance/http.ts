/**
 * The browser side of the adapter conformance suite: fetch with `redirect: 'manual'` and a tiny
 * cookie jar. Deliberately naive about cookie attributes (no Domain/Path/Secure matching): the
 * suite talks to one loopback origin and wants to see exactly what the adapter sent.
 */

/** One parsed `Set-Cookie` header. */
export interface SetCookie {
  name: string;
  value: string;
  /** Lower-cased attribute names → values (`''` for flags such as `httponly`). */
  attributes: Record<string, string>;
  /** True when the header deletes the cookie (`Max-Age=0` or an `Expires` in the past). */
  deletes: boolean;
}

export function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...parts] = header.split(';');
  const eq = pair.indexOf('=');
  const attributes: Record<string, string> = {};
  for (const part of parts) {
    const i = part.indexOf('=');
    const key = (i === -1 ? part : part.slice(0, i)).trim().toLowerCase();
    attributes[key] = i === -1 ? '' : part.slice(i + 1).trim();
  }
  const maxAge = attributes['max-age'];
  const expires = attributes['expires'];
  const deletes =
    (maxAge !== undefined && Number(maxAge) <= 0) || (maxAge === undefined && expires !== undefined && Date.parse(expires) <= Date.now());
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes, deletes };
}

/** Every `Set-Cookie` header of a response, one entry per header (never split on commas). */
export function setCookiesOf(response: Response): SetCookie[] {
  return response.headers.getSetCookie().map(parseSetCookie);
}

export class CookieJar {
  readonly cookies = new Map<string, string>();

  /** A copy, to replay an old browser state. */
  clone(): CookieJar {
    const copy = new CookieJar();
    for (const [name, value] of this.cookies) copy.cookies.set(name, value);
    return copy;
  }

  store(response: Response): SetCookie[] {
    const set = setCookiesOf(response);
    for (const cookie of set) {
      if (cookie.deletes) this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    return set;
  }

  header(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

export interface Browser {
  jar: CookieJar;
  /** fetch against the app (relative paths resolve against its origin), manual redirects, cookies kept. */
  fetch(path: string | URL, init?: RequestInit & { headers?: Record<string, string> }): Promise<Response>;
}

export function browser(origin: string, jar: CookieJar = new CookieJar()): Browser {
  return {
    jar,
    async fetch(path, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      const cookie = jar.header();
      if (cookie !== undefined && headers['cookie'] === undefined) headers['cookie'] = cookie;
      const response = await fetch(new URL(path, origin), { ...init, headers, redirect: 'manual' });
      jar.store(response);
      return response;
    },
  };
}

/** A urlencoded POST body with its content type. */
export function form(params: Record<string, string> | URLSearchParams | string): RequestInit & { headers: Record<string, string> } {
  const body = typeof params === 'string' ? params : new URLSearchParams(params).toString();
  return { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
}

/**
 * Send raw HTTP/1.1 bytes (for headers fetch will not send, such as a malformed `Host`) and
 * return the status code of the answer.
 */
export async function rawRequest(origin: string, head: string): Promise<number> {
  const { connect } = await import('node:net');
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(head));
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      if (match) {
        socket.destroy();
        resolve(Number(match[1]));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('connection closed without a status line')));
  });
}

/** What a browser adds to a request the app's own page makes (Fetch Metadata, W3C §2.1; `Origin`, RFC 6454 §7). */
export function sameOriginHeaders(origin: string): Record<string, string> {
  return { 'sec-fetch-site': 'same-origin', origin };
}

/**
 * The "Switch account?" page (409) a sign-in over another tenant's or user's session answers
 * (catalogue SA-13): its forms' action and the confirmation value they post as `oin_switch`.
 */
export function switchFormOf(html: string): { action: string; value: string } | undefined {
  const action = /<form method="post" action="([^"]*)"/.exec(html)?.[1];
  const value = /name="oin_switch" value="([^"]+)"/.exec(html)?.[1];
  if (action === undefined || value === undefined) return undefined;
  return { action: action.replaceAll('&amp;', '&'), value };
}

/** The POST one of the switch page's buttons sends (`continue` or `cancel`), with `headers` added. */
export function switchDecision(value: string, decision: 'continue' | 'cancel', headers: Record<string, string>): RequestInit & { headers: Record<string, string> } {
  const init = form({ oin_switch: value, oin_decision: decision });
  return { ...init, headers: { ...init.headers, ...headers } };
}

/**
 * Press a button of the switch page `page` (a 409 response, body not read yet) in browser `b`:
 * a POST to the page's form action on `origin`, by default from the app's own page.
 */
export async function answerSwitch(
  b: Browser,
  origin: string,
  page: Response,
  decision: 'continue' | 'cancel',
  headers: Record<string, string> = sameOriginHeaders(origin),
): Promise<Response> {
  const html = await page.text();
  const switchForm = switchFormOf(html);
  if (page.status !== 409 || switchForm === undefined) throw new Error(`expected the switch-account page (409), got ${page.status}: ${html.slice(0, 200)}`);
  return b.fetch(new URL(switchForm.action, origin), switchDecision(switchForm.value, decision, headers));
}

/** An answer read by {@link hostRequest}. */
export interface RawResponse {
  status: number;
  /** Lower-cased header names; `set-cookie` is in {@link setCookies}. */
  headers: Record<string, string>;
  setCookies: SetCookie[];
  body: string;
}

/**
 * One request with a `Host` header of the caller's choosing (fetch never sends one): for host-based
 * tenants, where the host a request names is the tenant. Cookies come from and go to `jar`, like
 * {@link browser}; redirects are not followed.
 */
export async function hostRequest(
  origin: string,
  target: string,
  options: { host: string; method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; jar?: CookieJar },
): Promise<RawResponse> {
  const { request } = await import('node:http');
  const { hostname, port } = new URL(origin);
  const headers: Record<string, string> = { ...options.headers, host: options.host };
  const cookie = options.jar?.header();
  if (cookie !== undefined && headers['cookie'] === undefined) headers['cookie'] = cookie;
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port: Number(port), path: target, method: options.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const setCookies = (res.headers['set-cookie'] ?? []).map(parseSetCookie);
        for (const c of setCookies) {
          if (c.deletes) options.jar?.cookies.delete(c.name);
          else options.jar?.cookies.set(c.name, c.value);
        }
        const flat: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) if (name !== 'set-cookie' && value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
        resolve({ status: res.statusCode ?? 0, headers: flat, setCookies, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
