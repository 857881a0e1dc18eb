/**
 * Failure behaviour against a real server that is killed, paused and restarted mid-run: every
 * call rejects with ERR_OIDC_STORE_FAILURE (never "allowed", never "not found"), within the
 * deadline, and everything works again after a restart without a new client.
 */
import type { OidcWarning, RevocationRecord, Session } from '@oin-oidc/core';
import { isOidcError } from '@oin-oidc/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStores, RedisRevocationList, type RedisStores } from '../src/index';
import { CLIENTS, connections, eventually, type RunningServer, settle, startRedisServer, uniq } from './helpers';

/**
 * The stores' per-command deadline here. Generous enough that a command to a live server never
 * misses it on a loaded 2-core machine (a call that must succeed, e.g. the first write of a test,
 * has no retry), short enough that a test waiting for a 'timeout' does not wait long.
 */
const TIMEOUT_MS = 2_000;

function session(): Session {
  const now = Date.now();
  return { id: `sid-${uniq()}`, tenant: 't', sub: `u-${uniq()}`, issuer: 'https://t.okta.com', clientId: 'c', claims: {}, issuedAt: now, expiresAt: now + 60_000 };
}

/** Every store operation once, settled. */
function everyCall(stores: RedisStores, secret: string) {
  const s = { ...session(), claims: { secret } };
  const now = Date.now();
  return Promise.all([
    settle(stores.ttlStore.get(secret)),
    settle(stores.ttlStore.set(secret, secret, 60)),
    settle(stores.ttlStore.setIfAbsent(secret, secret, 60)),
    settle(stores.ttlStore.take(secret)),
    settle(stores.ttlStore.delete(secret)),
    settle(stores.sessionStore.get(s.id)),
    settle(stores.sessionStore.set(s.id, s, 60)),
    settle(stores.sessionStore.delete(s.id)),
    settle(stores.sessionStore.deleteBySubject('t', secret)),
    settle(stores.rateLimitStore.blockedUntil('https://t.okta.com', 'introspection')),
    settle(stores.rateLimitStore.block('https://t.okta.com', 'introspection', now + 60_000)),
    settle(stores.rateLimitStore.take(secret, 1, 10)),
    settle(stores.rateLimitStore.give(secret, 10)),
    settle(stores.revocationList.add({ key: `session:${secret}`, revokedAt: now, until: now + 60_000 })),
    settle(stores.revocationList.load()),
  ]);
}

function expectStoreFailure(error: unknown, secret: string): void {
  expect(isOidcError(error)).toBe(true);
  expect(error).toMatchObject({ code: 'ERR_OIDC_STORE_FAILURE', status: 503, details: { store: 'redis' } });
  expect(['timeout', 'connection']).toContain((error as { details: { reason: string } }).details.reason);
  // Nothing of the key, value or session in the message, the details or the cause.
  const cause = (error as Error).cause as Error | undefined;
  const text = `${(error as Error).message} ${JSON.stringify((error as { details: unknown }).details)} ${cause?.message ?? ''}`;
  expect(text).not.toContain(secret);
}

