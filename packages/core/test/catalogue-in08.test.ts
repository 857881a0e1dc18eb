/**
 * Catalogue IN-08, token fishing (RFC 7662 §4: "If left unprotected and un-throttled, the
 * introspection endpoint could present a means for an attacker to poll the endpoint, fishing for a
 * valid token"). Many distinct, well-formed random bearer tokens must not each become an
 * `/introspect` call at Okta without limit: a per-tenant token bucket on the calls that would reach
 * Okta refuses the excess locally with ERR_OIDC_RATE_LIMITED (503 + Retry-After). Counted at the
 * emulator, with an injected clock (no timing in the test).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isOidcError } from '../src/errors';
import { Browser, CLIENT_ID, type Harness, startHarness } from './catalogue-harness';

let h: Harness;
let clock = 0;
const now = () => clock;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => {
  clock = Date.now();
  h.org.control.resetCounters();
});

const b64url = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

/**
 * The fisher's best token: one triage cannot refuse (SA-01) because it looks like one of the
 * tenant's access tokens (RS256, its iss and cid, not expired) under a kid no key cache holds.
 * Okta never issued it: it introspects as inactive. (Random strings no longer reach Okta at all.)
 */
function randomToken(clientId = CLIENT_ID): string {
  const now = Math.floor(clock / 1000);
  const header = { alg: 'RS256', kid: 'fishing-kid', typ: 'application/okta-internal-at+jwt' };
  const payload = { ver: 1, jti: `AT.${crypto.randomUUID()}`, iss: h.org.issuer, aud: h.org.issuer, cid: clientId, iat: now, exp: now + 3600 };
  return `${b64url(header)}.${b64url(payload)}.${b64url(crypto.randomUUID())}`;
}

/** Introspect each token; returns the error codes in order (`ok` for an accepted token). */
async function fish(introspect: (token: string) => Promise<unknown>, tokens: string[]): Promise<string[]> {
  const codes: string[] = [];
  for (const token of tokens) {
    try {
      await introspect(token);
      codes.push('ok');
    } catch (error) {
      if (!isOidcError(error)) throw error;
      codes.push(error.code);
    }
  }
  return codes;
}

const count = (codes: string[], code: string) => codes.filter((c) => c === code).length;

