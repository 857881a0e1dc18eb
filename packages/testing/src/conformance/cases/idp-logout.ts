/**
 * The identity provider's logout requests (Universal Logout, OIDC Back-Channel Logout) through every adapter, sent by the emulator
 * exactly as Okta sends them (and broken in every way its variants know):
 *
 * - Universal Logout (Okta "Build Universal Logout for your app"; draft-parecki-oauth-global-token-revocation):
 *   204 and every session of the user at the tenant the JWT's `sub` names ends on its next request,
 *   cookie copies included; other users, other instances and other orgs keep theirs. A refused
 *   request (401 authentication, 400 malformed, 413 too large, 404/422 from the app's hook) revokes nothing.
 * - OIDC Back-Channel Logout 1.0 (§2.4–2.8): 200 and the same effect by `sub`; any failure is 400
 *   `{"error":"invalid_request"}` and revokes nothing.
 *
 * Runs on apps and orgs of its own, so the revocation marks it leaves touch no other case.
 */
import type { OidcAuthOptions } from '@oin-oidc/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackchannelLogoutVariant, driveAuthorization, type OktaOrg, startOktaOrg, type UniversalLogoutVariant } from '../../index';
import type { App, Harness } from '../harness';
import type { Browser } from '../http';

type Hook = NonNullable<OidcAuthOptions['onLogoutRequest']>;
type HookResult = Awaited<ReturnType<Hook>>;
type HookInfo = Parameters<Hook>[0];

const ADA = { login: 'ada@acme.example', password: 'correct horse battery staple', claims: { name: 'Ada Lovelace', email: 'ada@acme.example' } };
const BOB = { login: 'bob@acme.example', password: 'another horse battery staple', claims: { name: 'Bob Acme', email: 'bob@acme.example' } };
const GRACE = { login: 'grace@globex.example', password: 'a third horse battery staple', claims: { name: 'Grace Hopper', email: 'grace@globex.example' } };
type User = typeof ADA;

const JSON_ACCEPT = { accept: 'application/json' };
/** How far the apps' clock moves before a replayed request, so a session signed in then is newer than the first request's mark. */
const REPLAY_SHIFT_MS = 30_000;

/** What each refused Universal Logout variant answers (Okta reads only the status). */
const UNIVERSAL_LOGOUT_REFUSALS: [Exclude<UniversalLogoutVariant, 'valid' | 'replayed'>, number][] = [
  ['missing-auth', 401],
  ['unsigned', 401],
  ['wrong-key', 401],
  ['wrong-aud', 401],
  ['expired', 401],
  ['not-yet-valid', 401],
  ['other-org-issuer', 401],
  ['wrong-typ', 401],
  ['malformed-body', 400],
  // The one body limit of every auth route (DS-02), checked after authentication.
  ['oversized-body', 413],
];

/** Every back-channel variant but the valid one is refused with 400 (§2.8). */
const BACKCHANNEL_REFUSALS: Exclude<BackchannelLogoutVariant, 'valid' | 'replayed'>[] = [
  'missing-auth',
  'malformed-body',
  'unsigned',
  'wrong-key',
  'wrong-aud',
  'expired',
  'not-yet-valid',
  'other-org-issuer',
  'wrong-typ',
  'oversized-body',
  'nonce-present',
  'no-events',
  'no-sub-or-sid',
];

