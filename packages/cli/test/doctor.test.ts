/**
 * `oin-oidc doctor` (the built bin) against a real emulated Okta org: a correct tenant passes with
 * exit 0; each cheap misconfiguration fails its check id with exit 1; `--json` parses and matches
 * the documented schema (docs/cli.md); usage errors exit 2; no run prints a secret. The per-check
 * logic itself (every id, passing and failing, crafted servers) is tested in core
 * (packages/core/test/check-tenant.test.ts); here the question is what the CLI makes of it.
 */
import { createServer } from 'node:net';
import { TENANT_CHECK_IDS, type TenantReport } from '@oin-oidc/core';
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Run, cli, distinctSecret, expectNoSecrets, tempFile } from './helpers';

const R1 = 'http://127.0.0.1:3000/auth/callback';
const R2 = 'http://127.0.0.1:3000/not-registered';
const SECRET = distinctSecret('basic');
const DPOP_SECRET = distinctSecret('dpop');
const WRONG = distinctSecret('wrong');
const ON_ARGV = distinctSecret('argv');
const LIMITED_SECRET = distinctSecret('limited');
const secrets = [SECRET, DPOP_SECRET, WRONG, ON_ARGV, LIMITED_SECRET];

let org: OktaOrg;
let limitedOrg: OktaOrg;
let jwkFile: string;
let wrongJwkFile: string;
const runs: Run[] = [];

async function doctor(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const result = await cli(['doctor', ...args], { env: { OKTA_SECRET: SECRET, ...env } });
  runs.push(result);
  return result;
}

/** --issuer … for the org's `app` client, with the secret from OKTA_SECRET. */
function adhoc(extra: string[] = [], issuer = org.issuer): string[] {
  return ['--issuer', issuer, '--client-id', 'app', '--secret-env', 'OKTA_SECRET', '--redirect-uri', R1, '--allow-loopback', ...extra];
}

/** The documented --json schema (docs/cli.md), checked field by field: nothing more, nothing less. */
function expectSchema(value: unknown): asserts value is TenantReport[] {
  expect(Array.isArray(value)).toBe(true);
  for (const report of value as Record<string, unknown>[]) {
    expect(Object.keys(report).sort()).toEqual(['checkedAt', 'checks', 'durationMs', 'issuer', 'ok', 'tenantId']);
    expect(typeof report['tenantId']).toBe('string');
    expect(typeof report['issuer']).toBe('string');
    expect(typeof report['ok']).toBe('boolean');
    expect(new Date(report['checkedAt'] as string).toISOString()).toBe(report['checkedAt']);
    expect(Number.isInteger(report['durationMs'])).toBe(true);
    const checks = report['checks'] as Record<string, unknown>[];
    for (const check of checks) {
      expect(TENANT_CHECK_IDS).toContain(check['id']);
      expect(['ok', 'warn', 'fail', 'skip']).toContain(check['status']);
      expect(typeof check['message']).toBe('string');
      for (const key of Object.keys(check)) expect(['id', 'status', 'message', 'details']).toContain(key);
      if ('details' in check) expect(typeof check['details']).toBe('object');
    }
    for (const id of TENANT_CHECK_IDS) expect(checks.some((check) => check['id'] === id)).toBe(true);
    expect(report['ok']).toBe(!checks.some((check) => check['status'] === 'fail'));
  }
}

function statusOf(report: TenantReport, id: string): string | undefined {
  return report.checks.find((check) => check.id === id)?.status;
}

async function json(args: string[], env?: Record<string, string>): Promise<{ run: Run; reports: TenantReport[] }> {
  const run = await doctor([...args, '--json'], env);
  const parsed: unknown = JSON.parse(run.stdout);
  expectSchema(parsed);
  return { run, reports: parsed };
}

