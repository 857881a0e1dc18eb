/**
 * `oin-oidc doctor`: live, side-effect-free checks of tenants against their Okta orgs, through
 * core's `checkTenant` (docs/doctor.md). Three sources of tenants:
 *
 * - one tenant from flags (`--issuer`, `--client-id`, `--secret-env VAR` | `--private-jwk FILE`);
 * - a tenants JSON file (`--tenants FILE`, the `OIN_TENANTS_FILE` format);
 * - the Postgres store (`--database-url URL` or `OIN_DATABASE_URL`, keys from `OIN_ENCRYPTION_KEYS`).
 *
 * The secret itself is read from the environment variable `--secret-env` names, never from argv:
 * a command line is readable by every local user (`ps`) and lands in shell history.
 */
import { readFile } from 'node:fs/promises';
import { type CheckTenantOptions, type Tenant, type TenantRecord, type TenantReport, checkTenant } from '@oin-oidc/core';
import { CliFailure, EXIT_FAILED, EXIT_OK, UsageError, describeError } from './errors';
import { MAX_INPUT_BYTES, type Output } from './io';
import { formatReport, formatSummary, passes } from './report';
import { DATABASE_URL_ENV, type StoreFlags, databaseUrl, withStore } from './store';

/** The flags of `oin-oidc doctor`, as commander parses them. */
export interface DoctorFlags extends StoreFlags {
  issuer?: string;
  clientId?: string;
  secretEnv?: string;
  privateJwk?: string;
  authMethod?: string;
  redirectUri?: string[];
  scope?: string[];
  dpop?: boolean;
  profile?: string;
  allowLoopback?: boolean;
  tenants?: string;
  tenant?: string[];
  timeout?: string;
  concurrency?: string;
  json?: boolean;
  strict?: boolean;
  /** Hidden: present only so `--secret` is refused with a reason instead of commander echoing it. */
  secret?: string;
  clientSecret?: string;
}

/** The id given to the one tenant built from flags. */
export const ADHOC_TENANT_ID = 'cli';
/**
 * A tenant record needs a redirect URI, but `--redirect-uri` is optional: without one the record
 * carries this stand-in (a reserved name, RFC 2606 §2), whose probe only ever meets Okta's error
 * page, and its entry in the report becomes a skip. Nothing else in the report depends on it.
 */
const NO_REDIRECT_URI = 'https://redirect-uri-not-given.invalid/';

function withoutStandInRedirect(report: TenantReport): TenantReport {
  const checks = report.checks.map((check) =>
    check.id === 'redirect-uri.registered'
      ? { id: check.id, status: 'skip' as const, message: 'Not checked: no --redirect-uri given (pass each sign-in redirect URI of the app to check it is registered).' }
      : check,
  );
  return { ...report, checks, ok: !checks.some((check) => check.status === 'fail') };
}
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function positiveInt(text: string | undefined, flag: string, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1 || value > max) throw new UsageError(`${flag} must be an integer from 1 to ${max}`);
  return value;
}

/** `--secret` and friends: refused outright, whatever the rest of the command line says. */
export function refuseSecretOnArgv(flags: { secret?: string; clientSecret?: string }, alternative: string): void {
  if (flags.secret !== undefined || flags.clientSecret !== undefined) {
    throw new UsageError(
      `secrets are never taken from the command line (every local user can read it with ps, and it stays in shell history): ${alternative}`,
    );
  }
}

async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    const buffer = await readFile(path);
    if (buffer.length > MAX_INPUT_BYTES) throw new UsageError(`${what} is larger than ${MAX_INPUT_BYTES} bytes`);
    text = buffer.toString('utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read ${what} (${(error as { code?: string }).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    // Never the SyntaxError's message: V8 quotes the text around the error, which may be a secret.
    throw new UsageError(`${what} is not valid JSON`);
  }
}

