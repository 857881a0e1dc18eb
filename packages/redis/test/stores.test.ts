import type { OidcWarning } from '@oin-oidc/core';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStores, evalWithFallback, isRedisPort, type RedisPort, toRedisPort } from '../src/index';
import { defineScript } from '../src/port';
import { CLIENTS, connections, eventually, type RunningServer, startRedisServer, uniq } from './helpers';

let server: RunningServer;
let lru: RunningServer;
beforeAll(async () => {
  [server, lru] = await Promise.all([startRedisServer(), startRedisServer({ maxmemoryPolicy: 'allkeys-lru' })]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), lru?.stop()]);
});

describe('createRedisStores takes the app’s client as it is', () => {
  it('an ioredis client, a node-redis client or a RedisPort, told apart by shape', async () => {
    const io = new Redis(server.url);
    const nr = await createClient({ url: server.url }).on('error', () => undefined).connect();
    try {
      const key = `shared-${uniq()}`;
      const viaIo = createRedisStores({ client: io, evictionCheck: false });
      const viaNodeRedis = createRedisStores({ client: nr, evictionCheck: false });
      const viaPort = createRedisStores({ client: toRedisPort(io), evictionCheck: false });
      expect(await viaIo.ttlStore.setIfAbsent(key, 'io', 60)).toBe(true);
      expect(await viaNodeRedis.ttlStore.setIfAbsent(key, 'nr', 60)).toBe(false);
      expect(await viaPort.ttlStore.get(key)).toBe('io');
      expect(isRedisPort(toRedisPort(nr))).toBe(true);
      await Promise.all([viaIo.close(), viaNodeRedis.close(), viaPort.close()]);
      // The app's clients stay open.
      expect(await io.ping()).toBe('PONG');
      expect(await nr.ping()).toBe('PONG');
    } finally {
      io.disconnect();
      nr.destroy();
    }
  });

  it('refuses anything else, and bad options, at creation', () => {
    expect(() => createRedisStores({ client: {} as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    const port = { command: async () => null, evalScript: async () => null, subscribe: async () => async () => undefined } satisfies RedisPort;
    expect(() => createRedisStores({ client: port, prefix: 'a{b}' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => createRedisStores({ client: port, commandTimeoutMs: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => createRedisStores({ client: port, tombstoneSec: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});

describe.each(CLIENTS)('scripts and the eviction check (%s)', (kind) => {
  const conns = connections(kind, () => server.url);
  const lruConns = connections(kind, () => lru.url);

  it('EVALSHA falls back to EVAL after SCRIPT FLUSH (NOSCRIPT)', async () => {
    const c = await conns.open();
    try {
      const script = defineScript('echo', `return ARGV[1] .. '@' .. KEYS[1]`);
      await c.raw(['SCRIPT', 'FLUSH']);
      expect(await c.port.evalScript(script, ['k'], ['v'])).toBe('v@k');
      expect(await c.raw(['SCRIPT', 'EXISTS', script.sha1])).toEqual([1]);
      expect(await evalWithFallback((args) => c.raw([...args]), script, ['k2'], ['w'])).toBe('w@k2');
      await c.raw(['SCRIPT', 'FLUSH']);
      const s = createRedisStores({ client: c.port, evictionCheck: false });
      const now = Date.now();
      await s.revocationList.add({ key: 'session:x', revokedAt: now, until: now + 60_000 });
      expect(await s.revocationList.load()).toHaveLength(1);
    } finally {
      await conns.closeAll();
    }
  });

  it('noeviction: checkEvictionPolicy is ok and says nothing', async () => {
    const c = await conns.open();
    try {
      const warnings: OidcWarning[] = [];
      const s = createRedisStores({ client: c.port, onWarning: (w) => void warnings.push(w) });
      expect(await s.checkEvictionPolicy()).toEqual({ ok: true, policy: 'noeviction' });
      expect(warnings).toEqual([]);
    } finally {
      await conns.closeAll();
    }
  });

  it('allkeys-lru: warns WARN_OIDC_REDIS_EVICTION, at creation and when asked', async () => {
    const c = await lruConns.open();
    try {
      const warnings: OidcWarning[] = [];
      const s = createRedisStores({ client: c.port, onWarning: (w) => void warnings.push(w) });
      expect(await eventually(() => warnings.length === 1)).toBe(true);
      expect(await s.checkEvictionPolicy()).toEqual({ ok: false, policy: 'allkeys-lru' });
      expect(warnings).toHaveLength(2);
      for (const w of warnings) {
        expect(w.code).toBe('WARN_OIDC_REDIS_EVICTION');
        expect(w.message).toContain('allkeys-lru');
        expect(w.message).toContain('noeviction');
      }
    } finally {
      await lruConns.closeAll();
    }
  });

  it('CONFIG refused (as on some managed Redis): warns that the policy could not be checked', async () => {
    const admin = await conns.open();
    const user = `limited${uniq()}`;
    await admin.raw(['ACL', 'SETUSER', user, 'on', 'nopass', '~*', '&*', '+@all', '-config']);
    const url = server.url.replace('redis://', `redis://${user}:x@`);
    const limited = await connections(kind, () => url).open();
    try {
      const warnings: OidcWarning[] = [];
      const s = createRedisStores({ client: limited.port, evictionCheck: false, onWarning: (w) => void warnings.push(w) });
      expect(await s.checkEvictionPolicy()).toEqual({ ok: false, policy: undefined });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ code: 'WARN_OIDC_REDIS_EVICTION' });
      expect(warnings[0]!.message).toContain('Could not check');
      // The stores themselves work for that user.
      expect(await s.ttlStore.setIfAbsent(`k-${uniq()}`, 'v', 60)).toBe(true);
    } finally {
      await limited.close();
      await admin.raw(['ACL', 'DELUSER', user]);
      await conns.closeAll();
    }
  });
});