describe.each(CLIENTS)('failures (%s)', (kind) => {
  let server: RunningServer;
  const conns = connections(kind, () => server.url);
  const made: RedisStores[] = [];
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    await Promise.all(made.splice(0).map((s) => s.close()));
    await conns.closeAll();
  });
  async function stores(options: { onWarning?: (w: OidcWarning) => void } = {}): Promise<RedisStores> {
    const c = await conns.open();
    const s = createRedisStores({ client: c.port, commandTimeoutMs: TIMEOUT_MS, onWarning: options.onWarning ?? (() => undefined) });
    made.push(s);
    return s;
  }

  it('server killed mid-run: every call rejects with ERR_OIDC_STORE_FAILURE; after a restart the same client works', async () => {
    const s = await stores();
    const secret = `secret-${uniq()}`;
    expect(await s.ttlStore.setIfAbsent(`before-${secret}`, 'v', 60)).toBe(true);
    await server.kill();
    const results = await everyCall(s, secret);
    for (const result of results) {
      expect(result.ok).toBe(false);
      if (!result.ok) expectStoreFailure(result.error, secret);
    }
    // A replay check while Redis is down is never "allowed".
    const replay = await settle(s.ttlStore.setIfAbsent(`replay-${secret}`, 'v', 60));
    expect(replay.ok).toBe(false);
    await server.restart();
    expect(await eventually(async () => (await settle(s.ttlStore.get('probe'))).ok)).toBe(true);
    // The restarted server is empty (no persistence) and knows none of the scripts: EVALSHA's
    // NOSCRIPT falls back to EVAL.
    const after = await everyCall(s, `again-${uniq()}`);
    expect(after.filter((r) => !r.ok)).toEqual([]);
  });

  it('while the client reconnects, calls fail at once with reason connection instead of queueing until the deadline', async () => {
    const s = await stores();
    expect(await s.ttlStore.setIfAbsent(`before-${uniq()}`, 'v', 60)).toBe(true);
    await server.kill();
    // Once the client has noticed the loss it is reconnecting: every later call is refused as a
    // connection failure (a queued call would instead end as 'timeout' at the deadline).
    const reasons = await eventually(async () => {
      const result = await settle(s.ttlStore.get('probe'));
      return !result.ok && (result.error as { details: { reason: string } }).details.reason === 'connection';
    });
    expect(reasons).toBe(true);
    const results = await everyCall(s, `lost-${uniq()}`);
    expect(results.map((r) => (r.ok ? 'ok' : (r.error as { details: { reason: string } }).details.reason))).toEqual(results.map(() => 'connection'));
    await server.restart();
    expect(await eventually(async () => (await settle(s.ttlStore.get('probe'))).ok)).toBe(true);
  });

  it('a server that does not answer (SIGSTOP): calls reject with reason timeout, then work again', async () => {
    const s = await stores();
    expect((await settle(s.ttlStore.get('k'))).ok).toBe(true);
    // Stopped until the test says so (not a CLIENT PAUSE of fixed length, which a slow machine could
    // outlast before the call is even sent): the connection stays up, nothing answers.
    process.kill(server.pid, 'SIGSTOP');
    let result: Awaited<ReturnType<typeof settle>>;
    try {
      result = await settle(s.ttlStore.get('k'));
    } finally {
      process.kill(server.pid, 'SIGCONT');
    }
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ code: 'ERR_OIDC_STORE_FAILURE', details: { reason: 'timeout', timeoutMs: TIMEOUT_MS } });
    expect(await eventually(async () => (await settle(s.ttlStore.get('k'))).ok)).toBe(true);
  });

  it('the revocation feed calls onResync after a restart and receives records added after it', async () => {
    const s = await stores();
    const peer = await stores();
    const records: RevocationRecord[] = [];
    let resyncs = 0;
    s.revocationList.subscribe({ onRecord: (r) => void records.push(r), onResync: () => void resyncs++ });
    expect(await eventually(() => resyncs === 1)).toBe(true);
    // kill() waits for the process to exit, so the feed's connection is gone: it must resync after
    // the restart however soon that comes (no sleep in between).
    await server.kill();
    await server.restart();
    expect(await eventually(() => resyncs === 2)).toBe(true);
    const now = Date.now();
    const record = { key: `session:${uniq()}`, revokedAt: now, until: now + 60_000 };
    expect(await eventually(async () => (await settle(peer.revocationList.add(record))).ok)).toBe(true);
    expect(await eventually(() => records.some((r) => r.key === record.key))).toBe(true);
    expect(records.find((r) => r.key === record.key)).toEqual(record);
  });

  it('a feed subscribed while Redis is down warns once, then subscribes, resyncs and delivers when it is back', async () => {
    const warnings: OidcWarning[] = [];
    const c = await conns.open();
    const list = new RedisRevocationList(c.port, { commandTimeoutMs: TIMEOUT_MS, onWarning: (w) => void warnings.push(w) });
    await server.kill();
    const records: RevocationRecord[] = [];
    let resyncs = 0;
    const stop = list.subscribe({ onRecord: (r) => void records.push(r), onResync: () => void resyncs++ });
    try {
      expect(await eventually(() => warnings.length > 0)).toBe(true);
      expect(warnings[0]).toMatchObject({ code: 'WARN_OIDC_REVOCATIONS_NOT_LOADED' });
      expect(resyncs).toBe(0);
      await server.restart();
      expect(await eventually(() => resyncs === 1)).toBe(true);
      const now = Date.now();
      const late = { key: 'session:late', revokedAt: now, until: now + 60_000 };
      // The feed's own connection is back (it resynced), but the app's client reconnects on its own
      // schedule: the add is retried until that client is back too, as in the test above.
      expect(await eventually(async () => (await settle(list.add(late))).ok)).toBe(true);
      expect(await eventually(() => records.some((r) => r.key === late.key))).toBe(true);
      expect(records.find((r) => r.key === late.key)).toEqual(late);
      expect(warnings.filter((w) => w.code === 'WARN_OIDC_REVOCATIONS_NOT_LOADED')).toHaveLength(1);
    } finally {
      stop();
      await list.close();
    }
  });

  it('close() ends the stores (later calls reject) but leaves the app’s client open', async () => {
    const c = await conns.open();
    const s = createRedisStores({ client: c.port, onWarning: () => undefined });
    await s.ttlStore.set('k', 'v', 60);
    await s.close();
    await expect(s.ttlStore.get('k')).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_FAILURE', details: { reason: 'closed' } });
    await expect(s.sessionStore.get('x')).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_FAILURE', details: { reason: 'closed' } });
    expect(await c.raw(['PING'])).toBe('PONG');
  });
});
