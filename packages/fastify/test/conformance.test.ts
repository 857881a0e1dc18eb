import { describeAdapterConformance } from '@oin-oidc/testing/conformance';
import Fastify from 'fastify';
import { oidcPlugin } from '../src';

describeAdapterConformance('fastify', async ({ authOptions, basePath = '', trustProxy }) => {
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
        return { tenant: request.oidc.tenant, sub: token?.sub, client_id: token?.client_id, scope: token?.scope };
      });
    },
    { prefix: basePath },
  );
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { baseUrl: address, close: () => app.close() };
});
