/**
 * `oin-oidc tenants list|add|rotate-secret|remove|migrate|reencrypt` over the Postgres store
 * (`@oin-oidc/postgres`). Secrets come from stdin or an environment variable, never argv; no
 * command prints one (`list` shows how many secrets a tenant has and which is active).
 */
import { readFile } from 'node:fs/promises';
import { type ClientSecret, type Tenant, type TenantRecord, tenantToRecord } from '@oin-oidc/core';
import { type PostgresCredentialStore, migrate, upsertTenants } from '@oin-oidc/postgres';
import { refuseSecretOnArgv } from './doctor';
import { CliFailure, EXIT_FAILED, EXIT_OK, UsageError } from './errors';
import { InputTooLarge, MAX_INPUT_BYTES, type Output, readAll, readHiddenLine } from './io';
import { type StoreFlags, databaseUrl, keyIds, openPool, withStore } from './store';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A tenant as `tenants list --json` prints it: every non-secret field, and the shape of its credentials. */
export interface TenantListing {
  id: string;
  issuer: string;
  clientId: string;
  tokenEndpointAuthMethod: Tenant['auth']['method'];
  /** Secret methods: one entry per stored secret, newest first; never the value. */
  secrets?: Array<{ position: number; active: boolean }>;
  /** private_key_jwt: the key's `kid` (public), if it has one. */
  privateJwkKid?: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  initiateLoginUri?: string;
  scopes: string[];
  allowSimplifiedFlow: boolean;
  dpop: boolean;
  profile: 'oin' | 'custom';
  /** The at-rest key (kid of OIN_ENCRYPTION_KEYS) the row's secret column is encrypted under. */
  encryptionKeyId?: string;
}

function listing(tenant: Tenant, keyId: string | undefined): TenantListing {
  return {
    id: tenant.id,
    issuer: tenant.issuer,
    clientId: tenant.clientId,
    tokenEndpointAuthMethod: tenant.auth.method,
    ...(tenant.auth.method === 'private_key_jwt'
      ? typeof tenant.auth.privateJwk.kid === 'string'
        ? { privateJwkKid: tenant.auth.privateJwk.kid }
        : {}
      : { secrets: tenant.auth.secrets.map((secret, index) => ({ position: index + 1, active: secret.active })) }),
    redirectUris: [...tenant.redirectUris],
    postLogoutRedirectUris: [...tenant.postLogoutRedirectUris],
    ...(tenant.initiateLoginUri !== undefined ? { initiateLoginUri: tenant.initiateLoginUri } : {}),
    scopes: [...tenant.scopes],
    allowSimplifiedFlow: tenant.allowSimplifiedFlow,
    dpop: tenant.dpop,
    profile: tenant.profile,
    ...(keyId !== undefined ? { encryptionKeyId: keyId } : {}),
  };
}

