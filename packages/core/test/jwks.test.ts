import { CompactSign, compactVerify } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OidcError } from '../src/errors';
import { createTransport } from '../src/http/transport';
import { createJwksRegistry, type JwksEvent, type JwksOptions, parseMaxAge } from '../src/jwks/jwks-registry';
import { newSigningKey, type SigningKey, startTestProvider, type TestProvider } from './jwks-test-provider';
import { createSignal } from './support/signals';

async function failure(promise: Promise<unknown>): Promise<OidcError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OidcError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

/** Proves the returned CryptoKey is the public half of `key`. */
async function verifiesWith(cryptoKey: CryptoKey, key: SigningKey): Promise<boolean> {
  const jws = await new CompactSign(new TextEncoder().encode('probe')).setProtectedHeader({ alg: 'RS256' }).sign(key.privateKey);
  try {
    await compactVerify(jws, cryptoKey, { algorithms: ['RS256'] });
    return true;
  } catch {
    return false;
  }
}

let provider: TestProvider;
let clock: number;
let events: JwksEvent[];
/** Background revalidation reports through `onJwks`: tests await that event, never a poll's deadline. */
const jwksEvents = createSignal();
const fetchesFailed = () => events.filter((e) => e.type === 'fetch-failed').length;

function registry(options: JwksOptions = {}, transportTimeoutMs = 2000) {
  const transport = createTransport({ timeoutMs: transportTimeoutMs, retries: 0 });
  const onJwks = (event: JwksEvent) => {
    events.push(event);
    jwksEvents.notify();
  };
  return createJwksRegistry(transport, { now: () => clock, onJwks, ...options });
}

beforeEach(async () => {
  provider = await startTestProvider();
  clock = 1_700_000_000_000;
  events = [];
});
afterEach(() => provider.close());

