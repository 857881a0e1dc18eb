/** A minimal browser: a cookie jar and manual redirects, enough to sign in once through the emulator. */
export class CookieJar {
  constructor() {
    this.cookies = new Map();
  }

  store(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a)) || attributes.some((a) => /^\s*expires\s*=\s*thu, 01 jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/**
 * Sign in through an app: GET its login route, let the emulator authorize (driveAuthorization),
 * deliver the callback with the app's transaction cookies, keep the session cookies it sets.
 * Returns the Cookie header value for authenticated requests.
 */
export async function signInThrough(loginUrl, driveAuthorization) {
  const jar = new CookieJar();
  const login = await fetch(loginUrl, { redirect: 'manual' });
  jar.store(login);
  const location = login.headers.get('location');
  if (login.status < 300 || login.status >= 400 || !location) throw new Error(`login ${loginUrl}: expected a redirect, got ${login.status}`);
  const callback = await driveAuthorization(new URL(location, loginUrl));
  const init = { method: callback.method, redirect: 'manual', headers: { cookie: jar.header() } };
  if (callback.body !== undefined) {
    init.body = callback.body;
    init.headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const done = await fetch(callback.url, init);
  jar.store(done);
  if (done.status >= 400) throw new Error(`callback ${new URL(callback.url).pathname}: ${done.status} ${(await done.text()).slice(0, 300)}`);
  return jar.header();
}
