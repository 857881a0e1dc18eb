/**
 * Several tenants in one app: catalogue §MT.
 */
import { describe, expect, it } from 'vitest';
import { JSON_ACCEPT, withQuery, bearer, type Harness } from '../harness';

/** Registers this section's cases in the suite's `describe` (see `describeAdapterConformance`). */
export function describeMultiTenantCases(h: Harness): void {
  const { t, pendingCallback, counters, expectRejected, expectApiRejected } = h;
  const apps = () => h.apps();
  const orgs = () => h.orgs();

  // =====================================================================================
  describe('security catalogue: multi-tenant (MT)', () => {
    it(t("MT-08: a session of tenant A on tenant B's routes counts as signed out"), async () => {
      const { plain } = apps();
      const { b } = await h.signIn(plain, 'acme');
      for (const tenant of ['globex', 'acme-2']) {
        const json = await b.fetch(`${plain.url('/me')}?tenant=${tenant}`, { headers: JSON_ACCEPT });
        expect(json.status).toBe(401);
        expect(((await json.json()) as { error: string }).error).toBe('ERR_OIDC_SESSION_MISSING');
        const page = await b.fetch(`${plain.url('/me')}?tenant=${tenant}`, { headers: { accept: 'text/html' } });
        expect(page.status).toBe(302);
        expect(new URL(page.headers.get('location') ?? '', plain.origin).searchParams.get('tenant')).toBe(tenant);
      }
      // The session itself is untouched on its own tenant.
      expect((await b.fetch(`${plain.url('/me')}?tenant=acme`, { headers: JSON_ACCEPT })).status).toBe(200);
    });

    it(t('MT-02: a transaction of tenant A answered with iss of tenant B → 400, no token call to either'), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain, 'acme');
      const before = counters();
      const response = await h.callback(b, withQuery(request, (q) => q.set('iss', orgs().globex.issuer)));
      await expectRejected(plain, response, { status: 400, code: 'ERR_OIDC_ISSUER_MISMATCH', before, txDeleted: true });
    });

    it(t("TK-07: the code is redeemed at the transaction's tenant, whatever tenant the callback URL names"), async () => {
      const { plain } = apps();
      const { b, request } = await pendingCallback(plain, 'acme');
      const before = counters();
      const response = await h.callback(b, withQuery(request, (q) => q.set('tenant', 'globex')));
      expect(response.status).toBe(302);
      const after = counters();
      expect(after.globex.token).toBe(before.globex.token);
      expect(after.acme.token).toBe(before.acme.token + 1);
      expect(((await (await b.fetch(`${plain.url('/me')}?tenant=acme`, { headers: JSON_ACCEPT })).json()) as { tenant: string }).tenant).toBe('acme');
    });

    it(t("MT-05/IN-05/SA-01: an access token of client A on tenant B's API → 401 invalid_token, refused before any introspection"), async () => {
      const { plain } = apps();
      // Same org, another app instance: its `cid` names another client, which Okta could only confirm
      // (active, another client_id), so triage refuses it without asking (SA-01).
      const sibling = await orgs().acme.control.issueAccessToken(h.clients['acme-2'].clientId, { login: h.users.acme.login });
      let before = counters();
      await expectApiRejected(plain, await bearer(plain, `Bearer ${sibling}`, 'acme'), 'ERR_OIDC_ACCESS_TOKEN_INVALID', /^Bearer .*error="invalid_token"/, before, 0);
      // Another org: its `iss` is not this tenant's, so neither org is asked.
      const foreign = await orgs().globex.control.issueAccessToken(h.clients.globex.clientId, { login: h.users.globex.login });
      before = counters();
      await expectApiRejected(plain, await bearer(plain, `Bearer ${foreign}`, 'acme'), 'ERR_OIDC_ACCESS_TOKEN_INVALID', /^Bearer .*error="invalid_token"/, before, 0);
      expect(counters().globex.introspect).toBe(before.globex.introspect);
    });
  });
}
