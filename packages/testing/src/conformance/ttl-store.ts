/**
 * One suite every {@link TtlStore} runs unchanged (the store conformance suites): the memory store,
 * Redis with each supported client, Postgres. A TtlStore is the replay cache of the simplified flow
 * and every other once-only check, so the suite is about one-time semantics under real races,
 * expiry that needs no sweeper, and never answering "allowed" when the backend is down.
 *
 * @example
 * ```ts
 * import { describeTtlStoreConformance } from '@oin-oidc/testing/conformance';
 * import { startRedisServer } from '@oin-oidc/testing/servers';
 *
 * const server = await startRedisServer();
 * describeTtlStoreConformance('redis (ioredis)', async () => {
 *   const clients = [new Redis(server.url), new Redis(server.url)];
 *   return {
 *     store: new RedisTtlStore(clients[0]),
 *     peers: [new RedisTtlStore(clients[1])],
 *     fault: () => server.kill(),
 *     cleanup: async () => { clients.forEach((c) => c.disconnect()); await server.restart(); },
 *   };
 * }, { fault: true });
 * ```
 */
import type { TtlStore } from '@oin-oidc/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  HOSTILE_KEYS,
  instancesOf,
  type StoreFactory,
  type StoreFixture,
  POLLING_CASE_TIMEOUT_MS,
  UNICODE_STRINGS,
  eventually,
  settle,
  uniq,
} from './store-fixture';

/** What the TtlStore factory returns. */
export type TtlStoreUnderTest = StoreFixture<TtlStore>;

/** Options of {@link describeTtlStoreConformance}. */
export interface TtlStoreConformanceOptions {
  /**
   * The factory returns `fault`: run the store-failure cases. Declared up front because vitest
   * registers cases before any factory runs; a mismatch with what the factory returns fails.
   */
  fault?: boolean;
}

const RACERS = 100;

