/**
 * oin-oidc-postgres <migrate | reencrypt | upsert-tenants FILE> [--schema NAME]
 *
 * Reads OIN_DATABASE_URL (every command) and OIN_ENCRYPTION_KEYS (reencrypt, upsert-tenants).
 * Prints what it did, never a secret, a key or the connection string.
 * Exit codes: 0 done; 1 the operation failed (database, invalid records, undecryptable rows);
 * 2 usage or configuration error (arguments, missing or invalid environment variables).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isOidcError } from '@oin-oidc/core';
import { Pool } from 'pg';
import { createPostgresCredentialStore, reencryptRows } from './credential-store';
import { isValidSchema } from './db';
import { parseEncryptionKeys } from './encryption-keys';
import { createFieldCipher } from './field-cipher';
import { DEFAULT_SCHEMA, migrate } from './migrate';
import { upsertTenants } from './upsert-tenants';

const USAGE = `Usage: oin-oidc-postgres <command> [--schema NAME]

Commands:
  migrate                 apply the schema migrations (idempotent; safe from several processes at once)
  reencrypt               re-encrypt every tenant whose key is not the first of OIN_ENCRYPTION_KEYS
  upsert-tenants <file>   validate a tenants JSON file (an array of records), then add or replace each

Environment:
  OIN_DATABASE_URL        postgres://user@host:port/database (required)
  OIN_ENCRYPTION_KEYS     kid:base64url-32-bytes[,kid:...]; the first encrypts (reencrypt, upsert-tenants)

Options:
  --schema NAME           default ${DEFAULT_SCHEMA}
  --help, -h              show this help

Exit codes: 0 done, 1 the operation failed, 2 usage or configuration error.`;

class UsageError extends Error {}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    say(USAGE);
    return 0;
  }
  const [command, ...rest] = positionals;
  const schema = values.schema ?? DEFAULT_SCHEMA;
  try {
    if (command === undefined || !['migrate', 'reencrypt', 'upsert-tenants'].includes(command)) throw new UsageError(command === undefined ? 'a command is required' : 'unknown command');
    if (command === 'upsert-tenants' ? rest.length !== 1 : rest.length !== 0) throw new UsageError(`wrong arguments for ${command}`);
    if (!isValidSchema(schema)) throw new UsageError('--schema must be a plain lower-case SQL identifier');
    const url = process.env['OIN_DATABASE_URL'];
    if (!url) throw new UsageError('OIN_DATABASE_URL is not set');
    const keysText = command === 'migrate' ? undefined : process.env['OIN_ENCRYPTION_KEYS'];
    if (command !== 'migrate' && !keysText) throw new UsageError('OIN_ENCRYPTION_KEYS is not set');
    // Parsed before connecting: a bad key is a configuration error (exit 2), and its message names only the entry's position.
    const keys = keysText === undefined ? undefined : parseEncryptionKeys(keysText);
    const file = command === 'upsert-tenants' ? await readFile(rest[0]!, 'utf8').catch(() => {
      throw new UsageError('cannot read the tenants file');
    }) : undefined;

    const pool = new Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 10_000 });
    pool.on('error', () => {}); // an idle connection dropping must not crash a one-shot command
    try {
      if (command === 'migrate') {
        const result = await migrate(pool, { schema });
        say(`migrate: schema ${result.schema} is at version ${result.version}${result.applied.length > 0 ? ` (applied ${result.applied.join(', ')})` : ' (nothing to apply)'}`);
      } else if (command === 'reencrypt') {
        const cipher = await createFieldCipher(keys!);
        const { count } = await reencryptRows({ pool, schema, timeoutMs: 30_000 }, cipher, 100);
        say(`reencrypt: ${count} tenant row(s) re-encrypted with key "${cipher.currentKid}"`);
      } else {
        const store = await createPostgresCredentialStore({ pool, schema, encryptionKeys: keys!, listen: false, queryTimeoutMs: 30_000, onEvent: () => {} });
        try {
          const count = await upsertTenants(store, file!);
          say(`upsert-tenants: ${count} tenant record(s) validated and upserted`);
        } finally {
          await store.close();
        }
      }
    } finally {
      await pool.end().catch(() => {});
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`oin-oidc-postgres: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (isOidcError(error)) {
      // OidcError messages never carry secrets; the driver's error stays in `cause`, unprinted.
      process.stderr.write(`oin-oidc-postgres: ${error.code}: ${error.message}\n`);
      return error.code === 'ERR_OIDC_INVALID_OPTIONS' ? 2 : 1;
    }
    process.stderr.write(`oin-oidc-postgres: unexpected ${(error as Error)?.name ?? 'error'}\n`);
    return 1;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: { schema: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 1;
  },
);
