import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type RunningPostgres,
  type RunningServer,
  postgresBinDir,
  redisServerBinary,
  startPostgres,
  startRedisServer,
} from '../src/servers/index';

/** Sends raw bytes and resolves with the first CRLF-terminated reply. */
function rawRedis(port: number, command: string, lines = 1): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    socket.once('connect', () => socket.write(command));
    socket.on('data', (chunk) => {
      received += chunk.toString('utf8');
      if (received.split('\r\n').length > lines) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.once('error', reject);
  });
}

/** Resolves with the error code of a TCP connect (e.g. ECONNREFUSED), or 'connected'. */
function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function dirOf(server: RunningServer, flag: string): string {
  // Read the postmaster's command line: the test checks the dir the process really used.
  const argv = readFileSync(`/proc/${server.pid}/cmdline`, 'utf8').split('\0');
  const at = argv.indexOf(flag);
  const value = argv[at + 1];
  if (at < 0 || value === undefined) throw new Error(`no ${flag} in ${argv.join(' ')}`);
  return value;
}

const started: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(started.map((server) => server.stop()));
});

describe('binaries', () => {
  it('finds redis-server and the PostgreSQL bin dir', () => {
    expect(existsSync(redisServerBinary())).toBe(true);
    expect(existsSync(`${postgresBinDir()}/postgres`)).toBe(true);
  });

  it('throws the install instruction when PG_BIN points nowhere', () => {
    const saved = process.env.PG_BIN;
    process.env.PG_BIN = '/nonexistent/oin-test';
    try {
      expect(() => postgresBinDir()).toThrow(/apt-get install -y postgresql/);
    } finally {
      if (saved === undefined) delete process.env.PG_BIN;
      else process.env.PG_BIN = saved;
    }
  });

  it('throws the install instruction when REDIS_SERVER points nowhere', () => {
    const saved = process.env.REDIS_SERVER;
    process.env.REDIS_SERVER = '/nonexistent/redis-server';
    try {
      expect(() => redisServerBinary()).toThrow(
        'redis-server is not installed. Install it: apt-get install -y redis-server',
      );
    } finally {
      if (saved === undefined) delete process.env.REDIS_SERVER;
      else process.env.REDIS_SERVER = saved;
    }
  });
});

describe('startRedisServer', () => {
  it('serves PING on loopback, survives kill() + restart() on the same port, and stop() cleans up', async () => {
    const server = await startRedisServer({ maxmemoryPolicy: 'noeviction' });
    started.push(server);
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(await rawRedis(server.port, 'PING\r\n')).toBe('+PONG\r\n');
    expect(await rawRedis(server.port, 'CONFIG GET maxmemory-policy\r\n', 5)).toContain('noeviction');
    // CONFIG GET dir → *2 $3 dir $N <dir>: the dir the server really uses.
    const dir = (await rawRedis(server.port, 'CONFIG GET dir\r\n', 5)).split('\r\n')[4] ?? '';
    expect(dir).toContain('oin-redis-');
    expect(existsSync(dir)).toBe(true);

    const firstPid = server.pid;
    await server.kill();
    expect(pidAlive(firstPid)).toBe(false);
    expect(await connectOutcome(server.port)).toBe('ECONNREFUSED');
    expect(existsSync(dir)).toBe(true);

    await server.restart();
    expect(server.pid).not.toBe(firstPid);
    expect(await rawRedis(server.port, 'PING\r\n')).toBe('+PONG\r\n');

    const secondPid = server.pid;
    await server.stop();
    expect(pidAlive(secondPid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    expect(await connectOutcome(server.port)).toBe('ECONNREFUSED');
    await expect(server.restart()).rejects.toThrow(/stopped/);
  });

  it('applies --maxmemory-policy and extra args', async () => {
    const server = await startRedisServer({ maxmemoryPolicy: 'allkeys-lru', args: ['--databases', '3'] });
    started.push(server);
    const policy = await rawRedis(server.port, 'CONFIG GET maxmemory-policy\r\n', 5);
    expect(policy).toContain('allkeys-lru');
    expect(await rawRedis(server.port, 'SELECT 3\r\n')).toMatch(/^-ERR/);
    expect(await rawRedis(server.port, 'SELECT 2\r\n')).toBe('+OK\r\n');
    await server.stop();
  });

  it('two servers get different ports', async () => {
    const [a, b] = await Promise.all([startRedisServer(), startRedisServer()]);
    started.push(a, b);
    expect(a.port).not.toBe(b.port);
    await Promise.all([a.stop(), b.stop()]);
  });
});

describe('startPostgres', () => {
  let pg: RunningPostgres | undefined;

  it('serves SQL on loopback, keeps committed data across kill() + restart(), and stop() cleans up', async () => {
    pg = await startPostgres();
    started.push(pg);
    expect(pg.host).toBe('127.0.0.1');
    expect(pg.url).toBe(`postgres://oin:oin@127.0.0.1:${pg.port}/oin`);
    expect((await pg.admin('select current_database(), current_user')).trim()).toBe('oin|oin');
    expect((await pg.admin("select current_setting('listen_addresses')")).trim()).toBe('127.0.0.1');
    expect((await pg.admin("select current_setting('fsync')")).trim()).toBe('off');
    await pg.admin("create table t (v text); insert into t values ('survives ünïcode');");

    const dataDir = dirOf(pg, '-D');
    const firstPid = pg.pid;
    await pg.kill();
    expect(pidAlive(firstPid)).toBe(false);
    expect(await connectOutcome(pg.port)).toBe('ECONNREFUSED');
    expect(existsSync(dataDir)).toBe(true);

    await pg.restart();
    expect(pg.pid).not.toBe(firstPid);
    expect((await pg.admin('select v from t')).trim()).toBe('survives ünïcode');

    const secondPid = pg.pid;
    await pg.stop();
    expect(pidAlive(secondPid)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
    expect(await connectOutcome(pg.port)).toBe('ECONNREFUSED');
  });

  it('admin() rejects with psql stderr on an SQL error, and honours options.database', async () => {
    const other = await startPostgres({ database: 'other_db' });
    started.push(other);
    expect(other.url.endsWith('/other_db')).toBe(true);
    expect((await other.admin('select current_database()')).trim()).toBe('other_db');
    await expect(other.admin('select * from no_such_table')).rejects.toThrow(/no_such_table/);
    await other.stop();
  });

  it('rejects a database name that is not a plain identifier', async () => {
    await expect(startPostgres({ database: 'x"; drop' })).rejects.toThrow(/plain SQL identifier/);
  });
});