function credentialsColumn(entry: TenantListing): string {
  if (entry.secrets === undefined) return `private JWK${entry.privateJwkKid !== undefined ? ` (kid ${entry.privateJwkKid})` : ''}`;
  const active = entry.secrets.filter((s) => s.active).map((s) => `#${s.position}`);
  return `${entry.secrets.length} secret${entry.secrets.length === 1 ? '' : 's'}, active ${active.join(' ')}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')).join('\n');
}

export async function listTenants(flags: StoreFlags & { json?: boolean }, output: Output): Promise<number> {
  return withStore(flags, output, async (store, pool, schema, unreadableIds) => {
    const kids = await keyIds(pool, schema);
    const entries = (await store.list()).map((tenant) => listing(tenant, kids.get(tenant.id)));
    // Rows the store could not decrypt or validate (a key missing from the keys variable, a tampered row): named, and exit 1.
    const unreadable = [...unreadableIds].sort();
    for (const id of unreadable) output.err(`oin-oidc: tenant ${JSON.stringify(id)} could not be read (encrypted under key ${kids.get(id) ?? '?'}; is that key in the keys variable?)`);
    const code = unreadable.length > 0 ? EXIT_FAILED : EXIT_OK;
    if (flags.json) {
      output.out(JSON.stringify(entries, null, 2));
      return code;
    }
    if (entries.length === 0) {
      output.out(unreadable.length > 0 ? 'No readable tenants.' : 'No tenants. Add one: oin-oidc tenants add --file tenant.json');
      return code;
    }
    const rows = [['ID', 'ISSUER', 'CLIENT ID', 'AUTH', 'CREDENTIALS', 'KEY'], ...entries.map((e) => [e.id, e.issuer, e.clientId, e.tokenEndpointAuthMethod, credentialsColumn(e), e.encryptionKeyId ?? '-'])];
    const lines = table(rows).split('\n');
    // Padded first, painted after: escape codes have no width.
    lines[0] = output.paint(lines[0]!, 'bold');
    output.out(lines.join('\n'));
    output.out(`\n${entries.length} tenant${entries.length === 1 ? '' : 's'}${unreadable.length > 0 ? `, ${unreadable.length} unreadable` : ''}`);
    return code;
  });
}

/** Reads `--file` (a path, or `-` for stdin) as JSON: one record or an array of records. */
async function readRecords(file: string, output: Output): Promise<unknown[]> {
  let text: string;
  if (file === '-') {
    if (output.io.stdin.isTTY) throw new UsageError('--file - reads the record from stdin: pipe it in (oin-oidc tenants add --file - < tenant.json)');
    try {
      text = await readAll(output.io.stdin);
    } catch (error) {
      if (error instanceof InputTooLarge) throw new UsageError(`stdin: ${error.message}`);
      throw error;
    }
  } else {
    try {
      const buffer = await readFile(file);
      if (buffer.length > MAX_INPUT_BYTES) throw new UsageError(`the --file is larger than ${MAX_INPUT_BYTES} bytes`);
      text = buffer.toString('utf8');
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`cannot read --file (${(error as { code?: string }).code ?? 'error'})`);
    }
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // Not the SyntaxError's message: it quotes the text around the error, which may be the secret (LG-01).
    throw new UsageError(`${file === '-' ? 'stdin' : '--file'} is not valid JSON`);
  }
  const records = Array.isArray(data) ? data : [data];
  for (const record of records) output.secretsOf(record);
  if (records.length === 0) throw new UsageError('no tenant record given');
  return records;
}

export async function addTenants(flags: StoreFlags & { file?: string; replace?: boolean; secret?: string; clientSecret?: string }, output: Output): Promise<number> {
  refuseSecretOnArgv(flags, 'put the secret in the record and pipe it in (--file -), or add the tenant and then run tenants rotate-secret');
  const records = await readRecords(flags.file ?? '-', output);
  return withStore(flags, output, async (store) => {
    const ids = records.map((record) => (record as { id?: unknown } | null)?.id);
    const existing = (await Promise.all(ids.map((id) => (typeof id === 'string' ? store.get(id) : undefined)))).filter((t): t is Tenant => t !== undefined);
    if (existing.length > 0 && !flags.replace) {
      throw new CliFailure(`tenant ${existing.map((t) => JSON.stringify(t.id)).join(', ')} already exists; pass --replace to overwrite (tenants rotate-secret changes only the secret)`);
    }
    // Validates every record first (and refuses duplicate ids or client ids within the input); nothing is written if one is invalid.
    await upsertTenants(store, records as TenantRecord[]);
    const replaced = new Set(existing.map((t) => t.id));
    for (const id of ids as string[]) {
      const tenant = (await store.get(id)) as Tenant;
      output.out(`${replaced.has(id) ? 'replaced' : 'added'} tenant ${id} (${tenant.issuer}, client ${tenant.clientId}, ${tenant.auth.method})`);
    }
    return EXIT_OK;
  });
}

/** The new secret: from the variable `--secret-env` names, a hidden prompt on a terminal, or piped stdin. */
async function newSecret(flags: { secretEnv?: string }, output: Output): Promise<string> {
  let secret: string;
  if (flags.secretEnv !== undefined) {
    if (!ENV_NAME.test(flags.secretEnv)) throw new UsageError('--secret-env takes the NAME of an environment variable (the secret itself never goes on the command line)');
    secret = output.io.env[flags.secretEnv] ?? '';
    if (secret === '') throw new UsageError(`the environment variable ${flags.secretEnv} (--secret-env) is not set`);
  } else if (output.io.stdin.isTTY) {
    secret = await readHiddenLine(output.io, 'New client secret (input hidden): ', output);
  } else {
    try {
      secret = await readAll(output.io.stdin, 64 * 1024);
    } catch (error) {
      if (error instanceof InputTooLarge) throw new UsageError('stdin: a client secret is not that long');
      throw error;
    }
  }
  // A trailing newline from `echo` or a file is not part of the secret; Okta secrets never start or end with spaces.
  secret = secret.trim();
  output.secret(secret);
  if (secret === '') throw new UsageError('no secret given: pipe it on stdin or pass --secret-env VAR');
  if (/[\r\n]/.test(secret)) throw new UsageError('the secret must be one line');
  return secret;
}

/**
 * Okta's rotation model: an app holds at most two secrets. The new one becomes the active secret
 * and the one in use until now is kept, inactive, so a rollback needs no trip to the Admin Console;
 * an older inactive one is dropped.
 */
export function rotatedSecrets(current: readonly ClientSecret[], next: string): ClientSecret[] {
  const previous = current.find((secret) => secret.active) ?? current[0];
  return [{ value: next, active: true }, ...(previous !== undefined ? [{ value: previous.value, active: false }] : [])];
}

export async function rotateSecret(flags: StoreFlags & { tenant?: string; secretEnv?: string; secret?: string; clientSecret?: string }, output: Output): Promise<number> {
  refuseSecretOnArgv(flags, 'pipe the new secret on stdin or pass --secret-env VAR');
  if (flags.tenant === undefined) throw new UsageError('--tenant ID is required');
  // Checked before the secret is read: a typo in the URL should not cost a paste.
  databaseUrl(flags, output);
  const secret = await newSecret(flags, output);
  return withStore(flags, output, async (store) => {
    const tenant = await requireTenant(store, flags.tenant as string);
    if (tenant.auth.method === 'private_key_jwt') throw new CliFailure(`tenant ${tenant.id} authenticates with private_key_jwt: replace its key with tenants add --replace`);
    if (tenant.auth.secrets.some((s) => s.active && s.value === secret)) throw new CliFailure(`tenant ${tenant.id}: that secret is already active`);
    const secrets = rotatedSecrets(tenant.auth.secrets, secret);
    const { clientSecret, clientSecrets, ...rest } = recordOf(tenant);
    void clientSecret;
    void clientSecrets;
    await store.put({ ...rest, clientSecrets: secrets });
    output.out(`rotated the client secret of tenant ${tenant.id}: secret #1 (new) active, ${secrets.length > 1 ? 'secret #2 (previous) kept inactive' : 'no previous secret'}`);
    output.out('Next: once sign-ins work with the new secret, deactivate the old one in the Okta Admin Console (Applications > the app > Client secrets).');
    return EXIT_OK;
  });
}

