import { createHash } from 'node:crypto';
import type { Session } from '@oin-oidc/core';
import { describeSessionStoreConformance } from '@oin-oidc/testing/conformance';
import { type RunningPostgres, startPostgres } from '@oin-oidc/testing/servers';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresSessionStore, migrate, type PostgresSessionStore } from '../src/index';
import { dumpSchema, freshSchema, newPool, randomKey } from './helpers';

let server: RunningPostgres;
let poolA: Pool;
let poolB: Pool;
let schema: string;
const keys = [randomKey('s1')];
let faulted = false;

beforeAll(async () => {
  server = await startPostgres();
  poolA = newPool(server);
  poolB = newPool(server);
  schema = freshSchema();
  await migrate(poolA, { schema });
});

afterAll(async () => {
  await Promise.all([poolA.end(), poolB.end()]);
  await server.stop();
});

// Two instances on two pools (two processes); the suite's ids are unique per case, so one schema serves all.
describeSessionStoreConformance(
  'postgres',
  async () => {
    if (faulted) {
      await server.restart();
      faulted = false;
    }
    const store = await createPostgresSessionStore({ pool: poolA, schema, encryptionKeys: keys, queryTimeoutMs: 2000 });
    const peer = await createPostgresSessionStore({ pool: poolB, schema, encryptionKeys: keys, queryTimeoutMs: 2000 });
    return {
      store,
      peers: [peer],
      fault: async () => {
        faulted = true;
        await server.kill();
      },
      cleanup: async () => {
        await Promise.all([store.close(), peer.close()]);
      },
    };
  },
  { fault: true },
);

function session(id: string, extra: Partial<Session> = {}): Session {
  const now = Date.now();
  return {
    id,
    tenant: 'acme',
    issuer: 'https://acme.okta.com',
    clientId: '0oa-acme',
    sub: '00u-PLAINTEXT-SUBJECT',
    claims: { email: 'PLAINTEXT-EMAIL@example.com' },
    issuedAt: now,
    expiresAt: now + 3_600_000,
    idToken: 'PLAINTEXT-ID-TOKEN',
    ...extra,
  };
}

describe('postgres session store', () => {
  async function open(options: Partial<Parameters<typeof createPostgresSessionStore>[0]> = {}): Promise<PostgresSessionStore> {
    if (faulted) {
      await server.restart();
      faulted = false;
    }
    return createPostgresSessionStore({ pool: poolA, schema, encryptionKeys: keys, onEvent: () => {}, ...options });
  }

  it('keeps no session id, subject, claim or ID token in plaintext', async () => {
    const store = await open();
    const id = 'PLAINTEXT-SESSION-ID-0123456789';
    await store.set(id, session(id), 3600);
    expect((await store.get(id))?.idToken).toBe('PLAINTEXT-ID-TOKEN');
    const dump = await dumpSchema(server, schema);
    expect(dump).toContain('sessions');
    expect(dump).not.toContain('PLAINTEXT');
    await store.close();
  });

  it('a row copied onto another session id is refused (bound by id hash), and reported', async () => {
    const events: string[] = [];
    const store = await open({ onEvent: (e) => events.push(`${e.type}:${String(e.error?.details?.['reason'])}`) });
    await store.set('victim-session', session('victim-session'), 3600);
    await store.set('attacker-session', session('attacker-session', { sub: '00u-attacker' }), 3600);
    const hash = (id: string) => createHash('sha256').update(id).digest('base64url');
    await server.admin(
      `UPDATE "${schema}".sessions SET data = (SELECT data FROM "${schema}".sessions WHERE id_hash = '${hash('attacker-session')}')
       WHERE id_hash = '${hash('victim-session')}'`,
    );
    // The victim's row now holds the attacker's ciphertext: refused, never read as the attacker's session.
    expect(await store.get('victim-session')).toBeUndefined();
    expect((await store.get('attacker-session'))?.sub).toBe('00u-attacker');
    expect(events).toContain('session-unreadable:bound-elsewhere');
    await store.close();
  });

  it('a session whose key is no longer configured reads as signed out, with a warning', async () => {
    const old = await open({ encryptionKeys: [randomKey('retired')] });
    await old.set('old-key-session', session('old-key-session'), 3600);
    await old.close();
    const events: string[] = [];
    const store = await open({ onEvent: (e) => events.push(`${e.type}:${String(e.error?.details?.['reason'])}`) });
    expect(await store.get('old-key-session')).toBeUndefined();
    expect(events).toEqual(['session-unreadable:unknown-key']);
    await store.close();
  });

  it('cleanup removes only rows past their end; expired rows are already unreadable before it', async () => {
    let now = Date.now();
    const store = await open({ now: () => now, tombstoneSec: 60 });
    await store.set('short', session('short', { expiresAt: now + 10_000 }), 3600);
    await store.set('long', session('long'), 3600);
    await store.delete('gone');
    now += 20_000;
    expect(await store.get('short')).toBeUndefined();
    expect(await store.cleanup()).toBeGreaterThanOrEqual(1);
    expect((await store.get('long'))?.id).toBe('long');
    // The unknown id's tombstone still refuses writes (60 s), then lapses.
    await store.set('gone', session('gone', { expiresAt: now + 3_600_000 }), 3600);
    expect(await store.get('gone')).toBeUndefined();
    now += 3_700_000;
    await store.set('gone', session('gone', { expiresAt: now + 3_600_000 }), 3600);
    expect((await store.get('gone'))?.id).toBe('gone');
    await store.close();
  });

  it('refuses a bad ttlSec as a programming error, and starts only on a migrated schema', async () => {
    const store = await open();
    await expect(store.set('x', session('x'), 0)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await store.close();
    await expect(createPostgresSessionStore({ pool: poolA, schema: freshSchema(), encryptionKeys: keys })).rejects.toMatchObject({
      code: 'ERR_OIDC_STORE_FAILURE',
      details: { reason: 'not-migrated' },
    });
  });
});