describe('JWKS registry: caching and rotation', () => {
  it('fetches once, then serves the cached CryptoKey', async () => {
    const jwks = registry();
    const key = provider.published[0]!;
    const first = await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: key.kid });
    const second = await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: key.kid });
    expect(first).toBe(second);
    expect(first.type).toBe('public');
    expect(await verifiesWith(first, key)).toBe(true);
    expect(provider.keysHits()).toBe(1);
    expect(events).toEqual([{ type: 'fetch', issuer: provider.issuer, jwksUri: provider.jwksUri, reason: 'cold', keys: 1, ignored: 0, maxAgeSec: 3600 }]);
  });

  it('peekKey answers synchronously only from a fresh cached set, else leaves it to getKey', async () => {
    const jwks = registry();
    const key = provider.published[0]!;
    expect(jwks.peekKey!(provider.issuer, provider.jwksUri, key.kid)).toBeUndefined(); // cold: no fetch from a peek
    expect(provider.keysHits()).toBe(0);
    const fetched = await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: key.kid });
    expect(jwks.peekKey!(provider.issuer, provider.jwksUri, key.kid)).toBe(fetched);
    expect(jwks.peekKey!(provider.issuer, provider.jwksUri, undefined)).toBe(fetched); // one key: unambiguous
    expect(jwks.peekKey!(provider.issuer, provider.jwksUri, 'unknown')).toBeUndefined();
    expect(jwks.peekKey!('https://other.okta.example', provider.jwksUri, key.kid)).toBeUndefined(); // JK-08: per issuer
    clock += 3600 * 1000; // max-age reached: getKey decides (revalidation), not the peek
    expect(jwks.peekKey!(provider.issuer, provider.jwksUri, key.kid)).toBeUndefined();
    expect(provider.keysHits()).toBe(1);
  });

  it('accepts a new kid right after rotation with exactly one refetch (JK-01)', async () => {
    const jwks = registry();
    const old = provider.published[0]!;
    await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: old.kid });
    const rotated = await newSigningKey();
    provider.published = [rotated, old];
    const key = await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: rotated.kid });
    expect(await verifiesWith(key, rotated)).toBe(true);
    expect(provider.keysHits()).toBe(2);
    expect(events.at(-1)).toMatchObject({ type: 'fetch', reason: 'unknown-kid', keys: 2 });
  });

  it('makes exactly one /keys fetch for 1,000 concurrent lookups of an unknown kid (JK-10)', async () => {
    const jwks = registry();
    const old = provider.published[0]!;
    await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: old.kid });
    const rotated = await newSigningKey();
    provider.published = [rotated, old];
    const keys = await Promise.all(
      Array.from({ length: 1000 }, () => jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: rotated.kid })),
    );
    expect(new Set(keys).size).toBe(1);
    expect(provider.keysHits()).toBe(2);
  });

  it('makes exactly one fetch for 1,000 concurrent lookups on a cold cache', async () => {
    const jwks = registry();
    const kid = provider.published[0]!.kid;
    await Promise.all(Array.from({ length: 1000 }, () => jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid })));
    expect(provider.keysHits()).toBe(1);
  });

  it('bounds refetches for a flood of random kids, then cools down (JK-02)', async () => {
    const jwks = registry({ refetchBudget: 3, refetchWindowSec: 60 });
    await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: provider.published[0]!.kid });
    const results = [];
    for (let i = 0; i < 50; i += 1) {
      results.push(await failure(jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: `random-${i}` })));
    }
    expect(results.every((e) => e.code === 'ERR_OIDC_JWKS_NO_MATCHING_KEY')).toBe(true);
    expect(provider.keysHits()).toBe(1 + 3);
    expect(events.filter((e) => e.type === 'refetch-refused')).toHaveLength(47);
    // After the window the budget is back: a real rotation is picked up again.
    clock += 61_000;
    const rotated = await newSigningKey();
    provider.published = [rotated];
    expect(await verifiesWith(await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: rotated.kid }), rotated)).toBe(true);
    expect(provider.keysHits()).toBe(5);
  });

  it('keeps separate refetch budgets for the front and back channels (SA-09)', async () => {
    const jwks = registry({ refetchBudget: 3, refetchWindowSec: 60 });
    await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: provider.published[0]!.kid });
    for (let i = 0; i < 30; i += 1) {
      const error = await failure(jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: `forged-${i}` }, { channel: 'front' }));
      expect(error.code).toBe('ERR_OIDC_JWKS_NO_MATCHING_KEY');
    }
    expect(provider.keysHits()).toBe(1 + 3);
    expect(events.filter((e) => e.type === 'refetch-refused').every((e) => e.type === 'refetch-refused' && e.channel === 'front')).toBe(true);
    // Okta rotates now: the back channel (the default) still has its whole budget, on first use.
    const rotated = await newSigningKey();
    provider.published = [rotated, ...provider.published];
    expect(await verifiesWith(await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: rotated.kid }), rotated)).toBe(true);
    expect(provider.keysHits()).toBe(5);
    // And the back channel's own budget is bounded the same way.
    for (let i = 0; i < 10; i += 1) {
      await failure(jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: `back-${i}` }, { channel: 'back' }));
    }
    expect(provider.keysHits()).toBe(5 + 2);
    expect(events.filter((e) => e.type === 'refetch-refused' && e.channel === 'back')).toHaveLength(8);
  });

  it('shares one cache per issuer and keeps issuers apart (JK-09)', async () => {
    const other = await startTestProvider();
    try {
      const jwks = registry();
      const kidA = provider.published[0]!.kid;
      const kidB = other.published[0]!.kid;
      await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: kidA });
      await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: kidA });
      await jwks.getKey(other.issuer, other.jwksUri, { alg: 'RS256', kid: kidB });
      expect(provider.keysHits()).toBe(1);
      // B's key is never found through A's issuer, even though it sits in the registry.
      expect((await failure(jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: kidB }))).code).toBe('ERR_OIDC_JWKS_NO_MATCHING_KEY');
    } finally {
      await other.close();
    }
  });

  it('refuses a non-RS256 header alg without fetching (JK-07)', async () => {
    const jwks = registry();
    for (const alg of ['HS256', 'none', 'RS512', 'PS256', undefined]) {
      const error = await failure(jwks.getKey(provider.issuer, provider.jwksUri, { alg, kid: provider.published[0]!.kid } as { alg?: string; kid?: string }));
      expect(error.code).toBe('ERR_OIDC_JWKS_NO_MATCHING_KEY');
    }
    expect(provider.keysHits()).toBe(0);
  });
});

