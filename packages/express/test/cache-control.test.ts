/**
 * Express and the independent audit's SA-02: a response carrying our session cookies is never
 * cacheable, whether the app sets Cache-Control with res.set or passes it to res.writeHead.
 */
import type { OidcAuthOptions } from '@oin-oidc/core';
import { setCookiesOf } from '@oin-oidc/testing/conformance';
import express from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { oidc } from '../src';
import { type Listening, listen } from './_support/mount';

const open: Listening[] = [];
afterAll(() => Promise.all(open.map((server) => server.close())));

async function start(): Promise<string> {
  const options: OidcAuthOptions = {
    store: [{ id: 'acme', issuer: 'http://127.0.0.1:9', clientId: 'client-acme', clientSecret: 'offline-secret', redirectUris: ['http://127.0.0.1/auth/callback'] }],
    session: { secret: 'express-audit-test-secret-0123456789ab' },
    client: { allowLoopbackIssuers: true } as OidcAuthOptions['client'],
  };
  const app = express();
  app.use(oidc(options));
  app.get('/set', (_req, res) => void res.set('Cache-Control', 'public, max-age=3600').send('hello'));
  app.get('/write-head', (_req, res) => {
    res.writeHead(200, { 'Cache-Control': 'public, max-age=3600', 'Content-Type': 'text/plain' });
    res.end('hello');
  });
  app.get('/fresh', (_req, res) => void res.set('Cache-Control', 'no-store').send('hello'));
  const server = await listen(app);
  open.push(server);
  return server.origin;
}

describe('express: session cookies on cacheable responses (SA-02)', () => {
  it('makes a public response that carries a session cookie private, no-store, whichever way the app set it (SA-02)', async () => {
    const origin = await start();
    const headers = { cookie: 'oin_session=tampered.value' }; // deleted by the middleware on any response
    for (const path of ['/set', '/write-head']) {
      const response = await fetch(`${origin}${path}`, { headers });
      expect(setCookiesOf(response).some((c) => c.name === 'oin_session' && c.deletes), path).toBe(true);
      expect(response.headers.get('cache-control'), path).toBe('private, no-store');
    }
    expect((await fetch(`${origin}/fresh`, { headers })).headers.get('cache-control')).toBe('no-store');
    expect((await fetch(`${origin}/set`)).headers.get('cache-control')).toBe('public, max-age=3600');
  });
});
