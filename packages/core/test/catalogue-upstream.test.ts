/**
 * Catalogue §E (JK), §F (IN), §G (UI) and §A AR-06/AR-10 against the emulator's hostile mode: broken
 * or forged JWKS, introspection, UserInfo and discovery answers. A hostile answer is never trusted:
 * the flow refuses with its typed code and status, creates no session, and fails closed.
 */
import type { HostileArtefact } from '@oin-oidc/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isOidcError, type OidcError } from '../src/errors';
import { Browser, CLIENT_ID, expectRejectedCallback, type Harness, hostileSignIn, startHarness } from './catalogue-harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());
afterEach(() => {
  h.org.control.clearHostile();
  h.org.control.clearFaults();
});

async function failure(promise: Promise<unknown>): Promise<OidcError> {
  try {
    await promise;
  } catch (error) {
    if (isOidcError(error)) return error;
    throw error;
  }
  throw new Error('expected an OidcError');
}

describe('catalogue: hostile JWKS answers with a cold key cache (JK-04, JK-07)', () => {
  it.each([
    ['JK-04', 'jwks-keys-not-array', 'ERR_OIDC_JWKS_UNAVAILABLE', 503],
    ['JK-04', 'jwks-malformed-json', 'ERR_OIDC_JWKS_UNAVAILABLE', 503],
    ['JK-04', 'jwks-huge', 'ERR_OIDC_JWKS_UNAVAILABLE', 503],
    ['JK-04', 'html-error-page', 'ERR_OIDC_JWKS_UNAVAILABLE', 503],
    ['JK-04', 'redirect', 'ERR_OIDC_JWKS_UNAVAILABLE', 503],
    ['JK-04', 'jwks-empty', 'ERR_OIDC_JWKS_UNAVAILABLE', 503],
    // Ambiguous set (two keys, one kid, the foreign one first): fail closed, never "try until one verifies" with a foreign key.
    ['JK-04', 'jwks-duplicate-kids', 'ERR_OIDC_ID_TOKEN_INVALID', 400],
  ] as [string, HostileArtefact, string, number][])('%s: /keys answering %s never lets a sign-in through (%s, %i)', async (_id, artefact, code, status) => {
    const result = await hostileSignIn(h, artefact, { endpoint: 'keys', persistent: true });
    expectRejectedCallback(result, code, status);
  });

  it('JK-07: an oct (HMAC) key in the set refuses the set, as the conformance suite fails an OP JWKS with a symmetric key', async () => {
    const result = await hostileSignIn(h, 'jwks-symmetric-key', { endpoint: 'keys', persistent: true });
    expectRejectedCallback(result, 'ERR_OIDC_JWKS_UNAVAILABLE', 503);
  });

  it('JK-07: an HS256 token naming the published oct key is refused, though the set offers that key', async () => {
    h.org.control.hostile('keys', 'jwks-symmetric-key');
    const result = await hostileSignIn(h, 'id-token-hs256-jwks-oct');
    expectRejectedCallback(result, 'ERR_OIDC_ID_TOKEN_INVALID');
    expect(result.counters.keys).toBe(0);
  });
});

