/**
 * One suite every {@link RateLimitStore} runs unchanged (the store conformance suites): Okta's
 * back-off per org and endpoint (a 429 seen by one process stops all), and token buckets that stay
 * exact under races across connections, so N processes never spend N times an org's budget.
 *
 * @example
 * ```ts
 * import { describeRateLimitStoreConformance } from '@oin-oidc/testing/conformance';
 * describeRateLimitStoreConformance('redis', async () => ({
 *   store: new RedisRateLimitStore(a), peers: [new RedisRateLimitStore(b)],
 *   fault: () => server.kill(), cleanup: () => server.restart(),
 * }), { fault: true });
 * ```
 */
import type { RateLimitStore } from '@oin-oidc/core';
import { afterEach, describe, expect, it } from 'vitest';
import { POLLING_CASE_TIMEOUT_MS, type StoreFactory, type StoreFixture, eventually, instancesOf, settle, uniq } from './store-fixture';

/** What the RateLimitStore factory returns. */
export type RateLimitStoreUnderTest = StoreFixture<RateLimitStore>;

/** Options of {@link describeRateLimitStoreConformance}. */
export interface RateLimitStoreConformanceOptions {
  /** The factory returns `fault`: run the store-failure cases (see `describeTtlStoreConformance`). */
  fault?: boolean;
}

const TAKERS = 100;
/** A rate so slow that no token comes back while a case runs: 1 token per 1,000 s. */
const TINY_RATE = 0.001;