/** The one tenant described by flags. */
async function adhocRecord(flags: DoctorFlags, output: Output): Promise<TenantRecord> {
  if (flags.clientId === undefined) throw new UsageError('--client-id is required with --issuer');
  if ((flags.secretEnv === undefined) === (flags.privateJwk === undefined)) {
    throw new UsageError('give exactly one of --secret-env VAR (client_secret_basic / client_secret_post) or --private-jwk FILE (private_key_jwt)');
  }
  const redirectUris = flags.redirectUri ?? [NO_REDIRECT_URI];
  const base = {
    id: ADHOC_TENANT_ID,
    issuer: flags.issuer as string,
    clientId: flags.clientId,
    redirectUris,
    ...(flags.scope !== undefined ? { scopes: flags.scope.flatMap((s) => s.split(/\s+/)).filter((s) => s !== '') } : {}),
    ...(flags.dpop ? { dpop: true } : {}),
    ...(flags.profile !== undefined ? { profile: flags.profile as 'oin' | 'custom' } : {}),
  };
  if (flags.profile !== undefined && flags.profile !== 'oin' && flags.profile !== 'custom') throw new UsageError('--profile must be oin or custom');
  if (flags.secretEnv !== undefined) {
    if (!ENV_NAME.test(flags.secretEnv)) throw new UsageError('--secret-env takes the NAME of an environment variable (the secret itself never goes on the command line)');
    const secret = output.io.env[flags.secretEnv];
    if (secret === undefined || secret === '') throw new UsageError(`the environment variable ${flags.secretEnv} (--secret-env) is not set`);
    output.secret(secret);
    const method = flags.authMethod ?? 'client_secret_basic';
    if (method !== 'client_secret_basic' && method !== 'client_secret_post') {
      throw new UsageError('--auth-method must be client_secret_basic or client_secret_post with --secret-env (--private-jwk implies private_key_jwt)');
    }
    return { ...base, clientSecret: secret, tokenEndpointAuthMethod: method };
  }
  if (flags.authMethod !== undefined && flags.authMethod !== 'private_key_jwt') throw new UsageError('--private-jwk implies --auth-method private_key_jwt');
  const jwk = await readJsonFile(flags.privateJwk as string, 'the --private-jwk file');
  output.secretsOf({ privateJwk: jwk });
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk) || typeof (jwk as { kty?: unknown }).kty !== 'string') {
    throw new UsageError('the --private-jwk file must hold one private JWK (a JSON object with kty and d)');
  }
  return { ...base, privateJwk: jwk as TenantRecord['privateJwk'] & object, tokenEndpointAuthMethod: 'private_key_jwt' };
}

/** Records of a tenants file: passed to checkTenant raw, so an invalid record is reported by it, not refused for the whole file. */
async function fileRecords(path: string, output: Output): Promise<TenantRecord[]> {
  const data = await readJsonFile(path, 'the --tenants file');
  const list = Array.isArray(data) ? data : (data as { tenants?: unknown } | null)?.tenants;
  if (!Array.isArray(list)) throw new UsageError('the --tenants file must hold a JSON array of tenant records');
  for (const record of list) output.secretsOf(record);
  return list as TenantRecord[];
}

function selectTenants<T extends { id: string }>(records: readonly T[], wanted: readonly string[] | undefined): T[] {
  if (wanted === undefined || wanted.length === 0) return [...records];
  const byId = new Map(records.map((record) => [record.id, record]));
  const missing = wanted.filter((id) => !byId.has(id));
  if (missing.length > 0) throw new CliFailure(`no tenant with id ${missing.map((id) => JSON.stringify(id)).join(', ')}`);
  return [...new Set(wanted)].map((id) => byId.get(id) as T);
}

