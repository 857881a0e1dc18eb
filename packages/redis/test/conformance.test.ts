/**
 * The shared store conformance suites of @oin-oidc/testing, unchanged, against the Redis stores
 * with each client: the store and two peers on three separate connections to one real
 * redis-server, and a fault that kills it (the next fixture restarts it).
 */
import {
  describeRateLimitStoreConformance,
  describeRevocationListConformance,
  describeSessionStoreConformance,
  describeTtlStoreConformance,
  type StoreFixture,
} from '@oin-oidc/testing/conformance';
import { afterAll, beforeAll } from 'vitest';
import { RedisRateLimitStore, RedisRevocationList, RedisSessionStore, RedisTtlStore, type RedisPort, type RedisStoreOptions } from '../src/index';
import { CLIENTS, type ClientKind, connect, type Connection, type RunningServer, startRedisServer, uniq } from './helpers';

let server: RunningServer;
let killed = false;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

function factory<S>(kind: ClientKind, make: (port: RedisPort, options: RedisStoreOptions) => S, close?: (store: S) => Promise<void>) {
  return async (): Promise<StoreFixture<S>> => {
    if (killed) {
      await server.restart();
      killed = false;
    }
    const conns: Connection[] = await Promise.all([connect(kind, server.url), connect(kind, server.url), connect(kind, server.url)]);
    // One prefix per fixture: the instances share it (one fleet), other fixtures never see it.
    // A 2 s command deadline: a call that must succeed never misses it on a loaded machine; after the
    // fault (a killed server) calls still fail within it.
    const options: RedisStoreOptions = { prefix: `conformance-${uniq()}`, commandTimeoutMs: 2_000, onWarning: () => undefined };
    const [store, ...peers] = conns.map((c) => make(c.port, options));
    return {
      store: store!,
      peers,
      fault: async () => {
        killed = true;
        await server.kill();
      },
      cleanup: async () => {
        if (close) await Promise.all([store!, ...peers].map(close));
        await Promise.all(conns.map((c) => c.close()));
      },
    };
  };
}

for (const kind of CLIENTS) {
  describeTtlStoreConformance(`redis, ${kind}`, factory(kind, (port, o) => new RedisTtlStore(port, o)), { fault: true });
  describeSessionStoreConformance(`redis, ${kind}`, factory(kind, (port, o) => new RedisSessionStore(port, o)), { fault: true });
  describeRateLimitStoreConformance(`redis, ${kind}`, factory(kind, (port, o) => new RedisRateLimitStore(port, o)), { fault: true });
  describeRevocationListConformance(
    `redis, ${kind}`,
    factory(
      kind,
      (port, o) => new RedisRevocationList(port, o),
      (list) => list.close(),
    ),
    { fault: true },
  );
}