/** Runs the RateLimitStore conformance cases against stores made by `factory`. */
export function describeRateLimitStoreConformance(
  name: string,
  factory: StoreFactory<RateLimitStore>,
  options: RateLimitStoreConformanceOptions = {},
): void {
  describe(`RateLimitStore conformance (${name})`, () => {
    let current: RateLimitStoreUnderTest | undefined;
    async function fresh(): Promise<RateLimitStoreUnderTest> {
      current = await factory();
      if (current.fault && !options.fault) {
        throw new Error(`${name}: the factory returns fault; pass { fault: true } so the store-failure cases run`);
      }
      if (!current.fault && options.fault) throw new Error(`${name}: { fault: true } was passed but the factory returns no fault`);
      return current;
    }
    afterEach(async () => {
      await current?.cleanup?.();
      current = undefined;
    });

    const issuerOf = () => `https://org-${uniq()}.okta.com`;

    it(`no block is in force for an org nobody blocked (${name})`, async () => {
      const { store } = await fresh();
      expect(await store.blockedUntil(issuerOf(), 'introspection')).toBeUndefined();
    });

    it(`a block is seen by every instance; a later block is kept, an earlier one ignored (${name})`, async () => {
      const fixture = await fresh();
      const instances = instancesOf(fixture);
      const issuer = issuerOf();
      const base = Date.now() + 60_000;
      await fixture.store.block(issuer, 'introspection', base);
      for (const instance of instances) expect(await instance.blockedUntil(issuer, 'introspection')).toBe(base);
      const last = instances.at(-1)!;
      await last.block(issuer, 'introspection', base - 30_000);
      for (const instance of instances) expect(await instance.blockedUntil(issuer, 'introspection')).toBe(base);
      await last.block(issuer, 'introspection', base + 30_000);
      for (const instance of instances) expect(await instance.blockedUntil(issuer, 'introspection')).toBe(base + 30_000);
    });

    it(`a block is per issuer and per endpoint (${name})`, async () => {
      const { store } = await fresh();
      const issuer = issuerOf();
      const until = Date.now() + 60_000;
      await store.block(issuer, 'introspection', until);
      expect(await store.blockedUntil(issuer, 'introspection')).toBe(until);
      expect(await store.blockedUntil(issuer, 'token')).toBeUndefined();
      expect(await store.blockedUntil(`${issuer}/`, 'introspection')).toBeUndefined();
      expect(await store.blockedUntil(issuer.replace('https://org-', 'https://ORG-'), 'introspection')).toBeUndefined();
      expect(await store.blockedUntil(issuerOf(), 'introspection')).toBeUndefined();
      await store.block(issuer, 'token', until + 5_000);
      expect(await store.blockedUntil(issuer, 'token')).toBe(until + 5_000);
      expect(await store.blockedUntil(issuer, 'introspection')).toBe(until);
    });

    it(`a block in the past is no block, and a block ends at its time (${name})`, { timeout: POLLING_CASE_TIMEOUT_MS }, async () => {
      const fixture = await fresh();
      const { store } = fixture;
      const past = issuerOf();
      await store.block(past, 'userinfo', Date.now() - 1_000);
      expect(await store.blockedUntil(past, 'userinfo')).toBeUndefined();
      const ending = issuerOf();
      await store.block(ending, 'userinfo', Date.now() + 1_000);
      const ended = await eventually(async () => {
        for (const instance of instancesOf(fixture)) if ((await instance.blockedUntil(ending, 'userinfo')) !== undefined) return false;
        return true;
      });
      expect(ended, 'a block was still in force after its time (plus the poll deadline)').toBe(true);
    });

    it(`a new bucket starts with burst tokens, then answers the whole seconds until the next (${name})`, async () => {
      const { store } = await fresh();
      const key = `bucket-${uniq()}`;
      const results: Array<number | undefined> = [];
      for (let i = 0; i < 5; i++) results.push(await store.take(key, TINY_RATE, 5));
      expect(results).toEqual([undefined, undefined, undefined, undefined, undefined]);
      const refused = await store.take(key, TINY_RATE, 5);
      expect(Number.isInteger(refused) && refused! >= 1, `retry-after ${refused}`).toBe(true);
      // At 0.01 tokens/s a missing token comes back within 100 s: the answer is at most 100.
      const slow = `slow-${uniq()}`;
      expect(await store.take(slow, 0.01, 1)).toBeUndefined();
      const wait = await store.take(slow, 0.01, 1);
      expect(Number.isInteger(wait) && wait! >= 1 && wait! <= 100, `retry-after ${wait}`).toBe(true);
    });

    it(`${TAKERS} concurrent takes across instances from a bucket of 10 take exactly 10 (${name})`, async () => {
      const fixture = await fresh();
      const instances = instancesOf(fixture);
      const key = `race-${uniq()}`;
      const results = await Promise.all(
        Array.from({ length: TAKERS }, (_, i) => instances[i % instances.length]!.take(key, TINY_RATE, 10)),
      );
      expect(results.filter((r) => r === undefined)).toHaveLength(10);
      const refusals = results.filter((r) => r !== undefined);
      expect(refusals).toHaveLength(TAKERS - 10);
      for (const r of refusals) expect(Number.isInteger(r) && r! >= 1, `retry-after ${r}`).toBe(true);
    });

    it(`give returns a token, never above burst (${name})`, async () => {
      const fixture = await fresh();
      const instances = instancesOf(fixture);
      const last = instances.at(-1)!;
      const key = `give-${uniq()}`;
      for (let i = 0; i < 3; i++) expect(await fixture.store.take(key, TINY_RATE, 3)).toBeUndefined();
      expect(await fixture.store.take(key, TINY_RATE, 3)).toBeGreaterThanOrEqual(1);
      await last.give(key, 3);
      expect(await fixture.store.take(key, TINY_RATE, 3)).toBeUndefined();
      expect(await fixture.store.take(key, TINY_RATE, 3)).toBeGreaterThanOrEqual(1);

      const capped = `capped-${uniq()}`;
      expect(await fixture.store.take(capped, TINY_RATE, 2)).toBeUndefined();
      for (let i = 0; i < 5; i++) await instances[i % instances.length]!.give(capped, 2);
      const after: Array<number | undefined> = [];
      for (let i = 0; i < 4; i++) after.push(await fixture.store.take(capped, TINY_RATE, 2));
      expect(after.filter((r) => r === undefined)).toHaveLength(2);
    });

    it(`buckets are independent per key, hostile keys included (${name})`, async () => {
      const { store } = await fresh();
      const tag = uniq();
      const keys = [`${tag}`, `${tag}:`, `${tag}:a`, `${tag}*`, `{${tag}}`, `${tag}\n`, `${tag} é🔑`];
      for (const key of keys) expect(await store.take(key, TINY_RATE, 1), JSON.stringify(key)).toBeUndefined();
      for (const key of keys) expect(await store.take(key, TINY_RATE, 1), JSON.stringify(key)).toBeGreaterThanOrEqual(1);
    });

    if (options.fault) {
      it(`never answers "allowed" when the backend fails: every method rejects (${name})`, { timeout: POLLING_CASE_TIMEOUT_MS }, async () => {
        const fixture = await fresh();
        const { store } = fixture;
        const issuer = issuerOf();
        const key = `fault-${uniq()}`;
        await store.block(issuer, 'introspection', Date.now() + 60_000);
        expect(await store.take(key, TINY_RATE, 1)).toBeUndefined();
        await fixture.fault!();
        const outcomes = {
          // Resolving undefined would mean "take the call" and "no block": both fail open.
          take: await settle(store.take(key, TINY_RATE, 1)),
          blockedUntil: await settle(store.blockedUntil(issuer, 'introspection')),
          block: await settle(store.block(issuer, 'introspection', Date.now() + 120_000)),
          give: await settle(store.give(key, 1)),
        };
        for (const [method, outcome] of Object.entries(outcomes)) {
          expect(outcome.ok, `${method} resolved ${JSON.stringify(outcome.ok ? outcome.value : undefined)} on a failed backend`).toBe(false);
        }
      });
    }
  });
}