/** An RSA key pair as JWKs (Web Crypto; the private one with every RFC 7518 member). */
async function rsaJwks(kid: string): Promise<{ privateJwk: Record<string, unknown>; publicJwk: Record<string, unknown> }> {
  const pair = (await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const { key_ops: _a, ext: _b, ...privateJwk } = (await crypto.subtle.exportKey('jwk', pair.privateKey)) as Record<string, unknown>;
  const { key_ops: _c, ext: _d, ...publicJwk } = (await crypto.subtle.exportKey('jwk', pair.publicKey)) as Record<string, unknown>;
  return { privateJwk: { ...privateJwk, kid, alg: 'RS256' }, publicJwk: { ...publicJwk, kid, alg: 'RS256', use: 'sig' } };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  const { privateJwk, publicJwk } = await rsaJwks('cli-key');
  const other = (await rsaJwks('cli-key')).privateJwk;
  secrets.push(String(privateJwk['d']), String(privateJwk['p']), String(other['d']));
  jwkFile = tempFile('key.json', JSON.stringify(privateJwk));
  wrongJwkFile = tempFile('other.json', JSON.stringify(other));
  [org, limitedOrg] = await Promise.all([
    startOktaOrg({
      clients: [
        { clientId: 'app', clientSecret: SECRET, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [R1] },
        { clientId: 'app-pkjwt', tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [publicJwk as JsonWebKey] }, redirectUris: [R1] },
        { clientId: 'app-dpop', clientSecret: DPOP_SECRET, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [R1], dpopBoundAccessTokens: true },
      ],
      // Okta refuses a secret sent with the other secret method.
      strictClientAuthMethod: true,
    }),
    // A window far longer than the test, so calls spent below still count when the check runs.
    startOktaOrg({ clients: [{ clientId: 'app', clientSecret: LIMITED_SECRET, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [R1] }], rateLimit: { limit: 10, windowSec: 3600 } }),
  ]);
});

afterAll(async () => {
  await Promise.all([org?.close(), limitedOrg?.close()]);
});

beforeEach(() => {
  org.control.clearFaults();
  org.control.clearHostile();
});

