/**
 * oin-oidc with Express: sign-in for many customers' Okta orgs (the example contract,
 * CONTRIBUTING.md).
 *
 *   BASE_URL=http://127.0.0.1:4000 OIN_TENANTS_FILE=tenants.json SESSION_SECRET=... \
 *     pnpm --filter ./examples/express start
 */
import { oidc } from '@oin-oidc/express';
import express from 'express';
import { onboarding } from './admin';
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

const app = express();
app.disable('x-powered-by');
app.use(auth); // mounts /auth/login, /auth/callback, /auth/initiate, /auth/logout and sets req.oidc
// Every page below depends on who is signed in: never let a browser or shared cache keep it.
app.use((_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
});

app.get('/', async (req, res) => {
  const session = req.oidc.session;
  const user = session ? { tenant: session.tenant, sub: session.sub, claims: session.claims } : null;
  res.type('html').send(renderHomePage({ framework: 'Express', user, tenants: await stores.tenants() }));
});

app.get('/me', (req, res) => {
  const session = req.oidc.session;
  if (!session) {
    res.status(401).json({ error: 'ERR_OIDC_SESSION_MISSING', message: 'Not signed in.' });
    return;
  }
  res.json({ tenant: session.tenant, sub: session.sub, claims: session.claims });
});

// Bearer API: the token is introspected at the tenant's org (RFC 7662); 401 + WWW-Authenticate otherwise.
app.get('/api/me', auth.requireAccessToken(), (req, res) => {
  const token = req.oidc.accessToken!;
  res.json({ tenant: req.oidc.accessTokenTenant, sub: token.sub, client_id: token.client_id, scope: token.scope });
});

// Onboarding (docs/operations.md): /admin/tenants/new checks a customer's org with checkTenant and
// saves it only when it passes; needs OIN_ADMIN_TOKEN.
app.use(onboarding({ store: stores.store, baseUrl: config.baseUrl, allowLoopbackIssuers: config.allowLoopbackIssuers }));

app.listen(config.port, config.host, (error?: Error) => {
  if (error) {
    console.error(`Cannot listen on ${config.host}:${config.port}: ${error.message}`);
    process.exit(1);
  }
  console.log(`listening on ${config.baseUrl} (bound to ${config.host}:${config.port})`);
});
