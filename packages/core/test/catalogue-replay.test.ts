/**
 * Catalogue DS-05 / FP-07: the simplified-flow replay cache has a hard size cap and fails closed
 * when it is full of live entries, instead of forgetting one (which would let that captured ID
 * token be replayed). Real ID tokens from the emulator's Okta simplified sign-in.
 */
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOidcClient } from '../src/client';
import { isOidcError } from '../src/errors';
import { createMemoryCredentialStore } from '../src/tenant/credential-store';
import { MemoryTtlStore, PartitionedMemoryTtlStore } from '../src/ttl-store';

let org: OktaOrg;
beforeAll(async () => {
  org = await startOktaOrg({
    clients: [
      { clientId: '0oaSimplified0000001', clientSecret: 's', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: ['http://127.0.0.1:4000/auth/callback'] },
      { clientId: '0oaSimplified0000002', clientSecret: 's', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: ['http://127.0.0.1:4000/auth/callback'] },
    ],
    users: [{ login: 'dan@acme.example', password: 'pw' }],
  });
});
afterAll(() => org?.close());

async function code(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (isOidcError(error)) return error.code;
    throw error;
  }
}

describe('catalogue: replay cache bounds (DS-05)', () => {
  it('DS-05: a full replay cache refuses new simplified sign-ins (ERR_OIDC_STORE_FAILURE) and still refuses every replay', async () => {
    const client = createOidcClient({
      store: createMemoryCredentialStore([
        { id: 'acme', issuer: org.issuer, clientId: '0oaSimplified0000001', clientSecret: 's', redirectUris: ['http://127.0.0.1:4000/auth/callback'], allowSimplifiedFlow: true },
      ]),
      replayStore: new MemoryTtlStore({ maxEntries: 2, whenFull: 'refuse' }),
      allowLoopbackIssuers: true, // the emulator (SA-12)
    });
    const tokens = await Promise.all([1, 2, 3].map(() => org.control.issueIdToken('0oaSimplified0000001')));
    const [first = '', second = '', third = ''] = tokens;
    expect(await code(client.handleSimplifiedFlow(first))).toBeUndefined();
    expect(await code(client.handleSimplifiedFlow(second))).toBeUndefined();
    expect(await code(client.handleSimplifiedFlow(third))).toBe('ERR_OIDC_STORE_FAILURE');
    // The live entries were kept: both replays stay refused.
    expect(await code(client.handleSimplifiedFlow(first))).toBe('ERR_OIDC_ID_TOKEN_REPLAYED');
    expect(await code(client.handleSimplifiedFlow(second))).toBe('ERR_OIDC_ID_TOKEN_REPLAYED');
  });

  it('SA-07: one tenant filling its replay quota fails only its own simplified sign-ins (ERR_OIDC_RATE_LIMITED); replays stay refused', async () => {
    const record = { issuer: org.issuer, clientSecret: 's', redirectUris: ['http://127.0.0.1:4000/auth/callback'], allowSimplifiedFlow: true };
    const client = createOidcClient({
      store: createMemoryCredentialStore([
        { ...record, id: 'noisy', clientId: '0oaSimplified0000001' },
        { ...record, id: 'quiet', clientId: '0oaSimplified0000002' },
      ]),
      replayQuotaPerTenant: 3,
      allowLoopbackIssuers: true,
      onWarning: () => undefined,
    });
    const noisy = await Promise.all([1, 2, 3, 4].map(() => org.control.issueIdToken('0oaSimplified0000001')));
    for (const token of noisy.slice(0, 3)) expect(await code(client.handleSimplifiedFlow(token))).toBeUndefined();
    const refused = await client.handleSimplifiedFlow(noisy[3]!).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ code: 'ERR_OIDC_RATE_LIMITED', status: 503, details: { reason: 'replay-quota' } });
    // Retry-After: when the oldest entry expires (entries live about maxTokenAgeSec + tolerance).
    expect((refused as { retryAfter?: number }).retryAfter).toBeGreaterThan(0);
    expect((refused as { retryAfter?: number }).retryAfter).toBeLessThanOrEqual(300 + 30 + 1);
    for (const token of noisy.slice(0, 3)) expect(await code(client.handleSimplifiedFlow(token))).toBe('ERR_OIDC_ID_TOKEN_REPLAYED');
    // Every other tenant carries on.
    for (let i = 0; i < 3; i += 1) {
      expect(await code(client.handleSimplifiedFlow(await org.control.issueIdToken('0oaSimplified0000002')))).toBeUndefined();
    }
  });

  it('SA-07: the default per-tenant quota is 1,000 live entries, and the default store is partitioned (not one shared 10,000)', async () => {
    let now = 1_700_000_000_000;
    const store = new PartitionedMemoryTtlStore({ now: () => now });
    const acme = store.partition('acme');
    for (let i = 0; i < 1000; i += 1) expect(await acme.setIfAbsent(`k${i}`, '1', 330)).toBe(true);
    await expect(acme.setIfAbsent('one-more', '1', 330)).rejects.toThrow(/partition is full/);
    expect(await store.partition('globex').setIfAbsent('k0', '1', 330)).toBe(true);
    expect(await acme.setIfAbsent('k0', '1', 330)).toBe(false);
    now += 331_000; // every acme entry has expired: room again, and empty partitions are dropped
    expect(await acme.setIfAbsent('one-more', '1', 330)).toBe(true);
    expect(store.size).toBeLessThanOrEqual(2);
  });

  it('SA-07: the partitioned store bounds its total too, fails closed and says when to retry', async () => {
    let now = 1_700_000_000_000;
    const store = new PartitionedMemoryTtlStore({
      maxEntriesPerPartition: 5,
      maxEntries: 6,
      now: () => now,
      full: (scope, retryAfterSec) => Object.assign(new Error(scope), { retryAfterSec }),
    });
    for (const name of ['a', 'b', 'c']) {
      expect(await store.partition(name).setIfAbsent('1', 'v', 100)).toBe(true);
      expect(await store.partition(name).setIfAbsent('2', 'v', 200)).toBe(true);
    }
    await expect(store.partition('d').setIfAbsent('1', 'v', 10)).rejects.toMatchObject({ message: 'store', retryAfterSec: 100 });
    expect(await store.partition('a').get('1')).toBe('v');
    now += 101_000; // the three 100 s entries expire; the store-wide sweep makes room
    expect(await store.partition('d').setIfAbsent('1', 'v', 10)).toBe(true);
    expect(store.size).toBe(4);
    expect(await store.partition('a').take('2')).toBe('v');
    expect(await store.partition('a').take('2')).toBeUndefined();
    expect(() => new PartitionedMemoryTtlStore({ maxEntriesPerPartition: 0 })).toThrow(TypeError);
    await expect(store.partition('a').set('x', 'v', 0)).rejects.toThrow(TypeError);
  });

  it("DS-05: whenFull 'refuse' makes room from expired entries only; 'evict' (the default) drops the oldest live one", async () => {
    let now = 1_000_000;
    const refusing = new MemoryTtlStore({ maxEntries: 2, whenFull: 'refuse', now: () => now });
    expect(await refusing.setIfAbsent('a', '1', 10)).toBe(true);
    expect(await refusing.setIfAbsent('b', '1', 100)).toBe(true);
    await expect(refusing.setIfAbsent('c', '1', 10)).rejects.toThrow(/full/);
    expect(await refusing.get('a')).toBe('1');
    now += 11_000; // 'a' expires
    expect(await refusing.setIfAbsent('c', '1', 10)).toBe(true);
    expect(await refusing.setIfAbsent('b', '1', 10)).toBe(false);

    const evicting = new MemoryTtlStore({ maxEntries: 2, now: () => now });
    await evicting.set('a', '1', 10);
    await evicting.set('b', '1', 10);
    expect(await evicting.setIfAbsent('c', '1', 10)).toBe(true);
    expect(await evicting.get('a')).toBeUndefined();
    expect(() => new MemoryTtlStore({ whenFull: 'drop' as never })).toThrow(TypeError);
  });
});
