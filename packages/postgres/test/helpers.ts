/** Shared test plumbing: one real PostgreSQL per test file, a fresh schema per store. */
import { spawn } from 'node:child_process';
import type { TenantRecord } from '@oin-oidc/core';
import { type RunningPostgres, postgresBinDir } from '@oin-oidc/testing/servers';
import { Pool } from 'pg';
import { type EncryptionKey, createPostgresCredentialStore, migrate, type PostgresCredentialStore, type PostgresCredentialStoreOptions, type PostgresStoreEvent } from '../src/index';

export function randomKey(kid: string): EncryptionKey {
  return { kid, key: crypto.getRandomValues(new Uint8Array(32)) };
}

export function keyText({ kid, key }: EncryptionKey): string {
  return `${kid}:${Buffer.from(key).toString('base64url')}`;
}

let counter = 0;
/** A schema no other case uses. */
export function freshSchema(): string {
  counter++;
  return `t_${process.pid}_${counter}_${Math.random().toString(36).slice(2, 8)}`;
}

export function newPool(server: RunningPostgres, max = 5): Pool {
  const pool = new Pool({ connectionString: server.url, max });
  // Tests kill Postgres on purpose: idle connections then fail, which must not crash vitest.
  pool.on('error', () => {});
  return pool;
}

export const orgA = 'https://org-a.okta.com';
export const orgB = 'https://org-b.okta.com';

/** Secret values that are easy to search for in a dump. */
export function record(id: string, issuer = orgA, extra: Partial<TenantRecord> = {}): TenantRecord {
  return {
    id,
    issuer,
    clientId: `0oa-${id}`,
    clientSecrets: [
      { value: `PLAINTEXT-SECRET-${id}-new`, active: true },
      { value: `PLAINTEXT-SECRET-${id}-old`, active: false },
    ],
    redirectUris: ['https://app.example.com/auth/callback'],
    ...extra,
  };
}

/** An RSA private JWK for private_key_jwt tenants. */
export async function privateJwk(): Promise<Record<string, unknown>> {
  const { privateKey } = await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  );
  const jwk = (await crypto.subtle.exportKey('jwk', privateKey)) as Record<string, unknown>;
  return { kty: jwk['kty'], n: jwk['n'], e: jwk['e'], d: jwk['d'], p: jwk['p'], q: jwk['q'], dp: jwk['dp'], dq: jwk['dq'], qi: jwk['qi'], kid: 'k1', alg: 'RS256' };
}

/** pg_dump --data-only of one schema, over TCP as the superuser oin (no OS user switch needed for a client). */
export function dumpSchema(server: RunningPostgres, schema: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(`${postgresBinDir()}/pg_dump`, ['--data-only', '--schema', schema, '-h', '127.0.0.1', '-p', String(server.port), '-U', 'oin', 'oin'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`pg_dump exited ${code}: ${err}`))));
  });
}

/**
 * Polls until `check` holds or the deadline passes; resolves whether it held (tests assert that, never
 * a duration). For what only a read can observe (another pool's cache after NOTIFY, a reconnect).
 * The deadline is for a change that never comes: 30 s, far beyond what a loaded 2-core machine
 * needs, so a slow machine only makes a test slower.
 */
export async function eventually(check: () => boolean | Promise<boolean>, deadlineMs = 30_000): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface Harness {
  pool: Pool;
  schema: string;
  events: PostgresStoreEvent[];
  store: PostgresCredentialStore;
}

/** Migrate a fresh schema and start a store on it, recording its events. */
export async function openStore(pool: Pool, options: Partial<PostgresCredentialStoreOptions> & { schema?: string } = {}): Promise<Harness> {
  const schema = options.schema ?? freshSchema();
  await migrate(pool, { schema });
  const events: PostgresStoreEvent[] = [];
  const store = await createPostgresCredentialStore({
    pool,
    encryptionKeys: [randomKey('k1')],
    reconnect: { minDelayMs: 50, maxDelayMs: 500 },
    ...options,
    schema,
    onEvent: (event) => events.push(event),
  });
  return { pool, schema, events, store };
}
