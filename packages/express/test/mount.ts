import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdapterMount } from '@oin-oidc/testing/conformance';
import type express from 'express';
import { oidc } from '../src';

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
      res.json({ tenant: req.oidc.tenant, sub: token?.sub, client_id: token?.client_id, scope: token?.scope });
    });
    const app = framework();
    if (trustProxy) app.set('trust proxy', 'loopback');
    app.use(basePath || '/', router);
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  };
}