describe('catalogue: hostile introspection answers through requireAccessToken (IN-04, IN-05, IN-07)', () => {
  async function bearer(artefact: HostileArtefact) {
    const auth = h.auth();
    const token = await h.org.control.issueAccessToken(CLIENT_ID);
    h.org.control.hostile('introspect', artefact, { times: 1 });
    h.org.control.resetCounters();
    const browser = new Browser(auth);
    const result = await auth.requireAccessToken(browser.request('GET', 'http://127.0.0.1:4000/api/orders', { headers: { authorization: `Bearer ${token}` } }), { tenantId: 'acme' });
    const counters = h.org.control.counters();
    if (!('response' in result)) throw new Error(`${artefact} was accepted`);
    return { response: result.response, counters };
  }

  it.each([
    ['IN-05', 'introspection-other-client'],
    ['IN-05', 'introspection-other-issuer'],
    ['IN-04', 'introspection-refresh-token-shape'],
  ] as [string, HostileArtefact][])('%s: %s → REJECT-API (401, WWW-Authenticate invalid_token)', async (_id, artefact) => {
    const { response, counters } = await bearer(artefact);
    expect(response.status).toBe(401);
    expect(response.headers['WWW-Authenticate']).toMatch(/^Bearer .*error="invalid_token"/);
    expect(JSON.parse(response.body ?? '{}')).toMatchObject({ error: 'ERR_OIDC_ACCESS_TOKEN_INVALID' });
    expect(counters.introspect).toBe(1);
    expect(response.setCookies).toEqual([]);
  });

  it.each([
    ['IN-07', 'introspection-active-string', 'ERR_OIDC_INTROSPECTION_INVALID', 502],
    ['IN-07', 'introspection-active-missing', 'ERR_OIDC_INTROSPECTION_INVALID', 502],
    ['IN-07', 'introspection-malformed-json', 'ERR_OIDC_HTTP_ERROR', 502],
    ['IN-07', 'html-error-page', 'ERR_OIDC_UNAVAILABLE', 503],
    ['IN-07', 'redirect', 'ERR_OIDC_HTTP_ERROR', 502],
  ] as [string, HostileArtefact, string, number][])('%s: %s never counts as active: UPSTREAM %s (%i), one call', async (_id, artefact, code, status) => {
    const { response, counters } = await bearer(artefact);
    expect(response.status).toBe(status);
    expect(JSON.parse(response.body ?? '{}')).toMatchObject({ error: code });
    expect(counters.introspect).toBe(1);
  });
});

describe('catalogue: hostile UserInfo answers (UI-01)', () => {
  it('UI-01: a userinfo sub other than the ID token sub is refused (ERR_OIDC_SUBJECT_MISMATCH)', async () => {
    const client = h.client();
    const tenant = await client.getTenant('acme');
    const token = await h.org.control.issueAccessToken(CLIENT_ID, { scope: 'openid profile email' });
    const sub = h.org.config.users[0]?.sub ?? '';
    expect(await client.userinfo(tenant, token, sub)).toMatchObject({ sub });
    h.org.control.hostile('userinfo', 'userinfo-sub-mismatch', { times: 1 });
    const error = await failure(client.userinfo(tenant, token, sub));
    expect(error.code).toBe('ERR_OIDC_SUBJECT_MISMATCH');
    expect(error.status).toBe(400);
  });

  it.each([
    ['html-error-page', 'ERR_OIDC_UNAVAILABLE'],
    ['redirect', 'ERR_OIDC_HTTP_ERROR'],
  ] as [HostileArtefact, string][])('UI-01: %s at userinfo fails closed with %s', async (artefact, code) => {
    const client = h.client();
    const tenant = await client.getTenant('acme');
    const token = await h.org.control.issueAccessToken(CLIENT_ID);
    h.org.control.hostile('userinfo', artefact, { times: 1 });
    expect((await failure(client.userinfo(tenant, token, h.org.config.users[0]?.sub ?? ''))).code).toBe(code);
  });
});

describe('catalogue: hostile discovery (AR-06, AR-10)', () => {
  it.each([
    ['AR-06', 'discovery-issuer-mismatch'],
    ['AR-10', 'discovery-foreign-endpoints'],
  ] as [string, HostileArtefact][])('%s: %s refuses the callback that needs discovery, before any token request', async (_id, artefact) => {
    // A callback without RFC 9207 iss makes the client consult the discovery document (requireIssParameter 'discovery').
    const result = await hostileSignIn(h, artefact, { endpoint: 'discovery', persistent: true, mutateCallback: (url) => url.searchParams.delete('iss') });
    expectRejectedCallback(result, 'ERR_OIDC_DISCOVERY_FAILED', 502, 0);
    expect(result.counters.discovery).toBeGreaterThanOrEqual(1);
  });
});