describe('oin-oidc doctor: one tenant from flags', () => {
  it('a correctly configured tenant passes: exit 0, every check id reported', async () => {
    const { run, reports } = await json(adhoc());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ tenantId: 'cli', issuer: org.issuer, ok: true });
    for (const id of ['issuer.org-server', 'discovery.reachable', 'discovery.issuer-match', 'keys.reachable', 'keys.usable', 'client.credentials', 'client.auth-method', 'redirect-uri.registered', 'pkce.required', 'scopes.oin']) {
      expect(statusOf(reports[0]!, id), id).toBe('ok');
    }
    // Plain text, not a terminal: no escape codes, words instead of symbols.
    const text = await doctor(adhoc());
    expect(text.code).toBe(0);
    expect(text.stdout).not.toContain('\u001b[');
    expect(text.stdout).toMatch(/^cli {2}http:\/\/127\.0\.0\.1:\d+ {2}PASS/m);
    expect(text.stdout).toMatch(/^ {2}ok {3}client\.credentials {2}/m);
    expect(text.stdout).toContain('1 tenant checked, 1 passed');
  });

  it('client.credentials: a wrong secret fails with exit 1, and the fix is printed', async () => {
    const { run, reports } = await json(adhoc(), { OKTA_SECRET: WRONG });
    expect(run.code).toBe(1);
    expect(statusOf(reports[0]!, 'client.credentials')).toBe('fail');
    expect(reports[0]!.ok).toBe(false);
    const text = await doctor(adhoc(), { OKTA_SECRET: WRONG });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^ {2}FAIL client\.credentials {2}.*client secret/m);
    expect(text.stdout).toContain('1 tenant checked, 0 passed, 1 failed');
  });

  it('client.credentials with --private-jwk: the registered key passes, another key fails', async () => {
    const base = ['--issuer', org.issuer, '--client-id', 'app-pkjwt', '--redirect-uri', R1, '--allow-loopback'];
    const good = await json([...base, '--private-jwk', jwkFile]);
    expect(good.run.code).toBe(0);
    expect(statusOf(good.reports[0]!, 'client.credentials')).toBe('ok');
    const bad = await json([...base, '--private-jwk', wrongJwkFile]);
    expect(bad.run.code).toBe(1);
    expect(statusOf(bad.reports[0]!, 'client.credentials')).toBe('fail');
  });

  it('client.auth-method: client_secret_post for a client_secret_basic app fails', async () => {
    const { run, reports } = await json(adhoc(['--auth-method', 'client_secret_post']));
    expect(run.code).toBe(1);
    expect(statusOf(reports[0]!, 'client.auth-method')).toBe('fail');
  });

  it('issuer.org-server: a custom authorization server, and a loopback issuer without --allow-loopback, fail', async () => {
    const custom = await json(adhoc([], `${org.issuer}/oauth2/default`));
    expect(custom.run.code).toBe(1);
    expect(custom.reports[0]!.checks[0]).toMatchObject({ id: 'issuer.org-server', status: 'fail', details: { code: 'ERR_OIDC_CUSTOM_AUTHORIZATION_SERVER' } });
    const loopback = await json(adhoc().filter((arg) => arg !== '--allow-loopback'));
    expect(loopback.run.code).toBe(1);
    expect(loopback.reports[0]!.checks.find((c) => c.id === 'issuer.org-server')).toMatchObject({ status: 'fail', details: { code: 'ERR_OIDC_ISSUER_NOT_ALLOWED' } });
  });

  it('discovery.reachable: a closed port and a 404 discovery document fail', async () => {
    const closed = await json(adhoc([], `http://127.0.0.1:${await closedPort()}`));
    expect(closed.run.code).toBe(1);
    expect(statusOf(closed.reports[0]!, 'discovery.reachable')).toBe('fail');
    expect(statusOf(closed.reports[0]!, 'client.credentials')).toBe('skip');
    org.control.fault('discovery', { type: 'status', status: 404, body: '{"errorCode":"E0000022"}' });
    const missing = await json(adhoc());
    expect(missing.run.code).toBe(1);
    expect(statusOf(missing.reports[0]!, 'discovery.reachable')).toBe('fail');
  });

  it('discovery.issuer-match: a document naming another issuer fails', async () => {
    org.control.hostile('discovery', 'discovery-issuer-mismatch');
    const { run, reports } = await json(adhoc());
    expect(run.code).toBe(1);
    expect(statusOf(reports[0]!, 'discovery.issuer-match')).toBe('fail');
  });

  it('keys.reachable and keys.usable: a failing /keys and a duplicated kid fail', async () => {
    org.control.fault('keys', { type: 'status', status: 500 });
    const unreachable = await json(adhoc());
    expect(unreachable.run.code).toBe(1);
    expect(statusOf(unreachable.reports[0]!, 'keys.reachable')).toBe('fail');
    org.control.clearFaults();
    org.control.hostile('keys', 'jwks-duplicate-kids');
    const duplicate = await json(adhoc());
    expect(duplicate.run.code).toBe(1);
    expect(statusOf(duplicate.reports[0]!, 'keys.usable')).toBe('fail');
  });

  it('redirect-uri.registered: one entry per --redirect-uri, an unregistered one fails', async () => {
    const { run, reports } = await json(adhoc(['--redirect-uri', R2]));
    expect(run.code).toBe(1);
    const entries = reports[0]!.checks.filter((c) => c.id === 'redirect-uri.registered');
    expect(entries.map((c) => [c.details?.['redirectUri'], c.status])).toEqual([
      [R1, 'ok'],
      [R2, 'fail'],
    ]);
  });

  it('redirect-uri.registered without --redirect-uri: skipped, the rest still checked, exit 0', async () => {
    const { run, reports } = await json(adhoc().filter((arg, i, all) => arg !== '--redirect-uri' && all[i - 1] !== '--redirect-uri'));
    expect(run.code).toBe(0);
    const entries = reports[0]!.checks.filter((c) => c.id === 'redirect-uri.registered');
    expect(entries).toEqual([{ id: 'redirect-uri.registered', status: 'skip', message: expect.stringContaining('no --redirect-uri given') }]);
    expect(statusOf(reports[0]!, 'client.credentials')).toBe('ok');
    expect(run.stdout).not.toContain('.invalid');
  });

  it('scopes.oin: offline_access is outside the OIN allow-list', async () => {
    const { run, reports } = await json(adhoc(['--scope', 'openid profile', '--scope', 'offline_access']));
    expect(run.code).toBe(1);
    expect(reports[0]!.checks[0]).toMatchObject({ id: 'scopes.oin', status: 'fail' });
    expect(reports[0]!.checks[0]!.message).toContain('offline_access');
  });

  it('dpop.required: an app that requires DPoP fails without --dpop and passes with it', async () => {
    const base = ['--issuer', org.issuer, '--client-id', 'app-dpop', '--secret-env', 'DPOP_SECRET', '--redirect-uri', R1, '--allow-loopback'];
    const without = await json(base, { DPOP_SECRET });
    expect(without.run.code).toBe(1);
    expect(statusOf(without.reports[0]!, 'dpop.required')).toBe('fail');
    const withDpop = await json([...base, '--dpop'], { DPOP_SECRET });
    expect(withDpop.run.code).toBe(0);
    expect(statusOf(withDpop.reports[0]!, 'dpop.required')).toBe('ok');
  });

  it('rate-limit.headroom: little headroom is a warning, exit 0; with --strict a warning fails, exit 1', async () => {
    // Spend 8 of the 10 /authorize calls of the window; the two checks below take the 9th and the 10th.
    for (let i = 0; i < 8; i++) await (await fetch(`${limitedOrg.issuer}/oauth2/v1/authorize`, { redirect: 'manual' })).body?.cancel();
    const args = adhoc([], limitedOrg.issuer);
    const warned = await json(args, { OKTA_SECRET: LIMITED_SECRET });
    expect(statusOf(warned.reports[0]!, 'rate-limit.headroom')).toBe('warn');
    expect(warned.reports[0]!.ok).toBe(true);
    expect(warned.run.code).toBe(0);
    const strict = await json([...args, '--strict'], { OKTA_SECRET: LIMITED_SECRET });
    // Still only a warning (ok: true): the exit code 1 is --strict's doing.
    expect(statusOf(strict.reports[0]!, 'rate-limit.headroom')).toBe('warn');
    expect(strict.reports[0]!.ok).toBe(true);
    expect(strict.run.code).toBe(1);
  });
});

