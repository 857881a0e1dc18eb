/**
 * The Fastify tests' shared mount helper: the app the adapter conformance suite drives, in
 * Fastify's idiom (the plugin and the app's routes in one encapsulated scope under the prefix).
 */
import type { AdapterMount } from '@oin-oidc/testing/conformance';
import Fastify from 'fastify';
import { oidcPlugin } from '../../src';

export const mount: AdapterMount = async ({ authOptions, basePath = '', trustProxy }) => {
  const app = Fastify({ trustProxy: trustProxy ? '127.0.0.1' : false });
  await app.register(
    async (scope) => {
      await scope.register(oidcPlugin, authOptions);
      scope.get('/', async () => 'public');
      scope.get('/me', { preHandler: scope.oidc.requiresAuth() }, async (request) => ({
        tenant: request.oidc.tenant, sub: request.oidc.session?.sub, claims: request.oidc.user,
      }));
      scope.get('/api/me', { preHandler: scope.oidc.requireAccessToken() }, async (request) => {
        const token = request.oidc.accessToken;
        return { tenant: request.oidc.accessTokenTenant, sessionTenant: request.oidc.tenant, sub: token?.sub, client_id: token?.client_id, scope: token?.scope };
      });
      scope.get('/api/acme', { preHandler: scope.oidc.requireAccessToken({ tenantId: 'acme' }) }, async (request) => {
        const token = request.oidc.accessToken;
        return { tenant: request.oidc.accessTokenTenant, sessionTenant: request.oidc.tenant, sub: token?.sub, client_id: token?.client_id, scope: token?.scope };
      });
      scope.get('/whoami', async (request) => ({
        isAuthenticated: request.oidc.isAuthenticated, tenant: request.oidc.tenant, sub: request.oidc.session?.sub, host: request.hostname,
      }));
      scope.get('/cached', async (_request, reply) => reply.header('Cache-Control', 'public, max-age=3600').type('text/plain').send('cacheable'));
      scope.get('/fresh', async (_request, reply) => reply.header('Cache-Control', 'no-store, max-age=0').type('text/plain').send('fresh'));
    },
    { prefix: basePath },
  );
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { baseUrl: address, close: () => app.close() };
};
