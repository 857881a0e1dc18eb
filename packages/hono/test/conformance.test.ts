import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { describeAdapterConformance } from '@oin-oidc/testing/conformance';
import { Hono } from 'hono';
import { oidc } from '../src';

describeAdapterConformance('hono', async ({ authOptions, basePath = '', trustProxy }) => {
  const auth = oidc({ ...authOptions, trustProxy });
  const sub = new Hono();
  sub.use(auth.middleware);
  sub.get('/', (c) => c.text('public'));
  sub.get('/me', auth.requiresAuth(), (c) => c.json({ tenant: c.get('oidc').tenant, sub: c.get('oidc').session?.sub, claims: c.get('oidc').user }));
  sub.get('/api/me', auth.requireAccessToken(), (c) => {
    const { tenant, accessToken: token } = c.get('oidc');
    return c.json({ tenant, sub: token?.sub, client_id: token?.client_id, scope: token?.scope });
  });
  const app = new Hono().route(basePath || '/', sub);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => { (server as import('node:http').Server).closeAllConnections(); server.close(() => resolve()); }),
  };
});
