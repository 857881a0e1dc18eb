import { type RunningPostgres, startPostgres } from '@oin-oidc/testing/servers';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/index';
import { MIGRATIONS } from '../src/migrations';
import { freshSchema, newPool } from './helpers';

let server: RunningPostgres;
let pools: Pool[];

beforeAll(async () => {
  server = await startPostgres();
  // Three pools = three processes starting at once.
  pools = [newPool(server), newPool(server), newPool(server)];
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  await server.stop();
});

describe('migrate', () => {
  it('applies every migration once and records it; a second run applies nothing', async () => {
    const schema = freshSchema();
    const first = await migrate(pools[0]!, { schema });
    expect(first).toEqual({ schema, applied: MIGRATIONS.map((m) => m.version), version: MIGRATIONS.length });
    const second = await migrate(pools[0]!, { schema });
    expect(second).toEqual({ schema, applied: [], version: MIGRATIONS.length });
    const recorded = await server.admin(`SELECT version, name FROM "${schema}".schema_migrations ORDER BY version`);
    expect(recorded.trim().split('\n')).toEqual(MIGRATIONS.map((m) => `${m.version}|${m.name}`));
    const tables = await server.admin(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}' ORDER BY 1`);
    expect(tables.trim().split('\n')).toEqual(['schema_migrations', 'sessions', 'tenants']);
  });

  it('is race-free: three processes migrating at once apply each migration exactly once', async () => {
    const schema = freshSchema();
    const results = await Promise.all(pools.map((pool) => migrate(pool, { schema })));
    const applied = results.flatMap((r) => r.applied);
    expect(applied.sort()).toEqual(MIGRATIONS.map((m) => m.version));
    expect(results.every((r) => r.version === MIGRATIONS.length)).toBe(true);
    expect(await server.admin(`SELECT count(*) FROM "${schema}".schema_migrations`)).toBe(`${MIGRATIONS.length}\n`);
  });

  it('refuses an applied migration whose SQL differs from the shipped file, and changes nothing', async () => {
    const schema = freshSchema();
    await migrate(pools[0]!, { schema });
    await server.admin(`UPDATE "${schema}".schema_migrations SET checksum = 'edited' WHERE version = 1`);
    await expect(migrate(pools[0]!, { schema })).rejects.toMatchObject({
      code: 'ERR_OIDC_STORE_FAILURE',
      details: { reason: 'migration-checksum', version: 1 },
    });
  });

  it('refuses schema names that are not plain identifiers, before touching the database', async () => {
    for (const schema of ['Public', 'a-b', 'x"; DROP TABLE y; --', '', '1abc', 'a'.repeat(49)]) {
      await expect(migrate(pools[0]!, { schema })).rejects.toMatchObject({ code: 'ERR_OIDC_INVALID_OPTIONS' });
    }
  });

  it('reports an unreachable database as a typed store failure', async () => {
    const { Pool } = await import('pg');
    const dead = new Pool({ connectionString: 'postgres://oin@127.0.0.1:1/oin' });
    try {
      await expect(migrate(dead, { timeoutMs: 2000 })).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_FAILURE', details: { reason: 'unavailable' } });
    } finally {
      await dead.end();
    }
  });
});