/** Registers the logout-request cases in the suite's `describe` (see `describeAdapterConformance`). */
export function describeLogoutRequestCases(h: Harness): void {
  const { t } = h;

  describe('Universal Logout and back-channel logout', () => {
    let app: App;
    let subApp: App;
    let acmeOrg: OktaOrg;
    let globexOrg: OktaOrg;
    /** What the app's onLogoutRequest hook answers next, and what it saw. */
    let hookAnswer: HookResult;
    const hookSeen: HookInfo[] = [];
    const hook: Hook = (info) => {
      hookSeen.push(info);
      return hookAnswer;
    };

    beforeAll(async () => {
      app = await h.start('', false, { onLogoutRequest: hook });
      subApp = await h.start('/app', false, { onLogoutRequest: hook });
      const apps = [app, subApp];
      const client = (id: 'acme' | 'acme-2' | 'globex') => ({
        ...h.clients[id],
        tokenEndpointAuthMethod: 'client_secret_basic' as const,
        redirectUris: apps.map((a) => a.url('/auth/callback')),
        postLogoutRedirectUris: apps.map((a) => a.url('/')),
      });
      acmeOrg = await startOktaOrg({ name: 'acme-logout', clients: [client('acme'), client('acme-2')], users: [ADA, BOB] });
      globexOrg = await startOktaOrg({ name: 'globex-logout', clients: [client('globex')], users: [GRACE] });
      for (const a of apps) {
        await a.store.put(h.record(a, 'acme', acmeOrg.issuer));
        await a.store.put(h.record(a, 'acme-2', acmeOrg.issuer, { tokenEndpointAuthMethod: 'client_secret_basic' }));
        await a.store.put(h.record(a, 'globex', globexOrg.issuer));
      }
    });

    afterAll(async () => {
      await Promise.allSettled([app?.mounted.close(), subApp?.mounted.close(), acmeOrg?.close(), globexOrg?.close()]);
    });

    /** A browser signed in as `user` at `tenant` through the org's authorize endpoint. */
    async function signInAs(target: App, tenant: 'acme' | 'acme-2' | 'globex', user: User): Promise<Browser> {
      const b = target.browser();
      const { authorize } = await h.login(target, b, { tenant, login_hint: user.login });
      const response = await h.callback(b, await driveAuthorization(authorize, { login: user.login, password: user.password }));
      expect(response.status, `sign-in as ${user.login} at ${tenant}`).toBe(302);
      return b;
    }

    /** GET /me: 200 with the session's user, or the refusal's status. */
    async function me(b: Browser, target: App = app): Promise<number | string> {
      const response = await b.fetch(target.url('/me'), { headers: JSON_ACCEPT });
      if (response.status !== 200) {
        await response.text();
        return response.status;
      }
      const body = (await response.json()) as { tenant: string; claims: { email?: string } };
      return `${body.tenant}:${body.claims.email}`;
    }

    async function expectServing(target: App = app): Promise<void> {
      const home = await target.browser().fetch(target.url('/'));
      expect(home.status).toBe(200);
      await home.text();
    }

    const ulEndpoint = (target: App = app) => target.url('/auth/universal-logout');
    const bclEndpoint = (target: App = app) => target.url('/auth/backchannel-logout');
    const adaSub = () => acmeOrg.config.users.find((u) => u.login === ADA.login)!.sub;

    function expectNoStore(headers: Record<string, string>) {
      expect(headers['cache-control'] ?? '').toMatch(/no-store/);
      expect(headers['set-cookie']).toBeUndefined();
    }

    // --- Universal Logout ----------------------------------------------------------------------

    it(t('Universal Logout (email): 204, no-store; every session of the user at that tenant ends on its next request, cookie copies too'), async () => {
      const device1 = await signInAs(app, 'acme', ADA);
      const device2 = await signInAs(app, 'acme', ADA);
      const copy = app.browser(device1.jar.clone());
      const bob = await signInAs(app, 'acme', BOB);
      const grace = await signInAs(app, 'globex', GRACE);
      expect(await me(device1)).toBe(`acme:${ADA.claims.email}`);
      hookSeen.length = 0;

      const result = await acmeOrg.control.universalLogout({ clientId: h.clients.acme.clientId, endpoint: ulEndpoint(), login: ADA.login });
      expect(result.status).toBe(204);
      expectNoStore(result.headers);
      expect(hookSeen).toHaveLength(1);
      expect(hookSeen[0]).toMatchObject({ format: 'email', email: ADA.claims.email, tenant: { id: 'acme' } });

      expect(await me(device1)).toBe(401);
      expect(await me(copy)).toBe(401);
      expect(await me(device2)).toBe(401);
      // Another user of the same tenant and a user of another org keep their sessions.
      expect(await me(bob)).toBe(`acme:${BOB.claims.email}`);
      expect(await me(grace)).toBe(`globex:${GRACE.claims.email}`);
      // Signing in again afterwards works: the mark covers only sessions from before the request.
      expect(await me(await signInAs(app, 'acme', ADA))).toBe(`acme:${ADA.claims.email}`);
    });

    it(t("Universal Logout ends the user's sessions only at the instance the JWT names, not at another instance of the same org"), async () => {
      const atAcme = await signInAs(app, 'acme', ADA);
      const atAcme2 = await signInAs(app, 'acme-2', ADA);
      const result = await acmeOrg.control.universalLogout({ clientId: h.clients.acme.clientId, endpoint: ulEndpoint(), login: ADA.login, format: 'iss_sub' });
      expect(result.status).toBe(204);
      expect(await me(atAcme)).toBe(401);
      expect(await me(atAcme2)).toBe(`acme-2:${ADA.claims.email}`);
    });

    it(t('Universal Logout (iss_sub): the org issuer and the user id end that user\'s sessions'), async () => {
      const ada = await signInAs(app, 'acme', ADA);
      const bob = await signInAs(app, 'acme', BOB);
      hookSeen.length = 0;
      const result = await acmeOrg.control.universalLogout({ clientId: h.clients.acme.clientId, endpoint: ulEndpoint(), login: ADA.login, format: 'iss_sub' });
      expect(result.status).toBe(204);
      expectNoStore(result.headers);
      expect(hookSeen[0]).toMatchObject({ format: 'iss_sub', sub: adaSub(), tenant: { id: 'acme' } });
      expect(await me(ada)).toBe(401);
      expect(await me(bob)).toBe(`acme:${BOB.claims.email}`);
    });

    it(t('Universal Logout: the older member name `subject`, and an e-mail in another case, name the same user'), async () => {
      const first = await signInAs(app, 'acme', ADA);
      const bySubject = await acmeOrg.control.universalLogout({ clientId: h.clients.acme.clientId, endpoint: ulEndpoint(), login: ADA.login, member: 'subject' });
      expect(bySubject.status).toBe(204);
      expect(await me(first)).toBe(401);
      const second = await signInAs(app, 'acme', ADA);
      const upper = await acmeOrg.control.universalLogout({ clientId: h.clients.acme.clientId, endpoint: ulEndpoint(), subId: { format: 'email', email: ADA.claims.email.toUpperCase() } });
      expect(upper.status).toBe(204);
      expect(await me(second)).toBe(401);
    });

    it(t('Universal Logout under a sub-path: aud is the endpoint under the mount point'), async () => {
      const ada = await signInAs(subApp, 'acme', ADA);
      const result = await acmeOrg.control.universalLogout({ clientId: h.clients.acme.clientId, endpoint: ulEndpoint(subApp), login: ADA.login });
      expect(result.status).toBe(204);
      expect(await me(ada, subApp)).toBe(401);
      // The root app's URL is not this endpoint's aud.
      const again = await signInAs(subApp, 'acme', ADA);
      const elsewhere = await acmeOrg.control.universalLogout({ clientId: h.clients.acme.clientId, endpoint: ulEndpoint(subApp), login: ADA.login, variant: 'wrong-aud' });
      expect(elsewhere.status).toBe(401);
      expect(await me(again, subApp)).toBe(`acme:${ADA.claims.email}`);
    });

    for (const [variant, status] of UNIVERSAL_LOGOUT_REFUSALS) {
      it(t(`Universal Logout refused (${variant}): ${status}, nothing revoked, the app keeps serving`), async () => {
        const ada = await signInAs(app, 'acme', ADA);
        hookSeen.length = 0;
        const result = await acmeOrg.control.universalLogout({ clientId: h.clients.acme.clientId, endpoint: ulEndpoint(), login: ADA.login, variant });
        expect(result.status).toBe(status);
        expectNoStore(result.headers);
        expect(hookSeen).toEqual([]);
        expect(await me(ada)).toBe(`acme:${ADA.claims.email}`);
        await expectServing();
      });
    }

    it(t('Universal Logout replayed (the same jti twice): the second is refused with 401 and revokes nothing'), async () => {
      const before = await signInAs(app, 'acme', ADA);
      let after: Browser | undefined;
      try {
        const result = await acmeOrg.control.universalLogout({
          clientId: h.clients.acme.clientId,
          endpoint: ulEndpoint(),
          login: ADA.login,
          variant: 'replayed',
          beforeReplay: async (first) => {
            expect(first.status).toBe(204);
            expect(await me(before)).toBe(401);
            // A session newer than the first request: only an accepted replay could end it.
            h.setClockOffset(REPLAY_SHIFT_MS);
            after = await signInAs(app, 'acme', ADA);
          },
        });
        expect(result.status).toBe(401);
        expect(await me(after!)).toBe(`acme:${ADA.claims.email}`);
      } finally {
        h.setClockOffset(0);
      }
    });

    it(t('Universal Logout for an unknown client, or signed by another org for this client: 401, nothing revoked'), async () => {
      const ada = await signInAs(app, 'acme', ADA);
      const unknown = await acmeOrg.control.universalLogout({ clientId: '0oa-not-registered-here', endpoint: ulEndpoint(), login: ADA.login });
      expect(unknown.status).toBe(401);
      // globex's own key and issuer, naming acme's client and Ada: another org can never end acme's sessions.
      const foreign = await globexOrg.control.universalLogout({ clientId: h.clients.acme.clientId, endpoint: ulEndpoint(), subId: { format: 'email', email: ADA.claims.email } });
      expect(foreign.status).toBe(401);
      expect(await me(ada)).toBe(`acme:${ADA.claims.email}`);
    });

    it(t('Universal Logout with a malformed sub_id: 400, nothing revoked'), async () => {
      const ada = await signInAs(app, 'acme', ADA);
      for (const subId of [{ format: 'opaque', id: adaSub() }, { format: 'email', email: 'not an address' }, { format: 'iss_sub', iss: acmeOrg.issuer }, 'ada@acme.example', [ADA.claims.email]]) {
        const result = await acmeOrg.control.universalLogout({ clientId: h.clients.acme.clientId, endpoint: ulEndpoint(), subId });
        expect(result.status, JSON.stringify(subId)).toBe(400);
      }
      expect(await me(ada)).toBe(`acme:${ADA.claims.email}`);
    });

    it(t("Universal Logout: the app's hook answers unknown user (404) or cannot log out (422), and nothing is revoked"), async () => {
      const ada = await signInAs(app, 'acme', ADA);
      try {
        for (const [answer, status] of [['unknown-user', 404], ['failed', 422]] as const) {
          hookAnswer = answer;
          const result = await acmeOrg.control.universalLogout({ clientId: h.clients.acme.clientId, endpoint: ulEndpoint(), login: ADA.login });
          expect(result.status).toBe(status);
          expectNoStore(result.headers);
        }
      } finally {
        hookAnswer = undefined;
      }
      expect(await me(ada)).toBe(`acme:${ADA.claims.email}`);
    });

    it(t('the logout endpoints take POST only: other methods → 405 with Allow'), async () => {
      for (const path of ['/auth/universal-logout', '/auth/backchannel-logout']) {
        const response = await app.browser().fetch(app.url(path), { headers: JSON_ACCEPT });
        expect(response.status, path).toBe(405);
        expect(response.headers.get('allow') ?? '').toMatch(/POST/);
        await response.text();
      }
    });

    // --- Back-Channel Logout -------------------------------------------------------------------

    it(t("back-channel logout by sub: 200, no-store; every session of the user ends on its next request, others' stay"), async () => {
      const device1 = await signInAs(app, 'acme', ADA);
      const device2 = await signInAs(app, 'acme', ADA);
      const copy = app.browser(device1.jar.clone());
      const bob = await signInAs(app, 'acme', BOB);
      const grace = await signInAs(app, 'globex', GRACE);
      hookSeen.length = 0;
      const result = await acmeOrg.control.backchannelLogout({ clientId: h.clients.acme.clientId, endpoint: bclEndpoint(), login: ADA.login });
      expect(result.status, result.body).toBe(200);
      expectNoStore(result.headers);
      expect(hookSeen[0]).toMatchObject({ format: 'backchannel', sub: adaSub(), tenant: { id: 'acme' } });
      expect(await me(device1)).toBe(401);
      expect(await me(copy)).toBe(401);
      expect(await me(device2)).toBe(401);
      expect(await me(bob)).toBe(`acme:${BOB.claims.email}`);
      expect(await me(grace)).toBe(`globex:${GRACE.claims.email}`);
    });

    for (const variant of BACKCHANNEL_REFUSALS) {
      it(t(`back-channel logout refused (${variant}): 400 invalid_request, nothing revoked, the app keeps serving`), async () => {
        const ada = await signInAs(app, 'acme', ADA);
        hookSeen.length = 0;
        const result = await acmeOrg.control.backchannelLogout({ clientId: h.clients.acme.clientId, endpoint: bclEndpoint(), login: ADA.login, variant });
        expect(result.status).toBe(400);
        expect(JSON.parse(result.body)).toMatchObject({ error: 'invalid_request' });
        expectNoStore(result.headers);
        expect(hookSeen).toEqual([]);
        expect(await me(ada)).toBe(`acme:${ADA.claims.email}`);
        await expectServing();
      });
    }

    it(t('back-channel logout replayed (the same jti twice): the second is refused with 400 and revokes nothing'), async () => {
      const before = await signInAs(app, 'acme', ADA);
      let after: Browser | undefined;
      try {
        const result = await acmeOrg.control.backchannelLogout({
          clientId: h.clients.acme.clientId,
          endpoint: bclEndpoint(),
          login: ADA.login,
          variant: 'replayed',
          beforeReplay: async (first) => {
            expect(first.status).toBe(200);
            expect(await me(before)).toBe(401);
            h.setClockOffset(REPLAY_SHIFT_MS);
            after = await signInAs(app, 'acme', ADA);
          },
        });
        expect(result.status).toBe(400);
        expect(JSON.parse(result.body)).toMatchObject({ error: 'invalid_request' });
        expect(await me(after!)).toBe(`acme:${ADA.claims.email}`);
      } finally {
        h.setClockOffset(0);
      }
    });

    it(t('back-channel logout from another org for this client: 400, nothing revoked'), async () => {
      const ada = await signInAs(app, 'acme', ADA);
      const foreign = await globexOrg.control.backchannelLogout({ clientId: h.clients.acme.clientId, endpoint: bclEndpoint() });
      expect(foreign.status).toBe(400);
      expect(await me(ada)).toBe(`acme:${ADA.claims.email}`);
    });
  });
}