/** Checks tenants a few at a time (several orgs, so several servers), keeping the input order in the output. */
async function checkAll(
  records: readonly (TenantRecord | Tenant)[],
  options: CheckTenantOptions,
  concurrency: number,
  output: Output,
): Promise<Array<{ report: TenantReport } | { error: unknown; tenantId: string }>> {
  const results: Array<{ report: TenantReport } | { error: unknown; tenantId: string }> = new Array(records.length);
  let next = 0;
  let done = 0;
  const label = (id: string) => `${id.length > 40 ? `${id.slice(0, 39)}…` : id}`;
  output.progress(`Checking ${records.length} tenant${records.length === 1 ? '' : 's'}…`);
  const worker = async () => {
    while (next < records.length) {
      const index = next++;
      const record = records[index]!;
      const tenantId = typeof record?.id === 'string' ? record.id : `#${index}`;
      try {
        results[index] = { report: await checkTenant(record, options) };
      } catch (error) {
        results[index] = { error, tenantId };
      }
      done++;
      output.progress(`Checked ${done}/${records.length} ${output.paint(label(tenantId), 'dim')}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, records.length) }, worker));
  output.clearProgress();
  return results;
}

/** Runs `oin-oidc doctor`; resolves the exit code. */
export async function doctor(flags: DoctorFlags, output: Output): Promise<number> {
  refuseSecretOnArgv(flags, 'put it in an environment variable and pass --secret-env VAR');
  const adhoc = flags.issuer !== undefined;
  const sources = [adhoc, flags.tenants !== undefined, flags.databaseUrl !== undefined].filter(Boolean).length;
  if (sources > 1) throw new UsageError('give one source of tenants: --issuer …, --tenants FILE or --database-url URL');
  const fromDatabase = flags.databaseUrl !== undefined || (sources === 0 && databaseUrl(flags, output, false) !== undefined);
  if (sources === 0 && !fromDatabase) {
    throw new UsageError(`nothing to check: give --issuer URL --client-id ID (--secret-env VAR | --private-jwk FILE), --tenants FILE, or --database-url URL (or ${DATABASE_URL_ENV})`);
  }
  if (adhoc) {
    if (flags.tenant !== undefined) throw new UsageError('--tenant selects tenants of --tenants FILE or --database-url; with --issuer there is one');
  } else {
    const adhocOnly = (['clientId', 'secretEnv', 'privateJwk', 'authMethod', 'redirectUri', 'scope', 'dpop', 'profile'] as const).filter((key) => flags[key] !== undefined);
    if (adhocOnly.length > 0) throw new UsageError('--client-id, --secret-env, --private-jwk, --auth-method, --redirect-uri, --scope, --dpop and --profile describe one tenant and need --issuer');
  }
  const options: CheckTenantOptions = {
    timeoutMs: positiveInt(flags.timeout, '--timeout', 5000, 120_000),
    ...(flags.allowLoopback ? { allowLoopbackIssuers: true } : {}),
  };
  const concurrency = positiveInt(flags.concurrency, '--concurrency', 4, 64);
  const strict = flags.strict === true;

  const run = async (records: readonly (TenantRecord | Tenant)[], adjust?: (report: TenantReport) => TenantReport): Promise<number> => {
    const results = await checkAll(records, options, concurrency, output);
    const reports = results.flatMap((result) => ('report' in result ? [adjust ? adjust(result.report) : result.report] : []));
    const broken = results.flatMap((result) => ('error' in result ? [result] : []));
    for (const { tenantId, error } of broken) output.err(`oin-oidc doctor: tenant ${JSON.stringify(tenantId)} could not be checked: ${describeError(error).message}`);
    if (flags.json) {
      output.out(JSON.stringify(reports, null, 2));
    } else {
      for (const report of reports) output.out(`${formatReport(report, output, strict)}\n`);
      output.out(formatSummary(reports, broken.length, output, strict));
    }
    return broken.length === 0 && reports.every((report) => passes(report, strict)) ? EXIT_OK : EXIT_FAILED;
  };

  if (adhoc) return run([await adhocRecord(flags, output)], flags.redirectUri === undefined ? withoutStandInRedirect : undefined);
  if (flags.tenants !== undefined) return run(selectTenants(await fileRecords(flags.tenants, output), flags.tenant));
  return withStore(flags, output, async (store, _pool, _schema, unreadable) => {
    const tenants = await store.list();
    for (const id of [...unreadable].sort()) output.err(`oin-oidc doctor: tenant ${JSON.stringify(id)} could not be read from the store (a missing at-rest key or an invalid row); not checked`);
    if (tenants.length === 0 && unreadable.size === 0 && (flags.tenant ?? []).length === 0) throw new CliFailure('the store holds no tenants');
    const code = await run(selectTenants(tenants, flags.tenant));
    return unreadable.size > 0 ? EXIT_FAILED : code;
  });
}
