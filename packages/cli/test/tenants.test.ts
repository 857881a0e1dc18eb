/**
 * `oin-oidc tenants …` and `oin-oidc doctor --database-url` against a real PostgreSQL
 * (`startPostgres`) and a real emulated Okta org: the round trip add → list → rotate-secret →
 * doctor → reencrypt → remove, with a distinctive secret that must never show in any output nor
 * in a pg_dump of the database.
 */
import { spawn } from 'node:child_process';
import type { Tenant } from '@oin-oidc/core';
import { createPostgresCredentialStore } from '@oin-oidc/postgres';
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { type RunningPostgres, postgresBinDir, startPostgres } from '@oin-oidc/testing/servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Run, cli, distinctSecret, expectNoSecrets, keyText, tempFile } from './helpers';

const CLIENT_ID = '0oa-cli-pg';
const REDIRECT = 'http://127.0.0.1:3999/auth/callback';
const first = distinctSecret('first');
const second = distinctSecret('second');
const third = distinctSecret('third');
const onArgv = distinctSecret('argv');
const dbPassword = distinctSecret('dbpass');
const k1 = keyText('k1');
const k2 = keyText('k2');
const secrets = [first, second, third, onArgv, dbPassword, k1.slice(3), k2.slice(3)];

let server: RunningPostgres;
let org: OktaOrg;
let env: Record<string, string>;
const runs: Run[] = [];

async function run(args: string[], options: { env?: Record<string, string | undefined>; input?: string } = {}): Promise<Run> {
  const result = await cli(args, { ...options, env: { ...env, ...options.env } });
  runs.push(result);
  return result;
}

/** The tenant as the store holds it, read with the library, not the CLI. */
async function stored(id: string, keys = k1): Promise<Tenant | undefined> {
  const store = await createPostgresCredentialStore({ connectionString: server.url, encryptionKeys: keys, listen: false, onEvent: () => {} });
  try {
    return await store.get(id);
  } finally {
    await store.close();
  }
}

function pgDump(): Promise<string> {
  return new Promise((resolve, reject) => {
    // Over TCP as the superuser oin (trust auth on loopback): a client, so no OS user switch is needed.
    const child = spawn(`${postgresBinDir()}/pg_dump`, ['-h', '127.0.0.1', '-p', String(server.port), '-U', 'oin', 'oin'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`pg_dump exited ${code}: ${err}`))));
  });
}

const record = () => ({
  id: 'acme',
  issuer: org.issuer,
  clientId: CLIENT_ID,
  clientSecret: first,
  tokenEndpointAuthMethod: 'client_secret_basic',
  redirectUris: [REDIRECT],
});

beforeAll(async () => {
  [server, org] = await Promise.all([
    startPostgres(),
    startOktaOrg({ clients: [{ clientId: CLIENT_ID, clientSecret: first, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [REDIRECT] }] }),
  ]);
  env = { OIN_DATABASE_URL: server.url, OIN_ENCRYPTION_KEYS: k1 };
});

afterAll(async () => {
  await Promise.all([server?.stop(), org?.close()]);
});

