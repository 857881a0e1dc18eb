import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OrgSummary } from '../src/index';

const CLI = resolve(__dirname, '../dist/cli.js');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

const ORGS = [
  {
    name: 'first',
    port: 0,
    clients: [{ clientId: 'one', clientSecret: 'one-secret', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: ['http://127.0.0.1:9/cb'] }],
    users: [{ login: 'ann@first.test', password: 'ann-pw' }],
  },
  {
    name: 'second',
    port: 0,
    clients: [
      { clientId: 'two-a', tokenEndpointAuthMethod: 'none', redirectUris: ['http://127.0.0.1:9/cb'] },
      { clientId: 'two-b', clientSecret: 'two-b-secret', tokenEndpointAuthMethod: 'client_secret_post', redirectUris: ['http://127.0.0.1:9/cb'] },
    ],
    users: [{ login: 'ben@second.test', password: 'ben-pw' }],
  },
];

function configFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'okta-emulator-'));
  const file = join(dir, 'orgs.json');
  writeFileSync(file, JSON.stringify(ORGS));
  return file;
}

/** Spawns the built CLI and resolves with stdout once `until` matches it. */
function run(args: string[], until: RegExp): Promise<{ child: ChildProcess; stdout: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolvePromise, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (until.test(stdout)) resolvePromise({ child, stdout });
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('exit', (code) => reject(new Error(`cli exited with ${code}: ${stderr}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

describe('oin-okta-emulator CLI', () => {
  it('--json starts two orgs from one config file, prints them on one line, and serves both', async () => {
    const { child, stdout } = await run(['--config', configFile(), '--json'], /\n/);
    const { orgs } = JSON.parse(stdout.trim()) as { orgs: OrgSummary[] };
    expect(orgs.map((o) => o.name)).toEqual(['first', 'second']);
    expect(orgs[0]!.issuer).not.toBe(orgs[1]!.issuer);
    expect(orgs[1]!.clients.map((c) => [c.clientId, c.tokenEndpointAuthMethod])).toEqual([
      ['two-a', 'none'],
      ['two-b', 'client_secret_post'],
    ]);
    expect(orgs[1]!.clients[1]!.secrets).toEqual([{ value: 'two-b-secret', active: true }]);
    expect(orgs[0]!.users).toEqual([expect.objectContaining({ login: 'ann@first.test', password: 'ann-pw' })]);
    for (const org of orgs) {
      const doc = (await (await fetch(`${org.issuer}/.well-known/openid-configuration`)).json()) as { issuer: string };
      expect(doc.issuer).toBe(org.issuer);
    }
    const exit = exited(child);
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    await expect(fetch(`${orgs[0]!.issuer}/.well-known/openid-configuration`)).rejects.toThrow();
  });

  it('prints issuers, clients (auth method, secret) and users (login/password), and stops on SIGINT', async () => {
    const { child, stdout } = await run(['--config', configFile()], /Ctrl-C/);
    expect(stdout).toMatch(/first\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(stdout).toMatch(/second\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(stdout).toContain('one  client_secret_basic  secret: one-secret');
    expect(stdout).toContain('two-a  none');
    expect(stdout).toContain('ann@first.test / ann-pw');
    expect(stdout).toContain('ben@second.test / ben-pw');
    const exit = exited(child);
    child.kill('SIGINT');
    expect(await exit).toBe(0);
  });

  it('exits non-zero with a message for a bad config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'okta-emulator-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify([{ clients: [] }]));
    const child = spawn(process.execPath, [CLI, '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    expect(await exited(child)).toBe(1);
    expect(stderr).toContain('at least one client');
  });
});