describe('oin-oidc doctor --tenants FILE', () => {
  it('checks every record in order, reports an invalid record in its own report, and --tenant selects', async () => {
    const file = tempFile(
      'tenants.json',
      JSON.stringify([
        { id: 'good', issuer: org.issuer, clientId: 'app', clientSecret: SECRET, redirectUris: [R1] },
        { id: 'wrong-secret', issuer: org.issuer, clientId: 'app', clientSecret: WRONG, redirectUris: [R1] },
        { id: 'custom-as', issuer: `${org.issuer}/oauth2/default`, clientId: 'app', clientSecret: SECRET, redirectUris: [R1] },
      ]),
    );
    const { run, reports } = await json(['--tenants', file, '--allow-loopback']);
    expect(run.code).toBe(1);
    expect(reports.map((r) => [r.tenantId, r.ok])).toEqual([
      ['good', true],
      ['wrong-secret', false],
      ['custom-as', false],
    ]);
    expect(statusOf(reports[1]!, 'client.credentials')).toBe('fail');
    expect(reports[2]!.checks[0]).toMatchObject({ id: 'issuer.org-server', status: 'fail' });
    const text = await doctor(['--tenants', file, '--allow-loopback', '--concurrency', '1']);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('3 tenants checked, 1 passed, 2 failed');
    const one = await json(['--tenants', file, '--allow-loopback', '--tenant', 'good']);
    expect(one.run.code).toBe(0);
    expect(one.reports.map((r) => r.tenantId)).toEqual(['good']);
    const unknown = await doctor(['--tenants', file, '--allow-loopback', '--tenant', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no tenant with id "nope"');
  });

  it('an unreadable or broken file is a usage error that quotes nothing from it', async () => {
    const missing = await doctor(['--tenants', '/nonexistent/tenants.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read the --tenants file (ENOENT)');
    const broken = await doctor(['--tenants', tempFile('broken.json', `[{"id":"x","clientSecret":"${SECRET}",`)]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('the --tenants file is not valid JSON');
    const notArray = await doctor(['--tenants', tempFile('object.json', '{"id":"x"}')]);
    expect(notArray.code).toBe(2);
  });
});

describe('oin-oidc doctor: terminal output and usage', () => {
  it('colours only when asked for (FORCE_COLOR) or on a terminal, never with NO_COLOR or --no-color', async () => {
    const forced = await doctor(adhoc(), { FORCE_COLOR: '1' });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('\u001b[32m✔\u001b[0m');
    const off = await doctor([...adhoc(), '--no-color'], { FORCE_COLOR: '1' });
    expect(off.stdout).not.toContain('\u001b[');
    const none = await doctor(adhoc(), { NO_COLOR: '1' });
    expect(none.stdout).not.toContain('\u001b[');
    // A progress line is for terminals only: nothing on a piped stderr.
    expect(forced.stderr).toBe('');
  });

  it('usage errors exit 2 and say what is wrong', async () => {
    const cases: Array<[string[], string]> = [
      [[], 'nothing to check'],
      [['--issuer', org.issuer, '--secret-env', 'OKTA_SECRET'], '--client-id is required'],
      [['--issuer', org.issuer, '--client-id', 'app'], 'give exactly one of --secret-env'],
      [['--issuer', org.issuer, '--client-id', 'app', '--secret-env', 'OKTA_SECRET', '--private-jwk', jwkFile], 'give exactly one of --secret-env'],
      [['--issuer', org.issuer, '--client-id', 'app', '--secret-env', 'UNSET_VARIABLE'], 'UNSET_VARIABLE (--secret-env) is not set'],
      [['--issuer', org.issuer, '--client-id', 'app', '--secret-env', 'not a name'], '--secret-env takes the NAME'],
      [['--issuer', org.issuer, '--tenants', 'x.json'], 'give one source of tenants'],
      [['--tenants', 'x.json', '--client-id', 'app'], 'need --issuer'],
      [[...adhoc(), '--tenant', 'acme'], '--tenant selects tenants'],
      [[...adhoc(), '--timeout', '0'], '--timeout must be an integer'],
      [[...adhoc(), '--auth-method', 'none'], "argument 'none' is invalid"],
      [[...adhoc(), '--bogus'], "unknown option '--bogus'"],
    ];
    for (const [args, message] of cases) {
      const run = await doctor(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toContain(message);
      expect(run.stdout).toBe('');
    }
  });

  it('refuses a secret on the command line, in every spelling, without echoing it', async () => {
    for (const args of [
      [...adhoc(), '--secret', ON_ARGV],
      [...adhoc(), `--secret=${ON_ARGV}`],
      [...adhoc(), '--client-secret', ON_ARGV],
      [...adhoc(), `--clientsecret=${ON_ARGV}`],
    ]) {
      const run = await doctor(args);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
    }
  });

  it('no run printed a secret or a private key member', () => {
    expect(runs.length).toBeGreaterThan(30);
    for (const run of runs) expectNoSecrets(run, secrets);
  });
});
