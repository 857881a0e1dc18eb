/**
 * Okta's simplified (OIN) flow, an ID token posted with no state: catalogue §FP.
 */
import { describe, expect, it } from 'vitest';
import { CLIENTS, bodyOf, postedByOkta, urlencodedPost, expectNoStore, expectNoSession, type App, type Harness } from '../harness';

/** Registers this section's cases in the suite's `describe` (see `describeAdapterConformance`). */
export function describeSimplifiedFlowCases(h: Harness): void {
  const { t, counters, expectRejected } = h;
  const apps = () => h.apps();
  const orgs = () => h.orgs();

  // --- simplified flow (Okta "OIN simplified": ID token form_posted, no state) ---------------

  it(t('simplified flow: a POSTed ID token signs in once, for a tenant that allows it'), async () => {
    const { fields } = await h.globexOrg.control.simplifiedSignIn(CLIENTS.globex.clientId);
    const b = h.plain.browser();
    // Okta's auto-submitting page posts from the org's origin; browsers send it as Origin (SA-04).
    const response = await b.fetch(h.plain.url('/auth/callback'), postedByOkta(fields.id_token, h.globexOrg.issuer));
    expect(response.status).toBe(302);
    expectNoStore(response);
    const me = await b.fetch(h.plain.url('/me'), { headers: { accept: 'application/json' } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { tenant: string }).tenant).toBe('globex');
    const replay = await h.plain.browser().fetch(h.plain.url('/auth/callback'), postedByOkta(fields.id_token, h.globexOrg.issuer));
    expect(replay.status).toBe(400);
    expect(await bodyOf(replay)).toContain('ERR_OIDC_ID_TOKEN_REPLAYED');
    expectNoSession(replay);
  });

  it(t('simplified flow is refused for a tenant that does not allow it'), async () => {
    const { fields } = await h.acmeOrg.control.simplifiedSignIn(CLIENTS.acme.clientId);
    const response = await h.plain.browser().fetch(h.plain.url('/auth/callback'), postedByOkta(fields.id_token, h.acmeOrg.issuer));
    expect(response.status).toBe(400);
    expect(await bodyOf(response)).toContain('ERR_OIDC_SIMPLIFIED_FLOW_DISABLED');
    expectNoSession(response);
  });

  // =====================================================================================
  describe('security catalogue: Okta simplified flow (FP)', () => {
    /** What Okta's auto-submitting page posts: from the org's origin (`Origin` is required, SA-04). */
    async function post(app: App, idToken: string, query = '', origin = orgs().globex.issuer) {
      return app.browser().fetch(`${app.url('/auth/callback')}${query}`, urlencodedPost(new URLSearchParams({ id_token: idToken }).toString(), { origin }));
    }

    it(t('FP-03: disabled for the tenant → 400 ERR_OIDC_SIMPLIFIED_FLOW_DISABLED, no token call'), async () => {
      const { plain } = apps();
      const { fields } = await orgs().acme.control.simplifiedSignIn(h.clients.acme.clientId);
      const before = counters();
      const response = await post(plain, fields.id_token, '', orgs().acme.issuer);
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_SIMPLIFIED_FLOW_DISABLED', before, allow: { keys: true } });
    });

    it(t('FP-07: a replayed posted ID token → 400 ERR_OIDC_ID_TOKEN_REPLAYED'), async () => {
      const { plain } = apps();
      const { fields } = await orgs().globex.control.simplifiedSignIn(h.clients.globex.clientId);
      expect((await post(plain, fields.id_token)).status).toBe(302);
      const before = counters();
      const replay = await post(plain, fields.id_token);
      await expectRejected(plain, replay, { status: 400, code: 'ERR_OIDC_ID_TOKEN_REPLAYED', before, allow: { keys: true } });
    });

    it(t('FP-03/IT-01/IT-02/IT-16: a forged posted ID token (bad signature, edited payload, alg none, malformed) → 400, no session'), async () => {
      const { plain } = apps();
      const token = await orgs().globex.control.issueIdToken(h.clients.globex.clientId);
      const [header = '', payload = '', signature = ''] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const edited = Buffer.from(JSON.stringify({ ...claims, sub: '00uATTACKER' })).toString('base64url');
      const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
      for (const forged of [`${header}.${payload}.${flipped}`, `${header}.${edited}.${signature}`, `${none}.${payload}.`, `${header}.${payload}`, 'not-a-jwt']) {
        const before = counters();
        const response = await post(plain, forged);
        await expectRejected(plain, response, { status: 400, code: /ERR_OIDC_(ID_TOKEN_INVALID|CALLBACK_INVALID|JWKS_NO_MATCHING_KEY)/, before, allow: { keys: true } });
      }
    });

    it(t('FP-03/IT-05/IT-07/IT-08/IT-10/IT-11/IT-12: wrong iss, aud, aud array, expired, stale, future or subject-less posted ID tokens → 4xx'), async () => {
      const { plain } = apps();
      const now = Math.floor(Date.now() / 1000);
      // The tenant is found from iss + aud: a token naming no configured app instance is refused like any
      // invalid token (400 ID_TOKEN_INVALID, SA-18), so posts cannot tell which orgs are customers.
      const cases: [Record<string, unknown>, number, RegExp][] = [
        [{ aud: 'someone-else' }, 400, /ERR_OIDC_ID_TOKEN_INVALID/],
        [{ aud: [h.clients.globex.clientId, 'other-client'] }, 400, /ERR_OIDC_(ID_TOKEN_INVALID|TENANT_AMBIGUOUS)/],
        [{ iss: `${orgs().globex.issuer}/` }, 400, /ERR_OIDC_ID_TOKEN_INVALID/],
        [{ exp: now - 3600, iat: now - 7200, auth_time: now - 7200 }, 400, /ERR_OIDC_ID_TOKEN_(EXPIRED|INVALID)/],
        [{ iat: now - 3 * 3600, exp: now + 3600 }, 400, /ERR_OIDC_ID_TOKEN_(EXPIRED|INVALID)/],
        [{ iat: now + 3600, exp: now + 7200 }, 400, /ERR_OIDC_ID_TOKEN_(EXPIRED|INVALID)/],
        [{ nonce: undefined, sub: '' }, 400, /ERR_OIDC_ID_TOKEN_INVALID/],
      ];
      for (const [claims, status, code] of cases) {
        const token = await orgs().globex.control.issueIdToken(h.clients.globex.clientId, { claims });
        const before = counters();
        const response = await post(plain, token);
        await expectRejected(plain, response, { status, code, before, allow: { keys: true } });
      }
    });

    it(t("MT-01: an ID token of tenant A posted to tenant B's callback → 400, no session"), async () => {
      const { plain } = apps();
      const token = await orgs().globex.control.issueIdToken(h.clients.globex.clientId);
      const before = counters();
      const response = await post(plain, token, '?tenant=acme');
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_ISSUER_MISMATCH', before, allow: { keys: true } });
    });
  });
}
