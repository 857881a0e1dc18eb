/**
 * Koa and the identity provider's logout requests (Universal Logout, back-channel logout) when a body parser ran first (what
 * @koa/bodyparser does: JSON and forms left as objects on `ctx.request.body`); core still reads what
 * Okta sent (the shared suite covers everything else).
 */
import { createMemoryCredentialStore, type OidcAuthOptions } from '@oin-oidc/core';
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidc } from '../src';
import { type Listening, listen } from './_support/mount';

type HookInfo = Parameters<NonNullable<OidcAuthOptions['onLogoutRequest']>>[0];

const ADA = { login: 'ada@acme.example', password: 'pw-0123456789', claims: { email: 'ada@acme.example' } };

describe('koa: logout requests after a body parser', () => {
  let org: OktaOrg;
  let server: Listening | undefined;
  let origin = '';
  const seen: HookInfo[] = [];
  const store = createMemoryCredentialStore();

  beforeAll(async () => {
    const app = new Koa();
    app.use(async (ctx, next) => {
      if (ctx.method === 'POST' && ctx.is('application/json', 'application/x-www-form-urlencoded')) {
        let text = '';
        for await (const chunk of ctx.req) text += chunk;
        const request = ctx.request as { body?: unknown };
        if (ctx.is('application/json')) {
          try {
            request.body = JSON.parse(text);
          } catch {
            ctx.throw(400, 'invalid JSON');
          }
        } else {
          request.body = Object.fromEntries(new URLSearchParams(text));
        }
      }
      await next();
    });
    const auth = oidc({ store, session: { secret: 'koa-logout-test-secret-0123456789abcd' }, client: { allowLoopbackIssuers: true }, onLogoutRequest: (info) => void seen.push(info) });
    app.use(auth.middleware);
    app.use((ctx) => {
      ctx.body = { type: typeof (ctx.request as { body?: unknown }).body, body: (ctx.request as { body?: unknown }).body };
    });
    server = await listen(app);
    origin = server.origin;
    org = await startOktaOrg({
      clients: [{ clientId: 'koa-app', clientSecret: 'koa-secret-0123456789', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [`${origin}/auth/callback`] }],
      users: [ADA],
    });
    await store.put({ id: 'acme', issuer: org.issuer, clientId: 'koa-app', clientSecret: 'koa-secret-0123456789', redirectUris: [`${origin}/auth/callback`] });
  });

  afterAll(async () => {
    await Promise.allSettled([server?.close(), org?.close()]);
  });

  it('Universal Logout (email and iss_sub) reaches core with its JSON body: 204', async () => {
    seen.length = 0;
    expect((await org.control.universalLogout({ clientId: 'koa-app', endpoint: `${origin}/auth/universal-logout`, login: ADA.login })).status).toBe(204);
    expect((await org.control.universalLogout({ clientId: 'koa-app', endpoint: `${origin}/auth/universal-logout`, login: ADA.login, format: 'iss_sub' })).status).toBe(204);
    expect(seen.map(({ format, email, sub }) => ({ format, email, sub }))).toEqual([
      { format: 'email', email: ADA.claims.email, sub: undefined },
      { format: 'iss_sub', email: undefined, sub: org.config.users[0]!.sub },
    ]);
  });

  it('back-channel logout reaches core with its form body: 200', async () => {
    seen.length = 0;
    const result = await org.control.backchannelLogout({ clientId: 'koa-app', endpoint: `${origin}/auth/backchannel-logout`, login: ADA.login });
    expect(result.status, result.body).toBe(200);
    expect(seen[0]).toMatchObject({ format: 'backchannel', sub: org.config.users[0]!.sub });
  });

  it("the app's own routes keep the parser's object", async () => {
    const response = await fetch(`${origin}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":[1,2]}' });
    expect(await response.json()).toEqual({ type: 'object', body: { a: [1, 2] } });
  });
});
