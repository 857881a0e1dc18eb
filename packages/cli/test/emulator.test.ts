/**
 * `oin-oidc emulator …` runs `oin-okta-emulator` from @oin-oidc/testing with the same flags: the
 * orgs it starts answer discovery, SIGTERM stops them with exit 0, and its usage exit code (2)
 * comes through unchanged. Also the top-level usage of the CLI.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, cli, tempFile } from './helpers';

let child: ChildProcess | undefined;

afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
});

describe('oin-oidc emulator', () => {
  it('starts the orgs of a config file, prints their JSON summary, and stops on SIGTERM with exit 0', async () => {
    const config = tempFile(
      'orgs.json',
      JSON.stringify([{ name: 'acme', clients: [{ clientId: 'app', clientSecret: 'emulator-test-secret', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: ['http://127.0.0.1:3000/auth/callback'] }] }]),
    );
    child = spawn(process.execPath, [BIN, 'emulator', '--config', config, '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] } });
    const exited = new Promise<number | null>((resolve) => child!.once('close', (code) => resolve(code)));
    const firstLine = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child!.stdout! });
      lines.once('line', resolve);
      child!.once('close', () => reject(new Error('the emulator exited before printing')));
    });
    const summary = JSON.parse(firstLine) as { orgs: Array<{ name: string; issuer: string }> };
    expect(summary.orgs.map((org) => org.name)).toEqual(['acme']);
    const discovery = await fetch(`${summary.orgs[0]!.issuer}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    expect(((await discovery.json()) as { issuer: string }).issuer).toBe(summary.orgs[0]!.issuer);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it("passes the emulator's own flags and exit codes through: no --config is its usage error, exit 2", async () => {
    const usage = await cli(['emulator']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Usage: oin-okta-emulator --config');
    const help = await cli(['--no-color', 'emulator', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: oin-okta-emulator');
  });
});

describe('oin-oidc usage', () => {
  it('--help exits 0 and lists the commands; no command, an unknown command or a bad flag exit 2', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['doctor', 'tenants', 'emulator']) expect(help.stdout).toContain(command);
    expect(help.stdout).toContain('Exit codes: 0 all ok, 1 a check or the operation failed, 2 usage error.');
    const tenantsHelp = await cli(['tenants', '--help']);
    expect(tenantsHelp.code).toBe(0);
    for (const command of ['list', 'add', 'rotate-secret', 'remove', 'migrate', 'reencrypt']) expect(tenantsHelp.stdout).toContain(command);
    expect((await cli([])).code).toBe(2);
    expect((await cli(['tenants'])).code).toBe(2);
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const missing = await cli(['tenants', 'remove']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--tenant <id>' not specified");
    const extra = await cli(['tenants', 'list', 'extra-argument']);
    expect(extra.code).toBe(2);
  });
});
