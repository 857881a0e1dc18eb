import { type RunningPostgres, startPostgres } from '@oin-oidc/testing/servers';
import type { Pool } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresCredentialStore, type PostgresCredentialStore } from '../src/index';
import { createFieldCipher } from '../src/field-cipher';
import { dumpSchema, freshSchema, keyText, newPool, openStore, orgA, privateJwk, randomKey, record } from './helpers';

let server: RunningPostgres;
let pool: Pool;
const open: PostgresCredentialStore[] = [];

beforeAll(async () => {
  server = await startPostgres();
  pool = newPool(server);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((store) => store.close()));
});

afterAll(async () => {
  await pool.end();
  await server.stop();
});

async function start(options: Parameters<typeof openStore>[1] = {}) {
  const harness = await openStore(pool, options);
  open.push(harness.store);
  return harness;
}

function headerOf(jwe: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwe.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('secrets at rest', () => {
  it('a data dump after seeding holds no client secret and no private key material in plaintext', async () => {
    const { store, schema } = await start();
    const jwk = await privateJwk();
    await store.put(record('secret-tenant'));
    await store.put({ ...record('jwt-tenant', orgA), clientSecrets: undefined, tokenEndpointAuthMethod: 'private_key_jwt', privateJwk: jwk as never });
    const dump = await dumpSchema(server, schema);
    expect(dump).toContain('secret-tenant'); // the dump is real and holds the rows
    expect(dump).toContain('jwt-tenant');
    expect(dump).not.toContain('PLAINTEXT-SECRET');
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(dump).not.toContain(jwk[member] as string);
    // Not even a fragment of a secret: every secret column is a compact JWE.
    const columns = await server.admin(`SELECT coalesce(client_secrets, private_jwk) FROM "${schema}".tenants ORDER BY id`);
    for (const jwe of columns.trim().split('\n')) {
      expect(jwe).toMatch(/^[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(headerOf(jwe)).toMatchObject({ alg: 'dir', enc: 'A256GCM', kid: 'k1' });
    }
    // And the store reads them back.
    const tenant = await store.get('jwt-tenant');
    expect(tenant?.auth.method === 'private_key_jwt' && tenant.auth.privateJwk['d']).toBe(jwk['d']);
  });

  it('binds each ciphertext to its tenant and field in the authenticated protected header', async () => {
    const { store, schema } = await start();
    await store.put(record('acme'));
    const jwe = (await server.admin(`SELECT client_secrets FROM "${schema}".tenants WHERE id = 'acme'`)).trim();
    expect(headerOf(jwe)).toEqual({ alg: 'dir', enc: 'A256GCM', kid: 'k1', oin_tid: 'acme', oin_fld: 'clientSecrets' });
  });

  it('the database refuses a plaintext secret in a secret column or inside the record (CHECK constraints)', async () => {
    const { schema } = await start();
    const insert = (secrets: string, recordJson: string) =>
      server.admin(
        `INSERT INTO "${schema}".tenants (id, issuer, client_id, record, client_secrets, key_id) VALUES ('x', '${orgA}', 'c', '${recordJson}', '${secrets}', 'k1')`,
      );
    await expect(insert('PLAINTEXT-SECRET', '{}')).rejects.toThrow(/tenants_client_secrets_check/);
    await expect(insert('a..b.c.d', '{"clientSecret":"PLAINTEXT-SECRET"}')).rejects.toThrow(/tenants_record_check/);
  });

  it('refuses a ciphertext copied onto another tenant, keeping what it held', async () => {
    const key = randomKey('k1');
    const { store, schema, events } = await start({ encryptionKeys: [key] });
    await store.put(record('a1'));
    await store.put(record('b1'));
    await server.admin(`UPDATE "${schema}".tenants SET client_secrets = (SELECT client_secrets FROM "${schema}".tenants WHERE id = 'a1') WHERE id = 'b1'`);
    await store.reload();
    const b1 = await store.get('b1');
    expect(b1?.auth.method !== 'private_key_jwt' && b1?.auth.secrets[0]?.value).toBe('PLAINTEXT-SECRET-b1-new');
    const refused = events.find((e) => e.type === 'tenant-unreadable' && e.tenantId === 'b1');
    expect(refused?.error).toMatchObject({ code: 'ERR_OIDC_STORE_FAILURE', details: { reason: 'bound-elsewhere', tenantId: 'b1', field: 'clientSecrets' } });
    // A fresh process never had b1: it stays unknown rather than getting a1's secrets.
    const other = await createPostgresCredentialStore({ pool, schema, encryptionKeys: [key], onEvent: () => {} });
    open.push(other);
    expect(await other.get('b1')).toBeUndefined();
    expect((await other.get('a1'))?.clientId).toBe('0oa-a1');
  });

  it('refuses a ciphertext moved into the other secret field', async () => {
    const cipher = await createFieldCipher([randomKey('k1')]);
    const jwe = await cipher.encrypt([{ value: 's', active: true }], 't1', 'clientSecrets');
    await expect(cipher.decrypt(jwe, 't1', 'privateJwk')).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_FAILURE', details: { reason: 'bound-elsewhere' } });
    await expect(cipher.decrypt(jwe, 't2', 'clientSecrets')).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_FAILURE', details: { reason: 'bound-elsewhere' } });
    expect(await cipher.decrypt(jwe, 't1', 'clientSecrets')).toEqual([{ value: 's', active: true }]);
  });

  it('refuses tampered ciphertexts and headers with a typed error', async () => {
    const key = randomKey('k1');
    const cipher = await createFieldCipher([key]);
    const jwe = await cipher.encrypt({ kty: 'RSA', d: 'x' }, 't1', 'privateJwk');
    const [h, , iv, ct, tag] = jwe.split('.') as [string, string, string, string, string];
    const flip = (part: string) => {
      const bytes = Buffer.from(part, 'base64url');
      bytes[0] = bytes[0]! ^ 1;
      return bytes.toString('base64url');
    };
    const forgedHeader = Buffer.from(JSON.stringify({ ...headerOf(jwe), oin_tid: 't2' })).toString('base64url');
    const cases: [string, string][] = [
      [`${h}..${iv}.${flip(ct)}.${tag}`, 'decrypt-failed'],
      [`${h}..${iv}.${ct}.${flip(tag)}`, 'decrypt-failed'],
      [`${h}..${flip(iv)}.${ct}.${tag}`, 'decrypt-failed'],
      // Rewriting the binding in the header breaks the AAD: the forger cannot re-bind without the key.
      [`${forgedHeader}..${iv}.${ct}.${tag}`, 'decrypt-failed'],
      ['not-a-jwe', 'malformed'],
    ];
    for (const [forged, reason] of cases) {
      await expect(cipher.decrypt(forged, forgedHeader === forged.split('.')[0] ? 't2' : 't1', 'privateJwk')).rejects.toMatchObject({
        code: 'ERR_OIDC_STORE_FAILURE',
        details: { reason },
      });
    }
    // Same bytes under another kid is a different key to this cipher: chosen by kid, refused as unknown.
    const other = await createFieldCipher([{ kid: 'k2', key: key.key }]);
    await expect(other.decrypt(jwe, 't1', 'privateJwk')).rejects.toMatchObject({ details: { reason: 'unknown-key', kid: 'k1' } });
  });

  it('a tampered row in the database is refused on load and reported, never served', async () => {
    const key = randomKey('k1');
    const { store, schema, events } = await start({ encryptionKeys: [key] });
    await store.put(record('t1'));
    await store.put(record('t2'));
    // Flip one character of the ciphertext part.
    await server.admin(
      `UPDATE "${schema}".tenants SET client_secrets = regexp_replace(client_secrets, '^([^.]*\\.\\.[^.]*\\.)(.)', '\\1' || CASE WHEN substr(split_part(client_secrets, '.', 4), 1, 1) = 'A' THEN 'B' ELSE 'A' END) WHERE id = 't1'`,
    );
    await store.reload();
    expect(events.some((e) => e.type === 'tenant-unreadable' && e.tenantId === 't1' && e.error?.details?.['reason'] === 'decrypt-failed')).toBe(true);
    // The process that held it keeps its good copy; one starting now does not get a tampered record.
    expect((await store.get('t1'))?.clientId).toBe('0oa-t1');
    const fresh = await createPostgresCredentialStore({ pool, schema, encryptionKeys: [key], onEvent: () => {} });
    open.push(fresh);
    expect(await fresh.get('t1')).toBeUndefined();
    expect((await fresh.get('t2'))?.clientId).toBe('0oa-t2');
  });
});

describe('key rotation', () => {
  it('old kid still decrypts, put re-encrypts with the first key, reencryptAll rewrites the rest and returns the count', async () => {
    const oldKey = randomKey('old');
    const newKey = randomKey('new');
    const { store, schema } = await start({ encryptionKeys: [oldKey] });
    for (const id of ['r1', 'r2', 'r3', 'r4', 'r5']) await store.put(record(id));
    await store.close();

    // Deploy with the new key first: everything written with "old" still reads.
    const events: unknown[] = [];
    const rotated = await createPostgresCredentialStore({ pool, schema, encryptionKeys: `${keyText(newKey)},${keyText(oldKey)}`, reencryptBatchSize: 2, onEvent: (e) => events.push(e) });
    open.push(rotated);
    expect((await rotated.list()).map((t) => t.id)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(events.filter((e) => (e as { type: string }).type === 'tenant-unreadable')).toEqual([]);

    // Lazy re-encryption: a put writes with the first key.
    await rotated.put(record('r1', orgA, { redirectUris: ['https://app.example.com/cb2'] }));
    const kids = async () => (await server.admin(`SELECT id || '=' || key_id FROM "${schema}".tenants ORDER BY id`)).trim().split('\n');
    expect(await kids()).toEqual(['r1=new', 'r2=old', 'r3=old', 'r4=old', 'r5=old']);
    const header = headerOf((await server.admin(`SELECT client_secrets FROM "${schema}".tenants WHERE id = 'r1'`)).trim());
    expect(header['kid']).toBe('new');

    // Batches of 2: four rows left.
    expect(await rotated.reencryptAll()).toBe(4);
    expect(await kids()).toEqual(['r1=new', 'r2=new', 'r3=new', 'r4=new', 'r5=new']);
    expect(await rotated.reencryptAll()).toBe(0);

    // Now the old key can go: a store with only the new key reads everything.
    const onlyNew = await createPostgresCredentialStore({ pool, schema, encryptionKeys: [newKey], onEvent: () => {} });
    open.push(onlyNew);
    const r3 = await onlyNew.get('r3');
    expect(r3?.auth.method !== 'private_key_jwt' && r3?.auth.secrets.map((s) => s.value)).toEqual(['PLAINTEXT-SECRET-r3-new', 'PLAINTEXT-SECRET-r3-old']);
  });

  it('refuses an unknown kid with a typed error: on load (reported) and in reencryptAll (rows named, left as they are)', async () => {
    const gone = randomKey('gone');
    const { store, schema } = await start({ encryptionKeys: [gone] });
    await store.put(record('u1'));
    await store.close();

    const events: { type: string; tenantId?: string; error?: { code: string; details?: Record<string, unknown> } }[] = [];
    const current = await createPostgresCredentialStore({ pool, schema, encryptionKeys: [randomKey('current')], onEvent: (e) => events.push(e) });
    open.push(current);
    expect(await current.get('u1')).toBeUndefined();
    expect(events.find((e) => e.type === 'tenant-unreadable')).toMatchObject({
      tenantId: 'u1',
      error: { code: 'ERR_OIDC_STORE_FAILURE', details: { reason: 'unknown-key', kid: 'gone' } },
    });
    await current.put(record('u2'));
    await expect(current.reencryptAll()).rejects.toMatchObject({
      code: 'ERR_OIDC_STORE_FAILURE',
      details: { reason: 'reencrypt-incomplete', reencrypted: 0, failed: ['u1'] },
    });
    expect((await server.admin(`SELECT key_id FROM "${schema}".tenants WHERE id = 'u1'`)).trim()).toBe('gone');
    // A put with the record again is the repair: written with the current key.
    await current.put(record('u1'));
    expect((await current.get('u1'))?.clientId).toBe('0oa-u1');
  });

  it('an unchanged put writes nothing (no churn for a fleet upserting the same file at start-up)', async () => {
    const { store, schema } = await start();
    await store.put(record('same'));
    const before = (await server.admin(`SELECT revision || client_secrets FROM "${schema}".tenants`)).trim();
    await store.put(record('same'));
    expect((await server.admin(`SELECT revision || client_secrets FROM "${schema}".tenants`)).trim()).toBe(before);
    await store.put(record('same', orgA, { scopes: ['openid', 'email'] }));
    expect((await server.admin(`SELECT revision || client_secrets FROM "${schema}".tenants`)).trim()).not.toBe(before);
  });

  it('refuses a store whose key option is invalid, naming no key material', async () => {
    const schema = freshSchema();
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(31))).toString('base64url');
    await expect(createPostgresCredentialStore({ pool, schema, encryptionKeys: `k1:${key}` })).rejects.toMatchObject({ code: 'ERR_OIDC_INVALID_OPTIONS' });
    await expect(createPostgresCredentialStore({ pool, schema, encryptionKeys: [] })).rejects.toMatchObject({ code: 'ERR_OIDC_INVALID_OPTIONS' });
    await expect(createPostgresCredentialStore({ pool, schema, encryptionKeys: [{ kid: 'a', key: new Uint8Array(16) }] })).rejects.toMatchObject({
      code: 'ERR_OIDC_INVALID_OPTIONS',
    });
    await expect(createPostgresCredentialStore({ pool, schema, encryptionKeys: [randomKey('a'), randomKey('a')] })).rejects.toMatchObject({
      code: 'ERR_OIDC_INVALID_OPTIONS',
    });
  });

  it('refuses to start on a schema that was never migrated, saying what to do', async () => {
    await expect(createPostgresCredentialStore({ pool, schema: freshSchema(), encryptionKeys: [randomKey('k')], onEvent: () => {} })).rejects.toMatchObject({
      code: 'ERR_OIDC_STORE_FAILURE',
      details: { reason: 'not-migrated' },
      message: expect.stringContaining('migrate'),
    });
  });
});
