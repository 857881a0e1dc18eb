/**
 * A real redis-server for tests (real servers, never mocks): loopback only, a
 * temp dir, a free port, no persistence, stopped by PID.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Launched,
  freePort,
  killGroup,
  launch,
  serverEnv,
  sleep,
  stopGroup,
  tcpExchange,
  waitReady,
} from './process';
import type { RunningServer } from './types';

const INSTALL = 'redis-server is not installed. Install it: apt-get install -y redis-server';
const MAX_PORT_ATTEMPTS = 5;

/**
 * The path of redis-server: `REDIS_SERVER` if set (it must exist), else /usr/bin/redis-server,
 * else the first `redis-server` on PATH. Throws with the install instruction when there is none
 * (tests fail; they never skip).
 */
export function redisServerBinary(): string {
  const fromEnv = process.env.REDIS_SERVER;
  if (fromEnv) {
    if (existsSync(fromEnv)) return fromEnv;
    throw new Error(`REDIS_SERVER=${fromEnv} does not exist. ${INSTALL}`);
  }
  const candidates = [
    '/usr/bin/redis-server',
    ...(process.env.PATH ?? '').split(':').filter(Boolean).map((dir) => join(dir, 'redis-server')),
  ];
  for (const candidate of candidates) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(INSTALL);
}

/** Options for {@link startRedisServer}. */
export interface RedisServerOptions {
  /** `--maxmemory-policy` (e.g. `allkeys-lru` to test the start-up eviction check). */
  maxmemoryPolicy?: string;
  /** Extra redis-server arguments, appended last (so they win). */
  args?: string[];
}

/** Sends PING over a raw socket and expects `+PONG` (RESP2 inline command). */
async function ping(port: number): Promise<void> {
  const answer = await tcpExchange(port, 'PING\r\n', (received) => received.includes('\r\n'));
  if (!answer.startsWith('+PONG')) throw new Error(`PING answered ${JSON.stringify(answer)}`);
}

/**
 * Starts redis-server on 127.0.0.1 with a random free port and a temp dir, without persistence
 * (`--save '' --appendonly no`): kill() then restart() therefore gives an empty server on the
 * same port, as a Redis without persistence comes back after a crash.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RunningServer> {
  const binary = redisServerBinary();
  const dir = await mkdtemp(join(tmpdir(), 'oin-redis-'));
  const argsFor = (port: number) => [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--protected-mode',
    'no',
    '--daemonize',
    'no',
    ...(options.maxmemoryPolicy ? ['--maxmemory-policy', options.maxmemoryPolicy] : []),
    ...(options.args ?? []),
  ];

  const boot = async (port: number): Promise<Launched | undefined> => {
    const launched = launch(binary, argsFor(port), { cwd: dir, env: serverEnv() });
    const outcome = await waitReady(launched, `redis-server on 127.0.0.1:${port}`, () => ping(port));
    if (outcome === 'address-in-use') return undefined;
    return launched;
  };

  let current: Launched | undefined;
  let port = 0;
  try {
    for (let attempt = 0; attempt < MAX_PORT_ATTEMPTS && !current; attempt++) {
      port = await freePort();
      current = await boot(port);
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  if (!current) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`redis-server: every port tried was in use (${MAX_PORT_ATTEMPTS} attempts)`);
  }
  let stopped = false;
  let proc: Launched = current;
  const server: RunningServer = {
    url: `redis://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    pid: proc.pid,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopGroup(proc, 'SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
    async kill() {
      await killGroup(proc);
    },
    async restart() {
      if (stopped) throw new Error('redis-server was stopped; start a new one');
      if (!proc.hasExited()) await killGroup(proc);
      // The same port: someone may have taken it meanwhile, so keep trying within the deadline.
      const until = Date.now() + 30_000;
      for (;;) {
        const next = await boot(port);
        if (next) {
          proc = next;
          server.pid = next.pid;
          return;
        }
        if (Date.now() > until) throw new Error(`redis-server: port ${port} stayed in use`);
        await sleep(200);
      }
    },
  };
  return server;
}
