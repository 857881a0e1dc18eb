/**
 * Test helpers: a real redis-server (from @oin-oidc/testing/servers) and connections to it with
 * each supported client. Every test file runs its cases once per client.
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { fromIoredis, fromNodeRedis, type RedisPort } from '../src/index';

export { startRedisServer } from '@oin-oidc/testing/servers';
export type { RunningServer } from '@oin-oidc/testing/servers';

export const CLIENTS = ['ioredis', 'node-redis'] as const;
export type ClientKind = (typeof CLIENTS)[number];

/** One connection of one client: its port, the raw client (for assertions), and how to close it. */
export interface Connection {
  port: RedisPort;
  /** Send a raw command outside the stores (inspection). */
  raw(args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * A new connection of `kind` to `url`. Both clients keep their defaults (offline queue,
 * reconnecting forever), as an app would: the stores' own deadline is what bounds each call.
 */
export async function connect(kind: ClientKind, url: string): Promise<Connection> {
  if (kind === 'ioredis') {
    const client = new Redis(url);
    client.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('end', () => reject(new Error('ioredis could not connect')));
    });
    const port = fromIoredis(client);
    return {
      port,
      raw: (args) => client.call(args[0]!, ...args.slice(1)),
      async close() {
        await port.close?.();
        client.disconnect();
      },
    };
  }
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  const port = fromNodeRedis(client);
  return {
    port,
    raw: (args) => client.sendCommand(args),
    async close() {
      await port.close?.();
      if (client.isOpen) client.destroy();
    },
  };
}

/** Connections opened by a test file, closed together. */
export function connections(kind: ClientKind, url: () => string) {
  const open: Connection[] = [];
  return {
    async open(): Promise<Connection> {
      const c = await connect(kind, url());
      open.push(c);
      return c;
    },
    async closeAll(): Promise<void> {
      await Promise.all(open.splice(0).map((c) => c.close()));
    },
  };
}

export function uniq(): string {
  return Math.random().toString(36).slice(2, 10);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls until `check` is true or the deadline passes; resolves whether it became true. For what only
 * a read can observe (Redis's own expiry, a client's reconnect). The deadline is for a change that
 * never comes: 30 s, far beyond what a loaded 2-core machine needs.
 */
export async function eventually(check: () => Promise<boolean> | boolean, deadlineMs = 30_000): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= until) return false;
    await sleep(50);
  }
}

/** The settled outcome of a promise. */
export function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** Redis Cluster's key → slot: CRC16-XMODEM of the hash tag (or the whole key) mod 16384 (Cluster spec). */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key, 'utf8');
  let start = bytes.indexOf(0x7b); // {
  let end = -1;
  if (start >= 0) end = bytes.indexOf(0x7d, start + 1); // }
  let part = bytes;
  if (start >= 0 && end > start + 1) part = bytes.subarray(start + 1, end);
  else start = -1;
  let crc = 0;
  for (const byte of part) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
