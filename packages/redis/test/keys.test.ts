/**
 * Key layout and Cluster safety, checked by a real server: a one-node Redis Cluster (cluster
 * mode on, all 16,384 slots assigned to it) refuses any command or script whose keys are in more
 * than one slot (CROSSSLOT), and answers CLUSTER KEYSLOT with Redis's own hashing.
 */
import type { Session } from '@oin-oidc/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisRateLimitStore, RedisRevocationList, RedisSessionStore, RedisTtlStore, type RedisPort } from '../src/index';
import { RedisKeys } from '../src/keys';
import { CLIENTS, connections, eventually, keySlot, type RunningServer, startRedisServer, uniq } from './helpers';

let server: RunningServer;
beforeAll(async () => {
  server = await startRedisServer({ args: ['--cluster-enabled', 'yes'] });
  const conns = connections('ioredis', () => server.url);
  const c = await conns.open();
  await c.raw(['CLUSTER', 'ADDSLOTSRANGE', '0', '16383']);
  const ok = await eventually(async () => String(await c.raw(['CLUSTER', 'INFO'])).includes('cluster_state:ok'));
  await conns.closeAll();
  if (!ok) throw new Error('the one-node cluster did not come up');
});
afterAll(async () => {
  await server?.stop();
});

const HOSTILE = ['{', '}', '{}', '{x}', '}{', 'a{b}c', '\n', '\r\n{\n}', ' ', '', 'x'.repeat(1500), 'ключ{🔑}'];

/** A port that records the keys of every script it runs. */
function recording(port: RedisPort) {
  const scripts: { name: string; keys: string[] }[] = [];
  const wrapped: RedisPort = {
    command: (args) => port.command(args),
    evalScript: (script, keys, args) => {
      scripts.push({ name: script.name, keys: [...keys] });
      return port.evalScript(script, keys, args);
    },
    subscribe: (channel, handlers) => port.subscribe(channel, handlers),
    close: () => port.close?.() ?? Promise.resolve(),
  };
  return { scripts, port: wrapped };
}

describe.each(CLIENTS)('key layout on a Redis Cluster node (%s)', (kind) => {
  const conns = connections(kind, () => server.url);
  afterEach(() => conns.closeAll());

  it('every script touches one slot; every key is namespaced by the prefix with a hashed tag', async () => {
    const c = await conns.open();
    const prefix = `app-${uniq()}`;
    const rec = recording(c.port);
    const ttl = new RedisTtlStore(rec.port, { prefix });
    const sessions = new RedisSessionStore(rec.port, { prefix });
    const limits = new RedisRateLimitStore(rec.port, { prefix });
    const revocations = new RedisRevocationList(rec.port, { prefix });
    const now = Date.now();
    for (const hostile of HOSTILE) {
      await ttl.set(hostile, 'v', 60);
      expect(await ttl.setIfAbsent(`${hostile}:once`, 'v', 60)).toBe(true);
      expect(await ttl.take(hostile)).toBe('v');
      const s: Session = {
        id: `${hostile}-id`,
        tenant: hostile,
        sub: `${hostile}-sub`,
        issuer: 'https://acme.okta.com',
        clientId: 'c',
        claims: {},
        issuedAt: now,
        expiresAt: now + 60_000,
      };
      await sessions.set(s.id, s, 60);
      expect(await sessions.get(s.id)).toEqual(s);
      await sessions.delete(s.id);
      await sessions.set(s.id, s, 60);
      const again = { ...s, id: `${hostile}-id2` };
      await sessions.set(again.id, again, 60);
      expect(await sessions.deleteBySubject(hostile, `${hostile}-sub`)).toBe(1);
      await limits.block(`https://${hostile}.okta.com`, 'introspection', now + 60_000);
      expect(await limits.blockedUntil(`https://${hostile}.okta.com`, 'introspection')).toBe(now + 60_000);
      // 0.01 tokens/s: the bucket key lives ~100 s, so it still has its TTL when the loop below reads
      // it (at 1 token/s it lived 2 s, and a loaded machine read it as already gone).
      expect(await limits.take(hostile, 0.01, 5)).toBeUndefined();
      await limits.give(hostile, 5);
      await revocations.add({ key: `session:${hostile}`.slice(0, 1024), revokedAt: now, until: now + 60_000 });
    }
    expect((await revocations.load()).length).toBe(HOSTILE.length);

    // The server ran every script (a CROSSSLOT would have rejected); check the slots ourselves too.
    expect(new Set(rec.scripts.map((s) => s.name))).toEqual(
      new Set(['session-set', 'session-delete', 'subject-index-add', 'block', 'bucket-take', 'bucket-give', 'revocation-add', 'revocation-load']),
    );
    for (const { keys } of rec.scripts) {
      const slots = await Promise.all(keys.map(async (k) => Number(await c.raw(['CLUSTER', 'KEYSLOT', k]))));
      expect(new Set(slots).size).toBe(1);
      expect(slots[0]).toBe(keySlot(keys[0]!));
    }

    // Every key: `<prefix>:{<tag>}:<kind>`, the tag a 43-character base64url hash (or the fixed
    // `revocations`), nothing of the hostile input in the name, and a TTL.
    const all = (await c.raw(['KEYS', `${prefix}:*`])) as string[];
    expect(all.length).toBeGreaterThan(HOSTILE.length * 3);
    for (const key of all) {
      expect(key).toMatch(/^app-[a-z0-9]+:\{([A-Za-z0-9_-]{43}|revocations)\}:[a-z:-]+$/);
      expect(Number(await c.raw(['PTTL', key]))).toBeGreaterThan(0);
    }
    // Another prefix sees none of them.
    expect(await new RedisTtlStore(c.port, { prefix: `${prefix}-other` }).get(HOSTILE[0]!)).toBeUndefined();
  });

  it('a session, its tombstone and the tag in the subject index name the same slot', async () => {
    const c = await conns.open();
    const keys = new RedisKeys('p');
    for (const id of HOSTILE) {
      const tag = keys.sessionTag(id);
      const slot = Number(await c.raw(['CLUSTER', 'KEYSLOT', keys.session(tag)]));
      expect(Number(await c.raw(['CLUSTER', 'KEYSLOT', keys.tombstone(tag)]))).toBe(slot);
      // deleteBySubject rebuilds both keys from the index member alone.
      expect(keys.session(tag)).toBe(`p:{${tag}}:session`);
    }
  });
});

describe('prefix', () => {
  it('refuses a prefix that would change the hash tag or break the key format', () => {
    for (const bad of ['', 'a{b', 'a}b', 'a b', 'a\nb', 'x'.repeat(65), 'é']) {
      expect(() => new RedisKeys(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    }
    expect(new RedisKeys('my-app:prod').ttl('k')).toMatch(/^my-app:prod:\{[A-Za-z0-9_-]{43}\}:ttl$/);
  });

  it('keySlot (the test’s CRC16) agrees with the Cluster spec examples', () => {
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
  });
});