/** Runs the TtlStore conformance cases against stores made by `factory`. */
export function describeTtlStoreConformance(
  name: string,
  factory: StoreFactory<TtlStore>,
  options: TtlStoreConformanceOptions = {},
): void {
  describe(`TtlStore conformance (${name})`, () => {
    let current: TtlStoreUnderTest | undefined;
    async function fresh(): Promise<TtlStoreUnderTest> {
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

    it(`gets, sets, replaces and deletes (${name})`, async () => {
      const { store } = await fresh();
      const key = `basic:${uniq()}`;
      expect(await store.get(key)).toBeUndefined();
      await store.set(key, 'one', 60);
      expect(await store.get(key)).toBe('one');
      await store.set(key, 'two', 60);
      expect(await store.get(key)).toBe('two');
      await store.delete(key);
      expect(await store.get(key)).toBeUndefined();
      await store.delete(key); // absent: a no-op
      await store.delete(`never-set:${uniq()}`);
      expect(await store.get(key)).toBeUndefined();
    });

    it(`setIfAbsent stores only when no live entry exists (${name})`, async () => {
      const { store } = await fresh();
      const key = `nx:${uniq()}`;
      expect(await store.setIfAbsent(key, 'first', 60)).toBe(true);
      expect(await store.get(key)).toBe('first');
      expect(await store.setIfAbsent(key, 'second', 60)).toBe(false);
      expect(await store.get(key)).toBe('first');
      await store.set(key, 'replaced', 60);
      expect(await store.setIfAbsent(key, 'third', 60)).toBe(false);
      expect(await store.get(key)).toBe('replaced');
      await store.delete(key);
      expect(await store.setIfAbsent(key, 'after-delete', 60)).toBe(true);
      expect(await store.get(key)).toBe('after-delete');
    });

    it(`take reads and removes: a value is taken once (${name})`, async () => {
      const { store } = await fresh();
      const key = `take:${uniq()}`;
      expect(await store.take(key)).toBeUndefined();
      await store.set(key, 'once', 60);
      expect(await store.take(key)).toBe('once');
      expect(await store.take(key)).toBeUndefined();
      expect(await store.get(key)).toBeUndefined();
      expect(await store.setIfAbsent(key, 'again', 60)).toBe(true);
      expect(await store.take(key)).toBe('again');
    });

    it(`every instance sees the same entries (${name})`, async () => {
      const fixture = await fresh();
      const instances = instancesOf(fixture);
      const key = `shared:${uniq()}`;
      await fixture.store.set(key, 'from-store', 60);
      for (const instance of instances) expect(await instance.get(key)).toBe('from-store');
      const last = instances[instances.length - 1]!;
      await last.delete(key);
      for (const instance of instances) expect(await instance.get(key)).toBeUndefined();
    });

    it(`${RACERS} racing setIfAbsent of one key: exactly one wins, and its value is stored (${name})`, async () => {
      const fixture = await fresh();
      const instances = instancesOf(fixture);
      const key = `race-nx:${uniq()}`;
      const results = await Promise.all(
        Array.from({ length: RACERS }, (_, i) => instances[i % instances.length]!.setIfAbsent(key, `racer-${i}`, 60)),
      );
      const winners = results.flatMap((won, i) => (won ? [i] : []));
      expect(winners).toHaveLength(1);
      for (const instance of instances) expect(await instance.get(key)).toBe(`racer-${winners[0]}`);
    });

    it(`${RACERS} racing take of one value: exactly one gets it (${name})`, async () => {
      const fixture = await fresh();
      const instances = instancesOf(fixture);
      const key = `race-take:${uniq()}`;
      await fixture.store.set(key, 'the-value', 60);
      const results = await Promise.all(Array.from({ length: RACERS }, (_, i) => instances[i % instances.length]!.take(key)));
      expect(results.filter((r) => r !== undefined)).toEqual(['the-value']);
      expect(await fixture.store.get(key)).toBeUndefined();
    });

    it(`entries expire at their TTL with no sweeper, and an expired key is free again (${name})`, { timeout: POLLING_CASE_TIMEOUT_MS }, async () => {
      const fixture = await fresh();
      const { store } = fixture;
      const instances = instancesOf(fixture);
      const tag = uniq();
      const short = `ttl-short:${tag}`;
      const nx = `ttl-nx:${tag}`;
      const long = `ttl-long:${tag}`;
      const started = Date.now();
      await store.set(short, 'short', 1);
      expect(await store.setIfAbsent(nx, 'nx', 1)).toBe(true);
      await store.set(long, 'long', 3600);
      // Presence right after the write is asserted only while the TTL cannot have run out.
      const early = await store.get(short);
      if (Date.now() - started < 900) expect(early).toBe('short');

      const gone = await eventually(async () => {
        for (const instance of instances) {
          if ((await instance.get(short)) !== undefined || (await instance.get(nx)) !== undefined) return false;
        }
        return true;
      });
      expect(gone, 'entries with a 1 s TTL were still readable after the poll deadline').toBe(true);
      expect(await store.take(short)).toBeUndefined();
      expect(await store.setIfAbsent(nx, 'nx-again', 60)).toBe(true);
      expect(await store.get(nx)).toBe('nx-again');
      expect(await store.get(long)).toBe('long');
    });

    it(`set replaces the TTL too: a long TTL replaced by a short one expires (${name})`, { timeout: POLLING_CASE_TIMEOUT_MS }, async () => {
      const { store } = await fresh();
      const key = `ttl-replace:${uniq()}`;
      await store.set(key, 'long', 3600);
      await store.set(key, 'short', 1);
      expect(await eventually(async () => (await store.get(key)) === undefined)).toBe(true);
    });

    it(`holds large values (1 MiB) intact (${name})`, async () => {
      const { store } = await fresh();
      const tag = uniq();
      // Not one repeated character: a store that truncates or re-encodes shows up in the middle.
      const mib = Array.from({ length: 1024 }, (_, i) => `${i.toString(36).padStart(4, '0')}${'é✓'.repeat(2)}`.padEnd(1024, 'x')).join('');
      expect(mib.length).toBe(1024 * 1024);
      await store.set(`large:${tag}`, mib, 60);
      expect(await store.get(`large:${tag}`)).toBe(mib);
      expect(await store.setIfAbsent(`large-nx:${tag}`, mib, 60)).toBe(true);
      expect(await store.take(`large-nx:${tag}`)).toBe(mib);
    });

    it(`keeps unicode keys and values exactly (${name})`, async () => {
      const { store } = await fresh();
      const tag = uniq();
      for (const [i, text] of UNICODE_STRINGS.entries()) await store.set(`${text}:${tag}`, `${text}-value-${i}`, 60);
      for (const [i, text] of UNICODE_STRINGS.entries()) expect(await store.get(`${text}:${tag}`)).toBe(`${text}-value-${i}`);
      // Unicode-equivalent keys are different keys: no normalisation ("é" precomposed vs e + U+0301).
      await store.set(`nfc:${tag}:\u00e9`, 'precomposed', 60);
      expect(await store.get(`nfc:${tag}:e\u0301`)).toBeUndefined();
      await store.set(`nfc:${tag}:e\u0301`, 'combining', 60);
      expect(await store.get(`nfc:${tag}:\u00e9`)).toBe('precomposed');
      expect(await store.get(`nfc:${tag}:e\u0301`)).toBe('combining');
      // Keys differing only in case are different keys.
      await store.set(`Case:${tag}`, 'upper', 60);
      expect(await store.get(`case:${tag}`)).toBeUndefined();
    });

    it(`keeps hostile keys apart: glob and hash-tag characters, separators, controls, 1000-char keys (${name})`, async () => {
      const fixture = await fresh();
      const { store } = fixture;
      const instances = instancesOf(fixture);
      const tag = uniq();
      // One common prefix keeps the keys' relations ("a" is a prefix of "a:b", "prefix:a" ends in "a").
      const keyOf = (key: string) => `${tag}:${key}`;
      for (const [i, key] of HOSTILE_KEYS.entries()) await store.set(keyOf(key), `value-${i}`, 60);
      for (const [i, key] of HOSTILE_KEYS.entries()) {
        for (const instance of instances) expect(await instance.get(keyOf(key)), JSON.stringify(key)).toBe(`value-${i}`);
      }
      // Deleting or taking a key with pattern characters touches that key only (no KEYS/SCAN globbing).
      const star = HOSTILE_KEYS.indexOf('*');
      const question = HOSTILE_KEYS.indexOf('?');
      const range = HOSTILE_KEYS.indexOf('[a-z]');
      await store.delete(keyOf('*'));
      expect(await store.take(keyOf('?'))).toBe(`value-${question}`);
      await store.delete(keyOf('[a-z]'));
      for (const [i, key] of HOSTILE_KEYS.entries()) {
        const expected = i === star || i === question || i === range ? undefined : `value-${i}`;
        expect(await store.get(keyOf(key)), JSON.stringify(key)).toBe(expected);
      }
      // One-time semantics hold for hostile keys as well.
      expect(await store.setIfAbsent(keyOf('{'), 'again', 60)).toBe(false);
      expect(await store.setIfAbsent(keyOf('*'), 'again', 60)).toBe(true);
    });

    if (options.fault) {
      it(`never answers "allowed" when the backend fails: every method rejects (${name})`, { timeout: POLLING_CASE_TIMEOUT_MS }, async () => {
        const fixture = await fresh();
        const { store } = fixture;
        const key = `fault:${uniq()}`;
        await store.set(`${key}:present`, 'present', 60);
        await fixture.fault!();
        const outcomes = {
          get: await settle(store.get(`${key}:present`)),
          set: await settle(store.set(key, 'v', 60)),
          delete: await settle(store.delete(`${key}:present`)),
          setIfAbsent: await settle(store.setIfAbsent(`${key}:nx`, 'v', 60)),
          take: await settle(store.take(`${key}:present`)),
        };
        for (const [method, outcome] of Object.entries(outcomes)) {
          expect(outcome.ok, `${method} resolved ${JSON.stringify(outcome.ok ? outcome.value : undefined)} on a failed backend`).toBe(false);
        }
      });
    }
  });
}
