/**
 * The Hono tests' shared mount helper: the app the adapter conformance suite drives (the auth
 * middleware and the app's routes on a sub-app routed under the base path), on @hono/node-server.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { AdapterMount } from '@oin-oidc/testing/conformance';
import { Hono } from 'hono';
import { oidc } from '../../src';

export const mount: AdapterMount = async ({ authOptions, basePath = '', trustProxy }) => {
  const auth = oidc({ ...authOptions, trustProxy });
  const sub = new Hono();
  sub.use(auth.middleware);
  sub.get('/', (c) => c.text('public'));
  sub.get('/me', auth.requiresAuth(), (c) => c.json({ tenant: c.get('oidc').tenant, sub: c.get('oidc').session?.sub, claims: c.get('oidc').user }));
  sub.get('/api/me', auth.requireAccessToken(), (c) => {
    const { tenant, accessTokenTenant, accessToken: token } = c.get('oidc');
    return c.json({ tenant: accessTokenTenant, sessionTenant: tenant, sub: token?.sub, client_id: token?.client_id, scope: token?.scope });
  });
  sub.get('/api/acme', auth.requireAccessToken({ tenantId: 'acme' }), (c) => {
    const { tenant, accessTokenTenant, accessToken: token } = c.get('oidc');
    return c.json({ tenant: accessTokenTenant, sessionTenant: tenant, sub: token?.sub, client_id: token?.client_id, scope: token?.scope });
  });
  sub.get('/whoami', (c) => {
    const { isAuthenticated, tenant, session } = c.get('oidc');
    return c.json({ isAuthenticated, tenant, sub: session?.sub, host: new URL(c.req.url).hostname });
  });
  sub.get('/cached', (c) => c.text('cacheable', 200, { 'Cache-Control': 'public, max-age=3600' }));
  sub.get('/fresh', (c) => c.text('fresh', 200, { 'Cache-Control': 'no-store, max-age=0' }));
  const app = new Hono().route(basePath || '/', sub);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => { (server as import('node:http').Server).closeAllConnections(); server.close(() => resolve()); }),
  };
};
