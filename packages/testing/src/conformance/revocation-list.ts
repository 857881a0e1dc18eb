/**
 * One suite every {@link SharedRevocationList} runs unchanged (the store conformance suites;
 * Universal Logout and logouts across a fleet): a revocation added by one process reaches every
 * subscriber of every process, `load` returns exactly the live records (a process that missed
 * messages catches up from it), and the later revocation of a key wins.
 *
 * @example
 * ```ts
 * import { describeRevocationListConformance } from '@oin-oidc/testing/conformance';
 * describeRevocationListConformance('redis', async () => ({
 *   store: new RedisRevocationList(a), peers: [new RedisRevocationList(b)],
 *   fault: () => server.kill(), cleanup: () => server.restart(),
 * }), { fault: true });
 * ```
 */
import type { RevocationListener, RevocationRecord, SharedRevocationList } from '@oin-oidc/core';
import { afterEach, describe, expect, it } from 'vitest';
import { POLLING_CASE_TIMEOUT_MS, type StoreFactory, type StoreFixture, eventually, instancesOf, settle, uniq } from './store-fixture';

/** What the SharedRevocationList factory returns. */
export type RevocationListUnderTest = StoreFixture<SharedRevocationList>;

/** Options of {@link describeRevocationListConformance}. */
export interface RevocationListConformanceOptions {
  /** The factory returns `fault`: run the store-failure cases (see `describeTtlStoreConformance`). */
  fault?: boolean;
}

/** A subscriber that remembers what it was told. */
interface Recorder extends RevocationListener {
  records: RevocationRecord[];
  resyncs: number;
  has(key: string): boolean;
}

function recorder(): Recorder {
  const records: RevocationRecord[] = [];
  return {
    records,
    resyncs: 0,
    onRecord(record) {
      records.push(record);
    },
    onResync() {
      this.resyncs++;
    },
    has(key) {
      return records.some((r) => r.key === key);
    },
  };
}

/** The three fields of a record (a store may not add others, but the suite compares only these). */
function fields(record: RevocationRecord | undefined): Pick<RevocationRecord, 'key' | 'revokedAt' | 'until'> | undefined {
  return record && { key: record.key, revokedAt: record.revokedAt, until: record.until };
}

/**
 * Subscriptions may become active a little after `subscribe` returns (a Redis SUBSCRIBE is a round
 * trip). Probe records are added until every recorder has seen one, so the case then measures
 * delivery, not subscription start-up.
 */
async function warmUp(list: SharedRevocationList, recorders: Recorder[], tag: string): Promise<void> {
  const prefix = `conformance-probe:${tag}:`;
  const until = Date.now() + 10_000;
  for (let n = 0; ; n++) {
    await list.add({ key: `${prefix}${n}`, revokedAt: Date.now(), until: Date.now() + 60_000 });
    const ready = await eventually(() => recorders.every((r) => r.records.some((x) => x.key.startsWith(prefix))), 200);
    if (ready) return;
    if (Date.now() > until) throw new Error('subscribers received no record within 10 s of subscribing');
  }
}

