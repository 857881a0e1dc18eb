// The sign-in both module systems run: the parts come in as arguments so that each entry point
// (sign-in.mjs with import, sign-in.cjs with require) proves its own way of loading the packages.
const USER = { login: 'ada@acme.example', password: 'Ada-standalone-pass-1' };

/** A tiny cookie jar for one origin: enough for the app's transaction and session cookies. */
function jar() {
  const cookies = new Map();
  return {
    store(response) {
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const eq = pair.indexOf('=');
        const name = pair.slice(0, eq).trim();
        const value = pair.slice(eq + 1).trim();
        if (value === '' || /max-age=0/i.test(line)) cookies.delete(name);
        else cookies.set(name, value);
      }
    },
    header: () => [...cookies].map(([n, v]) => `${n}=${v}`).join('; '),
  };
}

export async function signInOnce({ createServer, createMemoryCredentialStore, oidc, driveAuthorization, startOktaOrg, express, label }) {
  const store = createMemoryCredentialStore([]);
  const app = express();
  // The emulated org listens on 127.0.0.1: loopback issuers must be allowed explicitly.
  const auth = oidc({ store, session: { secret: 'standalone-session-secret-0123456789abcdef' }, tenant: 'query', client: { allowLoopbackIssuers: true } });
  app.use(auth);
  app.get('/me', auth.requiresAuth(), (req, res) => void res.json({ tenant: req.oidc.tenant, sub: req.oidc.session?.sub }));
  const server = createServer(app);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const org = await startOktaOrg({
    clients: [{ clientId: 'standalone-app', clientSecret: 'standalone-secret-0123456789', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [`${origin}/auth/callback`] }],
    users: [USER],
    autoLogin: false,
  });
  try {
    await store.put({ id: 'acme', issuer: org.issuer, clientId: 'standalone-app', clientSecret: 'standalone-secret-0123456789', redirectUris: [`${origin}/auth/callback`] });
    const cookies = jar();
    const get = async (url, init = {}) => {
      const response = await fetch(new URL(url, origin), { redirect: 'manual', ...init, headers: { accept: 'text/html', cookie: cookies.header(), ...(init.headers ?? {}) } });
      cookies.store(response);
      return response;
    };
    const signedOut = await get('/me', { headers: { accept: 'application/json' } });
    if (signedOut.status !== 401) throw new Error(`${label}: /me before sign-in answered ${signedOut.status}, expected 401`);
    const login = await get('/auth/login?tenant=acme');
    if (login.status !== 302) throw new Error(`${label}: /auth/login answered ${login.status}`);
    const callback = await driveAuthorization(login.headers.get('location'), USER);
    const back = await get(callback.url, callback.method === 'POST' ? { method: 'POST', body: callback.body, headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {});
    if (back.status !== 302) throw new Error(`${label}: the callback answered ${back.status}: ${await back.text()}`);
    const me = await get('/me', { headers: { accept: 'application/json' } });
    const body = await me.json();
    if (me.status !== 200 || body.tenant !== 'acme' || typeof body.sub !== 'string') throw new Error(`${label}: /me after sign-in answered ${me.status} ${JSON.stringify(body)}`);
    console.log(`standalone ${label}: signed in to tenant ${body.tenant} as ${body.sub}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await org.close();
  }
}
