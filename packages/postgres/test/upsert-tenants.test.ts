import { createMemoryCredentialStore } from '@oin-oidc/core';
import { type RunningPostgres, startPostgres } from '@oin-oidc/testing/servers';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresCredentialStore, upsertTenants } from '../src/index';
import { keyText, newPool, openStore, orgA, orgB, randomKey, record } from './helpers';

let server: RunningPostgres;
let pool: Pool;

beforeAll(async () => {
  server = await startPostgres();
  pool = newPool(server);
});

afterAll(async () => {
  await pool.end();
  await server.stop();
});

describe('upsertTenants', () => {
  it('validates every record first: one invalid record, a duplicate id or a duplicate client writes nothing', async () => {
    const { store, schema } = await openStore(pool);
    const bad = [
      [record('a'), { ...record('b'), redirectUris: [] }],
      [record('a'), record('a', orgB)],
      [record('a'), record('b', orgA, { clientId: '0oa-a' })],
    ];
    const codes = [];
    for (const records of bad) codes.push(await upsertTenants(store, records).then(() => 'resolved', (e: { code: string }) => e.code));
    expect(codes).toEqual(['ERR_OIDC_INVALID_TENANT', 'ERR_OIDC_INVALID_TENANT', 'ERR_OIDC_INVALID_TENANT']);
    await expect(upsertTenants(store, '{"not": "an array"}')).rejects.toMatchObject({ code: 'ERR_OIDC_INVALID_TENANT' });
    expect(await server.admin(`SELECT count(*) FROM "${schema}".tenants`)).toBe('0\n');
    await store.close();
  });

  it('writes changed records only: a fleet upserting the same file at start-up causes no writes and no notifications', async () => {
    const key = randomKey('k1');
    const { store, schema } = await openStore(pool, { encryptionKeys: [key] });
    const records = [record('u1'), record('u2'), record('u3')];
    expect(await upsertTenants(store, JSON.stringify(records))).toBe(3);
    const revisions = () => server.admin(`SELECT string_agg(id || ':' || revision, ',' ORDER BY id) FROM "${schema}".tenants`);
    const before = await revisions();

    // A second process with the same file and keys.
    const other = await createPostgresCredentialStore({ pool, schema, encryptionKeys: keyText(key), onEvent: () => {} });
    expect(await upsertTenants(other, records)).toBe(3);
    expect(await upsertTenants(store, records)).toBe(3);
    expect(await revisions()).toBe(before);

    // One record changed: only it is written.
    await upsertTenants(other, [record('u1'), { ...record('u2'), scopes: ['openid'] }, record('u3')]);
    const after = (await revisions()).trim().split(',');
    const old = before.trim().split(',');
    expect([after[0] === old[0], after[1] === old[1], after[2] === old[2]]).toEqual([true, false, true]);

    // With a new first key, unchanged records are rewritten under it (lazy re-encryption).
    const rotated = await createPostgresCredentialStore({ pool, schema, encryptionKeys: [randomKey('k2'), key], onEvent: () => {} });
    await upsertTenants(rotated, [record('u1')]);
    expect((await server.admin(`SELECT key_id FROM "${schema}".tenants WHERE id = 'u1'`)).trim()).toBe('k2');
    await Promise.all([store.close(), other.close(), rotated.close()]);
  });

  it('works with any CredentialStore that has put (the memory store too)', async () => {
    const memory = createMemoryCredentialStore();
    expect(await upsertTenants(memory, [record('m1'), record('m2', orgB)])).toBe(2);
    expect(memory.size).toBe(2);
    await expect(upsertTenants({ get: async () => undefined, findByIssuer: async () => [] }, [record('x')])).rejects.toMatchObject({
      code: 'ERR_OIDC_INVALID_OPTIONS',
    });
  });
});
