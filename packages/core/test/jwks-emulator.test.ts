/**
 * JWKS rotation, stale-if-error, discovery and rate limits against the Okta org emulator over HTTP.
 */
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { discover } from '../src/discovery/discover';
import { OidcError } from '../src/errors';
import { createTransport } from '../src/http/transport';
import type { RateLimitEvent } from '../src/http/types';
import { createJwksRegistry, type JwksEvent } from '../src/jwks/jwks-registry';
import { parseTenant, type Tenant } from '../src/tenant/tenant';
import { validateIdToken, type ValidateIdTokenDeps } from '../src/tokens/validate-id-token';
import { createSignal } from './support/signals';

const CLIENT_ID = '0oaEmulatorJwks';
const NONCE = 'nonce-from-the-transaction';

async function failure(promise: Promise<unknown>): Promise<OidcError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OidcError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

let org: OktaOrg;
let tenant: Tenant;
let clock: number;
let events: JwksEvent[];
/** Background revalidation reports through `onJwks`: tests await that event, never a poll's deadline. */
const jwksEvents = createSignal();
let deps: ValidateIdTokenDeps;

function freshDeps(): ValidateIdTokenDeps {
  const transport = createTransport({ timeoutMs: 2000, retries: 0 });
  const onJwks = (event: JwksEvent) => {
    events.push(event);
    jwksEvents.notify();
  };
  const jwks = createJwksRegistry(transport, { now: () => clock, onJwks });
  // The emulator signs with the real clock; the registry's cache clock is driven separately.
  return { jwks, now: Date.now, clockToleranceSec: 30 };
}

const issue = () => org.control.issueIdToken(CLIENT_ID, { claims: { nonce: NONCE } });
const validate = (idToken: string) => validateIdToken(deps, tenant, idToken, { nonce: NONCE });

beforeAll(async () => {
  org = await startOktaOrg({
    clients: [{ clientId: CLIENT_ID, clientSecret: 'emulator-secret', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: ['http://127.0.0.1/cb'] }],
    users: [{ login: 'ada@example.com', password: 'correct horse' }],
  });
  tenant = parseTenant({ id: 'emu', issuer: org.issuer, clientId: CLIENT_ID, clientSecret: 'emulator-secret', redirectUris: ['http://127.0.0.1/cb'] });
});
afterAll(() => org.close());
beforeEach(() => {
  org.control.clearFaults();
  org.control.resetCounters();
  clock = 1_700_000_000_000;
  events = [];
  deps = freshDeps();
});

describe('emulator: key rotation', () => {
  it('validates a token signed after rotateSigningKey() on first use, with exactly one extra /keys fetch', async () => {
    expect((await validate(await issue())).nonce).toBe(NONCE);
    expect(org.control.counters().keys).toBe(1);
    await org.control.rotateSigningKey();
    expect((await validate(await issue())).aud).toBe(CLIENT_ID);
    expect(org.control.counters().keys).toBe(2);
    expect(events.map((e) => e.type === 'fetch' && e.reason)).toEqual(['cold', 'unknown-kid']);
  });

  it('1,000 concurrent validations right after a rotation cause exactly one /keys fetch', async () => {
    await validate(await issue());
    await org.control.rotateSigningKey();
    const token = await issue();
    const results = await Promise.all(Array.from({ length: 1000 }, () => validate(token)));
    expect(results).toHaveLength(1000);
    expect(org.control.counters().keys).toBe(2);
  });

  it('refuses a token whose key was removed once the set is refreshed', async () => {
    const oldToken = await issue();
    const { kid: oldKid } = (await org.control.signingKeys()).find((k) => k.active)!;
    await org.control.rotateSigningKey();
    await org.control.removeSigningKey(oldKid);
    expect((await failure(validate(oldToken))).code).toBe('ERR_OIDC_JWKS_NO_MATCHING_KEY');
  });
});

describe('emulator: /keys faults', () => {
  it.each([
    [{ type: 'status', status: 500 }],
    [{ type: 'status', status: 503 }],
    [{ type: 'html' }],
    [{ type: 'malformed-json' }],
    [{ type: 'hang' }],
  ] as const)('warm keys keep validating while /keys fails with %j, even after the cache expired', async (fault) => {
    // The first fetch must succeed however loaded the machine is: the transport's 2 s deadline (a
    // hanging /keys then fails at that deadline, in the background, while warm keys serve).
    await validate(await issue());
    org.control.fault('keys', fault);
    expect((await validate(await issue())).sub).toBeTypeOf('string');
    clock += 3601_000; // past the set's lifetime: stale-while-revalidate
    expect((await validate(await issue())).sub).toBeTypeOf('string');
    await jwksEvents.until(() => events.some((e) => e.type === 'fetch-failed' && e.servingStale));
  });

  it('a cold cache with /keys down is ERR_OIDC_JWKS_UNAVAILABLE (503)', async () => {
    org.control.fault('keys', { type: 'status', status: 500 });
    const error = await failure(validate(await issue()));
    expect(error.code).toBe('ERR_OIDC_JWKS_UNAVAILABLE');
    expect(error.status).toBe(503);
  });

  it('recovers once /keys answers again (failures are not cached)', async () => {
    org.control.fault('keys', { type: 'status', status: 500 }, { times: 1 });
    expect((await failure(validate(await issue()))).code).toBe('ERR_OIDC_JWKS_UNAVAILABLE');
    expect((await validate(await issue())).nonce).toBe(NONCE);
  });
});

describe('emulator: discovery and rate limits', () => {
  it('accepts the emulator discovery document (issuer exact, endpoints on its origin)', async () => {
    const metadata = await discover(createTransport(), org.issuer);
    expect(metadata.issuer).toBe(org.issuer);
    expect(metadata.jwks_uri).toBe(tenant.endpoints.jwks);
  });

  it('turns an Okta 429 into ERR_OIDC_RATE_LIMITED with retryAfter and reports X-Rate-Limit-*', async () => {
    const seen: RateLimitEvent[] = [];
    // The transport's clock stands still at the moment of the request; the emulator stamps its reset
    // (20 s ahead) with its own, later, real clock. So the assertions below hold however long the
    // exchange takes on a loaded machine.
    const sentAt = Date.now();
    const transport = createTransport({ now: () => sentAt, onRateLimit: (event) => seen.push(event) });
    org.control.fault('token', { type: 'rate-limit', resetInSec: 20 });
    const error = await failure(
      transport.request('token', { issuer: org.issuer, tenantId: tenant.id }, tenant.endpoints.token, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=authorization_code&code=x',
      }),
    );
    expect(error.code).toBe('ERR_OIDC_RATE_LIMITED');
    const reset = seen.at(-1)?.reset ?? Number.NaN;
    expect(reset).toBeGreaterThanOrEqual(Math.floor(sentAt / 1000) + 20);
    expect(error.retryAfter).toBe(Math.ceil(reset - sentAt / 1000));
    expect(org.control.counters().token).toBe(1);
    expect(seen.at(-1)).toMatchObject({ issuer: org.issuer, tenantId: 'emu', endpoint: 'token', status: 429, remaining: 0 });
  });
});