export async function removeTenant(flags: StoreFlags & { tenant?: string }, output: Output): Promise<number> {
  if (flags.tenant === undefined) throw new UsageError('--tenant ID is required');
  return withStore(flags, output, async (store) => {
    if (!(await store.delete(flags.tenant as string))) throw new CliFailure(`no tenant with id ${JSON.stringify(flags.tenant)}`);
    output.out(`removed tenant ${flags.tenant}`);
    return EXIT_OK;
  });
}

export async function migrateStore(flags: StoreFlags, output: Output): Promise<number> {
  const url = databaseUrl(flags, output) as string;
  const pool = openPool(url);
  try {
    const result = await migrate(pool, { ...(flags.schema !== undefined ? { schema: flags.schema } : {}) });
    output.out(`schema ${result.schema} is at version ${result.version}${result.applied.length > 0 ? ` (applied ${result.applied.join(', ')})` : ' (nothing to apply)'}`);
    return EXIT_OK;
  } finally {
    await pool.end().catch(() => {});
  }
}

export async function reencrypt(flags: StoreFlags, output: Output): Promise<number> {
  return withStore(flags, output, async (store, pool, schema) => {
    const count = await store.reencryptAll();
    const kids = new Set((await keyIds(pool, schema)).values());
    output.out(`re-encrypted ${count} tenant row${count === 1 ? '' : 's'}; every row is now under key ${[...kids].join(', ') || '(no rows)'}`);
    return EXIT_OK;
  });
}

async function requireTenant(store: PostgresCredentialStore, id: string): Promise<Tenant> {
  const tenant = await store.get(id);
  if (tenant === undefined) throw new CliFailure(`no tenant with id ${JSON.stringify(id)}`);
  return tenant;
}

/** A stored Tenant back as the record `put` takes (validated again on the way in). */
function recordOf(tenant: Tenant): TenantRecord {
  // Core's own Tenant → record mapping (secrets included): the store's put validates it again.
  return tenantToRecord(tenant);
}
