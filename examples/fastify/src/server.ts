/**
 * oin-oidc with Fastify: sign-in for many customers' Okta orgs (the example contract,
 * CONTRIBUTING.md).
 *
 *   BASE_URL=http://127.0.0.1:4000 OIN_TENANTS_FILE=tenants.json SESSION_SECRET=... \
 *     pnpm --filter ./examples/fastify start
 */
import { oidcPlugin } from '@oin-oidc/fastify';
import Fastify from 'fastify';
import { loadConfig } from './config';
import { renderHomePage } from './page';
import { loadStores } from './stores';

const config = loadConfig();
const stores = await loadStores(config); // Redis and PostgreSQL when configured (a fleet), else memory
const app = Fastify();
// Mounts /auth/login, /auth/callback, /auth/initiate, /auth/logout and sets request.oidc.
await app.register(oidcPlugin, {
  store: stores.store,
  session: { secret: config.sessionSecrets, ...stores.session },
  // Cookie security and same-origin checks follow the configured origin, not the Host header.
  baseUrl: config.baseUrl,
  client: { allowLoopbackIssuers: config.allowLoopbackIssuers, ...stores.client },
  tenant: 'query', // /auth/login?tenant=ID and /api/me?tenant=ID
});

// Every page depends on who is signed in: never let a browser or shared cache keep it.
app.addHook('onRequest', async (_request, reply) => {
  reply.header('Cache-Control', 'no-store');
});

app.get('/', async (request, reply) => {
  const session = request.oidc.session;
  const user = session ? { tenant: session.tenant, sub: session.sub, claims: session.claims } : null;
  return reply.type('text/html; charset=utf-8').send(renderHomePage({ framework: 'Fastify', user, tenants: await stores.tenants() }));
});

app.get('/me', async (request, reply) => {
  const session = request.oidc.session;
  if (!session) return reply.code(401).send({ error: 'ERR_OIDC_SESSION_MISSING', message: 'Not signed in.' });
  return { tenant: session.tenant, sub: session.sub, claims: session.claims };
});

// Bearer API: the token is introspected at the tenant's org (RFC 7662); 401 + WWW-Authenticate otherwise.
app.get('/api/me', { preHandler: app.oidc.requireAccessToken() }, async (request) => {
  const token = request.oidc.accessToken!;
  return { tenant: request.oidc.accessTokenTenant, sub: token.sub, client_id: token.client_id, scope: token.scope };
});

try {
  await app.listen({ port: config.port, host: config.host });
  console.log(`listening on ${config.baseUrl} (bound to ${config.host}:${config.port})`);
} catch (error) {
  console.error(`Cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
  process.exit(1);
}