describe('JWKS registry: tokens without kid (OIDC Core §10.1, IT-15)', () => {
  it('uses the only key when the set holds exactly one', async () => {
    const key = await registry().getKey(provider.issuer, provider.jwksUri, { alg: 'RS256' });
    expect(await verifiesWith(key, provider.published[0]!)).toBe(true);
  });

  it('refuses when the set holds several keys', async () => {
    provider.published.push(await newSigningKey());
    const error = await failure(registry().getKey(provider.issuer, provider.jwksUri, { alg: 'RS256' }));
    expect(error.code).toBe('ERR_OIDC_ID_TOKEN_INVALID');
    expect(error.details?.check).toBe('kid');
  });
});

describe('JWKS registry: failures (JK-04)', () => {
  it.each([
    [500, 'ERR_OIDC_UNAVAILABLE'],
    ['html', 'ERR_OIDC_HTTP_ERROR'],
    ['garbage', 'ERR_OIDC_HTTP_ERROR'],
    ['not-a-set', 'ERR_OIDC_HTTP_ERROR'],
    ['redirect', 'ERR_OIDC_HTTP_ERROR'],
  ] as const)('cold cache + /keys %s → ERR_OIDC_JWKS_UNAVAILABLE (503)', async (mode, upstream) => {
    provider.mode = mode;
    const error = await failure(registry().getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: provider.published[0]!.kid }));
    expect(error.code).toBe('ERR_OIDC_JWKS_UNAVAILABLE');
    expect(error.status).toBe(503);
    expect(error.details?.upstream).toBe(upstream);
    expect(events).toEqual([
      { type: 'fetch-failed', issuer: provider.issuer, jwksUri: provider.jwksUri, reason: 'cold', code: upstream, servingStale: false },
    ]);
  });

  it('cold cache + /keys hanging → ERR_OIDC_JWKS_UNAVAILABLE after the deadline', async () => {
    provider.mode = 'hang';
    const error = await failure(registry({}, 150).getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: provider.published[0]!.kid }));
    expect(error.code).toBe('ERR_OIDC_JWKS_UNAVAILABLE');
    expect(error.details?.upstream).toBe('ERR_OIDC_HTTP_TIMEOUT');
  });

  it('a set with no usable key is a failure, not an empty cache', async () => {
    provider.published = [];
    provider.extraJwks = [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }];
    const error = await failure(registry().getKey(provider.issuer, provider.jwksUri, { alg: 'RS256' }));
    expect(error.code).toBe('ERR_OIDC_JWKS_UNAVAILABLE');
  });

  it.each([500, 'hang', 'html'] as const)('an expired set keeps serving known keys while /keys is %s', async (mode) => {
    // The transport's default deadline: the first fetch must succeed however loaded the machine is;
    // the hanging revalidation then fails at that deadline, in the background.
    const jwks = registry();
    const key = provider.published[0]!;
    const cached = await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: key.kid });
    provider.mode = mode;
    clock += 3601_000;
    expect(await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: key.kid })).toBe(cached);
    // The background revalidation was attempted (single flight) and reported.
    await jwksEvents.until(() => fetchesFailed() > 0);
    expect(events.at(-1)).toMatchObject({ type: 'fetch-failed', reason: 'expired', servingStale: true });
    expect(await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: key.kid })).toBe(cached);
  });

  it('picks up the new set once /keys recovers', async () => {
    const jwks = registry();
    const old = provider.published[0]!;
    await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: old.kid });
    provider.mode = 500;
    clock += 3601_000;
    await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: old.kid });
    await jwksEvents.until(() => fetchesFailed() > 0);
    provider.mode = 'ok';
    const rotated = await newSigningKey();
    provider.published = [rotated];
    clock += 30_001; // past the failure backoff
    await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: old.kid });
    await jwksEvents.until(() => events.filter((e) => e.type === 'fetch').length === 2);
    expect(await verifiesWith(await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: rotated.kid }), rotated)).toBe(true);
    expect((await failure(jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: old.kid }))).code).toBe('ERR_OIDC_JWKS_NO_MATCHING_KEY');
  });

  it('pauses background revalidation for failureBackoffSec after a failure (no hammering a failing /keys)', async () => {
    const jwks = registry({ failureBackoffSec: 30 });
    const key = provider.published[0]!;
    await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: key.kid });
    provider.mode = 500;
    clock += 3601_000;
    await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: key.kid });
    await jwksEvents.until(() => fetchesFailed() > 0);
    const hits = provider.keysHits();
    for (let i = 0; i < 20; i += 1) await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: key.kid });
    expect(provider.keysHits()).toBe(hits);
    clock += 30_001;
    await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: key.kid });
    await jwksEvents.until(() => fetchesFailed() === 2);
    expect(provider.keysHits()).toBe(hits + 1);
  });

  it('stops serving stale keys after maxStaleSec', async () => {
    const jwks = registry({ maxStaleSec: 600 });
    const key = provider.published[0]!;
    await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: key.kid });
    provider.mode = 500;
    clock += (3600 + 601) * 1000;
    expect((await failure(jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: key.kid }))).code).toBe('ERR_OIDC_JWKS_UNAVAILABLE');
  });

  it('an unknown kid while /keys fails is ERR_OIDC_JWKS_UNAVAILABLE (the key may exist), known kids still verify', async () => {
    const jwks = registry();
    const key = provider.published[0]!;
    await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: key.kid });
    provider.mode = 500;
    expect((await failure(jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: 'rotated' }))).code).toBe('ERR_OIDC_JWKS_UNAVAILABLE');
    expect(events.at(-1)).toMatchObject({ type: 'fetch-failed', reason: 'unknown-kid', servingStale: true });
    expect(await verifiesWith(await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: key.kid }), key)).toBe(true);
  });

  it('a throwing onJwks hook does not break key lookup', async () => {
    const jwks = createJwksRegistry(createTransport(), {
      onJwks: () => {
        throw new Error('monitoring down');
      },
    });
    expect((await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256' })).type).toBe('public');
  });
});