describe('oin-oidc tenants over PostgreSQL', () => {
  it('needs a database and keys: exit 2 naming what is missing', async () => {
    const noUrl = await run(['tenants', 'list'], { env: { OIN_DATABASE_URL: undefined } });
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain('OIN_DATABASE_URL');
    const noKeys = await run(['tenants', 'list'], { env: { OIN_ENCRYPTION_KEYS: undefined } });
    expect(noKeys.code).toBe(2);
    expect(noKeys.stderr).toContain('OIN_ENCRYPTION_KEYS is not set');
    const badKeys = await run(['tenants', 'list'], { env: { OIN_ENCRYPTION_KEYS: 'k1:short' } });
    expect(badKeys.code).toBe(2);
    expect(badKeys.stderr).toContain('ERR_OIDC_INVALID_OPTIONS');
    expect(badKeys.stderr).not.toContain('short');
  });

  it('before migrate the store is not readable: exit 1 with the store error code', async () => {
    const result = await run(['tenants', 'list']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ERR_OIDC_STORE_FAILURE');
    expect(result.stderr).toContain('run oin-oidc tenants migrate first');
  });

  it('migrate applies the schema and is idempotent', async () => {
    const once = await run(['tenants', 'migrate'], { env: { OIN_ENCRYPTION_KEYS: undefined } });
    expect(once.code).toBe(0);
    expect(once.stdout).toMatch(/schema oin_oidc is at version \d+ \(applied 1/);
    const twice = await run(['tenants', 'migrate', '--database-url', server.url]);
    expect(twice.code).toBe(0);
    expect(twice.stdout).toContain('nothing to apply');
    const empty = await run(['tenants', 'list']);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain('No tenants');
  });

  it('add reads the record from stdin, refuses an existing id without --replace, and invalid records with exit 1', async () => {
    const added = await run(['tenants', 'add', '--file', '-'], { input: JSON.stringify(record()) });
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toContain(`added tenant acme (${org.issuer}, client ${CLIENT_ID}, client_secret_basic)`);
    const again = await run(['tenants', 'add'], { input: JSON.stringify(record()) });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
    const fromFile = await run(['tenants', 'add', '--replace', '--file', tempFile('t.json', JSON.stringify([record()]))]);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toContain('replaced tenant acme');
    const invalid = await run(['tenants', 'add'], { input: JSON.stringify({ ...record(), id: 'bad', clientId: 'x', issuer: 'https://acme.okta.com/oauth2/default' }) });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('ERR_OIDC_CUSTOM_AUTHORIZATION_SERVER');
    // Broken JSON that contains the secret: V8's SyntaxError would quote it, the CLI does not.
    const broken = await run(['tenants', 'add'], { input: `{"id":"x","clientSecret":"${first}",` });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('stdin is not valid JSON');
    expect(await stored('bad')).toBeUndefined();
  });

  it('list shows the secret count, which is active and the at-rest key id, never the secret', async () => {
    const text = await run(['tenants', 'list']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/acme\s+http:\/\/127\.0\.0\.1:\d+\s+0oa-cli-pg\s+client_secret_basic\s+1 secret, active #1\s+k1/);
    const json = await run(['tenants', 'list', '--json']);
    expect(json.code).toBe(0);
    const [entry, ...rest] = JSON.parse(json.stdout);
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ id: 'acme', clientId: CLIENT_ID, tokenEndpointAuthMethod: 'client_secret_basic', secrets: [{ position: 1, active: true }], encryptionKeyId: 'k1', redirectUris: [REDIRECT] });
    expect(JSON.stringify(entry)).not.toContain('value');
    // A password in the URL (trust auth ignores it) is never echoed, neither on success nor on a refused connection.
    const withPassword = await run(['tenants', 'list', '--database-url', server.url.replace('oin:oin@', `oin:${dbPassword}@`)]);
    expect(withPassword.code).toBe(0);
    const refused = await run(['tenants', 'list'], { env: { OIN_DATABASE_URL: `postgres://oin:${dbPassword}@127.0.0.1:1/oin` } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ERR_OIDC_STORE_FAILURE');
    expect(refused.stderr).toContain('(ECONNREFUSED)');
  });

  it('doctor --database-url checks every stored tenant against its org: correct secret → exit 0', async () => {
    const result = await run(['doctor', '--allow-loopback', '--json'], { env: { OIN_DATABASE_URL: undefined, OIN_ENCRYPTION_KEYS: k1 } });
    // No database named anywhere: nothing to check.
    expect(result.code).toBe(2);
    const ok = await run(['doctor', '--database-url', server.url, '--allow-loopback', '--json']);
    expect(ok.stderr).toBe('');
    const reports = JSON.parse(ok.stdout);
    expect(reports.map((r: { tenantId: string }) => r.tenantId)).toEqual(['acme']);
    expect(reports[0].checks.find((c: { id: string }) => c.id === 'client.credentials')?.status).toBe('ok');
    expect(ok.code).toBe(0);
    const fromEnv = await run(['doctor', '--tenant', 'acme', '--allow-loopback']);
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toContain('1 tenant checked, 1 passed');
    const unknown = await run(['doctor', '--tenant', 'nope', '--allow-loopback']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no tenant with id "nope"');
  });

  it('rotate-secret reads stdin or --secret-env, keeps the previous secret inactive, and refuses --secret', async () => {
    const refused = await run(['tenants', 'rotate-secret', '--tenant', 'acme', '--secret', onArgv]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('never taken from the command line');
    const refusedEq = await run(['tenants', 'rotate-secret', '--tenant', 'acme', `--client-secret=${onArgv}`]);
    expect(refusedEq.code).toBe(2);
    const typo = await run(['tenants', 'rotate-secret', '--tenant', 'acme', `--secrte=${onArgv}`]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("unknown option '--secrte=…'");

    const viaStdin = await run(['tenants', 'rotate-secret', '--tenant', 'acme'], { input: `${second}\n` });
    expect(viaStdin.stderr).toBe('');
    expect(viaStdin.code).toBe(0);
    expect(viaStdin.stdout).toContain('secret #1 (new) active, secret #2 (previous) kept inactive');
    let tenant = await stored('acme');
    expect(tenant?.auth).toEqual({ method: 'client_secret_basic', secrets: [{ value: second, active: true }, { value: first, active: false }] });
    const listed = JSON.parse((await run(['tenants', 'list', '--json'])).stdout);
    expect(listed[0].secrets).toEqual([{ position: 1, active: true }, { position: 2, active: false }]);

    // The org still only knows the first secret: doctor now fails client.credentials with exit 1.
    const failing = await run(['doctor', '--allow-loopback', '--json']);
    expect(failing.code).toBe(1);
    expect(JSON.parse(failing.stdout)[0].checks.find((c: { id: string }) => c.id === 'client.credentials')?.status).toBe('fail');

    const viaEnv = await run(['tenants', 'rotate-secret', '--tenant', 'acme', '--secret-env', 'NEW_SECRET'], { env: { NEW_SECRET: third } });
    expect(viaEnv.code).toBe(0);
    tenant = await stored('acme');
    // Two secrets at most: the oldest is dropped, the one in use until now stays inactive.
    expect(tenant?.auth).toEqual({ method: 'client_secret_basic', secrets: [{ value: third, active: true }, { value: second, active: false }] });
    const same = await run(['tenants', 'rotate-secret', '--tenant', 'acme', '--secret-env', 'NEW_SECRET'], { env: { NEW_SECRET: third } });
    expect(same.code).toBe(1);
    expect(same.stderr).toContain('already active');
    const empty = await run(['tenants', 'rotate-secret', '--tenant', 'acme'], { input: '\n' });
    expect(empty.code).toBe(2);
    const missing = await run(['tenants', 'rotate-secret', '--tenant', 'nope'], { input: `${onArgv}\n` });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no tenant with id "nope"');
  });

  it('a pg_dump of the database holds the tenant but none of its secrets', async () => {
    const dump = await pgDump();
    expect(dump).toContain(CLIENT_ID);
    for (const secret of [first, second, third]) expect(dump).not.toContain(secret);
  });

  it('reencrypt moves every row to the first key; list shows the new key id', async () => {
    const both = `${k2},${k1}`;
    const result = await run(['tenants', 'reencrypt'], { env: { OIN_ENCRYPTION_KEYS: both } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('re-encrypted 1 tenant row; every row is now under key k2');
    const listed = JSON.parse((await run(['tenants', 'list', '--json'], { env: { OIN_ENCRYPTION_KEYS: both } })).stdout);
    expect(listed[0].encryptionKeyId).toBe('k2');
    // The old key alone can no longer read it.
    const oldOnly = await run(['tenants', 'list']);
    expect(oldOnly.code).toBe(1);
    expect(oldOnly.stderr).toContain('tenant "acme" could not be read (encrypted under key k2');
    expect((await stored('acme', k2))?.auth).toMatchObject({ secrets: [{ value: third, active: true }, { value: second, active: false }] });
    // Custom variable name for the keys.
    const named = await run(['tenants', 'list', '--keys-env', 'MY_KEYS'], { env: { OIN_ENCRYPTION_KEYS: undefined, MY_KEYS: k2 } });
    expect(named.code).toBe(0);
  });

  it('remove deletes the tenant; removing it again fails with exit 1', async () => {
    const env2 = { OIN_ENCRYPTION_KEYS: k2 };
    const removed = await run(['tenants', 'remove', '--tenant', 'acme'], { env: env2 });
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain('removed tenant acme');
    const again = await run(['tenants', 'remove', '--tenant', 'acme'], { env: env2 });
    expect(again.code).toBe(1);
    expect((await run(['tenants', 'list'], { env: env2 })).stdout).toContain('No tenants');
    const doctorEmpty = await run(['doctor', '--allow-loopback'], { env: env2 });
    expect(doctorEmpty.code).toBe(1);
    expect(doctorEmpty.stderr).toContain('the store holds no tenants');
  });

  it('no command printed a secret, an encryption key or the database password', () => {
    expect(runs.length).toBeGreaterThan(20);
    for (const result of runs) expectNoSecrets(result, secrets);
  });
});
