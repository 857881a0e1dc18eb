/**
 * Cross-tenant confusion (catalogue L, MT-*) across two emulated Okta orgs, for the resource-side
 * and initiated flows: introspection, simplified flow, initiate login and logout.
 */
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTransport } from '../src/http/transport';
import { resolveInitiateLogin } from '../src/initiate/initiate-login';
import { createIntrospector } from '../src/introspection/introspect';
import { createJwksRegistry } from '../src/jwks/jwks-registry';
import { buildLogoutUrl } from '../src/logout/build-logout-url';
import { createSimplifiedFlow } from '../src/simplified/simplified-flow';
import { MemoryCredentialStore } from '../src/tenant/credential-store';
import { validateIdToken } from '../src/tokens/validate-id-token';
import { MemoryTtlStore } from '../src/ttl-store';

/** The emulator's orgs live on 127.0.0.1 (SA-12: loopback issuers only when allowed). */
const LOOPBACK = { issuerPolicy: { allowLoopbackIssuers: true } };
const APP = 'http://localhost:3000';
const REDIRECT = `${APP}/auth/callback`;
let orgA: OktaOrg;
let orgB: OktaOrg;
let store: MemoryCredentialStore;

beforeAll(async () => {
  const client = (clientId: string) => ({
    clientId,
    clientSecret: `${clientId}-secret`,
    tokenEndpointAuthMethod: 'client_secret_basic' as const,
    redirectUris: [REDIRECT],
    postLogoutRedirectUris: [`${APP}/`],
    initiateLoginUri: `${APP}/auth/initiate`,
  });
  // The same client id in two orgs: Okta client ids are per org, so only the issuer tells them apart.
  orgA = await startOktaOrg({ name: 'a', clients: [client('shared-id'), client('a-two')], users: [{ login: 'alice@example.com', password: 'pw' }] });
  orgB = await startOktaOrg({ name: 'b', clients: [client('shared-id')], users: [{ login: 'alice@example.com', password: 'pw' }] });
  const tenant = (id: string, org: OktaOrg, clientId: string) => ({
    id,
    issuer: org.issuer,
    clientId,
    clientSecret: `${clientId}-secret`,
    redirectUris: [REDIRECT],
    postLogoutRedirectUris: [`${APP}/`],
    allowSimplifiedFlow: true,
  });
  store = new MemoryCredentialStore([tenant('a1', orgA, 'shared-id'), tenant('a2', orgA, 'a-two'), tenant('b1', orgB, 'shared-id')]);
});
afterAll(async () => {
  await Promise.all([orgA?.close(), orgB?.close()]);
});
beforeEach(() => {
  for (const org of [orgA, orgB]) {
    org.control.clearFaults();
    org.control.resetCounters();
  }
});

const tenant = async (id: string) => (await store.get(id))!;

