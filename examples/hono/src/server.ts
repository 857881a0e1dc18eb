/**
 * oin-oidc with Hono on Node: sign-in for many customers' Okta orgs (the example contract,
 * CONTRIBUTING.md).
 *
 *   BASE_URL=http://127.0.0.1:4000 OIN_TENANTS_FILE=tenants.json SESSION_SECRET=... \
 *     pnpm --filter ./examples/hono start
 */
import { serve } from '@hono/node-server';
import { oidc } from '@oin-oidc/hono';
import { Hono } from 'hono';
import { loadConfig } from './config';
import { renderHomePage } from './page';
import { loadStores } from './stores';

const config = loadConfig();
const stores = await loadStores(config); // Redis and PostgreSQL when configured (a fleet), else memory
const auth = oidc({
  store: stores.store,
  session: { secret: config.sessionSecrets, ...stores.session },
  // Cookie security and same-origin checks follow the configured origin, not the Host header.
  baseUrl: config.baseUrl,
  client: { allowLoopbackIssuers: config.allowLoopbackIssuers, ...stores.client },
  tenant: 'query', // /auth/login?tenant=ID and /api/me?tenant=ID
});

const app = new Hono();
app.use(auth.middleware); // mounts /auth/login, /auth/callback, /auth/initiate, /auth/logout and sets c.get('oidc')
// Every page below depends on who is signed in: never let a browser or shared cache keep it.
app.use(async (c, next) => {
  await next();
  c.header('Cache-Control', 'no-store');
});

app.get('/', async (c) => {
  const session = c.get('oidc').session;
  const user = session ? { tenant: session.tenant, sub: session.sub, claims: session.claims } : null;
  return c.html(renderHomePage({ framework: 'Hono', user, tenants: await stores.tenants() }));
});

app.get('/me', (c) => {
  const session = c.get('oidc').session;
  if (!session) return c.json({ error: 'ERR_OIDC_SESSION_MISSING', message: 'Not signed in.' }, 401);
  return c.json({ tenant: session.tenant, sub: session.sub, claims: session.claims });
});

// Bearer API: the token is introspected at the tenant's org (RFC 7662); 401 + WWW-Authenticate otherwise.
app.get('/api/me', auth.requireAccessToken(), (c) => {
  // The token's tenant (the session cookie, if any, may belong to another tenant).
  const { accessTokenTenant: tenant, accessToken } = c.get('oidc');
  return c.json({ tenant, sub: accessToken!.sub, client_id: accessToken!.client_id, scope: accessToken!.scope });
});

const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => {
  console.log(`listening on ${config.baseUrl} (bound to ${config.host}:${config.port})`);
});
server.on('error', (error) => {
  console.error(`Cannot listen on ${config.host}:${config.port}: ${error.message}`);
  process.exit(1);
});
