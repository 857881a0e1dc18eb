import type { RevocationRecord } from '@oin-oidc/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisRevocationList } from '../src/index';
import { RedisKeys } from '../src/keys';
import { CLIENTS, connections, eventually, type RunningServer, startRedisServer, uniq } from './helpers';

let server: RunningServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

function recorder() {
  const records: RevocationRecord[] = [];
  let resyncs = 0;
  return {
    records,
    resyncs: () => resyncs,
    listener: {
      onRecord: (r: RevocationRecord) => void records.push(r),
      onResync: () => void resyncs++,
    },
  };
}

describe.each(CLIENTS)('RedisRevocationList (%s)', (kind) => {
  const conns = connections(kind, () => server.url);
  const lists: RedisRevocationList[] = [];
  afterEach(async () => {
    await Promise.all(lists.splice(0).map((l) => l.close()));
    await conns.closeAll();
  });
  async function list(prefix: string): Promise<RedisRevocationList> {
    const l = new RedisRevocationList((await conns.open()).port, { prefix, onWarning: () => undefined });
    lists.push(l);
    return l;
  }

  it('add stores records until `until`; load returns the live ones, newest first, up to a limit', async () => {
    const prefix = `rv-${uniq()}`;
    const l = await list(prefix);
    const now = Date.now();
    await l.add({ key: 'session:a', revokedAt: now - 3000, until: now + 60_000 });
    await l.add({ key: 'session:b', revokedAt: now - 1000, until: now + 60_000 });
    await l.add({ key: 'session:c', revokedAt: now - 2000, until: now + 60_000 });
    await l.add({ key: 'session:gone', revokedAt: now, until: now - 1 }); // over already: not stored
    expect((await l.load()).map((r) => r.key)).toEqual(['session:b', 'session:c', 'session:a']);
    expect((await l.load(2)).map((r) => r.key)).toEqual(['session:b', 'session:c']);
    expect(await l.load(0)).toEqual([]);
    expect((await l.load())[0]).toEqual({ key: 'session:b', revokedAt: now - 1000, until: now + 60_000 });
  });

  it('the later revocation wins and until only grows (as MemoryRevocationList)', async () => {
    const l = await list(`rv-${uniq()}`);
    const now = Date.now();
    const key = 'subject:https://acme.okta.com\n00u1';
    await l.add({ key, revokedAt: now - 10, until: now + 90_000 });
    await l.add({ key, revokedAt: now - 500, until: now + 30_000 });
    expect(await l.load()).toEqual([{ key, revokedAt: now - 10, until: now + 90_000 }]);
    await l.add({ key, revokedAt: now, until: now + 40_000 });
    expect(await l.load()).toEqual([{ key, revokedAt: now, until: now + 90_000 }]);
  });

  it('expired records are forgotten on add and load, and the keys expire with the latest record', async () => {
    const prefix = `rv-${uniq()}`;
    const l = await list(prefix);
    const c = await conns.open();
    const keys = new RedisKeys(prefix);
    const now = Date.now();
    await l.add({ key: 'short', revokedAt: now, until: now + 600 });
    await l.add({ key: 'long', revokedAt: now, until: now + 20_000 });
    const pttl = Number(await c.raw(['PTTL', keys.revocationRecords()]));
    expect(pttl).toBeGreaterThan(600);
    expect(pttl).toBeLessThanOrEqual(20_000);
    expect(await eventually(async () => (await l.load()).length === 1)).toBe(true);
    expect(Number(await c.raw(['HEXISTS', keys.revocationRecords(), 'short']))).toBe(0);
    expect(Number(await c.raw(['ZCARD', keys.revocationsByUntil()]))).toBe(1);
  });

  it('a record added through one connection reaches subscribers on others (and the adder)', async () => {
    const prefix = `rv-${uniq()}`;
    const [a, b, c] = [await list(prefix), await list(prefix), await list(prefix)];
    const ra = recorder();
    const rb = recorder();
    const rc = recorder();
    a.subscribe(ra.listener);
    b.subscribe(rb.listener);
    c.subscribe(rc.listener);
    // Each subscription asks its listeners to load once it is live (records before it may be missed).
    expect(await eventually(() => ra.resyncs() === 1 && rb.resyncs() === 1 && rc.resyncs() === 1)).toBe(true);
    const now = Date.now();
    const key = `session:${uniq()}\n{odd}:key`;
    await c.add({ key, revokedAt: now, until: now + 60_000 });
    const expected = { key, revokedAt: now, until: now + 60_000 };
    expect(await eventually(() => ra.records.length === 1 && rb.records.length === 1 && rc.records.length === 1)).toBe(true);
    expect(ra.records[0]).toEqual(expected);
    expect(rb.records[0]).toEqual(expected);
    // Another prefix is another feed.
    const other = await list(`rv-${uniq()}`);
    const ro = recorder();
    other.subscribe(ro.listener);
    expect(await eventually(() => ro.resyncs() === 1)).toBe(true);
    await a.add({ key: 'session:x', revokedAt: now, until: now + 60_000 });
    expect(await eventually(() => rb.records.length === 2)).toBe(true);
    expect(ro.records).toEqual([]);
  });

  it('unsubscribe stops delivery to that listener only', async () => {
    const prefix = `rv-${uniq()}`;
    const l = await list(prefix);
    const one = recorder();
    const two = recorder();
    const stopOne = l.subscribe(one.listener);
    l.subscribe(two.listener);
    expect(await eventually(() => one.resyncs() === 1 && two.resyncs() === 1)).toBe(true);
    stopOne();
    const now = Date.now();
    await l.add({ key: 'session:after', revokedAt: now, until: now + 60_000 });
    expect(await eventually(() => two.records.length === 1)).toBe(true);
    expect(one.records).toEqual([]);
  });

  it('100 concurrent adds of one key from 3 connections keep the latest revokedAt and the longest until', async () => {
    const prefix = `rv-${uniq()}`;
    const ls = [await list(prefix), await list(prefix), await list(prefix)];
    const now = Date.now();
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => ls[i % 3]!.add({ key: 'subject:k', revokedAt: now - 1000 + i, until: now + 10_000 + ((i * 37) % 100) * 100 })),
    );
    const [record] = await ls[1]!.load();
    expect(record).toEqual({ key: 'subject:k', revokedAt: now - 1000 + 99, until: now + 10_000 + 99 * 100 });
  });

  it('refuses records that break core’s contract', async () => {
    const l = await list(`rv-${uniq()}`);
    const now = Date.now();
    await expect(l.add({ key: 'x'.repeat(1025), revokedAt: now, until: now + 1000 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(l.add({ key: 'k', revokedAt: Number.NaN, until: now + 1000 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(l.add({ key: '', revokedAt: now, until: now + 1000 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });
});
