/**
 * Starts a built example (`node examples/<framework>/dist/server.js`) as a child process with the
 * examples-contract environment and waits for its `listening` line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export type Framework = 'express' | 'fastify' | 'hono' | 'koa';

export const EXAMPLES_DIR = fileURLToPath(new URL('../../../', import.meta.url));

export interface ExampleEnv {
  PORT: string;
  BASE_URL: string;
  OIN_TENANTS_FILE: string;
  SESSION_SECRET: string;
  [name: string]: string;
}

export interface RunningExample {
  baseUrl: string;
  /** Everything the child printed so far (stdout and stderr), for failure messages. */
  output(): string;
  exitCode(): number | null;
  stop(): Promise<void>;
}

export function serverPath(framework: Framework): string {
  return `${EXAMPLES_DIR}${framework}/dist/server.js`;
}

/**
 * A free loopback port. The emulator must know the app's redirect URIs before the app starts,
 * so the app's port is chosen first (bind to port 0, read it, release it).
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** How long an example may take to print "listening" (or to exit): a deadline for a start that hangs, sized for a loaded machine. */
const STARTUP_TIMEOUT_MS = 60_000;

/** Spawn the example and resolve once it prints `listening`; reject with its output if it exits or times out. */
export async function startExample(framework: Framework, env: ExampleEnv, options: { timeoutMs?: number } = {}): Promise<RunningExample> {
  const path = serverPath(framework);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: build first (npx -y pnpm@10.34.9 --filter ./examples/${framework} build, or the root \`pnpm build\`)`);
  }
  const child: ChildProcess = spawn(process.execPath, [path], {
    env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${framework} example printed no "listening" line within ${options.timeoutMs ?? STARTUP_TIMEOUT_MS} ms. Output:\n${output}`));
    }, options.timeoutMs ?? STARTUP_TIMEOUT_MS);
    const onData = () => {
      if (/listening/i.test(output)) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${framework} example exited (code ${code}) before listening. Output:\n${output}`));
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });

  return {
    baseUrl: env.BASE_URL,
    output: () => output,
    exitCode: () => child.exitCode,
    stop: () => stopChild(child),
  };
}

/** Run the example expecting it to refuse to start; resolves with its exit code and output. */
export async function runExampleExpectingExit(framework: Framework, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [serverPath(framework)], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), STARTUP_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