describe('multi-tenant isolation', () => {
  it("introspects at the tenant's own org only: org B's token is inactive for tenant A (IN-05, MT-07)", async () => {
    const introspector = createIntrospector({ transport: createTransport(), now: Date.now, cache: { maxTtlSec: 60 } });
    const tokenB = await orgB.control.issueAccessToken('shared-id', { login: 'alice@example.com' });
    expect((await introspector.introspect(await tenant('b1'), tokenB)).client_id).toBe('shared-id');
    // Org B's token names org B as its iss: triage refuses it for a1 without asking org A (SA-01).
    await expect(introspector.introspect(await tenant('a1'), tokenB)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID', details: { reason: 'triage', check: 'iss' } });
    expect(orgA.control.counters().introspect).toBe(0);
    expect(orgB.control.counters().introspect).toBe(1);
    // The cached positive answer for b1 never answers for a1, though the client ids are equal (MT-06).
    await expect(introspector.introspect(await tenant('a1'), tokenB)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID' });
    // Without triage, org A itself says the token is not one of its own.
    const untriaged = createIntrospector({ transport: createTransport(), now: Date.now, cache: { maxTtlSec: 60 }, triage: false });
    await expect(untriaged.introspect(await tenant('a1'), tokenB)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    expect(orgA.control.counters().introspect).toBe(1);
    expect((await introspector.introspect(await tenant('b1'), tokenB)).active).toBe(true);
    expect(orgB.control.counters().introspect).toBe(1);
  });

  it("refuses another app's token within one org (MT, IN-05)", async () => {
    const introspector = createIntrospector({ transport: createTransport(), now: Date.now });
    const token = await orgA.control.issueAccessToken('a-two', { login: 'alice@example.com' });
    await expect(introspector.introspect(await tenant('a1'), token)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INVALID' });
    expect((await introspector.introspect(await tenant('a2'), token)).client_id).toBe('a-two');
  });

  describe('simplified flow', () => {
    const flow = () => {
      const jwks = createJwksRegistry(createTransport());
      return createSimplifiedFlow({
        store,
        replay: new MemoryTtlStore(),
        now: Date.now,
        validate: (t, idToken, expected) => validateIdToken({ jwks, now: Date.now, clockToleranceSec: 30 }, t, idToken, expected),
      });
    };

    it('picks the tenant by issuer and audience, the same client id in two orgs stays apart', async () => {
      const fromA = await orgA.control.issueIdToken('shared-id');
      const fromB = await orgB.control.issueIdToken('shared-id');
      const handler = flow();
      expect((await handler.handle(fromA)).tenant.id).toBe('a1');
      expect((await handler.handle(fromB)).tenant.id).toBe('b1');
    });

    it("refuses org A's token on tenant B's route (MT-01)", async () => {
      const fromA = await orgA.control.issueIdToken('shared-id');
      await expect(flow().handle(fromA, { tenantId: 'b1' })).rejects.toMatchObject({ code: 'ERR_OIDC_ISSUER_MISMATCH' });
    });

    it("refuses a token signed by org B that claims org A's issuer (keys are per issuer) (JK-09, MT-06)", async () => {
      const forged = await orgB.control.issueIdToken('shared-id', { claims: { iss: orgA.issuer } });
      await expect(flow().handle(forged)).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_OIDC_(ID_TOKEN_INVALID|JWKS_NO_MATCHING_KEY)$/) });
      expect(orgB.control.counters().keys).toBe(0);
    });

    it('never fetches keys from an unconfigured issuer (TP-01, MT-03)', async () => {
      const stranger = await startOktaOrg({ clients: [{ clientId: 'shared-id', clientSecret: 'x', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [REDIRECT] }], users: [{ login: 'eve@example.com', password: 'pw' }] });
      try {
        const token = await stranger.control.issueIdToken('shared-id');
        // An issuer no tenant uses answers like any other invalid posted token (SA-18).
        await expect(flow().handle(token)).rejects.toMatchObject({ code: 'ERR_OIDC_ID_TOKEN_INVALID', details: { reason: 'unknown-tenant' } });
        expect(stranger.control.counters().keys).toBe(0);
      } finally {
        await stranger.close();
      }
    });
  });

  describe('initiate login', () => {
    it("maps the emulator's initiate-login URL to the right tenant", async () => {
      const url = new URL(orgB.control.initiateLoginUrl('shared-id', { loginHint: 'alice@example.com', targetLinkUri: `${APP}/reports?id=1` }));
      const result = await resolveInitiateLogin(store, url.searchParams, APP, LOOPBACK);
      expect(result).toMatchObject({ loginHint: 'alice@example.com', returnTo: '/reports?id=1' });
      expect(result.tenant.id).toBe('b1');
    });

    it('needs the tenant hint for an org with two instances, and only accepts that org’s instances (MT-05)', async () => {
      const url = new URL(orgA.control.initiateLoginUrl('shared-id'));
      await expect(resolveInitiateLogin(store, url.searchParams, APP, LOOPBACK)).rejects.toMatchObject({ code: 'ERR_OIDC_TENANT_UNKNOWN', details: { reason: 'ambiguous' } }); // SA-18: told apart only in details
      url.searchParams.set('tenant', 'a2');
      expect((await resolveInitiateLogin(store, url.searchParams, APP, LOOPBACK)).tenant.id).toBe('a2');
      url.searchParams.set('tenant', 'b1');
      await expect(resolveInitiateLogin(store, url.searchParams, APP, LOOPBACK)).rejects.toMatchObject({ code: 'ERR_OIDC_TENANT_UNKNOWN' });
    });

    it('ignores a target_link_uri on another origin (TP-04)', async () => {
      const url = new URL(orgB.control.initiateLoginUrl('shared-id', { targetLinkUri: 'https://evil.example/phish' }));
      const result = await resolveInitiateLogin(store, url.searchParams, APP, LOOPBACK);
      expect(result.returnTo).toBeUndefined();
    });
  });

  describe('logout', () => {
    it("points at each tenant's own org /oauth2/v1/logout, which accepts it", async () => {
      for (const [id, org] of [['a1', orgA], ['b1', orgB]] as const) {
        const idToken = await org.control.issueIdToken('shared-id');
        const url = buildLogoutUrl(await tenant(id), { idTokenHint: idToken, state: 'st-1' });
        expect(`${url.origin}${url.pathname}`).toBe(`${org.issuer}/oauth2/v1/logout`);
        expect(url.searchParams.get('post_logout_redirect_uri')).toBe(`${APP}/`);
        const response = await fetch(url, { redirect: 'manual' });
        const body = await response.text();
        expect(response.status).toBe(200);
        expect(body).not.toMatch(/class="error"/);
        expect(org.control.counters().logout).toBe(1);
      }
    });
  });
});
