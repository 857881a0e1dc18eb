/**
 * Catalogue §C/§D (TK, IT) and the ID-token parts of §E/§P (JK, DS) through the full flow: a real
 * sign-in through createOidcAuth().handle() against the emulator, whose token endpoint answers with
 * one forged or broken artefact. Each case asserts REJECT-CB (catalogue §0): the typed code, the
 * status, no session cookie, the transaction cookie deleted, one token request and nothing after.
 */
import type { HostileArtefact } from '@oin-oidc/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP, Browser, CLIENT_ID, errorCode, expectRejectedCallback, type Harness, hostileSignIn, sessionCookies, startHarness } from './catalogue-harness';
import { driveAuthorization } from '@oin-oidc/testing';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

const INVALID = 'ERR_OIDC_ID_TOKEN_INVALID';

/** [catalogue id, artefact, expected code, status, what it is]. */
const REJECTED: [string, HostileArtefact, string, number, string][] = [
  ['IT-01', 'id-token-bad-signature', INVALID, 400, 'a flipped signature byte'],
  ['IT-01', 'id-token-tampered-payload', INVALID, 400, 'a payload changed after signing'],
  ['IT-02', 'id-token-alg-none', INVALID, 400, 'alg none'],
  ['IT-02', 'id-token-alg-none-mixed-case', INVALID, 400, 'alg nOnE'],
  ['IT-03', 'id-token-hs256-pubkey-pem', INVALID, 400, 'HS256 keyed with the RSA public key (PEM)'],
  ['IT-03', 'id-token-hs256-pubkey-pem-whitespace', INVALID, 400, 'HS256 keyed with the whitespace-prefixed PEM'],
  ['IT-03', 'id-token-hs256-pubkey-der', INVALID, 400, 'HS256 keyed with the DER public key'],
  ['IT-03', 'id-token-hs256-pubkey-jwk-n', INVALID, 400, 'HS256 keyed with the JWK n'],
  ['IT-04', 'id-token-alg-rs512', INVALID, 400, 'RS512 validly signed by a published key'],
  ['IT-04', 'id-token-alg-ps256', INVALID, 400, 'PS256 validly signed by a published key'],
  ['IT-05', 'id-token-iss-trailing-slash', INVALID, 400, 'iss with a trailing slash'],
  ['IT-05', 'id-token-iss-scheme', INVALID, 400, 'iss with the other scheme'],
  ['IT-05', 'id-token-iss-other-org', INVALID, 400, 'iss of another org'],
  ['IT-05', 'id-token-iss-custom-as', INVALID, 400, 'iss of a custom authorization server'],
  ['IT-05', 'id-token-duplicate-iss', INVALID, 400, 'two iss members, the foreign one last'],
  ['IT-06', 'id-token-iss-missing', INVALID, 400, 'iss missing'],
  ['IT-07', 'id-token-aud-wrong', INVALID, 400, 'aud another client'],
  ['IT-07', 'id-token-aud-missing', INVALID, 400, 'aud missing'],
  ['IT-08', 'id-token-aud-extra', INVALID, 400, 'aud with an extra audience and no azp'],
  ['IT-09', 'id-token-azp-mismatch', INVALID, 400, 'azp another client'],
  ['IT-10', 'id-token-expired', 'ERR_OIDC_ID_TOKEN_EXPIRED', 400, 'exp an hour ago'],
  ['IT-10', 'id-token-exp-missing', INVALID, 400, 'exp missing'],
  ['IT-10', 'id-token-exp-string', INVALID, 400, 'exp a string'],
  ['IT-11', 'id-token-iat-future', INVALID, 400, 'iat an hour ahead'],
  ['IT-11', 'id-token-iat-missing', INVALID, 400, 'iat missing'],
  ['IT-11', 'id-token-iat-week-old', 'ERR_OIDC_ID_TOKEN_EXPIRED', 400, 'iat a week old'],
  ['IT-12', 'id-token-sub-missing', INVALID, 400, 'sub missing'],
  ['IT-12', 'id-token-sub-empty', INVALID, 400, 'sub empty'],
  ['IT-13', 'id-token-nonce-wrong', 'ERR_OIDC_NONCE_MISMATCH', 400, 'nonce not the transaction nonce'],
  ['IT-13', 'id-token-nonce-missing', 'ERR_OIDC_NONCE_MISMATCH', 400, 'nonce missing although sent'],
  ['IT-14', 'id-token-at-hash-wrong', INVALID, 400, 'at_hash the untruncated SHA-256'],
  ['IT-15', 'id-token-kid-absent', INVALID, 400, 'no kid while several keys are published'],
  ['IT-16', 'id-token-malformed', INVALID, 400, 'two segments'],
  ['IT-19', 'id-token-typ-at-jwt', INVALID, 400, 'typ at+jwt'],
  ['IT-01', 'id-token-crit', INVALID, 400, 'a crit header (RFC 7515 §4.1.11)'],
  ['JK-01', 'id-token-unknown-kid', 'ERR_OIDC_JWKS_NO_MATCHING_KEY', 400, 'a kid the org never published (one refetch, then refused)'],
  ['JK-07', 'id-token-hs256-jwks-oct', INVALID, 400, 'HS256 with the kid of an oct key'],
  ['JK-08', 'id-token-embedded-jwk', 'ERR_OIDC_JWKS_NO_MATCHING_KEY', 400, 'an attacker key in jwk/jku/x5u headers'],
  ['DS-01', 'id-token-oversized', 'ERR_OIDC_HTTP_RESPONSE_TOO_LARGE', 502, 'a 1 MiB ID token (the token response exceeds the size cap)'],
  ['DS-03', 'id-token-jwe', INVALID, 400, 'a JWE with a PBES2 p2c bomb header'],
  ['TK-04', 'token-type-mac', 'ERR_OIDC_TOKEN_RESPONSE_INVALID', 502, 'token_type mac'],
  ['TK-06', 'id-token-missing', 'ERR_OIDC_TOKEN_RESPONSE_INVALID', 502, 'no id_token in the token response'],
  ['IT-22', 'id-token-nonce-wrong', 'ERR_OIDC_NONCE_MISMATCH', 400, 'nothing is used (no userinfo/introspection) before validation passes'],
];