describe('catalogue: token fishing is throttled locally before Okta (IN-08)', () => {
  it('IN-08: 150 random tokens → 100 reach /introspect (the default burst), 50 are refused locally with retryAfter', async () => {
    const client = h.client({ now });
    const tenant = await client.getTenant('acme');
    const codes = await fish((token) => client.introspect(tenant, token), Array.from({ length: 150 }, randomToken));
    expect(count(codes, 'ERR_OIDC_ACCESS_TOKEN_INACTIVE')).toBe(100);
    expect(count(codes, 'ERR_OIDC_RATE_LIMITED')).toBe(50);
    expect(codes.slice(100)).toEqual(Array(50).fill('ERR_OIDC_RATE_LIMITED'));
    expect(h.org.control.counters().introspect).toBe(100);
    const refused = await client.introspect(tenant, randomToken()).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', retryAfter: 1, details: { reason: 'introspection-throttle', tenantId: 'acme' } });
    expect(h.org.control.counters().introspect).toBe(100);
  });

  it('IN-08: the bucket refills at the sustained rate (default 50/s): one second later 50 more reach Okta, no more', async () => {
    const client = h.client({ now });
    const tenant = await client.getTenant('acme');
    await fish((token) => client.introspect(tenant, token), Array.from({ length: 100 }, randomToken));
    expect(h.org.control.counters().introspect).toBe(100);
    clock += 1000;
    const codes = await fish((token) => client.introspect(tenant, token), Array.from({ length: 60 }, randomToken));
    expect(count(codes, 'ERR_OIDC_ACCESS_TOKEN_INACTIVE')).toBe(50);
    expect(count(codes, 'ERR_OIDC_RATE_LIMITED')).toBe(10);
    expect(h.org.control.counters().introspect).toBe(150);
  });

  it('IN-08: configurable (ratePerSec, burst); the Retry-After is the time until the next call is allowed', async () => {
    const client = h.client({ now, introspectionThrottle: { ratePerSec: 0.25, burst: 3 } });
    const tenant = await client.getTenant('acme');
    const codes = await fish((token) => client.introspect(tenant, token), Array.from({ length: 5 }, randomToken));
    expect(codes).toEqual(['ERR_OIDC_ACCESS_TOKEN_INACTIVE', 'ERR_OIDC_ACCESS_TOKEN_INACTIVE', 'ERR_OIDC_ACCESS_TOKEN_INACTIVE', 'ERR_OIDC_RATE_LIMITED', 'ERR_OIDC_RATE_LIMITED']);
    await expect(client.introspect(tenant, randomToken())).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', retryAfter: 4 });
    clock += 2000;
    await expect(client.introspect(tenant, randomToken())).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', retryAfter: 2 });
    clock += 2000;
    await expect(client.introspect(tenant, randomToken())).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    expect(h.org.control.counters().introspect).toBe(4);
  });

  it('IN-08: real tokens cost nothing: 150 introspections of an active token without a cache all reach Okta and pass', async () => {
    // No cache: every introspection must reach Okta (the default cache would answer 149 of them).
    const client = h.client({ now, introspectionCache: false });
    const tenant = await client.getTenant('acme');
    const real = await h.org.control.issueAccessToken(tenant.clientId, { login: 'carol@acme.example' });
    const codes = await fish((token) => client.introspect(tenant, token), Array(150).fill(real));
    expect(codes).toEqual(Array(150).fill('ok'));
    expect(h.org.control.counters().introspect).toBe(150);
    // The bucket is still full: 100 unusable tokens reach Okta before the throttle refuses.
    const fishing = await fish((token) => client.introspect(tenant, token), Array.from({ length: 101 }, randomToken));
    expect(count(fishing, 'ERR_OIDC_ACCESS_TOKEN_INACTIVE')).toBe(100);
    expect(fishing[100]).toBe('ERR_OIDC_RATE_LIMITED');
  });

  it('IN-08, SA-01: another app’s active token is refused by triage (its cid) without spending the budget; without triage it spends it like a random one', async () => {
    const triaged = h.client({ now, introspectionThrottle: { ratePerSec: 1, burst: 2 } });
    const tenant = await triaged.getTenant('acme');
    const foreign = await h.org.control.issueAccessToken(h.tenants[1]!.clientId, { login: 'carol@acme.example' });
    expect(await fish((token) => triaged.introspect(tenant, token), [foreign, foreign, foreign])).toEqual(Array(3).fill('ERR_OIDC_ACCESS_TOKEN_INVALID'));
    expect(h.org.control.counters().introspect).toBe(0);
    // No cache either, so each call is a new Okta question (the negative cache would answer the repeats).
    const client = h.client({ now, introspectionTriage: false, introspectionCache: false, introspectionThrottle: { ratePerSec: 1, burst: 2 } });
    const codes = await fish((token) => client.introspect(tenant, token), [foreign, foreign, foreign]);
    expect(codes).toEqual(['ERR_OIDC_ACCESS_TOKEN_INVALID', 'ERR_OIDC_ACCESS_TOKEN_INVALID', 'ERR_OIDC_RATE_LIMITED']);
    expect(h.org.control.counters().introspect).toBe(2);
  });

  it('IN-08, SA-01: an empty bucket refuses uncached plausible tokens (Okta cannot be asked), while cached real tokens and real tokens signed with a published key keep working', async () => {
    const client = h.client({ now, introspectionCache: { maxTtlSec: 60 }, introspectionThrottle: { ratePerSec: 1, burst: 5 } });
    const tenant = await client.getTenant('acme');
    const real = await h.org.control.issueAccessToken(tenant.clientId, { login: 'carol@acme.example' });
    await expect(client.introspect(tenant, real)).resolves.toMatchObject({ active: true, client_id: tenant.clientId });
    const codes = await fish((token) => client.introspect(tenant, token), Array.from({ length: 10 }, randomToken));
    // The real token's call gave its token back: 5 fishing calls reach Okta, 5 are refused.
    expect(count(codes, 'ERR_OIDC_RATE_LIMITED')).toBe(5);
    expect(h.org.control.counters().introspect).toBe(6);
    // Cached: no call to Okta, nothing taken from the empty bucket.
    await expect(client.introspect(tenant, real)).resolves.toMatchObject({ active: true });
    // The first real token, once Okta confirmed it, taught the client the org's keys (one /keys
    // fetch): a new real token signed with the published key verifies and goes to Okta unthrottled.
    expect(h.org.control.counters().keys).toBe(1);
    const uncached = await h.org.control.issueAccessToken(tenant.clientId, { login: 'carol@acme.example' });
    await expect(client.introspect(tenant, uncached)).resolves.toMatchObject({ active: true });
    expect(h.org.control.counters().introspect).toBe(7);
    // The residual: a token only Okta can judge (unknown kid) waits for the bucket.
    await expect(client.introspect(tenant, randomToken())).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED' });
    expect(h.org.control.counters().introspect).toBe(7);
    // A repeated fishing token is answered by the negative cache, not by another Okta call.
    const seen = randomToken();
    clock += 1000; // one token back at 1/s
    await expect(client.introspect(tenant, seen)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    for (let i = 0; i < 5; i += 1) await expect(client.introspect(tenant, seen)).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    expect(h.org.control.counters().introspect).toBe(8);
  });

  it('IN-08: concurrent calls for one unseen token join one Okta call and take one token (single-flight)', async () => {
    const client = h.client({ now, introspectionThrottle: { ratePerSec: 1, burst: 1 } });
    const tenant = await client.getTenant('acme');
    const token = randomToken();
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => client.introspect(tenant, token)));
    for (const result of results) expect(result).toMatchObject({ status: 'rejected', reason: { code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' } });
    expect(h.org.control.counters().introspect).toBe(1);
    await expect(client.introspect(tenant, randomToken())).rejects.toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED' });
  });

  it('IN-08: the budget is per tenant: fishing at one tenant does not starve another', async () => {
    const client = h.client({ now, introspectionThrottle: { ratePerSec: 1, burst: 2 } });
    const acme = await client.getTenant('acme');
    const other = await client.getTenant('other');
    const codes = await fish((token) => client.introspect(acme, token), Array.from({ length: 5 }, randomToken));
    expect(count(codes, 'ERR_OIDC_RATE_LIMITED')).toBe(3);
    await expect(client.introspect(other, randomToken(other.clientId))).rejects.toMatchObject({ code: 'ERR_OIDC_ACCESS_TOKEN_INACTIVE' });
    expect(h.org.control.counters().introspect).toBe(3);
  });

  it('IN-08: introspectionThrottle: false turns it off (every unseen token reaches Okta)', async () => {
    const client = h.client({ now, introspectionThrottle: false });
    const tenant = await client.getTenant('acme');
    const codes = await fish((token) => client.introspect(tenant, token), Array.from({ length: 120 }, randomToken));
    expect(count(codes, 'ERR_OIDC_ACCESS_TOKEN_INACTIVE')).toBe(120);
    expect(h.org.control.counters().introspect).toBe(120);
  });

  it('IN-08: invalid throttle options fail at start-up with ERR_OIDC_INVALID_OPTIONS', () => {
    for (const introspectionThrottle of [{ ratePerSec: 0 }, { ratePerSec: -1 }, { burst: 0 }, { burst: 1.5 }, { ratePerSec: Number.POSITIVE_INFINITY }, { rate: 5 }]) {
      expect(() => h.client({ introspectionThrottle: introspectionThrottle as never })).toThrow(expect.objectContaining({ code: 'ERR_OIDC_INVALID_OPTIONS' }));
    }
  });

  it('IN-08: through requireAccessToken the excess is 503 with Retry-After and no further /introspect call', async () => {
    const auth = h.auth({ client: { now, httpTimeoutMs: 2_000, allowLoopbackIssuers: true, introspectionThrottle: { ratePerSec: 1, burst: 2 } } });
    const browser = new Browser(auth);
    const call = (token: string) =>
      auth.requireAccessToken(browser.request('GET', 'http://127.0.0.1:4000/api/orders', { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } }), { tenantId: 'acme' });
    for (let i = 0; i < 2; i += 1) {
      const result = await call(randomToken());
      expect('response' in result && result.response.status).toBe(401);
    }
    const result = await call(randomToken());
    if (!('response' in result)) throw new Error('a fishing token was accepted');
    expect(result.response.status).toBe(503);
    expect(result.response.headers['Retry-After']).toBe('1');
    expect(result.response.headers['Cache-Control']).toMatch(/no-store/);
    expect(JSON.parse(result.response.body ?? '{}')).toMatchObject({ error: 'ERR_OIDC_RATE_LIMITED' });
    expect(result.response.setCookies.filter((c) => !/Max-Age=0/i.test(c))).toEqual([]);
    expect(h.org.control.counters().introspect).toBe(2);
  });
});
