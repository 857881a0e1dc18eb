/**
 * Failure semantics (docs/deployment.md, 'What fails how'): Postgres down or restarted. The tenant
 * cache keeps serving known tenants (bounded staleness, reported), writes fail with a typed error,
 * nothing crashes, and everything recovers on reconnect without a restart, including changes whose
 * notifications were missed.
 */
import { type RunningPostgres, startPostgres } from '@oin-oidc/testing/servers';
import { Pool } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresCredentialStore, migrate, type PostgresCredentialStore, type PostgresStoreEvent } from '../src/index';
import { eventually, freshSchema, newPool, orgA, randomKey, record } from './helpers';

let server: RunningPostgres;
const pools: Pool[] = [];
const open: PostgresCredentialStore[] = [];

beforeAll(async () => {
  server = await startPostgres();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((store) => store.close()));
  await Promise.all(pools.splice(0).map((pool) => pool.end()));
});

afterAll(async () => {
  await server.stop();
});

function trackedPool(url = server.url): Pool {
  const pool = url === server.url ? newPool(server) : new Pool({ connectionString: url });
  pool.on('error', () => {});
  pools.push(pool);
  return pool;
}

async function instance(pool: Pool, schema: string, keys: ReturnType<typeof randomKey>[], events: PostgresStoreEvent[] = []) {
  const store = await createPostgresCredentialStore({
    pool,
    schema,
    encryptionKeys: keys,
    reconnect: { minDelayMs: 50, maxDelayMs: 400 },
    onEvent: (event) => events.push(event),
  });
  open.push(store);
  return { store, events };
}

describe('Postgres down and back', () => {
  it('killed: serves the snapshot, warns, refuses writes with a typed error; restarted: reconnects, reloads, sees changes', async () => {
    const schema = freshSchema();
    const poolA = trackedPool();
    const poolB = trackedPool();
    await migrate(poolA, { schema });
    const keys = [randomKey('k1')];
    const { store: a, events } = await instance(poolA, schema, keys);
    const { store: b } = await instance(poolB, schema, keys);
    await a.put(record('acme'));
    await a.put(record('acme-2'));
    expect(await eventually(() => b.size === 2)).toBe(true);
    expect(a.status).toMatchObject({ listening: true, staleSince: undefined, tenants: 2 });

    await server.kill();

    // Reads come from memory: known tenants keep working, unknown ones are unknown, nothing throws.
    expect((await a.get('acme'))?.clientId).toBe('0oa-acme');
    expect((await a.findByIssuer(orgA)).map((t) => t.id)).toEqual(['acme', 'acme-2']);
    expect(await a.get('nobody')).toBeUndefined();
    // Never silent: the lost listener is reported as a warning with the time staleness began.
    expect(await eventually(() => events.some((e) => e.type === 'listener-lost'))).toBe(true);
    const lost = events.find((e) => e.type === 'listener-lost')!;
    expect(lost.level).toBe('warning');
    expect(typeof lost.staleSince).toBe('number');
    expect(a.status.listening).toBe(false);
    expect(a.status.staleSince).toBe(lost.staleSince);
    expect(await eventually(() => events.some((e) => e.type === 'reconnect-failed'))).toBe(true);

    // Writes fail closed with a typed error.
    await expect(a.put(record('new-while-down'))).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_FAILURE', details: { reason: 'unavailable' } });
    await expect(a.delete('acme')).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_FAILURE' });
    await expect(a.reload()).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_FAILURE' });
    expect((await a.get('acme'))?.clientId).toBe('0oa-acme');

    await server.restart();

    expect(await eventually(() => events.some((e) => e.type === 'reconnected'))).toBe(true);
    expect(a.status).toMatchObject({ listening: true, staleSince: undefined });
    expect(await eventually(() => b.status.listening)).toBe(true);
    // Both directions work again.
    await b.put(record('after-restart'));
    expect(await eventually(async () => (await a.get('after-restart')) !== undefined)).toBe(true);
    await a.delete('acme-2');
    expect(await eventually(async () => (await b.get('acme-2')) === undefined)).toBe(true);
  });

  it('a change made while the LISTEN connection was down (its notification lost) is seen after the reconnect', async () => {
    const schema = freshSchema();
    // The store connects as a role whose new connections can be refused while the server stays up.
    const role = `app_${schema}`;
    await server.admin(`CREATE ROLE ${role} LOGIN; GRANT CREATE ON DATABASE oin TO ${role}`);
    const appPool = trackedPool(server.url.replace(/\/\/[^@]+@/, `//${role}@`));
    await migrate(appPool, { schema });
    const keys = [randomKey('k1')];
    const { store: a, events } = await instance(appPool, schema, keys);
    // A second process, connected as the superuser, keeps working throughout.
    const { store: b } = await instance(trackedPool(), schema, keys);
    await a.put(record('before'));

    await server.admin(`ALTER ROLE ${role} CONNECTION LIMIT 0`);
    await server.admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${role}' AND application_name = 'oin-oidc:listen'`);
    expect(await eventually(() => events.some((e) => e.type === 'listener-lost'))).toBe(true);
    expect(await eventually(() => events.some((e) => e.type === 'reconnect-failed'))).toBe(true);

    // Written while a cannot listen: its NOTIFY goes to b only.
    await b.put(record('missed'));
    await b.put({ ...record('before'), clientSecrets: [{ value: 'ROTATED-WHILE-DOWN', active: true }] });
    expect(await a.get('missed')).toBeUndefined();

    await server.admin(`ALTER ROLE ${role} CONNECTION LIMIT -1`);
    expect(await eventually(() => events.some((e) => e.type === 'reconnected'))).toBe(true);
    // The reconnect's full reload found what the lost notifications would have said.
    expect((await a.get('missed'))?.clientId).toBe('0oa-missed');
    const before = await a.get('before');
    expect(before?.auth.method !== 'private_key_jwt' && before?.auth.secrets[0]?.value).toBe('ROTATED-WHILE-DOWN');
  });

  it('a database that is not there fails start-up with a typed error instead of starting half-working', async () => {
    const dead = trackedPool('postgres://oin@127.0.0.1:1/oin');
    await expect(createPostgresCredentialStore({ pool: dead, encryptionKeys: [randomKey('k')], onEvent: () => {} })).rejects.toMatchObject({
      code: 'ERR_OIDC_STORE_FAILURE',
      details: { reason: 'unavailable' },
    });
  });

  it('close() ends the listener and every timer; the app pool stays usable; a store-owned pool is ended', async () => {
    const schema = freshSchema();
    const pool = trackedPool();
    await migrate(pool, { schema });
    const { store } = await instance(pool, schema, [randomKey('k1')]);
    open.splice(open.indexOf(store), 1);
    await store.close();
    await expect(store.put(record('late'))).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_FAILURE', details: { reason: 'closed' } });
    expect(await eventually(async () => (await server.admin(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'oin-oidc:listen'`)).trim() === '0')).toBe(true);
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);

    const owned = await createPostgresCredentialStore({ connectionString: server.url, schema, encryptionKeys: [randomKey('k1')], onEvent: () => {} });
    await owned.put(record('owned'));
    await owned.close();
    expect(await eventually(async () => (await server.admin(`SELECT count(*) FROM pg_stat_activity WHERE datname = 'oin' AND usename = 'oin' AND pid <> pg_backend_pid() AND backend_type = 'client backend'`)).trim() === String(pool.totalCount))).toBe(true);
  });
});
