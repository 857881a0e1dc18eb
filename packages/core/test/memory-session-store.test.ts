import { describe, expect, it } from 'vitest';
import { isSessionStore, MemorySessionStore, type Session } from '../src/index';

function clock(start = 1_700_000_000_000) {
  const state = { now: start };
  return { now: () => state.now, advance: (ms: number) => (state.now += ms) };
}

function session(id: string, now: number, extra: Partial<Session> = {}): Session {
  return {
    id,
    tenant: 'acme',
    issuer: 'https://acme.okta.com',
    clientId: '0oa-acme',
    sub: 'alice',
    claims: { name: 'Alice', nested: { list: [1, 2] } },
    issuedAt: now,
    expiresAt: now + 3_600_000,
    idToken: 'eyJ.header.sig',
    ...extra,
  };
}

describe('MemorySessionStore', () => {
  it('is a SessionStore with deleteBySubject', () => {
    const store = new MemorySessionStore();
    expect(isSessionStore(store)).toBe(true);
    expect(typeof store.deleteBySubject).toBe('function');
  });

  it('round-trips a session as a copy: mutating what was passed in or read out changes nothing stored', async () => {
    const time = clock();
    const store = new MemorySessionStore({ now: time.now });
    const original = session('s1', time.now());
    await store.set('s1', original, 3600);
    (original.claims as { name: string }).name = 'Mallory';
    const read = await store.get('s1');
    expect(read).toEqual(session('s1', time.now()));
    (read!.claims as { name: string }).name = 'Eve';
    expect((await store.get('s1'))?.claims).toEqual({ name: 'Alice', nested: { list: [1, 2] } });
    expect(await store.get('unknown')).toBeUndefined();
  });

  it('keeps an entry for ttlSec but never past session.expiresAt (connect-redis #251)', async () => {
    const time = clock();
    const store = new MemorySessionStore({ now: time.now });
    const t0 = time.now();
    await store.set('long-ttl', session('long-ttl', t0, { expiresAt: t0 + 10_000 }), 86_400);
    await store.set('short-ttl', session('short-ttl', t0, { expiresAt: t0 + 86_400_000 }), 5);
    time.advance(4_999);
    expect(await store.get('short-ttl')).toBeDefined();
    time.advance(1);
    expect(await store.get('short-ttl')).toBeUndefined();
    time.advance(4_999);
    expect(await store.get('long-ttl')).toBeDefined();
    time.advance(1);
    expect(await store.get('long-ttl')).toBeUndefined();
    // A session already past its expiry is not stored at all.
    await store.set('past', session('past', t0, { expiresAt: time.now() }), 60);
    expect(await store.get('past')).toBeUndefined();
  });

  it('does not resurrect a deleted session: a later set of its id is a no-op (connect-redis #328)', async () => {
    const time = clock();
    const store = new MemorySessionStore({ now: time.now });
    const s = session('s1', time.now());
    await store.set('s1', s, 3600);
    await store.delete('s1');
    await store.set('s1', { ...s, expiresAt: s.expiresAt + 60_000 }, 3600);
    expect(await store.get('s1')).toBeUndefined();
    // The refused write extended the tombstone to the expiry it carried.
    time.advance(3_600_000);
    await store.set('s1', { ...s, expiresAt: time.now() + 1_000 }, 3600);
    expect(await store.get('s1')).toBeUndefined();
    // Once every carried expiry has passed, the id is free again.
    time.advance(60_000);
    await store.set('s1', { ...s, expiresAt: time.now() + 1_000 }, 3600);
    expect(await store.get('s1')).toBeDefined();
  });

  it('tombstones a delete of an id it does not hold for tombstoneSec', async () => {
    const time = clock();
    const store = new MemorySessionStore({ now: time.now, tombstoneSec: 10 });
    await store.delete('never-seen');
    await store.set('never-seen', session('never-seen', time.now(), { expiresAt: time.now() + 5_000 }), 60);
    expect(await store.get('never-seen')).toBeUndefined();
    time.advance(10_000);
    await store.set('never-seen', session('never-seen', time.now()), 60);
    expect(await store.get('never-seen')).toBeDefined();
  });

  it('deletes every session of one (tenant, sub) and only those, without resurrection', async () => {
    const time = clock();
    const store = new MemorySessionStore({ now: time.now });
    const now = time.now();
    await store.set('a1', session('a1', now), 3600);
    await store.set('a2', session('a2', now), 3600);
    await store.set('other-tenant', session('other-tenant', now, { tenant: 'globex' }), 3600);
    await store.set('other-sub', session('other-sub', now, { sub: 'bob' }), 3600);
    // ("a", "b:c") and ("a:b", "c") are different subjects.
    await store.set('x1', session('x1', now, { tenant: 'a', sub: 'b:c' }), 3600);
    await store.set('x2', session('x2', now, { tenant: 'a:b', sub: 'c' }), 3600);

    expect(await store.deleteBySubject('acme', 'alice')).toBe(2);
    expect(await store.get('a1')).toBeUndefined();
    expect(await store.get('a2')).toBeUndefined();
    expect(await store.get('other-tenant')).toBeDefined();
    expect(await store.get('other-sub')).toBeDefined();
    await store.set('a1', session('a1', now), 3600);
    expect(await store.get('a1')).toBeUndefined();
    expect(await store.deleteBySubject('acme', 'alice')).toBe(0);

    expect(await store.deleteBySubject('a', 'b:c')).toBe(1);
    expect(await store.get('x2')).toBeDefined();
    // The user signs in again: a fresh session id works.
    await store.set('a3', session('a3', now), 3600);
    expect(await store.get('a3')).toBeDefined();
  });

  it('does not count expired sessions in deleteBySubject', async () => {
    const time = clock();
    const store = new MemorySessionStore({ now: time.now });
    await store.set('short', session('short', time.now(), { expiresAt: time.now() + 1_000 }), 60);
    await store.set('long', session('long', time.now()), 3600);
    time.advance(1_000);
    expect(await store.deleteBySubject('acme', 'alice')).toBe(1);
  });

  it('moves a re-used id to its new subject', async () => {
    const time = clock();
    const store = new MemorySessionStore({ now: time.now });
    await store.set('s', session('s', time.now()), 3600);
    await store.set('s', session('s', time.now(), { sub: 'bob' }), 3600);
    expect(await store.deleteBySubject('acme', 'alice')).toBe(0);
    expect(await store.deleteBySubject('acme', 'bob')).toBe(1);
  });

  it('stays bounded: expired entries go first, then the least recently used', async () => {
    const time = clock();
    const store = new MemorySessionStore({ now: time.now, maxEntries: 3 });
    const now = time.now();
    await store.set('expiring', session('expiring', now, { expiresAt: now + 1_000 }), 60);
    await store.set('b', session('b', now), 3600);
    await store.set('c', session('c', now), 3600);
    time.advance(1_000);
    await store.set('d', session('d', now), 3600);
    expect(store.size).toBe(3);
    expect(await store.get('b')).toBeDefined(); // b is now the most recently used
    await store.set('e', session('e', now), 3600);
    expect(store.size).toBe(3);
    expect(await store.get('c')).toBeUndefined();
    expect(await store.get('b')).toBeDefined();
    expect(await store.get('d')).toBeDefined();
    expect(await store.get('e')).toBeDefined();
  });

  it('bounds tombstones too', async () => {
    const time = clock();
    const store = new MemorySessionStore({ now: time.now, maxEntries: 2 });
    for (const id of ['t1', 't2', 't3']) await store.delete(id);
    // t1's tombstone was the oldest and made room for t3.
    await store.set('t1', session('t1', time.now()), 60);
    expect(await store.get('t1')).toBeDefined();
    await store.set('t3', session('t3', time.now()), 60);
    expect(await store.get('t3')).toBeUndefined();
  });

  it('refuses bad options and a non-positive ttl with a typed error', async () => {
    expect(() => new MemorySessionStore({ maxEntries: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => new MemorySessionStore({ tombstoneSec: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    const store = new MemorySessionStore();
    await expect(store.set('s', session('s', Date.now()), 0)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });
});
