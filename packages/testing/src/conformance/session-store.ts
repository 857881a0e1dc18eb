/**
 * One suite every server-side {@link SessionStore} runs unchanged (the store conformance suites,
 * docs/deployment.md). Beyond the round trip it checks the two bugs connect-redis shipped: a logout
 * racing a write brings the session back (connect-redis #328), and a write keeps an entry past the
 * session's expiry (connect-redis #251); and `deleteBySubject` (Universal Logout, back-channel
 * logout).
 *
 * @example
 * ```ts
 * import { describeSessionStoreConformance } from '@oin-oidc/testing/conformance';
 * describeSessionStoreConformance('redis (node-redis)', async () => ({
 *   store: new RedisSessionStore(clientA),
 *   peers: [new RedisSessionStore(clientB)],
 *   fault: () => server.kill(),
 *   cleanup: () => server.restart(),
 * }), { fault: true });
 * ```
 */
import type { Session, SessionStore } from '@oin-oidc/core';
import { afterEach, describe, expect, it } from 'vitest';
import { POLLING_CASE_TIMEOUT_MS, type StoreFactory, type StoreFixture, eventually, instancesOf, settle, uniq } from './store-fixture';

/** What the SessionStore factory returns. */
export type SessionStoreUnderTest = StoreFixture<SessionStore>;

/** Options of {@link describeSessionStoreConformance}. */
export interface SessionStoreConformanceOptions {
  /** The factory returns `fault`: run the store-failure cases (see `describeTtlStoreConformance`). */
  fault?: boolean;
  /**
   * The store implements the optional `deleteBySubject` (default true: the cases for it run, and a
   * store without it fails them). Pass false for a store that deliberately lacks it.
   */
  deleteBySubject?: boolean;
}

const WRITERS = 50;

function makeSession(id: string, extra: Partial<Session> = {}): Session {
  const now = Date.now();
  return {
    id,
    tenant: 'acme',
    issuer: 'https://acme.okta.com',
    clientId: '0oa-acme-web',
    sub: '00u-alice',
    claims: {
      name: 'Ålice Ünïcode 🧪',
      email: 'alice@example.com',
      preferred_username: 'alice@example.com',
      given_name: 'Ålice',
      family_name: 'مرحبا',
      nested: { groups: ['Everyone', 'Admins'], flag: true, n: 42, none: null },
    },
    issuedAt: now,
    expiresAt: now + 3_600_000,
    idToken: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIwMHUtYWxpY2UifQ.c2lnbmF0dXJl',
    ...extra,
  };
}

function absent(value: Session | undefined | null): boolean {
  return value === undefined || value === null;
}