describe('catalogue: forged or broken ID tokens through the flow (REJECT-CB)', () => {
  it.each(REJECTED)('%s: %s is refused (%s, %i) — %s', async (_id, artefact, code, status) => {
    const result = await hostileSignIn(h, artefact);
    expectRejectedCallback(result, code, status);
  });

  it.each([
    ['IT-02', 'id-token-alg-none'],
    ['IT-03', 'id-token-hs256-pubkey-pem'],
    ['IT-04', 'id-token-alg-rs512'],
    ['DS-01', 'id-token-oversized'],
    ['DS-03', 'id-token-jwe'],
    ['IT-16', 'id-token-malformed'],
  ] as const)('%s: %s is refused before any /keys fetch', async (_id, artefact) => {
    const result = await hostileSignIn(h, artefact);
    expect(result.counters.keys).toBe(0);
  });

  it('JK-02: repeated unknown kids cost at most one /keys refetch each within the budget (3), then none', async () => {
    const auth = h.auth(); // one client: one JWKS registry and one refetch budget
    let fetches = 0;
    for (let i = 0; i < 6; i += 1) {
      const result = await hostileSignIn(h, 'id-token-unknown-kid', { auth });
      expectRejectedCallback(result, 'ERR_OIDC_JWKS_NO_MATCHING_KEY');
      expect(result.counters.keys).toBeLessThanOrEqual(1);
      fetches += result.counters.keys;
    }
    expect(fetches).toBeLessThanOrEqual(3 + 1); // the cold fetch plus the budget
  });

  it('IT-16: the error page never echoes the token or its claims', async () => {
    const { response } = await hostileSignIn(h, 'id-token-iss-other-org');
    expect(response.body).not.toContain('evil.okta.com');
    expect(response.body).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });
});

