/**
 * Reads the example's environment once, at startup, and exits with a clear message when something
 * is missing or wrong (the example contract, CONTRIBUTING.md). Identical in every example: copy it
 * along with server.ts.
 *
 *   PORT              port to listen on (default: the port of BASE_URL)
 *   HOST              interface to bind (default 127.0.0.1)
 *   BASE_URL          the app's public origin, e.g. http://127.0.0.1:4000
 *   OIN_TENANTS_FILE  path to a JSON array of tenant records (relative to where you ran pnpm);
 *                     optional when OIN_DATABASE_URL is set (its records are then upserted there)
 *   SESSION_SECRET    at least 32 characters; a comma-separated list rotates keys (the first seals)
 *
 * The fleet variables (OIN_REDIS_URL, OIN_SESSION_STORE, OIN_DATABASE_URL, OIN_ENCRYPTION_KEYS,
 * OIN_INTROSPECTION_CACHE_SEC) are read by stores.ts.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isLoopbackHost, isOidcError, parseTenantsJson, type Tenant } from '@oin-oidc/core';

export interface ExampleConfig {
  port: number;
  host: string;
  /** The public origin, without a trailing slash. */
  baseUrl: string;
  /** Validated tenant records from OIN_TENANTS_FILE, in file order; empty when only OIN_DATABASE_URL is set. */
  tenants: Tenant[];
  /** The first seals, all unseal. */
  sessionSecrets: string[];
  /**
   * Issuers on loopback hosts (the local Okta org emulator) are allowed only when the app itself is
   * served on a loopback host, i.e. in development: a deployed app never sends a back-channel call
   * to an internal address named in a tenant record (SA-12 in docs/security.md).
   */
  allowLoopbackIssuers: boolean;
}

/** Parse the environment or print what is wrong and exit(1): configuration errors never reach a request. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ExampleConfig {
  try {
    return parseConfig(env);
  } catch (error) {
    console.error(`Configuration error: ${error instanceof Error ? error.message : String(error)}`);
    console.error('Required: BASE_URL, SESSION_SECRET, OIN_TENANTS_FILE or OIN_DATABASE_URL (optional: PORT, HOST). See the README of this example.');
    process.exit(1);
  }
}

function parseConfig(env: NodeJS.ProcessEnv): ExampleConfig {
  const rawBase = required(env, 'BASE_URL');
  const base = URL.parse(rawBase);
  if (!base || (base.protocol !== 'http:' && base.protocol !== 'https:') || base.pathname !== '/' || base.search || base.hash) {
    throw new Error(`BASE_URL must be an origin such as http://127.0.0.1:4000 (no path, query or fragment), got "${rawBase}"`);
  }
  const baseUrl = base.origin;

  const rawPort = env['PORT'] ?? (base.port || (base.protocol === 'https:' ? '443' : '80'));
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535) throw new Error(`PORT must be an integer from 0 to 65535, got "${rawPort}"`);

  const secrets = required(env, 'SESSION_SECRET').split(',').map((s) => s.trim());
  if (secrets.some((s) => s.length < 32)) {
    throw new Error('SESSION_SECRET: every secret must have at least 32 characters (a comma-separated list rotates keys)');
  }

  // With a database the tenants live there (stores.ts); a tenants file is then only a seed.
  const tenants = env['OIN_DATABASE_URL']?.trim() && !env['OIN_TENANTS_FILE']?.trim() ? [] : readTenantsFile(env, baseUrl);
  const allowLoopbackIssuers = base.protocol === 'http:' && isLoopbackHost(base.hostname);
  return { port, host: env['HOST'] || '127.0.0.1', baseUrl, tenants, sessionSecrets: secrets, allowLoopbackIssuers };
}

function readTenantsFile(env: NodeJS.ProcessEnv, baseUrl: string): Tenant[] {
  // `pnpm --filter ... start` runs in the example's directory; INIT_CWD is where the command was typed.
  const file = resolve(env['INIT_CWD'] ?? process.cwd(), required(env, 'OIN_TENANTS_FILE'));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new Error(`OIN_TENANTS_FILE: cannot read "${file}" (${(cause as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let tenants: Tenant[];
  try {
    tenants = parseTenantsJson(text);
  } catch (error) {
    throw new Error(`OIN_TENANTS_FILE "${file}": ${isOidcError(error) ? `${error.code}: ${error.message}` : String(error)}`);
  }
  if (tenants.length === 0) throw new Error(`OIN_TENANTS_FILE "${file}": holds no tenant records`);

  // Redirect URIs come from BASE_URL: a tenant whose registered callback is elsewhere could never sign in here.
  const callback = `${baseUrl}/auth/callback`;
  for (const tenant of tenants) {
    if (!tenant.redirectUris.includes(callback)) {
      throw new Error(`tenant "${tenant.id}": redirectUris must include ${callback} (BASE_URL + /auth/callback)`);
    }
  }
  return tenants;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new Error(`${name} is not set`);
  return value.trim();
}
