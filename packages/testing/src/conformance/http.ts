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
