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
import { MemoryTtlStore } from '../src/ttl-store';

let org: OktaOrg;
beforeAll(async () => {
  org = await startOktaOrg({
    clients: [{ clientId: '0oaSimplified0000001', clientSecret: 's', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: ['http://127.0.0.1:4000/auth/callback'] }],
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
