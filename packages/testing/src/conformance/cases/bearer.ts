/**
 * The bearer API behind requireAccessToken: catalogue §IN and the REJECT-API checks (RFC 6750).
 */
import { createOidcClient, createMemoryCredentialStore } from '@oin-oidc/core';
import { describe, expect, it } from 'vitest';
import { driveAuthorization, startOktaOrg, type EmulatorEndpoint } from '../../index';
import { CLIENTS, USER, GLOBEX_USER, cookiesSet, bodyOf, bearer, type Harness } from '../harness';
import { junkTokens, plausibleForgery } from '../tokens';

/** Registers this section's cases in the suite's `describe` (see `describeAdapterConformance`). */
export function describeBearerCases(h: Harness): void {
  const { t, counters, expectRejected, expectApiRejected, isolated } = h;
  const apps = () => h.apps();
  const orgs = () => h.orgs();

  it(t('requireAccessToken: missing or malformed bearer → 401 with WWW-Authenticate'), async () => {
    for (const authorization of [undefined, 'Basic Zm9vOmJhcg==', 'Bearer']) {
      const response = await h.plain.browser().fetch(`${h.plain.url('/api/me')}?tenant=acme`, {
        headers: { accept: 'application/json', ...(authorization ? { authorization } : {}) },
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate') ?? '').toMatch(/^Bearer/);
      expect(await bodyOf(response)).toMatch(/ERR_OIDC_ACCESS_TOKEN_(MISSING|INVALID)/);
    }
  });

  it(t('requireAccessToken: an inactive token → 401 ERR_OIDC_ACCESS_TOKEN_INACTIVE'), async () => {
    const response = await h.plain.browser().fetch(`${h.plain.url('/api/me')}?tenant=acme`, {
      // A token only Okta can judge (a random string is refused before any introspection, SA-01).
      headers: { accept: 'application/json', authorization: `Bearer ${plausibleForgery(h.acmeOrg.issuer, CLIENTS.acme.clientId)}` },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate') ?? '').toMatch(/^Bearer.*invalid_token/);
    expect(await bodyOf(response)).toContain('ERR_OIDC_ACCESS_TOKEN_INACTIVE');
  });

  it(t('requireAccessToken: an active token → 200 with the token subject'), async () => {
    const token = await h.acmeOrg.control.issueAccessToken(CLIENTS.acme.clientId, { login: USER.login, scope: 'openid email' });
    const response = await h.plain.browser().fetch(`${h.plain.url('/api/me')}?tenant=acme`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { tenant: string; sub: string; client_id: string; scope: string };
    expect(body.tenant).toBe('acme');
    expect(body.client_id).toBe(CLIENTS.acme.clientId);
    expect(body.sub).toMatch(/.+/);
    expect(body.scope).toContain('email');
  });

  it(t('requireAccessToken: a token of another tenant is inactive for this tenant'), async () => {
    const token = await h.globexOrg.control.issueAccessToken(CLIENTS.globex.clientId, { login: GLOBEX_USER.login });
    const response = await h.plain.browser().fetch(`${h.plain.url('/api/me')}?tenant=acme`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate') ?? '').toMatch(/^Bearer/);
  });

  // =====================================================================================
  describe('security catalogue: bearer API (IN, REJECT-API)', () => {
    it(t('REJECT-API: no Authorization header → 401, a bare Bearer challenge (RFC 6750 §3.1), no introspection'), async () => {
      const { plain } = apps();
      const before = counters();
      const response = await bearer(plain, undefined);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="oin-oidc"');
      await expectApiRejected(plain, response, 'ERR_OIDC_ACCESS_TOKEN_MISSING', /^Bearer realm="oin-oidc"$/, before);
    });

    it(t('REJECT-API: another scheme (Basic, DPoP-less Token, empty) → 401 bare Bearer challenge, no introspection'), async () => {
      const { plain } = apps();
      for (const authorization of ['Basic Zm9vOmJhcg==', 'Token abc', '', '   ']) {
        const before = counters();
        await expectApiRejected(plain, await bearer(plain, authorization), 'ERR_OIDC_ACCESS_TOKEN_MISSING', /^Bearer realm="oin-oidc"$/, before);
      }
    });

    it(t('REJECT-API: a malformed bearer token → 401 error="invalid_token", no introspection'), async () => {
      const { plain } = apps();
      for (const authorization of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer <script>alert(1)</script>', 'Bearer a,b', `Bearer ${'a'.repeat(8 * 1024 + 1)}`, 'Bearer  two-spaces']) {
        const before = counters();
        await expectApiRejected(plain, await bearer(plain, authorization), 'ERR_OIDC_ACCESS_TOKEN_INVALID', /^Bearer realm="oin-oidc", error="invalid_token"$/, before);
      }
    });

    it(t('IN-01: an inactive token → 401 error="invalid_token" after exactly one introspection'), async () => {
      const { plain } = apps();
      const before = counters();
      // A token only Okta can judge (right issuer, client and lifetime; a key nobody publishes): a random
      // string would be refused by triage before any introspection (SA-01).
      const token = plausibleForgery(orgs().acme.issuer, h.clients.acme.clientId);
      await expectApiRejected(plain, await bearer(plain, `Bearer ${token}`), 'ERR_OIDC_ACCESS_TOKEN_INACTIVE', /^Bearer .*error="invalid_token"/, before, 1);
    });

    it(t('IN-04/SA-11: an ID token presented as a bearer access token → 401'), async () => {
      const { plain } = apps();
      const idToken = await orgs().acme.control.issueIdToken(h.clients.acme.clientId);
      const before = counters();
      const response = await bearer(plain, `Bearer ${idToken}`);
      expect(response.headers.get('www-authenticate') ?? '').toMatch(/^Bearer .*error="invalid_token"/);
      await expectRejected(plain, response, { status: 401, code: /ERR_OIDC_ACCESS_TOKEN_(INACTIVE|INVALID)/, before, allow: { introspect: true } });
    });

    it(t('IN-10: a DPoP-bound access token presented with the Bearer scheme → 401 invalid_token after one introspection'), async () => {
      // A real DPoP-bound token: an org whose client requires DPoP-bound tokens, redeemed by core's
      // client with a DPoP key (RFC 9449; the emulator answers use_dpop_nonce first, as Okta does).
      const app = await h.start('', false);
      const org = await startOktaOrg({
        name: 'dpop',
        clients: [{ ...h.clients.acme, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [app.url('/auth/callback')], dpopBoundAccessTokens: true }],
        users: [h.users.acme],
      });
      try {
        const record = h.record(app, 'acme', org.issuer, { dpop: true });
        await app.store.put(record);
        const client = createOidcClient({ store: createMemoryCredentialStore([record]), allowLoopbackIssuers: true });
        const tenant = await client.getTenant('acme');
        const { url, transaction } = await client.createAuthorizationRequest(tenant);
        const redirect = await driveAuthorization(url);
        const params = new URLSearchParams(redirect.method === 'GET' ? redirect.url.search : redirect.body);
        const signedIn = await client.handleCallback(Object.fromEntries(params), transaction);
        expect(signedIn.tokenType).toBe('DPoP');
        const token = signedIn.accessToken ?? '';
        expect(token.length).toBeGreaterThan(0);
        const outer = counters();
        const before = org.control.counters();
        const response = await bearer(app, `Bearer ${token}`);
        expect(response.headers.get('www-authenticate') ?? '').toMatch(/^Bearer .*error="invalid_token"/);
        const body = await expectRejected(app, response, { status: 401, code: 'ERR_OIDC_ACCESS_TOKEN_INVALID', before: outer });
        expect((JSON.parse(body) as { error: string }).error).toBe('ERR_OIDC_ACCESS_TOKEN_INVALID');
        expect(body).not.toContain(token);
        // Exactly the one introspection that found the binding, and the one cold fetch of the org's
        // published keys an API with an empty key cache makes before its first token (SA-01: so real
        // tokens can verify locally); nothing else at the org.
        const after = org.control.counters();
        const expected: Partial<Record<EmulatorEndpoint, number>> = { introspect: 1, keys: 1 };
        for (const endpoint of Object.keys(after) as EmulatorEndpoint[]) {
          expect(`${endpoint}: ${after[endpoint] - before[endpoint]}`).toBe(`${endpoint}: ${expected[endpoint] ?? 0}`);
        }
        // The same token is active at Okta: only the scheme/binding mismatch refuses it.
        expect(signedIn.scope ?? '').toMatch(/openid/);
      } finally {
        await Promise.allSettled([app.mounted.close(), org.close()]);
      }
    });

    it(t("IN-08/SA-01: fishing with plausible tokens past the tenant's introspection throttle → 503 with Retry-After and no further /introspect; junk never reaches the bucket; a cached real token keeps working"), async () => {
      // The tenant's bucket alone (the per-caller one has its own case, SA-01 in the audit cases).
      const iso = await isolated({ introspectionThrottle: { ratePerSec: 0.01, burst: 3, perCaller: false }, introspectionCache: { maxTtlSec: 60 } });
      try {
        const real = await iso.org.control.issueAccessToken(h.clients.acme.clientId, { login: h.users.acme.login });
        const ok = await bearer(iso.app, `Bearer ${real}`);
        expect(ok.status).toBe(200);
        await ok.text();
        // Three tokens only Okta can judge spend the bucket: each one costs one /introspect. (Random
        // strings no longer do: triage refuses them first, SA-01.)
        for (let i = 0; i < 3; i += 1) {
          const fishing = await bearer(iso.app, `Bearer ${plausibleForgery(iso.org.issuer, h.clients.acme.clientId)}`);
          expect(fishing.status).toBe(401);
          expect(((await fishing.json()) as { error: string }).error).toBe('ERR_OIDC_ACCESS_TOKEN_INACTIVE');
        }
        expect(iso.org.control.counters().introspect).toBe(4);
        // The bucket is empty now; junk is still refused as junk (401), before the bucket and Okta.
        for (const token of junkTokens(iso.org.issuer, h.clients.acme.clientId)) {
          const junk = await bearer(iso.app, `Bearer ${token}`);
          expect(junk.status, token.slice(0, 60)).toBe(401);
          await junk.text();
        }
        expect(iso.org.control.counters().introspect).toBe(4);
        const outer = counters();
        const before = iso.org.control.counters();
        const response = await bearer(iso.app, `Bearer ${plausibleForgery(iso.org.issuer, h.clients.acme.clientId)}`);
        expect(response.headers.get('retry-after') ?? '').toMatch(/^[1-9]\d*$/);
        expect(response.headers.get('content-type') ?? '').toMatch(/application\/json/);
        const body = await expectRejected(iso.app, response, { status: 503, code: 'ERR_OIDC_RATE_LIMITED', before: outer });
        expect((JSON.parse(body) as { error: string }).error).toBe('ERR_OIDC_RATE_LIMITED');
        expect(iso.org.control.counters()).toEqual(before);
        // The real token is answered from the cache: no Okta call, nothing taken from the empty bucket.
        const again = await bearer(iso.app, `Bearer ${real}`);
        expect(again.status).toBe(200);
        await again.text();
        expect(iso.org.control.counters()).toEqual(before);
      } finally {
        await iso.close();
      }
    });

    it(t('REJECT-API: the scheme is case-insensitive (RFC 6750 §2.1) and a valid token still works after refusals'), async () => {
      const { plain } = apps();
      const token = await orgs().acme.control.issueAccessToken(h.clients.acme.clientId, { login: h.users.acme.login });
      for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
        const response = await bearer(plain, `${scheme} ${token}`);
        expect(response.status, scheme).toBe(200);
        await response.text();
      }
    });

    it(t('REJECT-API: a bearer call never creates a session'), async () => {
      const { plain } = apps();
      const token = await orgs().acme.control.issueAccessToken(h.clients.acme.clientId, { login: h.users.acme.login });
      const response = await bearer(plain, `Bearer ${token}`);
      expect(response.status).toBe(200);
      expect(cookiesSet(response)).toEqual([]);
    });
  });
}