describe('JWKS registry: which keys are imported', () => {
  it('skips malformed and non-RS256 keys without failing the set', async () => {
    const good = provider.published[0]!;
    const rs512 = { ...(await newSigningKey()).publicJwk, alg: 'RS512' };
    const enc = { ...(await newSigningKey()).publicJwk, use: 'enc' };
    const noVerifyOps = { ...(await newSigningKey()).publicJwk, key_ops: ['encrypt'] };
    const small = await crypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      true,
      ['sign', 'verify'],
    );
    const weak = { ...(await crypto.subtle.exportKey('jwk', small.publicKey)), kid: 'rsa-1024', alg: undefined, key_ops: undefined };
    provider.extraJwks = [
      weak,
      rs512,
      enc,
      noVerifyOps,
      { kty: 'EC', crv: 'P-256', kid: 'ec', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' },
      { kty: 'RSA', kid: 'broken', n: '!!!', e: 'AQAB' },
      { kty: 'RSA', kid: 'no-e', n: good.publicJwk.n },
      { ...good.publicJwk, kid: 42 },
    ];
    // Non-object members, private and oct keys refuse the whole set instead (jwks-anchors.test.ts).
    const jwks = registry();
    expect(await verifiesWith(await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: good.kid }), good)).toBe(true);
    expect(events[0]).toMatchObject({ type: 'fetch', keys: 1, ignored: 8 });
    for (const kid of ['rsa-1024', rs512.kid!, enc.kid!, noVerifyOps.kid!, 'ec', 'broken', 'no-e']) {
      expect((await failure(jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid }))).code).toBe('ERR_OIDC_JWKS_NO_MATCHING_KEY');
    }
  });

  it('uses neither of two keys with the same kid (oauth4webapi: multiple applicable keys)', async () => {
    const first = provider.published[0]!;
    const second = await newSigningKey();
    provider.extraJwks = [{ ...second.publicJwk, kid: first.kid }];
    const error = await failure(registry().getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: first.kid }));
    expect(error.code).toBe('ERR_OIDC_ID_TOKEN_INVALID');
    expect(error.details?.check).toBe('kid');
    expect(events[0]).toMatchObject({ keys: 2, ignored: 0 });
  });

  it('refuses a set that leaks a private JWK (conformance: no private keys in an OP JWKS)', async () => {
    const { exportJWK, generateKeyPair } = await import('jose');
    const pair = await generateKeyPair('RS256', { extractable: true });
    provider.published = [];
    provider.extraJwks = [{ ...(await exportJWK(pair.privateKey)), kid: 'leaked' }];
    const error = await failure(registry().getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: 'leaked' }));
    expect(error.code).toBe('ERR_OIDC_JWKS_UNAVAILABLE');
    expect(error.details?.upstream).toBe('ERR_OIDC_HTTP_ERROR');
  });

  it('never puts key material in events', async () => {
    provider.published.push(await newSigningKey());
    await registry().getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid: provider.published[0]!.kid });
    const serialised = JSON.stringify(events);
    for (const key of provider.published) expect(serialised).not.toContain(key.publicJwk.n!.slice(0, 32));
  });
});

