/**
 * A real PostgreSQL for tests (real servers, never mocks): a fresh cluster in a
 * temp dir (initdb), loopback only, a free port, durability off for speed, stopped by PID.
 *
 * PostgreSQL refuses to run as root ("root" execution of the PostgreSQL server is not
 * permitted), and CI runs as root: then initdb, postgres and psql run as the `postgres` OS user
 * that the Debian package creates, and the temp dir is chowned to it.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Launched,
  type RunAs,
  freePort,
  killGroup,
  launch,
  run,
  serverEnv,
  sleep,
  stopGroup,
  waitReady,
} from './process';
import type { RunningServer } from './types';

const INSTALL = 'postgresql is not installed. Install it: apt-get install -y postgresql';
const MAX_PORT_ATTEMPTS = 5;
const USER = 'oin';

/**
 * The directory holding initdb and postgres: `PG_BIN` if set, else the highest
 * /usr/lib/postgresql/<major>/bin (the Debian layout). Throws with the install instruction.
 */
export function postgresBinDir(): string {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv) {
    if (existsSync(join(fromEnv, 'postgres')) && existsSync(join(fromEnv, 'initdb'))) return fromEnv;
    throw new Error(`PG_BIN=${fromEnv} has no postgres/initdb. ${INSTALL}`);
  }
  const root = '/usr/lib/postgresql';
  let majors: string[] = [];
  try {
    majors = readdirSync(root).filter((name) => /^\d+(\.\d+)?$/.test(name));
  } catch {
    // not installed
  }
  majors.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  for (const major of majors) {
    const bin = join(root, major, 'bin');
    if (existsSync(join(bin, 'postgres')) && existsSync(join(bin, 'initdb'))) return bin;
  }
  throw new Error(INSTALL);
}

/** psql: the Debian wrapper at /usr/bin/psql, else the one next to postgres. */
function psqlBinary(binDir: string): string {
  if (existsSync(join(binDir, 'psql'))) return join(binDir, 'psql');
  if (existsSync('/usr/bin/psql')) return '/usr/bin/psql';
  throw new Error(INSTALL);
}

/** The `postgres` OS user when we are root (PostgreSQL will not run as root), else ourselves. */
function runAsFor(): RunAs | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    // fall through to the error below
  }
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === 'postgres' && uid !== undefined && gid !== undefined) {
      return { uid: Number(uid), gid: Number(gid) };
    }
  }
  throw new Error(
    `running as root, and PostgreSQL refuses to run as root, but there is no "postgres" OS user. ${INSTALL}`,
  );
}

/** Options for {@link startPostgres}. */
export interface PostgresOptions {
  /** The database to create and put in `url` (default `oin`). */
  database?: string;
}

/** A running PostgreSQL, with a superuser psql for test set-up and inspection. */
export interface RunningPostgres extends RunningServer {
  /**
   * Runs `sql` (one or more statements, from stdin, `ON_ERROR_STOP`) through psql as the
   * superuser `oin` on the server's database; resolves with stdout in tuples-only unaligned
   * form (`psql -X -q -t -A`), rejects with psql's stderr when psql fails.
   */
  admin(sql: string): Promise<string>;
}

/**
 * Starts a fresh PostgreSQL cluster: `initdb -A trust -U oin` into a temp dir, listening on
 * 127.0.0.1 at a free port with the socket in the temp dir, with fsync and full_page_writes off
 * (tests need speed, not power-loss durability: a SIGKILL of the processes leaves written data in
 * the kernel, so kill() then restart() recovers every acknowledged commit from the WAL), and
 * database `oin`.
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<RunningPostgres> {
  const database = options.database ?? 'oin';
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(database)) {
    throw new Error('startPostgres: database must be a plain SQL identifier');
  }
  const binDir = postgresBinDir();
  const psql = psqlBinary(binDir);
  const runAs = runAsFor();
  const base = await mkdtemp(join(tmpdir(), 'oin-pg-'));
  const dataDir = join(base, 'data');
  const env = serverEnv({ HOME: base });
  let proc: Launched | undefined;

  const psqlRun = async (port: number, db: string, sql: string) => {
    const result = await run(
      psql,
      ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', USER, '-d', db, '-f', '-'],
      { cwd: base, env, input: sql, ...(runAs ? { runAs } : {}) },
    );
    if (result.code !== 0) {
      throw new Error(`psql failed (exit ${result.code}): ${result.stderr.trim()}`);
    }
    return result.stdout;
  };

  const boot = async (port: number): Promise<Launched | undefined> => {
    const launched = launch(
      join(binDir, 'postgres'),
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${base}`,
        '-c',
        'fsync=off',
        '-c',
        'full_page_writes=off',
        // synchronous_commit stays on, on purpose: with fsync=off a commit's WAL flush is one
        // write() to the kernel (cheap), and it survives kill(); with synchronous_commit=off the
        // last ~600 ms of acknowledged commits sit in shared memory and a crash test that
        // expects committed rows after restart() would be flaky.
      ],
      { cwd: base, env, ...(runAs ? { runAs } : {}) },
    );
    const outcome = await waitReady(launched, `postgres on 127.0.0.1:${port}`, async () => {
      const out = await psqlRun(port, 'postgres', 'select 1');
      if (out.trim() !== '1') throw new Error(`select 1 answered ${JSON.stringify(out)}`);
    });
    return outcome === 'address-in-use' ? undefined : launched;
  };

  let port = 0;
  try {
    if (runAs) await chown(base, runAs.uid, runAs.gid);
    const init = await run(
      join(binDir, 'initdb'),
      ['-D', dataDir, '-A', 'trust', '-U', USER, '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
      { cwd: base, env, ...(runAs ? { runAs } : {}) },
    );
    if (init.code !== 0) {
      throw new Error(`initdb failed (exit ${init.code}):\n${init.stderr.trim()}\n${init.stdout.trim()}`);
    }
    for (let attempt = 0; attempt < MAX_PORT_ATTEMPTS && !proc; attempt++) {
      port = await freePort();
      proc = await boot(port);
    }
    if (!proc) throw new Error(`postgres: every port tried was in use (${MAX_PORT_ATTEMPTS} attempts)`);
    if (database !== 'postgres') await psqlRun(port, 'postgres', `CREATE DATABASE "${database}"`);
  } catch (error) {
    if (proc) await killGroup(proc);
    await rm(base, { recursive: true, force: true });
    throw error;
  }

  let current: Launched = proc;
  let stopped = false;
  const server: RunningPostgres = {
    url: `postgres://${USER}:${USER}@127.0.0.1:${port}/${database}`,
    host: '127.0.0.1',
    port,
    pid: current.pid,
    // SIGINT is PostgreSQL's "fast" shutdown: clean (checkpoint, no recovery on next start) but
    // it does not wait for clients to disconnect, as SIGTERM ("smart") would: a test's
    // connection pool left open must not hang stop().
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopGroup(current, 'SIGINT');
      await rm(base, { recursive: true, force: true });
    },
    async kill() {
      await killGroup(current);
    },
    async restart() {
      if (stopped) throw new Error('postgres was stopped; start a new one');
      if (!current.hasExited()) await killGroup(current);
      const until = Date.now() + 30_000;
      for (;;) {
        const next = await boot(port);
        if (next) {
          current = next;
          server.pid = next.pid;
          return;
        }
        if (Date.now() > until) throw new Error(`postgres: port ${port} stayed in use`);
        await sleep(200);
      }
    },
    admin(sql: string) {
      return psqlRun(port, database, sql);
    },
  };
  return server;
}