describe('catalogue: robustness cases that must be ACCEPTED', () => {
  it.each([
    ['IT-08', 'id-token-aud-array'],
    ['TK-04', 'token-type-lowercase'],
  ] as const)('%s: %s signs in', async (_id, artefact) => {
    const { response, counters } = await hostileSignIn(h, artefact);
    expect(errorCode(response)).toBeUndefined();
    expect(response.status).toBe(302);
    expect(sessionCookies(response)).toHaveLength(1);
    expect(counters.token).toBe(1);
  });
});

describe('catalogue: broken token responses (UPSTREAM-502)', () => {
  it.each([
    ['TK-02', 'token-response-malformed-json', 'ERR_OIDC_HTTP_ERROR'],
    ['TK-02', 'token-response-not-object', 'ERR_OIDC_TOKEN_RESPONSE_INVALID'],
    ['TK-02', 'token-response-oversized', 'ERR_OIDC_HTTP_RESPONSE_TOO_LARGE'],
    ['TK-02', 'redirect', 'ERR_OIDC_HTTP_ERROR'],
  ] as const)('%s: %s → 502 %s, no retry of the code, no session', async (_id, artefact, code) => {
    const result = await hostileSignIn(h, artefact);
    expectRejectedCallback(result, code, 502);
  });

  it('TK-02: an HTML 500 error page → 503 ERR_OIDC_UNAVAILABLE, no retry of the code, no session', async () => {
    const result = await hostileSignIn(h, 'html-error-page');
    expectRejectedCallback(result, 'ERR_OIDC_UNAVAILABLE', 503);
  });
});

describe('catalogue: IT-21 max_age through client.handleCallback', () => {
  it('IT-21: auth_time missing while max_age was requested is refused, and nothing is called after', async () => {
    const client = h.client();
    const tenant = await client.getTenant('acme');
    const { url, transaction } = await client.createAuthorizationRequest(tenant, { maxAge: 300 });
    const callback = await driveAuthorization(url);
    h.org.control.hostile('token', 'id-token-auth-time-missing', { times: 1 });
    h.org.control.resetCounters();
    const params = Object.fromEntries(callback.url.searchParams);
    const error = await client.handleCallback(params, transaction).then(
      () => undefined,
      (e: unknown) => e as { code?: string; status?: number; details?: Record<string, unknown> },
    );
    h.org.control.clearHostile();
    expect(error?.code).toBe(INVALID);
    expect(error?.status).toBe(400);
    expect(error?.details?.check).toBe('auth_time');
    const counters = h.org.control.counters();
    expect(counters.token).toBe(1);
    expect(counters.userinfo + counters.introspect).toBe(0);
  });
});

describe('catalogue: CB-09 the nonce binds the ID token to this browser', () => {
  it("CB-09: a callback carrying another browser's code and state is refused without a token request", async () => {
    const auth = h.auth();
    const attacker = new Browser(auth);
    const attackerLogin = await attacker.send('GET', `${APP}/auth/login?tenant=acme`);
    const attackerCallback = await driveAuthorization(attackerLogin.headers.Location ?? '');
    const victim = new Browser(auth);
    await victim.send('GET', `${APP}/auth/login?tenant=acme`);
    h.org.control.resetCounters();
    const response = await victim.send('GET', attackerCallback.url);
    expect(response.status).toBe(400);
    expect(errorCode(response)).toBe('ERR_OIDC_STATE_MISMATCH');
    expect(sessionCookies(response)).toEqual([]);
    expect(h.org.control.counters().token).toBe(0);
    expect(CLIENT_ID).toBeTruthy();
  });
});
