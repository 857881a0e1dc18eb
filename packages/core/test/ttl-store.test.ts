import { describe, expect, it } from 'vitest';
import { isTtlStore, MemoryTtlStore } from '../src/ttl-store';

function clock(start = 1_700_000_000_000) {
  const state = { now: start };
  return { now: () => state.now, advance: (ms: number) => (state.now += ms) };
}

describe('MemoryTtlStore', () => {
  it('stores, reads and deletes values', async () => {
    const store = new MemoryTtlStore();
    await store.set('a', '1', 10);
    expect(await store.get('a')).toBe('1');
    await store.set('a', '2', 10);
    expect(await store.get('a')).toBe('2');
    await store.delete('a');
    expect(await store.get('a')).toBeUndefined();
    await store.delete('missing');
  });

  it('expires entries lazily at their TTL, by the injected clock', async () => {
    const time = clock();
    const store = new MemoryTtlStore({ now: time.now });
    await store.set('a', '1', 5);
    time.advance(4_999);
    expect(await store.get('a')).toBe('1');
    time.advance(1);
    expect(await store.get('a')).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('setIfAbsent refuses a live key and accepts an expired one', async () => {
    const time = clock();
    const store = new MemoryTtlStore({ now: time.now });
    expect(await store.setIfAbsent('jti', 'x', 2)).toBe(true);
    expect(await store.setIfAbsent('jti', 'y', 2)).toBe(false);
    expect(await store.get('jti')).toBe('x');
    time.advance(2_000);
    expect(await store.setIfAbsent('jti', 'z', 2)).toBe(true);
    expect(await store.get('jti')).toBe('z');
  });

  it('setIfAbsent is atomic: of many concurrent callers exactly one wins (FP-07)', async () => {
    const store = new MemoryTtlStore();
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => store.setIfAbsent('k', String(i), 60)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('take returns the value once and removes it', async () => {
    const store = new MemoryTtlStore();
    await store.set('t', 'v', 60);
    const taken = await Promise.all([store.take('t'), store.take('t'), store.take('t')]);
    expect(taken.filter((v) => v === 'v')).toHaveLength(1);
    expect(await store.get('t')).toBeUndefined();
  });

  it('take does not return an expired value', async () => {
    const time = clock();
    const store = new MemoryTtlStore({ now: time.now });
    await store.set('t', 'v', 1);
    time.advance(1_000);
    expect(await store.take('t')).toBeUndefined();
  });

  it('stays bounded, evicting the least recently used entry (DS-05)', async () => {
    const store = new MemoryTtlStore({ maxEntries: 3 });
    await store.set('a', '1', 60);
    await store.set('b', '2', 60);
    await store.set('c', '3', 60);
    await store.get('a'); // a is now the most recently used
    await store.set('d', '4', 60);
    expect(store.size).toBe(3);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBe('1');
    expect(await store.get('c')).toBe('3');
    expect(await store.get('d')).toBe('4');
  });

  it('evicts expired entries before live ones when full', async () => {
    const time = clock();
    const store = new MemoryTtlStore({ maxEntries: 3, now: time.now });
    await store.set('live-old', '1', 600);
    await store.set('short-1', '2', 1);
    await store.set('short-2', '3', 1);
    time.advance(1_000);
    await store.set('new', '4', 600);
    expect(await store.get('live-old')).toBe('1');
    expect(await store.get('new')).toBe('4');
    expect(store.size).toBe(2);
  });

  it('holds 10,000 entries by default and no more', async () => {
    const store = new MemoryTtlStore();
    for (let i = 0; i < 10_050; i++) await store.set(`k${i}`, 'v', 60);
    expect(store.size).toBe(10_000);
    expect(await store.get('k0')).toBeUndefined();
    expect(await store.get('k10049')).toBe('v');
  });

  it('refuses a TTL that is not a positive finite number', async () => {
    const store = new MemoryTtlStore();
    for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(store.set('a', 'b', ttl)).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
      await expect(store.setIfAbsent('a', 'b', ttl)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    }
    expect(() => new MemoryTtlStore({ maxEntries: 0 })).toThrow(TypeError);
  });

  it('isTtlStore recognises the interface', () => {
    expect(isTtlStore(new MemoryTtlStore())).toBe(true);
    expect(isTtlStore({ get() {}, set() {} })).toBe(false);
    expect(isTtlStore(null)).toBe(false);
  });
});
