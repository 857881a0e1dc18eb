/**
 * oin-oidc with Koa: sign-in for many customers' Okta orgs (the example contract, CONTRIBUTING.md).
 *
 *   BASE_URL=http://127.0.0.1:4000 OIN_TENANTS_FILE=tenants.json SESSION_SECRET=... \
 *     pnpm --filter ./examples/koa start
 */
import { oidc } from '@oin-oidc/koa';
import Koa from 'koa';
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
const requireAccessToken = auth.requireAccessToken();

const app = new Koa();
app.use(auth.middleware); // mounts /auth/login, /auth/callback, /auth/initiate, /auth/logout and sets ctx.state.oidc

app.use(async (ctx, next) => {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
  // Every page here depends on who is signed in: never let a browser or shared cache keep it.
  ctx.set('Cache-Control', 'no-store');
  const session = ctx.state.oidc?.session ?? null;
  switch (ctx.path) {
    case '/': {
      const user = session ? { tenant: session.tenant, sub: session.sub, claims: session.claims } : null;
      ctx.type = 'html';
      ctx.body = renderHomePage({ framework: 'Koa', user, tenants: await stores.tenants() });
      return;
    }
    case '/me':
      if (!session) {
        ctx.status = 401;
        ctx.body = { error: 'ERR_OIDC_SESSION_MISSING', message: 'Not signed in.' };
        return;
      }
      ctx.body = { tenant: session.tenant, sub: session.sub, claims: session.claims };
      return;
    case '/api/me':
      // Bearer API: the token is introspected at the tenant's org (RFC 7662); 401 + WWW-Authenticate otherwise.
      await requireAccessToken(ctx, async () => {
        const token = ctx.state.oidc!.accessToken!;
        ctx.body = { tenant: ctx.state.oidc!.accessTokenTenant, sub: token.sub, client_id: token.client_id, scope: token.scope };
      });
      return;
    default:
      return next();
  }
});

app
  .listen(config.port, config.host, () => {
    console.log(`listening on ${config.baseUrl} (bound to ${config.host}:${config.port})`);
  })
  .on('error', (error) => {
    console.error(`Cannot listen on ${config.host}:${config.port}: ${error.message}`);
    process.exit(1);
  });
