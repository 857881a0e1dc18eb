/** The request a browser would make to the client's redirect URI at the end of the flow. */
export interface CallbackRequest {
  method: 'GET' | 'POST';
  url: URL;
  /** urlencoded form body (response_mode=form_post). */
  body?: string;
}

const MAX_STEPS = 20;

function decodeEntities(value: string): string {
  return value
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCodePoint(Number.parseInt(n, 16)))
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`, 'i').exec(tag);
  return m ? decodeEntities(m[2] ?? m[3] ?? '') : undefined;
}

/** The first <form> of a page: its method, action and named inputs. */
function parseForm(html: string, base: URL): { method: string; action: URL; fields: [string, string][] } | undefined {
  const open = /<form\b[^>]*>/i.exec(html);
  if (!open) return undefined;
  const end = html.indexOf('</form>', open.index);
  const inner = html.slice(open.index, end === -1 ? undefined : end);
  const fields: [string, string][] = [];
  for (const input of inner.match(/<input\b[^>]*>/gi) ?? []) {
    const name = attr(input, 'name');
    if (name) fields.push([name, attr(input, 'value') ?? '']);
  }
  return { method: (attr(open[0], 'method') ?? 'get').toUpperCase(), action: new URL(attr(open[0], 'action') ?? base.href, base), fields };
}

/** A tiny cookie jar: name → value per origin (enough for one emulator's cookies). */
class CookieJar {
  #cookies = new Map<string, Map<string, string>>();

  store(origin: string, response: Response): void {
    const jar = this.#cookies.get(origin) ?? new Map<string, string>();
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a) || (/^\s*expires\s*=/i.test(a) && Date.parse(a.split('=')[1] ?? '') < Date.now()));
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    this.#cookies.set(origin, jar);
  }

  header(origin: string): string | undefined {
    const jar = this.#cookies.get(origin);
    if (!jar?.size) return undefined;
    return [...jar].map(([n, v]) => `${n}=${v}`).join('; ');
  }
}

/** Paths the emulator itself serves during an authorization (followed, not returned). */
function isEmulatorStep(url: URL, origin: string): boolean {
  return url.origin === origin && (url.pathname.startsWith('/oauth2/') || url.pathname.startsWith('/login/'));
}

/**
 * Plays the browser through an authorization at the emulator: follows redirects with a cookie
 * jar (fetch with redirect 'manual'), signs in through the login form when auto-login is off (or
 * when `login`/`password` are given and a form is shown), and returns the request the browser would
 * then make to the client: GET redirect_uri?code=…&state=…&iss=…, or for response_mode=form_post a
 * POST with the urlencoded form body. Throws when the flow ends on an error page or the
 * credentials are refused.
 */
export async function driveAuthorization(
  authorizeUrl: string | URL,
  options: { login?: string; password?: string } = {},
): Promise<CallbackRequest> {
  const start = new URL(authorizeUrl);
  const origin = start.origin;
  const jar = new CookieJar();
  let request: { url: URL; method: 'GET' | 'POST'; body?: string } = { url: start, method: 'GET' };
  let submittedLogin = false;

  for (let step = 0; step < MAX_STEPS; step++) {
    const headers: Record<string, string> = { accept: 'text/html' };
    const cookie = jar.header(request.url.origin);
    if (cookie) headers.cookie = cookie;
    if (request.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(request.url, { method: request.method, headers, body: request.body, redirect: 'manual' });
    jar.store(request.url.origin, response);

    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      const location = response.headers.get('location');
      if (!location) throw new Error(`driveAuthorization: ${response.status} without Location`);
      const next = new URL(location, request.url);
      if (!isEmulatorStep(next, origin)) return { method: 'GET', url: next };
      request = { url: next, method: 'GET' };
      continue;
    }

    const html = await response.text();
    if (response.status !== 200) {
      const description = /class="error_description">([^<]*)</.exec(html)?.[1] ?? /class="error">([^<]*)</.exec(html)?.[1];
      throw new Error(`driveAuthorization: ${request.url.pathname} answered ${response.status}${description ? `: ${decodeEntities(description)}` : ''}`);
    }
    const form = parseForm(html, request.url);
    if (!form) throw new Error(`driveAuthorization: unexpected page at ${request.url.pathname}`);
    const fields = new Map(form.fields);

    if (fields.has('username') && fields.has('password')) {
      if (submittedLogin) throw new Error('driveAuthorization: sign-in refused (wrong username or password)');
      if (!options.login || options.password === undefined) {
        throw new Error('driveAuthorization: the login form is shown; pass { login, password }');
      }
      fields.set('username', options.login);
      fields.set('password', options.password);
      submittedLogin = true;
    }
    const body = new URLSearchParams([...fields]).toString();
    if (!isEmulatorStep(form.action, origin)) {
      // form_post response (OAuth 2.0 Form Post Response Mode): the auto-submitting page.
      return { method: 'POST', url: form.action, body };
    }
    request = form.method === 'POST' ? { url: form.action, method: 'POST', body } : { url: new URL(`${form.action.origin}${form.action.pathname}?${body}`), method: 'GET' };
  }
  throw new Error('driveAuthorization: too many steps');
}