describe('JWKS registry: Cache-Control and bounds', () => {
  it.each([
    ['max-age=120', 120],
    ['public, max-age=3832304, must-revalidate', 86_400], // Okta's header, clamped to 24 h
    ['max-age=5', 60], // raised to the minimum
    ['no-store', 60],
    ['no-cache', 60],
    ['max-age=abc', 3600],
    [undefined, 3600],
  ] as const)('Cache-Control %s → keys cached for %i s', async (cacheControl, seconds) => {
    provider.cacheControl = cacheControl;
    const jwks = registry();
    const kid = provider.published[0]!.kid;
    await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid });
    expect(events[0]).toMatchObject({ type: 'fetch', maxAgeSec: seconds });
    clock += seconds * 1000 - 1;
    await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid });
    expect(provider.keysHits()).toBe(1);
    clock += 2;
    await jwks.getKey(provider.issuer, provider.jwksUri, { alg: 'RS256', kid });
    await jwksEvents.until(() => events.length === 2);
    expect(provider.keysHits()).toBe(2);
    expect(events[1]).toMatchObject({ type: 'fetch', reason: 'expired' });
  });

  it('parses Cache-Control max-age defensively', () => {
    expect(parseMaxAge(null)).toBeUndefined();
    expect(parseMaxAge('max-age=60')).toBe(60);
    expect(parseMaxAge('MAX-AGE="90"')).toBe(90);
    expect(parseMaxAge('max-age=-1')).toBeUndefined();
    expect(parseMaxAge('max-age=99999999999999')).toBeUndefined();
    expect(parseMaxAge('private, no-store, max-age=600')).toBe(0);
  });

  it('is an LRU bounded by maxIssuers', async () => {
    const jwks = registry({ maxIssuers: 2 });
    const kid = provider.published[0]!.kid;
    // Three orgs (distinct issuers) whose keys happen to be served by the same test server.
    for (const org of ['https://a.okta.example', 'https://b.okta.example', 'https://a.okta.example', 'https://c.okta.example']) {
      await jwks.getKey(org, provider.jwksUri, { alg: 'RS256', kid });
    }
    expect(provider.keysHits()).toBe(3);
    expect(events.filter((e) => e.type === 'evicted')).toEqual([{ type: 'evicted', issuer: 'https://b.okta.example', jwksUri: provider.jwksUri }]);
    await jwks.getKey('https://a.okta.example', provider.jwksUri, { alg: 'RS256', kid });
    expect(provider.keysHits()).toBe(3);
    await jwks.getKey('https://b.okta.example', provider.jwksUri, { alg: 'RS256', kid });
    expect(provider.keysHits()).toBe(4);
  });

  it('validates its options once (ERR_OIDC_INVALID_OPTIONS)', () => {
    let caught: unknown;
    try {
      createJwksRegistry(createTransport(), { maxIssuers: 0 });
    } catch (error) {
      caught = error;
    }
    expect((caught as OidcError).code).toBe('ERR_OIDC_INVALID_OPTIONS');
  });
});
