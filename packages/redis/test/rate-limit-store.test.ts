import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisRateLimitStore } from '../src/index';
import { RedisKeys } from '../src/keys';
import { CLIENTS, connections, type RunningServer, startRedisServer, uniq } from './helpers';

let server: RunningServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

describe.each(CLIENTS)('RedisRateLimitStore (%s)', (kind) => {
  const conns = connections(kind, () => server.url);
  afterEach(() => conns.closeAll());

  it('block keeps the later of two blocks, per org and endpoint, seen from every connection', async () => {
    const [a, b] = await Promise.all([conns.open(), conns.open()]);
    const one = new RedisRateLimitStore(a.port);
    const two = new RedisRateLimitStore(b.port);
    const org = `https://org-${uniq()}.okta.com`;
    expect(await one.blockedUntil(org, 'introspection')).toBeUndefined();
    const later = Date.now() + 60_000;
    await one.block(org, 'introspection', later);
    await two.block(org, 'introspection', later - 30_000); // an earlier reset never shortens it
    expect(await two.blockedUntil(org, 'introspection')).toBe(later);
    await two.block(org, 'introspection', later + 1000);
    expect(await one.blockedUntil(org, 'introspection')).toBe(later + 1000);
    expect(await one.blockedUntil(org, 'token')).toBeUndefined();
    expect(await one.blockedUntil(`${org}/`, 'introspection')).toBeUndefined();
    // A block in the past is nothing to share.
    await one.block(org, 'token', Date.now() - 1);
    expect(await one.blockedUntil(org, 'token')).toBeUndefined();
  });

  it('a block expires when it ends (Redis PXAT), with no sweeper', async () => {
    const c = await conns.open();
    const prefix = `rl-${uniq()}`;
    const store = new RedisRateLimitStore(c.port, { prefix });
    const org = 'https://org.okta.com';
    // Redis expires the key at the block's end: its expire time is that instant (no wait on Redis's
    // clock needed). Once this process's clock passes it, the block reads as over even before Redis
    // has dropped the key (the Date is faked: no sleeping past a short block).
    const until = Date.now() + 60_000;
    await store.block(org, 'token', until);
    expect(Number(await c.raw(['PEXPIRETIME', new RedisKeys(prefix).block(org, 'token')]))).toBe(until);
    expect(await store.blockedUntil(org, 'token')).toBe(until);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(until);
      expect(await store.blockedUntil(org, 'token')).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a new bucket starts full; an empty one says how many seconds until a token', async () => {
    const { port } = await conns.open();
    const store = new RedisRateLimitStore(port);
    const key = `bucket-${uniq()}`;
    for (let i = 0; i < 3; i++) expect(await store.take(key, 0.5, 3)).toBeUndefined();
    const wait = await store.take(key, 0.5, 3); // one token every 2 s
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(2);
    await store.give(key, 3);
    expect(await store.take(key, 0.5, 3)).toBeUndefined();
    expect(await store.take(key, 0.5, 3)).toBeGreaterThanOrEqual(1);
  });

  it('give never fills above burst, and does nothing without a bucket', async () => {
    const c = await conns.open();
    const prefix = `rl-${uniq()}`;
    const store = new RedisRateLimitStore(c.port, { prefix });
    const key = `bucket-${uniq()}`;
    await store.give(key, 5);
    expect(Number(await c.raw(['EXISTS', new RedisKeys(prefix).bucket(key)]))).toBe(0);
    expect(await store.take(key, 0.01, 2)).toBeUndefined();
    for (let i = 0; i < 5; i++) await store.give(key, 2);
    expect(await store.take(key, 0.01, 2)).toBeUndefined();
    expect(await store.take(key, 0.01, 2)).toBeUndefined();
    expect(await store.take(key, 0.01, 2)).toBeGreaterThanOrEqual(1);
  });

  it('100 concurrent takes from 3 connections on a bucket of 10 take exactly 10', async () => {
    const stores = await Promise.all([conns.open(), conns.open(), conns.open()]).then((cs) => cs.map((c) => new RedisRateLimitStore(c.port)));
    const key = `race-${uniq()}`;
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => stores[i % 3]!.take(key, 0.001, 10)));
    expect(results.filter((r) => r === undefined)).toHaveLength(10);
    expect(results.filter((r) => r !== undefined).every((r) => r! >= 1)).toBe(true);
  });

  it('the bucket key expires once it would be full again (a dropped bucket is a full one)', async () => {
    const c = await conns.open();
    const prefix = `rl-${uniq()}`;
    const store = new RedisRateLimitStore(c.port, { prefix });
    // 1 token short at 0.01 per second: full again in 100 s, so the key lives 100 s + 1 s of margin.
    // (A refill of 100 ms, as before, left a loaded machine too little time to read the TTL.)
    await store.take('k', 0.01, 5);
    const pttl = Number(await c.raw(['PTTL', new RedisKeys(prefix).bucket('k')]));
    expect(pttl).toBeGreaterThan(1000);
    expect(pttl).toBeLessThanOrEqual(101_000);
  });

  it('refuses rates, bursts and endpoints that are not what core sends', async () => {
    const { port } = await conns.open();
    const store = new RedisRateLimitStore(port);
    await expect(store.take('k', 0, 10)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(store.take('k', 1, 0)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(store.give('k', Number.NaN)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(store.block('https://o', 'x}{y' as never, Date.now() + 1000)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });
});
