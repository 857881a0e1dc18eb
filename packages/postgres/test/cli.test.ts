/** The `oin-oidc-postgres` bin (built: run the package build first, as `pnpm test` does). */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type RunningPostgres, startPostgres } from '@oin-oidc/testing/servers';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresCredentialStore } from '../src/index';
import { dumpSchema, freshSchema, keyText, newPool, randomKey, record } from './helpers';

const BIN = resolve(__dirname, '../bin/oin-oidc-postgres.js');
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

function cli(args: string[], env: Record<string, string | undefined>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env['PATH'], ...env } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

function tenantsFile(records: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'oin-pg-cli-')), 'tenants.json');
  writeFileSync(file, JSON.stringify(records));
  return file;
}

describe('oin-oidc-postgres', () => {
  it('usage and configuration errors exit 2 and say what is missing', async () => {
    expect((await cli([], {})).code).toBe(2);
    expect((await cli(['frobnicate'], { OIN_DATABASE_URL: server.url })).code).toBe(2);
    const noUrl = await cli(['migrate'], {});
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain('OIN_DATABASE_URL is not set');
    const noKeys = await cli(['reencrypt'], { OIN_DATABASE_URL: server.url });
    expect(noKeys.code).toBe(2);
    expect(noKeys.stderr).toContain('OIN_ENCRYPTION_KEYS is not set');
    expect((await cli(['upsert-tenants'], { OIN_DATABASE_URL: server.url, OIN_ENCRYPTION_KEYS: keyText(randomKey('k')) })).code).toBe(2);
    const help = await cli(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('upsert-tenants <file>');
  });

  it('an invalid key exits 2 without printing any key material', async () => {
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(30))).toString('base64url');
    const good = keyText(randomKey('good'));
    const result = await cli(['reencrypt'], { OIN_DATABASE_URL: server.url, OIN_ENCRYPTION_KEYS: `${good},bad:${key}` });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('ERR_OIDC_INVALID_OPTIONS');
    expect(result.stderr).toContain('entry 2');
    expect(result.stderr + result.stdout).not.toContain(key);
    expect(result.stderr + result.stdout).not.toContain(good.split(':')[1]);
  });

  it('migrate, upsert-tenants, reencrypt: the whole runbook, printing no secret', async () => {
    const schema = freshSchema();
    const oldKey = randomKey('old');
    const newKey = randomKey('new');
    const env = { OIN_DATABASE_URL: server.url, OIN_ENCRYPTION_KEYS: keyText(oldKey) };

    const migrated = await cli(['migrate', '--schema', schema], env);
    expect(migrated).toMatchObject({ code: 0, stderr: '' });
    expect(migrated.stdout).toContain(`schema ${schema} is at version 2 (applied 1, 2)`);
    expect((await cli(['migrate', '--schema', schema], env)).stdout).toContain('nothing to apply');

    const file = tenantsFile([record('c1'), record('c2'), { ...record('c3'), clientSecrets: undefined, clientSecret: 'PLAINTEXT-SECRET-c3-single' }]);
    const upserted = await cli(['upsert-tenants', file, '--schema', schema], env);
    expect(upserted).toMatchObject({ code: 0, stderr: '' });
    expect(upserted.stdout).toContain('3 tenant record(s)');
    expect(upserted.stdout).not.toContain('PLAINTEXT-SECRET');
    expect(await dumpSchema(server, schema)).not.toContain('PLAINTEXT-SECRET');

    // Rotate: new key first, old still configured; then reencrypt.
    const rotated = { ...env, OIN_ENCRYPTION_KEYS: `${keyText(newKey)},${keyText(oldKey)}` };
    const reencrypted = await cli(['reencrypt', '--schema', schema], rotated);
    expect(reencrypted).toMatchObject({ code: 0, stderr: '' });
    expect(reencrypted.stdout).toContain('3 tenant row(s) re-encrypted with key "new"');
    expect((await cli(['reencrypt', '--schema', schema], rotated)).stdout).toContain('0 tenant row(s)');

    const store = await createPostgresCredentialStore({ pool, schema, encryptionKeys: [newKey], onEvent: () => {} });
    try {
      const c3 = await store.get('c3');
      expect(c3?.auth.method !== 'private_key_jwt' && c3?.auth.secrets[0]?.value).toBe('PLAINTEXT-SECRET-c3-single');
      expect(store.size).toBe(3);
    } finally {
      await store.close();
    }
  });

  it('operation failures exit 1: invalid records (nothing written), undecryptable rows, an unreachable database', async () => {
    const schema = freshSchema();
    const key = randomKey('k1');
    const env = { OIN_DATABASE_URL: server.url, OIN_ENCRYPTION_KEYS: keyText(key) };
    expect((await cli(['migrate', '--schema', schema], env)).code).toBe(0);

    const invalid = await cli(['upsert-tenants', tenantsFile([record('ok'), { ...record('bad'), scopes: ['openid', 'offline_access'] }]), '--schema', schema], env);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('ERR_OIDC_SCOPE_NOT_ALLOWED');
    expect(invalid.stderr).toContain('record 1');
    expect(invalid.stderr).not.toContain('PLAINTEXT-SECRET');
    expect(await server.admin(`SELECT count(*) FROM "${schema}".tenants`)).toBe('0\n');

    const notJson = tenantsFile('x');
    writeFileSync(notJson, '[{"clientSecret": "PLAINTEXT-SECRET-broken", ');
    const broken = await cli(['upsert-tenants', notJson, '--schema', schema], env);
    expect(broken.code).toBe(1);
    expect(broken.stderr).not.toContain('PLAINTEXT-SECRET');

    expect((await cli(['upsert-tenants', tenantsFile([record('u1')]), '--schema', schema], env)).code).toBe(0);
    const withoutKey = await cli(['reencrypt', '--schema', schema], { ...env, OIN_ENCRYPTION_KEYS: keyText(randomKey('other')) });
    expect(withoutKey.code).toBe(1);
    expect(withoutKey.stderr).toContain('ERR_OIDC_STORE_FAILURE');
    expect(withoutKey.stderr).toContain('could not be decrypted');

    const password = 'hunter2-DO-NOT-PRINT';
    const down = await cli(['migrate'], { OIN_DATABASE_URL: `postgres://oin:${password}@127.0.0.1:1/oin` });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('ERR_OIDC_STORE_FAILURE');
    expect(down.stderr + down.stdout).not.toContain(password);
  });
});
