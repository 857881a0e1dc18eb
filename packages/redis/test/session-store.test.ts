import type { Session } from '@oin-oidc/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisSessionStore } from '../src/index';
import { RedisKeys } from '../src/keys';
import { CLIENTS, connections, type RunningServer, startRedisServer, uniq } from './helpers';

let server: RunningServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

function session(overrides: Partial<Session> = {}): Session {
  const now = Date.now();
  return {
    id: `sid-${uniq()}`,
    tenant: 'acme',
    issuer: 'https://acme.okta.com',
    clientId: '0oa-acme',
    sub: `00u-${uniq()}`,
    claims: { name: 'Ada', email: 'ada@example.com' },
    issuedAt: now,
    expiresAt: now + 3600_000,
    ...overrides,
  };
}

describe.each(CLIENTS)('RedisSessionStore (%s)', (kind) => {
  const conns = connections(kind, () => server.url);
  afterEach(() => conns.closeAll());

  it('stores the Session as JSON and reads it back', async () => {
    const { port } = await conns.open();
    const store = new RedisSessionStore(port);
    const s = session({ claims: { name: 'Zoë 🔑', nested: { a: [1, 2] } }, idToken: 'eyJ.x.y' });
    expect(await store.get(s.id)).toBeUndefined();
    await store.set(s.id, s, 3600);
    expect(await store.get(s.id)).toEqual(s);
  });

  it('the TTL is min(ttlSec, expiresAt − now): a touch never extends past expiresAt (connect-redis #251)', async () => {
    const c = await conns.open();
    const prefix = `s-${uniq()}`;
    const store = new RedisSessionStore(c.port, { prefix });
    const keys = new RedisKeys(prefix);
    const s = session({ expiresAt: Date.now() + 20_000 });
    const before = Date.now();
    await store.set(s.id, s, 3600); // asks for an hour; the session ends in 20 s
    const pttl = Number(await c.raw(['PTTL', keys.session(keys.sessionTag(s.id))]));
    expect(pttl).toBeGreaterThan(0);
    // The TTL is what was left at the call: the key ends when the session does (plus the
    // command's own latency, which get() covers by checking expiresAt itself).
    expect(pttl).toBeLessThanOrEqual(s.expiresAt - before);
    // A shorter rolling window wins when it is the earlier end.
    await store.set(s.id, s, 5);
    expect(Number(await c.raw(['PTTL', keys.session(keys.sessionTag(s.id))]))).toBeLessThanOrEqual(5000);
  });

  it('get never returns a session past its expiresAt, even if its key outlived it', async () => {
    const c = await conns.open();
    const prefix = `s-${uniq()}`;
    const store = new RedisSessionStore(c.port, { prefix });
    const keys = new RedisKeys(prefix);
    const s = session({ expiresAt: Date.now() + 60_000 });
    await store.set(s.id, s, 3600);
    await c.raw(['PEXPIRE', keys.session(keys.sessionTag(s.id)), '600000']); // as if written by a skewed clock
    expect(await store.get(s.id)).toEqual(s);
    // This process's clock passes expiresAt (faked: no sleeping past a short session) while Redis
    // still holds the key.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(s.expiresAt);
      expect(await store.get(s.id)).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
    expect(Number(await c.raw(['EXISTS', keys.session(keys.sessionTag(s.id))]))).toBe(1);
  });

  it('an already expired session is not written (and an old copy is removed)', async () => {
    const { port } = await conns.open();
    const store = new RedisSessionStore(port);
    const s = session();
    await store.set(s.id, s, 60);
    await store.set(s.id, { ...s, expiresAt: Date.now() - 1 }, 60);
    expect(await store.get(s.id)).toBeUndefined();
  });

  it('delete leaves a tombstone: a later set of that id is refused (connect-redis #328)', async () => {
    const c = await conns.open();
    const prefix = `s-${uniq()}`;
    const store = new RedisSessionStore(c.port, { prefix, tombstoneSec: 120 });
    const keys = new RedisKeys(prefix);
    const s = session({ expiresAt: Date.now() + 600_000 });
    await store.set(s.id, s, 600);
    await store.delete(s.id);
    expect(await store.get(s.id)).toBeUndefined();
    await store.set(s.id, s, 600); // a request that read the session before the logout
    expect(await store.get(s.id)).toBeUndefined();
    // The tombstone lives as long as the session had left (≥ tombstoneSec), and the refused
    // write stretched it to the TTL it wanted.
    const tomb = Number(await c.raw(['PTTL', keys.tombstone(keys.sessionTag(s.id))]));
    expect(tomb).toBeGreaterThan(120_000);
    expect(tomb).toBeLessThanOrEqual(600_000);
    // Deleting an id never stored still tombstones it.
    const fresh = session();
    await store.delete(fresh.id);
    await store.set(fresh.id, fresh, 60);
    expect(await store.get(fresh.id)).toBeUndefined();
  });

  it('set racing delete from other connections never brings a session back', async () => {
    const conns3 = await Promise.all([conns.open(), conns.open(), conns.open()]);
    const stores = conns3.map((c) => new RedisSessionStore(c.port));
    const all = Array.from({ length: 30 }, () => session());
    await Promise.all(all.map((s) => stores[0]!.set(s.id, s, 600)));
    await Promise.all(
      all.flatMap((s, i) => [
        stores[(i + 1) % 3]!.set(s.id, { ...s, expiresAt: s.expiresAt + 1000 }, 600),
        stores[(i + 2) % 3]!.delete(s.id),
        stores[i % 3]!.set(s.id, s, 600),
      ]),
    );
    const after = await Promise.all(all.map((s) => stores[1]!.get(s.id)));
    expect(after.every((v) => v === undefined)).toBe(true);
  });

  it('deleteBySubject deletes every session of that user, only those, and returns the count', async () => {
    const c = await conns.open();
    const peer = await conns.open();
    const store = new RedisSessionStore(c.port);
    const other = new RedisSessionStore(peer.port);
    const sub = `00u-${uniq()}`;
    const mine = [session({ sub }), session({ sub }), session({ sub })];
    const sameSubOtherTenant = session({ sub, tenant: 'globex' });
    const someoneElse = session({ tenant: 'acme' });
    for (const s of [...mine, sameSubOtherTenant, someoneElse]) await store.set(s.id, s, 600);
    await store.set(mine[0]!.id, mine[0]!, 600); // re-set (rolling): still counted once
    expect(await other.deleteBySubject('acme', sub)).toBe(3);
    for (const s of mine) expect(await store.get(s.id)).toBeUndefined();
    expect(await store.get(sameSubOtherTenant.id)).toEqual(sameSubOtherTenant);
    expect(await store.get(someoneElse.id)).toEqual(someoneElse);
    // Tombstoned: a request in flight cannot bring one back.
    await store.set(mine[1]!.id, mine[1]!, 600);
    expect(await store.get(mine[1]!.id)).toBeUndefined();
    expect(await other.deleteBySubject('acme', sub)).toBe(0);
    expect(await other.deleteBySubject('acme', `nobody-${uniq()}`)).toBe(0);
  });

  it('deleteBySubject racing sets of that user: no session that was stored before it survives', async () => {
    const conns3 = await Promise.all([conns.open(), conns.open(), conns.open()]);
    const stores = conns3.map((c) => new RedisSessionStore(c.port));
    const sub = `00u-${uniq()}`;
    const all = Array.from({ length: 20 }, () => session({ sub }));
    await Promise.all(all.map((s, i) => stores[i % 3]!.set(s.id, s, 600)));
    const [count] = await Promise.all([
      stores[0]!.deleteBySubject('acme', sub),
      ...all.map((s, i) => stores[(i % 2) + 1]!.set(s.id, { ...s, expiresAt: s.expiresAt + 5000 }, 600)),
    ]);
    expect(count).toBe(20);
    const after = await Promise.all(all.map((s) => stores[2]!.get(s.id)));
    expect(after.filter((v) => v !== undefined)).toEqual([]);
  });

  it('the subject index expires with its latest session and drops expired members', async () => {
    const c = await conns.open();
    const prefix = `s-${uniq()}`;
    const store = new RedisSessionStore(c.port, { prefix });
    const keys = new RedisKeys(prefix);
    const sub = `00u-${uniq()}`;
    const a = session({ sub, expiresAt: Date.now() + 30_000 });
    const b = session({ sub, expiresAt: Date.now() + 90_000 });
    await store.set(a.id, a, 600);
    await store.set(b.id, b, 600);
    const index = keys.subjectSessions('acme', sub);
    const pttl = Number(await c.raw(['PTTL', index]));
    expect(pttl).toBeGreaterThan(30_000);
    expect(pttl).toBeLessThanOrEqual(90_000);
    expect(Number(await c.raw(['ZCARD', index]))).toBe(2);
    // Members are session tags, never raw ids.
    const members = (await c.raw(['ZRANGE', index, '0', '-1'])) as string[];
    expect(members).not.toContain(a.id);
    expect(members).toContain(keys.sessionTag(a.id));
  });

  it('a value the store did not write rejects with ERR_OIDC_STORE_FAILURE, without the value in the message', async () => {
    const c = await conns.open();
    const prefix = `s-${uniq()}`;
    const store = new RedisSessionStore(c.port, { prefix });
    const keys = new RedisKeys(prefix);
    const id = `sid-${uniq()}`;
    await c.raw(['SET', keys.session(keys.sessionTag(id)), 'secret-not-json']);
    const error = await store.get(id).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'OidcError', code: 'ERR_OIDC_STORE_FAILURE', details: { reason: 'corrupt' } });
    expect(String((error as Error).message)).not.toContain('secret');
    // A key of the wrong type: Redis's WRONGTYPE, mapped the same way.
    await c.raw(['DEL', keys.session(keys.sessionTag(id))]);
    await c.raw(['HSET', keys.session(keys.sessionTag(id)), 'f', 'secret-value']);
    await expect(store.get(id)).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_FAILURE', details: { reason: 'reply', redisError: 'WRONGTYPE' } });
  });
});
