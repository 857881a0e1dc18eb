/**
 * Express and the identity provider's logout requests (Universal Logout, back-channel logout) when the app's own body parsers
 * ran first: `express.json()` leaves Universal Logout's body as an object and `express.urlencoded()`
 * the back-channel form; core still reads what Okta sent (the shared suite covers everything else).
 */
import { createMemoryCredentialStore, type OidcAuthOptions } from '@oin-oidc/core';
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidc } from '../src';
import { type Listening, listen } from './_support/mount';

type HookInfo = Parameters<NonNullable<OidcAuthOptions['onLogoutRequest']>>[0];

const ADA = { login: 'ada@acme.example', password: 'pw-0123456789', claims: { email: 'ada@acme.example' } };

describe('express: logout requests after express.json() and express.urlencoded()', () => {
  let org: OktaOrg;
  let server: Listening | undefined;
  let origin = '';
  const seen: HookInfo[] = [];
  const store = createMemoryCredentialStore();

  beforeAll(async () => {
    const app = express();
    app.use(express.json());
    app.use(express.urlencoded({ extended: true }));
    app.use(oidc({ store, session: { secret: 'express-logout-test-secret-0123456789' }, client: { allowLoopbackIssuers: true }, onLogoutRequest: (info) => void seen.push(info) }));
    // The app's own JSON route still gets the parsed object.
    app.post('/echo', (req, res) => res.json({ type: typeof req.body, body: req.body }));
    server = await listen(app);
    origin = server.origin;
    org = await startOktaOrg({
      clients: [{ clientId: 'express-app', clientSecret: 'express-secret-0123456789', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [`${origin}/auth/callback`] }],
      users: [ADA],
    });
    await store.put({ id: 'acme', issuer: org.issuer, clientId: 'express-app', clientSecret: 'express-secret-0123456789', redirectUris: [`${origin}/auth/callback`] });
  });

  afterAll(async () => {
    await Promise.allSettled([server?.close(), org?.close()]);
  });

  it('Universal Logout (email and iss_sub) reaches core with its JSON body: 204', async () => {
    seen.length = 0;
    const byEmail = await org.control.universalLogout({ clientId: 'express-app', endpoint: `${origin}/auth/universal-logout`, login: ADA.login });
    expect(byEmail.status).toBe(204);
    const bySub = await org.control.universalLogout({ clientId: 'express-app', endpoint: `${origin}/auth/universal-logout`, login: ADA.login, format: 'iss_sub' });
    expect(bySub.status).toBe(204);
    const sub = org.config.users[0]!.sub;
    expect(seen.map(({ format, email, sub: s }) => ({ format, email, sub: s }))).toEqual([
      { format: 'email', email: ADA.claims.email, sub: undefined },
      { format: 'iss_sub', email: undefined, sub },
    ]);
  });

  it('a malformed JSON body is still 400 (express.json() refuses it before the adapter runs)', async () => {
    const result = await org.control.universalLogout({ clientId: 'express-app', endpoint: `${origin}/auth/universal-logout`, variant: 'malformed-body' });
    expect(result.status).toBe(400);
  });

  it('back-channel logout reaches core with its form body: 200', async () => {
    seen.length = 0;
    const result = await org.control.backchannelLogout({ clientId: 'express-app', endpoint: `${origin}/auth/backchannel-logout`, login: ADA.login });
    expect(result.status, result.body).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ format: 'backchannel', sub: org.config.users[0]!.sub });
  });

  it("the app's own routes keep express.json()'s object", async () => {
    const response = await fetch(`${origin}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":[1,2]}' });
    expect(await response.json()).toEqual({ type: 'object', body: { a: [1, 2] } });
  });
});
