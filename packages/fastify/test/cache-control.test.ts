/** Fastify and the independent audit's SA-02: a response carrying our session cookies is never cacheable. */
import type { OidcAuthOptions } from '@oin-oidc/core';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { oidcPlugin } from '../src';

describe('fastify: session cookies on cacheable responses (SA-02)', () => {
  it('makes a public response that carries a session cookie private, no-store (SA-02)', async () => {
    const options: OidcAuthOptions = {
      store: [{ id: 'acme', issuer: 'http://127.0.0.1:9', clientId: 'client-acme', clientSecret: 'offline-secret', redirectUris: ['http://127.0.0.1/auth/callback'] }],
      session: { secret: 'fastify-audit-test-secret-0123456789a' },
      client: { allowLoopbackIssuers: true } as OidcAuthOptions['client'],
    };
    const app = Fastify();
    await app.register(oidcPlugin, options);
    app.get('/cached', async (_request, reply) => reply.header('cache-control', 'public, max-age=3600').send('hello'));
    app.get('/fresh', async (_request, reply) => reply.header('cache-control', 'no-store').send('hello'));
    try {
      const cookie = 'oin_session=tampered.value'; // deleted by the plugin's hook on any response
      const cached = await app.inject({ method: 'GET', url: '/cached', headers: { cookie } });
      expect([cached.headers['set-cookie']].flat().some((c) => String(c).startsWith('oin_session=;'))).toBe(true);
      expect(cached.headers['cache-control']).toBe('private, no-store');
      expect((await app.inject({ method: 'GET', url: '/fresh', headers: { cookie } })).headers['cache-control']).toBe('no-store');
      expect((await app.inject({ method: 'GET', url: '/cached' })).headers['cache-control']).toBe('public, max-age=3600');
    } finally {
      await app.close();
    }
  });
});
