/** Koa and the independent audit's SA-02: a response carrying our session cookies is never cacheable. */
import type { OidcAuthOptions } from '@oin-oidc/core';
import { setCookiesOf } from '@oin-oidc/testing/conformance';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { oidc } from '../src';
import { listen } from './_support/mount';

describe('koa: session cookies on cacheable responses (SA-02)', () => {
  it('makes a public response that carries a session cookie private, no-store (SA-02)', async () => {
    const options: OidcAuthOptions = {
      store: [{ id: 'acme', issuer: 'http://127.0.0.1:9', clientId: 'client-acme', clientSecret: 'offline-secret', redirectUris: ['http://127.0.0.1/auth/callback'] }],
      session: { secret: 'koa-audit-test-secret-0123456789abcdef' },
      client: { allowLoopbackIssuers: true } as OidcAuthOptions['client'],
    };
    const app = new Koa();
    app.use(oidc(options).middleware);
    app.use((ctx) => {
      ctx.set('Cache-Control', ctx.path === '/fresh' ? 'no-store' : 'public, max-age=3600');
      ctx.body = 'hello';
    });
    const server = await listen(app);
    const { origin } = server;
    try {
      const headers = { cookie: 'oin_session=tampered.value' };
      const cached = await fetch(`${origin}/cached`, { headers });
      expect(setCookiesOf(cached).some((c) => c.name === 'oin_session' && c.deletes)).toBe(true);
      expect(cached.headers.get('cache-control')).toBe('private, no-store');
      expect((await fetch(`${origin}/fresh`, { headers })).headers.get('cache-control')).toBe('no-store');
      expect((await fetch(`${origin}/cached`)).headers.get('cache-control')).toBe('public, max-age=3600');
    } finally {
      await server.close();
    }
  });
});
