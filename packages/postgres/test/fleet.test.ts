/**
 * Two store instances on two pools stand for two processes of a fleet (the PostgreSQL tenant
 * store's promise, docs/postgres.md: a tenant added, changed or removed through any process is seen
 * by every process within 1 s). Tests poll and assert that the change arrives; they never assert
 * how long it took.
 */
import { type RunningPostgres, startPostgres } from '@oin-oidc/testing/servers';
import type { Pool } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPostgresCredentialStore, type PostgresCredentialStore } from '../src/index';
import { migrate } from '../src/index';
import { eventually, freshSchema, newPool, orgA, orgB, randomKey, record } from './helpers';

let server: RunningPostgres;
let poolA: Pool;
let poolB: Pool;
const open: PostgresCredentialStore[] = [];

beforeAll(async () => {
  server = await startPostgres();
  poolA = newPool(server, 10);
  poolB = newPool(server, 10);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((store) => store.close()));
});

afterAll(async () => {
  await Promise.all([poolA.end(), poolB.end()]);
  await server.stop();
});

async function pair() {
  const schema = freshSchema();
  await migrate(poolA, { schema });
  const keys = [randomKey('k1')];
  // The 2 s default deadline includes the wait for one of the pool's 5 connections: with 50 puts
  // queued per pool, a loaded machine made the last ones miss it ('connect deadline'). These tests
  // are about what lands, not how fast: 30 s is a deadline for a hang.
  const options = { schema, encryptionKeys: keys, queryTimeoutMs: 30_000, onEvent: () => {} };
  const a = await createPostgresCredentialStore({ pool: poolA, ...options });
  const b = await createPostgresCredentialStore({ pool: poolB, ...options });
  open.push(a, b);
  return { a, b, schema };
}

const secretsOf = async (store: PostgresCredentialStore, id: string) => {
  const tenant = await store.get(id);
  return tenant && tenant.auth.method !== 'private_key_jwt' ? tenant.auth.secrets.map((s) => s.value) : undefined;
};

describe('fleet: LISTEN/NOTIFY invalidation', () => {
  it('a tenant added, rotated and removed on one process is seen by the other', async () => {
    const { a, b } = await pair();
    await a.put(record('acme'));
    expect(await eventually(async () => (await b.get('acme'))?.clientId === '0oa-acme')).toBe(true);
    expect((await b.findByIssuer(orgA)).map((t) => t.id)).toEqual(['acme']);

    // A rotated client secret (the usual change).
    await a.put({ ...record('acme'), clientSecrets: [{ value: 'ROTATED', active: true }, { value: 'PLAINTEXT-SECRET-acme-new', active: false }] });
    expect(await eventually(async () => (await secretsOf(b, 'acme'))?.[0] === 'ROTATED')).toBe(true);

    // Moved to another org: both indexes follow.
    await b.put(record('acme', orgB));
    expect(await eventually(async () => (await a.get('acme'))?.issuer === orgB)).toBe(true);
    expect(await a.findByIssuer(orgA)).toEqual([]);
    expect((await a.findByIssuer(orgB)).map((t) => t.id)).toEqual(['acme']);

    expect(await a.delete('acme')).toBe(true);
    expect(await eventually(async () => (await b.get('acme')) === undefined)).toBe(true);
    expect(await b.findByIssuer(orgB)).toEqual([]);
  });

  it('a change made by hand in psql (a DBA, another tool) reaches every process through the trigger', async () => {
    const { a, b, schema } = await pair();
    await a.put(record('dba'));
    expect(await eventually(async () => (await b.get('dba')) !== undefined)).toBe(true);
    await server.admin(`UPDATE "${schema}".tenants SET record = jsonb_set(record, '{scopes}', '["openid","email"]') WHERE id = 'dba'`);
    expect(await eventually(async () => (await a.get('dba'))?.scopes.join(' ') === 'openid email')).toBe(true);
    expect(await eventually(async () => (await b.get('dba'))?.scopes.join(' ') === 'openid email')).toBe(true);
    await server.admin(`TRUNCATE "${schema}".tenants`);
    expect(await eventually(async () => a.size === 0 && b.size === 0)).toBe(true);
  });

  it('100 concurrent puts of distinct tenants from two processes all land, in the database and in both snapshots', async () => {
    const { a, b, schema } = await pair();
    const ids = Array.from({ length: 100 }, (_, i) => `t${String(i).padStart(3, '0')}`);
    const results = await Promise.allSettled(ids.map((id, i) => (i % 2 === 0 ? a : b).put(record(id, i % 3 === 0 ? orgA : orgB))));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await server.admin(`SELECT count(*) FROM "${schema}".tenants`)).toBe('100\n');
    expect(await eventually(() => a.size === 100 && b.size === 100)).toBe(true);
    expect((await a.list()).map((t) => t.id)).toEqual(ids);
    expect((await b.list()).map((t) => t.id)).toEqual(ids);
    expect((await b.findByIssuer(orgA)).length + (await b.findByIssuer(orgB)).length).toBe(100);
  });

  it('two processes racing for one (issuer, client id): exactly one wins, the other gets the typed error', async () => {
    const { a, b } = await pair();
    const results = await Promise.allSettled([
      a.put(record('first', orgA, { clientId: '0oa-shared' })),
      b.put(record('second', orgA, { clientId: '0oa-shared' })),
    ]);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toMatchObject({ code: 'ERR_OIDC_INVALID_TENANT', details: { field: 'clientId' } });
    expect(await eventually(async () => (await a.findByIssuer(orgA)).length === 1 && (await b.findByIssuer(orgA)).length === 1)).toBe(true);
  });

  it('an issuer alias counts for the (issuer, client id) rule, also when two processes race (SA-17)', async () => {
    const { a, b } = await pair();
    const custom = 'https://login.org-a.example';
    await a.put(record('main', orgA, { clientId: '0oa-x', issuerAliases: [custom] }));
    await expect(b.put(record('squat', custom, { clientId: '0oa-x' }))).rejects.toMatchObject({
      code: 'ERR_OIDC_INVALID_TENANT',
      details: { field: 'clientId', otherTenantId: 'main' },
    });
    expect(await eventually(async () => (await b.findByIssuer(custom)).map((t) => t.id).join() === 'main')).toBe(true);
    // Racing: one has the pair as its issuer, the other as an alias; exactly one lands.
    const results = await Promise.allSettled([
      a.put(record('r1', orgB, { clientId: '0oa-y' })),
      b.put(record('r2', 'https://login.org-b.example', { clientId: '0oa-y', issuerAliases: [orgB] })),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_OIDC_INVALID_TENANT' });
  });

  it('get and findByIssuer never query the database, for known and unknown tenants alike', async () => {
    const { a } = await pair();
    await a.put(record('known'));
    const connect = vi.spyOn(poolA, 'connect');
    const query = vi.spyOn(poolA, 'query');
    try {
      for (let i = 0; i < 1000; i++) {
        await a.get(`unknown-${i}`);
        await a.get('known');
        await a.findByIssuer(`https://org-${i}.okta.com`);
      }
      expect(connect).not.toHaveBeenCalled();
      expect(query).not.toHaveBeenCalled();
    } finally {
      connect.mockRestore();
      query.mockRestore();
    }
  });
});