/** Runs the SessionStore conformance cases against stores made by `factory`. */
export function describeSessionStoreConformance(
  name: string,
  factory: StoreFactory<SessionStore>,
  options: SessionStoreConformanceOptions = {},
): void {
  const withDeleteBySubject = options.deleteBySubject ?? true;
  describe(`SessionStore conformance (${name})`, () => {
    let current: SessionStoreUnderTest | undefined;
    async function fresh(): Promise<SessionStoreUnderTest> {
      current = await factory();
      if (current.fault && !options.fault) {
        throw new Error(`${name}: the factory returns fault; pass { fault: true } so the store-failure cases run`);
      }
      if (!current.fault && options.fault) throw new Error(`${name}: { fault: true } was passed but the factory returns no fault`);
      const has = typeof current.store.deleteBySubject === 'function';
      if (has !== withDeleteBySubject) {
        throw new Error(
          has
            ? `${name}: the store has deleteBySubject; do not pass { deleteBySubject: false }`
            : `${name}: the store has no deleteBySubject; implement it or pass { deleteBySubject: false }`,
        );
      }
      return current;
    }
    afterEach(async () => {
      await current?.cleanup?.();
      current = undefined;
    });

    it(`returns nothing for an unknown id (${name})`, async () => {
      const { store } = await fresh();
      expect(absent(await store.get(`unknown-${uniq()}`))).toBe(true);
    });

    it(`round-trips a full session on every instance: all fields, unicode and nested claims (${name})`, async () => {
      const fixture = await fresh();
      const id = `s-${uniq()}`;
      const session = makeSession(id);
      await fixture.store.set(id, session, 3600);
      for (const instance of instancesOf(fixture)) expect(await instance.get(id)).toEqual(session);
      // Without the optional idToken, nothing is invented for it.
      const { idToken: _dropped, ...bare } = makeSession(`s-${uniq()}`);
      await fixture.store.set(bare.id, bare, 3600);
      const read = await fixture.store.get(bare.id);
      expect(read).toEqual(bare);
      expect(read && 'idToken' in read ? read.idToken : undefined).toBeUndefined();
    });

    it(`holds a session with 100 KiB of claims (${name})`, async () => {
      const { store } = await fresh();
      const id = `big-${uniq()}`;
      const groups = Array.from({ length: 2000 }, (_, i) => `group-${i.toString().padStart(4, '0')}-ünï-${'x'.repeat(40)}`);
      const session = makeSession(id, { claims: { groups } });
      expect(JSON.stringify(session.claims).length).toBeGreaterThan(100 * 1024);
      await store.set(id, session, 3600);
      expect(await store.get(id)).toEqual(session);
    });

    it(`replaces a session on set (a rolling extension) (${name})`, async () => {
      const { store } = await fresh();
      const id = `roll-${uniq()}`;
      const first = makeSession(id);
      await store.set(id, first, 3600);
      const rolled = { ...first, expiresAt: first.expiresAt + 60_000, claims: { name: 'renamed' } };
      await store.set(id, rolled, 3660);
      expect(await store.get(id)).toEqual(rolled);
    });

    it(`deletes, and a delete of an unknown id is a no-op (${name})`, async () => {
      const fixture = await fresh();
      const id = `del-${uniq()}`;
      const other = `keep-${uniq()}`;
      await fixture.store.set(id, makeSession(id), 3600);
      await fixture.store.set(other, makeSession(other), 3600);
      const last = instancesOf(fixture).at(-1)!;
      await last.delete(id);
      for (const instance of instancesOf(fixture)) expect(absent(await instance.get(id))).toBe(true);
      expect(await fixture.store.get(other)).toEqual(expect.objectContaining({ id: other }));
      await fixture.store.delete(`never-${uniq()}`);
    });

    it(`does not resurrect a deleted session: a set after delete is a no-op (connect-redis #328) (${name})`, async () => {
      const fixture = await fresh();
      const id = `zombie-${uniq()}`;
      const session = makeSession(id);
      await fixture.store.set(id, session, 3600);
      await fixture.store.delete(id);
      // The request that read the session before the logout writes its rolling extension after it.
      for (const instance of instancesOf(fixture)) {
        await instance.set(id, { ...session, expiresAt: session.expiresAt + 60_000 }, 3660);
      }
      for (const instance of instancesOf(fixture)) expect(absent(await instance.get(id))).toBe(true);
    });

    it(`does not resurrect a session when ${WRITERS} concurrent writes race its delete (${name})`, async () => {
      const fixture = await fresh();
      const instances = instancesOf(fixture);
      const id = `race-${uniq()}`;
      const session = makeSession(id);
      await fixture.store.set(id, session, 3600);
      const calls: Promise<void>[] = [];
      for (let i = 0; i < WRITERS; i++) {
        if (i === WRITERS / 2) calls.push(instances[i % instances.length]!.delete(id));
        calls.push(instances[i % instances.length]!.set(id, { ...session, expiresAt: session.expiresAt + i }, 3600));
      }
      await Promise.all(calls);
      // Whatever order the backend saw, the delete resolved: the session is gone, and stays gone.
      for (const instance of instances) expect(absent(await instance.get(id))).toBe(true);
      await fixture.store.set(id, session, 3600);
      for (const instance of instances) expect(absent(await instance.get(id))).toBe(true);
    });

    it(`never keeps a session past session.expiresAt, whatever ttlSec says (connect-redis #251) (${name})`, { timeout: POLLING_CASE_TIMEOUT_MS }, async () => {
      const fixture = await fresh();
      const id = `expiring-${uniq()}`;
      const keeper = `keeper-${uniq()}`;
      const now = Date.now();
      await fixture.store.set(id, makeSession(id, { issuedAt: now, expiresAt: now + 1_000 }), 86_400);
      await fixture.store.set(keeper, makeSession(keeper), 3600);
      const gone = await eventually(async () => {
        for (const instance of instancesOf(fixture)) if (!absent(await instance.get(id))) return false;
        return true;
      });
      expect(gone, 'a session was still readable after its expiresAt (plus the poll deadline)').toBe(true);
      expect(await fixture.store.get(keeper)).toEqual(expect.objectContaining({ id: keeper }));
    });

    it(`stores nothing for a session already past its expiry (${name})`, async () => {
      const { store } = await fresh();
      const id = `stale-${uniq()}`;
      const now = Date.now();
      await store.set(id, makeSession(id, { issuedAt: now - 7_200_000, expiresAt: now - 1_000 }), 3600);
      expect(absent(await store.get(id))).toBe(true);
    });

    if (withDeleteBySubject) {
      it(`deleteBySubject removes every session of one (tenant, sub) across instances, and only those (${name})`, async () => {
        const fixture = await fresh();
        const instances = instancesOf(fixture);
        const tag = uniq();
        const tenant = `acme-${tag}`;
        const sub = `00u-alice-${tag}`;
        const own = [0, 1, 2].map((i) => `own-${i}-${tag}`);
        // Written through different instances, as a fleet's processes would.
        for (const [i, id] of own.entries()) await instances[i % instances.length]!.set(id, makeSession(id, { tenant, sub }), 3600);
        const others: Array<[string, Partial<Session>]> = [
          [`same-sub-other-tenant-${tag}`, { tenant: `globex-${tag}`, sub }],
          [`other-sub-${tag}`, { tenant, sub: `00u-bob-${tag}` }],
          // Pairs that a naive "tenant:sub" key would confuse with (tenant, sub).
          [`joined-1-${tag}`, { tenant: `${tenant}:${sub}`, sub: '' }],
          [`joined-2-${tag}`, { tenant: `${tenant}:`, sub }],
          [`joined-3-${tag}`, { tenant, sub: `${sub}:` }],
          [`prefix-${tag}`, { tenant, sub: `${sub}*` }],
        ];
        for (const [id, extra] of others) await fixture.store.set(id, makeSession(id, extra), 3600);

        const deleter = instances.at(-1)!;
        expect(await deleter.deleteBySubject!(tenant, sub)).toBe(own.length);
        for (const instance of instances) {
          for (const id of own) expect(absent(await instance.get(id)), id).toBe(true);
          for (const [id] of others) expect(await instance.get(id), id).toEqual(expect.objectContaining({ id }));
        }
        // A request that read one of them before the logout cannot write it back.
        for (const [i, id] of own.entries()) await instances[i % instances.length]!.set(id, makeSession(id, { tenant, sub }), 3600);
        for (const id of own) expect(absent(await fixture.store.get(id)), id).toBe(true);
        expect(await fixture.store.deleteBySubject!(tenant, sub)).toBe(0);
        // The user signs in again: a new session of the same subject works.
        const fresh2 = `after-${tag}`;
        await fixture.store.set(fresh2, makeSession(fresh2, { tenant, sub }), 3600);
        expect(await fixture.store.get(fresh2)).toEqual(expect.objectContaining({ id: fresh2 }));
      });

      it(`deleteBySubject of an unknown subject deletes nothing and returns 0 (${name})`, async () => {
        const { store } = await fresh();
        const id = `bystander-${uniq()}`;
        await store.set(id, makeSession(id), 3600);
        expect(await store.deleteBySubject!(`nobody-${uniq()}`, 'nobody')).toBe(0);
        expect(await store.get(id)).toEqual(expect.objectContaining({ id }));
      });
    }

    if (options.fault) {
      it(`never returns a session when the backend fails: every method rejects (${name})`, { timeout: POLLING_CASE_TIMEOUT_MS }, async () => {
        const fixture = await fresh();
        const { store } = fixture;
        const id = `fault-${uniq()}`;
        await store.set(id, makeSession(id), 3600);
        await fixture.fault!();
        const outcomes: Record<string, Awaited<ReturnType<typeof settle>>> = {
          get: await settle(store.get(id)),
          set: await settle(store.set(`${id}-2`, makeSession(`${id}-2`), 3600)),
          // A logout that silently did nothing would leave the session alive.
          delete: await settle(store.delete(id)),
        };
        if (store.deleteBySubject) outcomes['deleteBySubject'] = await settle(store.deleteBySubject('acme', '00u-alice'));
        for (const [method, outcome] of Object.entries(outcomes)) {
          expect(outcome.ok, `${method} resolved ${JSON.stringify(outcome.ok ? outcome.value : undefined)} on a failed backend`).toBe(false);
        }
      });
    }
  });
}
