/**
 * The Express tests' shared helpers: `listen` starts any Express app (or Node handler) on a
 * loopback port, and `mountWith` builds the app the adapter conformance suite drives.
 */
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdapterMount } from '@oin-oidc/testing/conformance';
import type express from 'express';
import { oidc } from '../../src';

/** A server on 127.0.0.1 (port 0) and how to stop it, open connections included. */
export interface Listening {
  origin: string;
  close(): Promise<void>;
}

/** Start `handler` (an Express app is one) on a loopback port. */
export async function listen(handler: RequestListener): Promise<Listening> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The conformance app, for Express 5 (`express`) or Express 4 (`express4`): the same code runs on both. */
export function mountWith(framework: typeof express): AdapterMount {
  return async ({ authOptions, basePath = '', trustProxy }) => {
    const auth = oidc(authOptions);
    const router = framework.Router();
    router.use(auth);
    router.get('/', (_req, res) => void res.type('text').send('public'));
    router.get('/me', auth.requiresAuth(), (req, res) => void res.json({ tenant: req.oidc.tenant, sub: req.oidc.session?.sub, claims: req.oidc.user }));
    router.get('/api/me', auth.requireAccessToken(), (req, res) => {
      const token = req.oidc.accessToken;
      res.json({ tenant: req.oidc.accessTokenTenant, sessionTenant: req.oidc.tenant, sub: token?.sub, client_id: token?.client_id, scope: token?.scope });
    });
    router.get('/api/acme', auth.requireAccessToken({ tenantId: 'acme' }), (req, res) => {
      const token = req.oidc.accessToken;
      res.json({ tenant: req.oidc.accessTokenTenant, sessionTenant: req.oidc.tenant, sub: token?.sub, client_id: token?.client_id, scope: token?.scope });
    });
    router.get('/whoami', (req, res) => void res.json({ isAuthenticated: req.oidc.isAuthenticated, tenant: req.oidc.tenant, sub: req.oidc.session?.sub, host: req.hostname }));
    router.get('/cached', (_req, res) => void res.set('Cache-Control', 'public, max-age=3600').type('text').send('cacheable'));
    router.get('/fresh', (_req, res) => void res.set('Cache-Control', 'no-store, max-age=0').type('text').send('fresh'));
    const app = framework();
    if (trustProxy) app.set('trust proxy', 'loopback');
    app.use(basePath || '/', router);
    const { origin, close } = await listen(app);
    return { baseUrl: origin, close };
  };
}
