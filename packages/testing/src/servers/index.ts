/**
 * `@oin-oidc/testing/servers`: real redis-server and PostgreSQL processes for tests (real
 * servers, never mocks). Each runs on 127.0.0.1 at a random free port with a temp data dir and is
 * stopped by PID; a process 'exit' hook SIGKILLs any still running. A missing binary throws
 * with its install instruction: tests fail, they never skip.
 */
export type { RunningServer } from './types';
export { redisServerBinary, startRedisServer } from './redis';
export type { RedisServerOptions } from './redis';
export { postgresBinDir, startPostgres } from './postgres';
export type { PostgresOptions, RunningPostgres } from './postgres';