/** Runs the SharedRevocationList conformance cases against lists made by `factory`. */
export function describeRevocationListConformance(
  name: string,
  factory: StoreFactory<SharedRevocationList>,
  options: RevocationListConformanceOptions = {},
): void {
  describe(`SharedRevocationList conformance (${name})`, () => {
    let current: RevocationListUnderTest | undefined;
    const unsubscribes: Array<() => void> = [];
    async function fresh(): Promise<RevocationListUnderTest> {
      current = await factory();
      if (current.fault && !options.fault) {
        throw new Error(`${name}: the factory returns fault; pass { fault: true } so the store-failure cases run`);
      }
      if (!current.fault && options.fault) throw new Error(`${name}: { fault: true } was passed but the factory returns no fault`);
      return current;
    }
    function subscribe(list: SharedRevocationList, listener: Recorder): () => void {
      const stop = list.subscribe(listener);
      unsubscribes.push(stop);
      return stop;
    }
    afterEach(async () => {
      for (const stop of unsubscribes.splice(0)) stop();
      await current?.cleanup?.();
      current = undefined;
    });

    it(`an added record reaches every subscriber of every instance (${name})`, { timeout: POLLING_CASE_TIMEOUT_MS }, async () => {
      const fixture = await fresh();
      const instances = instancesOf(fixture);
      const tag = uniq();
      // Two subscribers on the first instance, one on each peer.
      const recorders = [recorder(), recorder(), ...instances.slice(1).map(() => recorder())];
      subscribe(fixture.store, recorders[0]!);
      subscribe(fixture.store, recorders[1]!);
      for (const [i, peer] of instances.slice(1).entries()) subscribe(peer, recorders[i + 2]!);
      await warmUp(fixture.store, recorders, tag);

      const now = Date.now();
      const session: RevocationRecord = { key: `session:${tag}`, revokedAt: now, until: now + 60_000 };
      // core's subject key holds a newline between issuer and sub.
      const subject: RevocationRecord = { key: `subject:https://org-${tag}.okta.com\n00u-${tag}`, revokedAt: now, until: now + 120_000 };
      await instances.at(-1)!.add(session);
      await fixture.store.add(subject);
      const delivered = await eventually(() => recorders.every((r) => r.has(session.key) && r.has(subject.key)));
      expect(delivered, 'a subscriber did not receive an added record within the poll deadline').toBe(true);
      for (const r of recorders) {
        expect(fields(r.records.find((x) => x.key === session.key))).toEqual(session);
        expect(fields(r.records.find((x) => x.key === subject.key))).toEqual(subject);
      }
    });

    it(`load returns the live records on every instance, never expired ones (${name})`, { timeout: POLLING_CASE_TIMEOUT_MS }, async () => {
      const fixture = await fresh();
      const instances = instancesOf(fixture);
      const tag = uniq();
      const now = Date.now();
      const live: RevocationRecord = { key: `session:live-${tag}`, revokedAt: now, until: now + 60_000 };
      const past: RevocationRecord = { key: `session:past-${tag}`, revokedAt: now - 120_000, until: now - 1_000 };
      const ending: RevocationRecord = { key: `session:ending-${tag}`, revokedAt: now, until: now + 1_000 };
      await fixture.store.add(live);
      await fixture.store.add(past);
      await fixture.store.add(ending);
      for (const instance of instances) {
        const loaded = await instance.load();
        expect(fields(loaded.find((r) => r.key === live.key))).toEqual(live);
        expect(loaded.find((r) => r.key === past.key)).toBeUndefined();
        for (const r of loaded) expect(r.until, r.key).toBeGreaterThan(now - 1);
      }
      const ended = await eventually(async () => {
        for (const instance of instances) if ((await instance.load()).some((r) => r.key === ending.key)) return false;
        return true;
      });
      expect(ended, 'load still returned a record after its until (plus the poll deadline)').toBe(true);
      expect((await fixture.store.load()).some((r) => r.key === live.key)).toBe(true);
    });

    it(`the later revocation of a key wins; an earlier one never replaces it (${name})`, async () => {
      const fixture = await fresh();
      const instances = instancesOf(fixture);
      const key = `subject:https://org.okta.com\n00u-${uniq()}`;
      const now = Date.now();
      await fixture.store.add({ key, revokedAt: now, until: now + 60_000 });
      await instances.at(-1)!.add({ key, revokedAt: now + 1_000, until: now + 60_000 });
      await fixture.store.add({ key, revokedAt: now + 500, until: now + 60_000 });
      for (const instance of instances) {
        const mine = (await instance.load()).filter((r) => r.key === key);
        expect(mine).toHaveLength(1);
        expect(mine[0]!.revokedAt).toBe(now + 1_000);
        expect(mine[0]!.until).toBeGreaterThanOrEqual(now + 60_000);
      }
    });

    it(`load lists newest first and honours its limit (${name})`, async () => {
      const fixture = await fresh();
      const tag = uniq();
      // revokedAt far ahead of any other record on the backend, so these five are the newest.
      const base = Date.now() + 10_000_000_000;
      for (let i = 0; i < 5; i++) {
        await fixture.store.add({ key: `session:limit-${tag}-${i}`, revokedAt: base + i * 1_000, until: Date.now() + 60_000 });
      }
      for (const instance of instancesOf(fixture)) {
        expect((await instance.load(3)).map((r) => r.key)).toEqual([4, 3, 2].map((i) => `session:limit-${tag}-${i}`));
        expect((await instance.load(1)).map((r) => r.key)).toEqual([`session:limit-${tag}-4`]);
        const all = await instance.load();
        expect(all.length).toBeGreaterThanOrEqual(5);
        for (let i = 1; i < all.length; i++) expect(all[i - 1]!.revokedAt).toBeGreaterThanOrEqual(all[i]!.revokedAt);
      }
    });

    it(`unsubscribe stops delivery to that subscriber only (${name})`, { timeout: POLLING_CASE_TIMEOUT_MS }, async () => {
      const fixture = await fresh();
      const tag = uniq();
      const leaving = recorder();
      const staying = recorder();
      const stop = subscribe(fixture.store, leaving);
      subscribe(fixture.store, staying);
      await warmUp(fixture.store, [leaving, staying], tag);
      stop();
      const seenBefore = leaving.records.length;
      const now = Date.now();
      const first = `session:after-unsubscribe-${tag}-1`;
      const second = `session:after-unsubscribe-${tag}-2`;
      await fixture.store.add({ key: first, revokedAt: now, until: now + 60_000 });
      await (fixture.peers?.[0] ?? fixture.store).add({ key: second, revokedAt: now, until: now + 60_000 });
      expect(await eventually(() => staying.has(first) && staying.has(second))).toBe(true);
      // Both subscribers listen on the same instance, so what reached one would have reached the other.
      expect(leaving.has(first)).toBe(false);
      expect(leaving.has(second)).toBe(false);
      expect(leaving.records).toHaveLength(seenBefore);
      stop(); // a second call is harmless
    });

    it(`keeps long, unicode and hostile keys exactly (${name})`, { timeout: POLLING_CASE_TIMEOUT_MS }, async () => {
      const fixture = await fresh();
      const tag = uniq();
      const listener = recorder();
      subscribe(fixture.store, listener);
      await warmUp(fixture.store, [listener], tag);
      const now = Date.now();
      const keys = [
        `session:${tag}:${'x'.repeat(1024 - 9 - tag.length)}`,
        `subject:https://org-${tag}.okta.com\n00u-é🔑`,
        `session:${tag}*`,
        `session:{${tag}}`,
        `session:${tag} \r\t"'\\`,
      ];
      expect(keys[0]!.length).toBe(1024);
      for (const key of keys) await fixture.store.add({ key, revokedAt: now, until: now + 60_000 });
      const loaded = await fixture.store.load();
      for (const key of keys) expect(loaded.filter((r) => r.key === key), JSON.stringify(key)).toHaveLength(1);
      expect(await eventually(() => keys.every((key) => listener.has(key)))).toBe(true);
    });

    if (options.fault) {
      it(`rejects when the backend fails: add and load never pretend to succeed (${name})`, { timeout: POLLING_CASE_TIMEOUT_MS }, async () => {
        const fixture = await fresh();
        const now = Date.now();
        await fixture.fault!();
        const outcomes = {
          add: await settle(fixture.store.add({ key: `session:fault-${uniq()}`, revokedAt: now, until: now + 60_000 })),
          load: await settle(fixture.store.load()),
        };
        for (const [method, outcome] of Object.entries(outcomes)) {
          expect(outcome.ok, `${method} resolved on a failed backend`).toBe(false);
        }
      });
    }
  });
}
