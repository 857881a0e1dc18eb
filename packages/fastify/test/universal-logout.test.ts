/**
 * Fastify and the identity provider's logout requests (Universal Logout, back-channel logout): Universal Logout posts JSON, which
 * Fastify would parse into an object; inside the plugin's auth scope only, core gets the raw text
 * (within the one body limit), and the app's own routes keep Fastify's (or the app's) JSON parser.
 */
import { createMemoryCredentialStore, type OidcAuthOptions } from '@oin-oidc/core';
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidcPlugin } from '../src';

type HookInfo = Parameters<NonNullable<OidcAuthOptions['onLogoutRequest']>>[0];

const ADA = { login: 'ada@acme.example', password: 'pw-0123456789', claims: { email: 'ada@acme.example' } };

describe('fastify: logout requests and JSON bodies', () => {
  let org: OktaOrg;
  let app: FastifyInstance;
  let origin = '';
  const seen: HookInfo[] = [];
  const store = createMemoryCredentialStore();

  beforeAll(async () => {
    app = Fastify();
    // The app's own JSON parser (here: one that marks what it parsed), registered before the plugin.
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, { parsedByApp: JSON.parse(body as string) as unknown });
      } catch (error) {
        done(error as Error, undefined);
      }
    });
    await app.register(oidcPlugin, { store, session: { secret: 'fastify-logout-test-secret-0123456789' }, client: { allowLoopbackIssuers: true }, onLogoutRequest: (info) => void seen.push(info) });
    app.post('/echo', async (request) => ({ type: typeof request.body, body: request.body }));
    origin = await app.listen({ port: 0, host: '127.0.0.1' });
    org = await startOktaOrg({
      clients: [{ clientId: 'fastify-app', clientSecret: 'fastify-secret-0123456789', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [`${origin}/auth/callback`] }],
      users: [ADA],
    });
    await store.put({ id: 'acme', issuer: org.issuer, clientId: 'fastify-app', clientSecret: 'fastify-secret-0123456789', redirectUris: [`${origin}/auth/callback`] });
  });

  afterAll(async () => {
    await Promise.allSettled([app?.close(), org?.close()]);
  });

  it('Universal Logout (email and iss_sub) reaches core with its raw JSON body: 204', async () => {
    seen.length = 0;
    expect((await org.control.universalLogout({ clientId: 'fastify-app', endpoint: `${origin}/auth/universal-logout`, login: ADA.login })).status).toBe(204);
    expect((await org.control.universalLogout({ clientId: 'fastify-app', endpoint: `${origin}/auth/universal-logout`, login: ADA.login, format: 'iss_sub', member: 'subject' })).status).toBe(204);
    expect(seen.map(({ format, email, sub }) => ({ format, email, sub }))).toEqual([
      { format: 'email', email: ADA.claims.email, sub: undefined },
      { format: 'iss_sub', email: undefined, sub: org.config.users[0]!.sub },
    ]);
  });

  it('malformed JSON is core\'s 400 (no Fastify parse error), an oversized one core\'s 413', async () => {
    expect((await org.control.universalLogout({ clientId: 'fastify-app', endpoint: `${origin}/auth/universal-logout`, variant: 'malformed-body' })).status).toBe(400);
    const large = await org.control.universalLogout({ clientId: 'fastify-app', endpoint: `${origin}/auth/universal-logout`, variant: 'oversized-body' });
    expect(large.status).toBe(413);
    expect(large.headers['cache-control']).toMatch(/no-store/);
  });

  it('an empty JSON body reaches core too (its 401 for a bad bearer, not Fastify\'s FST_ERR_CTP_EMPTY_JSON_BODY)', async () => {
    const response = await fetch(`${origin}/auth/universal-logout`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer a.b.c' } });
    expect(response.status).toBe(401);
    expect(await response.text()).not.toContain('FST_ERR');
  });

  it("the app's own routes keep the app's JSON parser", async () => {
    const response = await fetch(`${origin}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":[1,2]}' });
    expect(await response.json()).toEqual({ type: 'object', body: { parsedByApp: { a: [1, 2] } } });
  });
});
