/**
 * Shared process plumbing for the real test servers (redis-server, PostgreSQL): launching a
 * child in its own process group, keeping the tail of its output for error messages, waiting
 * for readiness under one deadline, and a process 'exit' hook that SIGKILLs whatever is still
 * running, so a crashed test run leaves no server behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';

/** The overall deadline for a server to accept connections after it is launched. */
export const READY_DEADLINE_MS = 30_000;
/** How long a graceful stop may take before it is escalated to SIGKILL (a stop never hangs). */
const STOP_ESCALATE_MS = 15_000;
const TAIL_LINES = 40;

/** Identity to run a child as (PostgreSQL refuses to run as root). */
export interface RunAs {
  uid: number;
  gid: number;
}

export interface Launched {
  child: ChildProcess;
  pid: number;
  /** Resolves once the child has exited (never rejects). */
  exited: Promise<void>;
  hasExited(): boolean;
  /** The last lines the child wrote to stdout/stderr. */
  tail(): string;
}

const live = new Set<number>();
let hookInstalled = false;

function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  // 'exit' handlers must be synchronous: a SIGKILL to each process group is.
  process.on('exit', () => {
    for (const pgid of live) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/**
 * Spawns a server in its own process group (detached) so that kill() can take the postmaster
 * and all its backends at once, as a machine crash would. The child and its pipes are unref'd:
 * a forgotten server does not keep the test process alive; the exit hook kills it instead.
 */
export function launch(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; runAs?: RunAs },
): Launched {
  installExitHook();
  const child = spawn(command, [...args], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.runAs ? { uid: options.runAs.uid, gid: options.runAs.gid } : {}),
  });
  const lines: string[] = [];
  let partial = '';
  const onData = (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let done = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      done = true;
      resolve();
    });
    child.once('error', (error) => {
      lines.push(`spawn failed: ${error.message}`);
      done = true;
      resolve();
    });
  });
  const pid = child.pid ?? -1;
  if (pid > 0) {
    live.add(pid);
    void exited.then(() => live.delete(pid));
  }
  child.unref();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  return {
    child,
    pid,
    exited,
    hasExited: () => done,
    tail: () => [...lines, ...(partial ? [partial] : [])].join('\n'),
  };
}

/** True when any process of the group is alive and not a zombie. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  // Orphaned backends become zombies of PID 1, which may never reap them; a zombie holds no
  // port and no shared memory, so it does not count. /proc is Linux; elsewhere trust kill(0).
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Format: pid (comm) state ppid pgrp …; comm may contain spaces and parentheses.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    const pgrp = Number(rest[2]);
    if (pgrp === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

/** Waits until the group leader has exited and no other process of its group is running. */
async function waitGroupGone(launched: Launched, deadlineMs: number): Promise<void> {
  await launched.exited;
  const until = Date.now() + deadlineMs;
  while (groupAlive(launched.pid) && Date.now() < until) await sleep(20);
}

/** SIGKILL to the whole process group; resolves once it is gone. */
export async function killGroup(launched: Launched): Promise<void> {
  if (launched.pid <= 0) return;
  try {
    process.kill(-launched.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  await waitGroupGone(launched, 10_000);
}

/** Sends `signal` to the leader, escalating to SIGKILL of the group if it does not exit. */
export async function stopGroup(launched: Launched, signal: NodeJS.Signals): Promise<void> {
  if (launched.pid <= 0 || launched.hasExited()) {
    await waitGroupGone(launched, 10_000);
    return;
  }
  try {
    process.kill(launched.pid, signal);
  } catch {
    // already gone
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-launched.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, STOP_ESCALATE_MS);
  timer.unref();
  await launched.exited;
  clearTimeout(timer);
  await waitGroupGone(launched, 10_000);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A port that was free a moment ago on 127.0.0.1 (redis' port 0 disables TCP, so the port is
 * chosen here). Another process may take it before the server binds: callers retry on
 * EADDRINUSE.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/** One TCP exchange: connect, optionally write, collect until `done(received)` or timeout. */
export function tcpExchange(
  port: number,
  payload: string | undefined,
  done: (received: string) => boolean,
  timeoutMs = 1_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer on 127.0.0.1:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      if (payload !== undefined) socket.write(payload);
      else if (done(received)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('data', (chunk) => {
      received += chunk.toString('utf8');
      if (done(received)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(received);
      }
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new Error(`connection to 127.0.0.1:${port} closed after ${JSON.stringify(received)}`));
    });
  });
}

/** Outcome of a readiness wait. */
export type Readiness = 'ready' | 'address-in-use';

/**
 * Polls `probe` until it resolves, the child exits, or the deadline passes. An early exit whose
 * output says "Address already in use" is reported as such so the caller can pick another port.
 */
export async function waitReady(
  launched: Launched,
  what: string,
  probe: () => Promise<void>,
): Promise<Readiness> {
  const until = Date.now() + READY_DEADLINE_MS;
  let lastError: unknown;
  while (Date.now() < until) {
    if (launched.hasExited()) {
      if (/address already in use/i.test(launched.tail())) return 'address-in-use';
      throw new Error(`${what} exited before accepting connections. Last output:\n${launched.tail()}`);
    }
    try {
      await probe();
      return 'ready';
    } catch (error) {
      lastError = error;
    }
    await sleep(50);
  }
  await killGroup(launched);
  throw new Error(
    `${what} did not accept connections within ${READY_DEADLINE_MS / 1000} s ` +
      `(last probe error: ${lastError instanceof Error ? lastError.message : String(lastError)}). ` +
      `Last output:\n${launched.tail()}`,
  );
}

/** Runs a short command to completion, returning its exit code and output. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; runAs?: RunAs; input?: string },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.runAs ? { uid: options.runAs.uid, gid: options.runAs.gid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => {
      // the child may exit before reading its input; the exit code tells what happened
    });
    child.stdin.end(options.input ?? '');
  });
}

/** The environment for a server child: ours minus anything that would redirect a client. */
export function serverEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('PG') || key.startsWith('REDIS')) continue;
    env[key] = value;
  }
  return { ...env, LC_ALL: 'C', LANG: 'C', ...extra };
}
