/**
 * `oin-oidc emulator …`: the Okta org emulator of `@oin-oidc/testing` (`oin-okta-emulator`),
 * run unchanged with the same flags. A child process rather than an import: the emulator owns its
 * signals and exit codes (it exits on SIGINT/SIGTERM after closing its orgs), and this CLI only
 * forwards them. `@oin-oidc/testing` is an optional peer dependency: a production install of the
 * CLI does not pull in oidc-provider.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CliFailure } from './errors';
import type { Output } from './io';

/** The emulator's bin script, from the installed `@oin-oidc/testing`. */
export function emulatorBin(): string {
  const require = createRequire(import.meta.url);
  let manifestPath: string;
  try {
    manifestPath = require.resolve('@oin-oidc/testing/package.json');
  } catch {
    throw new CliFailure('oin-oidc emulator needs @oin-oidc/testing: npm install -D @oin-oidc/testing');
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { bin?: Record<string, string> };
  const bin = manifest.bin?.['oin-okta-emulator'];
  if (typeof bin !== 'string') throw new CliFailure('this @oin-oidc/testing has no oin-okta-emulator bin');
  return join(dirname(manifestPath), bin);
}

/** Runs the emulator with `args`; resolves its exit code (a signal that killed it counts as 1). */
export async function runEmulator(args: readonly string[], output: Output): Promise<number> {
  const bin = emulatorBin();
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['inherit', 'pipe', 'pipe'], env: output.io.env as NodeJS.ProcessEnv });
  // Piped (not inherited) so the same streams a caller of runCli gave us are used.
  child.stdout.on('data', (chunk: Buffer) => output.io.stdout.write(chunk));
  child.stderr.on('data', (chunk: Buffer) => output.io.stderr.write(chunk));
  const forward = (signal: NodeJS.Signals) => () => {
    child.kill(signal);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  // Installed for the child's lifetime, so Ctrl-C (sent to the whole process group) does not end
  // this process before the emulator has closed its orgs and said so.
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code ?? 1));
    });
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
