/**
 * {@link RateLimitStore} on Redis: Okta's back-off and the introspection token buckets, shared by
 * a fleet, so one process's 429 makes every process wait, and N processes spend one budget
 * ("Rate limit best practices", developer.okta.com/docs/reference/rl-best-practices/).
 */
import { codedTypeError } from '@oin-oidc/core';
import type { EndpointKind, RateLimitStore } from '@oin-oidc/core';
import type { RedisPort } from './port';
import { checkString, type RedisStoreOptions, type Resolved, resolve } from './options';
import { BLOCK, GIVE, TAKE } from './scripts';

/** Endpoint kinds are core's fixed names; anything else is refused rather than put in a key. */
const ENDPOINT = /^[a-z][a-z-]{0,31}$/;

/**
 * A {@link RateLimitStore} over a {@link RedisPort}. `block` keeps the later block (one Lua
 * step, expiring at `untilMs`); `take`/`give` run a token bucket in Lua on the server's clock
 * (`TIME`), so skew between the processes' clocks changes nothing, and 100 concurrent takes from
 * a bucket of 10 take exactly 10 whichever processes send them.
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly #r: Resolved;

  constructor(port: RedisPort, options: RedisStoreOptions = {}) {
    this.#r = resolve(port, options);
  }

  async blockedUntil(issuer: string, endpoint: EndpointKind): Promise<number | undefined> {
    const key = this.#blockKey(issuer, endpoint);
    const reply = await this.#r.port.command(['GET', key]);
    if (reply === null || reply === undefined) return undefined;
    const until = Number(reply);
    return Number.isFinite(until) && until > Date.now() ? until : undefined;
  }

  async block(issuer: string, endpoint: EndpointKind, untilMs: number): Promise<void> {
    const key = this.#blockKey(issuer, endpoint);
    // As the memory store: a block already over (or not a time) is nothing to share.
    if (typeof untilMs !== 'number' || !Number.isFinite(untilMs) || untilMs <= Date.now()) return;
    await this.#r.port.evalScript(BLOCK, [key], [String(Math.ceil(untilMs))]);
  }

  async take(key: string, ratePerSec: number, burst: number): Promise<number | undefined> {
    checkString('key', key);
    checkRate(ratePerSec, burst);
    const wait = Number(await this.#r.port.evalScript(TAKE, [this.#r.keys.bucket(key)], [String(ratePerSec), String(burst)]));
    // Never "allowed" on a reply we cannot read: fail closed with the shortest wait.
    if (!Number.isFinite(wait)) return 1;
    return wait > 0 ? Math.max(1, Math.ceil(wait)) : undefined;
  }

  async give(key: string, burst: number): Promise<void> {
    checkString('key', key);
    if (typeof burst !== 'number' || !Number.isFinite(burst) || burst < 1) throw codedTypeError('burst must be a finite number ≥ 1', 'ERR_INVALID_ARG_VALUE');
    await this.#r.port.evalScript(GIVE, [this.#r.keys.bucket(key)], [String(burst)]);
  }

  #blockKey(issuer: string, endpoint: EndpointKind): string {
    checkString('issuer', issuer);
    if (typeof endpoint !== 'string' || !ENDPOINT.test(endpoint)) throw codedTypeError('endpoint must be an EndpointKind', 'ERR_INVALID_ARG_VALUE');
    return this.#r.keys.block(issuer, endpoint);
  }
}

function checkRate(ratePerSec: number, burst: number): void {
  if (typeof ratePerSec !== 'number' || !Number.isFinite(ratePerSec) || ratePerSec <= 0) throw codedTypeError('ratePerSec must be a positive, finite number', 'ERR_INVALID_ARG_VALUE');
  if (typeof burst !== 'number' || !Number.isFinite(burst) || burst < 1) throw codedTypeError('burst must be a finite number ≥ 1', 'ERR_INVALID_ARG_VALUE');
}
