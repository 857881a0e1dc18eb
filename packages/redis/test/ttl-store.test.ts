import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisTtlStore } from '../src/index';
import { CLIENTS, connections, eventually, type RunningServer, startRedisServer, uniq } from './helpers';

let server: RunningServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

describe.each(CLIENTS)('RedisTtlStore (%s)', (kind) => {
  const conns = connections(kind, () => server.url);
  afterEach(() => conns.closeAll());

  it('stores, reads, replaces and deletes values', async () => {
    const { port } = await conns.open();
    const store = new RedisTtlStore(port);
    const key = `k-${uniq()}`;
    expect(await store.get(key)).toBeUndefined();
    await store.set(key, 'one', 60);
    expect(await store.get(key)).toBe('one');
    await store.set(key, 'two', 60);
    expect(await store.get(key)).toBe('two');
    await store.delete(key);
    expect(await store.get(key)).toBeUndefined();
    await store.delete(key); // absent: a no-op
  });

  it('setIfAbsent stores once; take hands the value to one caller', async () => {
    const { port } = await conns.open();
    const store = new RedisTtlStore(port);
    const key = `once-${uniq()}`;
    expect(await store.setIfAbsent(key, 'first', 60)).toBe(true);
    expect(await store.setIfAbsent(key, 'second', 60)).toBe(false);
    expect(await store.get(key)).toBe('first');
    expect(await store.take(key)).toBe('first');
    expect(await store.take(key)).toBeUndefined();
    expect(await store.setIfAbsent(key, 'third', 60)).toBe(true);
  });

  it('expiry is Redis TTL (PX), with no sweeper', async () => {
    const c = await conns.open();
    const prefix = `ttl-${uniq()}`;
    const store = new RedisTtlStore(c.port, { prefix });
    await store.set('a', 'v', 30);
    await store.setIfAbsent('b', 'v', 30);
    // Every key the store wrote carries a TTL no longer than asked.
    const keys = (await c.raw(['KEYS', `${prefix}:*`])) as string[];
    expect(keys).toHaveLength(2);
    for (const k of keys) {
      const pttl = Number(await c.raw(['PTTL', k]));
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(30_000);
    }
    // A 1 s entry is gone once Redis expires it. (No read of it first: on a loaded machine that
    // read could itself come after the second; the TTLs above show what is written.)
    await store.set('short', 'v', 1);
    expect(await eventually(async () => (await store.get('short')) === undefined)).toBe(true);
    expect(await store.setIfAbsent('short', 'again', 1)).toBe(true);
  });

  it('100 concurrent setIfAbsent from 3 connections: exactly one wins', async () => {
    const stores = await Promise.all([conns.open(), conns.open(), conns.open()]).then((cs) => cs.map((c) => new RedisTtlStore(c.port)));
    const key = `race-${uniq()}`;
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => stores[i % 3]!.setIfAbsent(key, `v${i}`, 60)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('100 concurrent take from 3 connections: exactly one gets the value', async () => {
    const stores = await Promise.all([conns.open(), conns.open(), conns.open()]).then((cs) => cs.map((c) => new RedisTtlStore(c.port)));
    const key = `take-${uniq()}`;
    await stores[0]!.set(key, 'single-use', 60);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => stores[i % 3]!.take(key)));
    expect(results.filter((v) => v !== undefined)).toEqual(['single-use']);
  });

  it('hostile and unicode keys stay separate, values come back byte for byte', async () => {
    const { port } = await conns.open();
    const store = new RedisTtlStore(port);
    const id = uniq();
    const keys = ['{', '}', '{tag}', '}{', 'a\nb', '\r\n', '*', ' ', 'x'.repeat(5000), 'ключ', '🔑', `${id}:a`, `${id}:a:`];
    for (const [i, key] of keys.entries()) await store.set(`${id}${key}`, `value ${i} ${key} ✓`, 60);
    for (const [i, key] of keys.entries()) expect(await store.get(`${id}${key}`)).toBe(`value ${i} ${key} ✓`);
    const big = 'v'.repeat(512 * 1024);
    await store.set(`${id}big`, big, 60);
    expect(await store.get(`${id}big`)).toBe(big);
  });

  it('refuses a TTL that is not a positive, finite number of seconds', async () => {
    const { port } = await conns.open();
    const store = new RedisTtlStore(port);
    for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(store.set('k', 'v', ttl)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
      await expect(store.setIfAbsent('k', 'v', ttl)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    }
  });
});
