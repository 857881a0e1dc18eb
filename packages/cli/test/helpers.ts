/** Spawns the built bin (`node dist/cli.js`: build first, as `pnpm test` does through turbo). */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';

export const BIN = resolve(__dirname, '../dist/cli.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `oin-oidc ARGS` with only PATH from this environment plus `env`, `input` on stdin (closed
 * when absent), and resolves exit code and output.
 */
export function cli(args: readonly string[], options: { env?: Record<string, string | undefined>; input?: string } = {}): Promise<Run> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npx -y pnpm@10.34.9 --filter @oin-oidc/cli build`);
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env['PATH'], ...options.env } as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Asserts that no secret appears anywhere in what a run printed. */
export function expectNoSecrets(run: Run, secrets: readonly string[]): void {
  for (const secret of secrets) {
    expect(run.stdout, 'stdout').not.toContain(secret);
    expect(run.stderr, 'stderr').not.toContain(secret);
  }
}

export function tempFile(name: string, content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'oin-cli-')), name);
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}

/** `kid:base64url-32-bytes`, the OIN_ENCRYPTION_KEYS format. */
export function keyText(kid: string): string {
  return `${kid}:${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')}`;
}

/** A distinctive value: any trace of it in output is a leak, never a coincidence. */
export function distinctSecret(label: string): string {
  return `S3CRET-${label}-${Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString('base64url')}`;
}
