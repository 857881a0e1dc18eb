/**
 * {@link SessionStore} on Redis: server-side sessions shared by a fleet.
 *
 * Where things live (key layout in keys.ts):
 * - `get` and `delete` know only the session id, so the session and its tombstone are tagged
 *   by a hash of the id: both in one slot, and the write and delete scripts each touch just them.
 * - The sessions of one user (tenant, sub) are listed in a sorted set tagged by a hash of
 *   (tenant, sub); its members are session tags, never raw ids.
 *
 * The two slots differ, so no single script can span them on a Cluster. Order makes it safe:
 * `set` adds the session to the subject index *before* it writes the session, and
 * `deleteBySubject` reads the index, then tombstones each session. A `set` whose index add came
 * before that read is tombstoned (and its write refused or deleted); one whose add came after
 * started after the delete read the index, i.e. it is a new sign-in, later than the logout.
 * Index entries only disappear after their sessions are tombstoned, so a `deleteBySubject` that
 * failed half-way finds the rest when retried.
 *
 * Values are the `Session` as JSON, readable by whoever can read Redis (the session cookie is
 * sealed, the store record is not): protect Redis like the sessions themselves (ACL, TLS).
 */
import { codedTypeError } from '@oin-oidc/core';
import type { Session, SessionStore } from '@oin-oidc/core';
import type { RedisPort } from './port';
import { storeFailure } from './port';
import { checkString, type RedisStoreOptions, type Resolved, resolve, ttlMs } from './options';
import { SESSION_DELETE, SESSION_SET, SUBJECT_INDEX_ADD } from './scripts';

/** Options of {@link RedisSessionStore}. */
export interface RedisSessionStoreOptions extends RedisStoreOptions {
  /**
   * How long a deleted session's tombstone lives at least, in seconds (it also lives as long as
   * the session had left). Writes of that session are refused meanwhile, so a request still in
   * flight at logout cannot bring it back. Default 86,400 (one day, core's rolling window).
   */
  tombstoneSec?: number;
}

const DEFAULT_TOMBSTONE_SEC = 24 * 60 * 60;

/**
 * A {@link SessionStore} over a {@link RedisPort}: rolling and absolute expiry by Redis TTL
 * (never past `session.expiresAt`, connect-redis #251), no resurrection after `delete`
 * (connect-redis #328), and `deleteBySubject` for Universal Logout and back-channel logout.
 */
export class RedisSessionStore implements SessionStore {
  readonly #r: Resolved;
  readonly #tombstoneMs: number;
  constructor(port: RedisPort, options: RedisSessionStoreOptions = {}) {
    this.#r = resolve(port, options);
    const tombstoneSec = options.tombstoneSec ?? DEFAULT_TOMBSTONE_SEC;
    if (!Number.isSafeInteger(tombstoneSec) || tombstoneSec < 1) throw codedTypeError('tombstoneSec must be a positive integer', 'ERR_INVALID_ARG_VALUE');
    this.#tombstoneMs = tombstoneSec * 1000;
  }

  async get(id: string): Promise<Session | undefined> {
    checkString('id', id);
    const reply = await this.#r.port.command(['GET', this.#r.keys.session(this.#r.keys.sessionTag(id))]);
    if (reply === null || reply === undefined) return undefined;
    const session = parseSession(typeof reply === 'string' ? reply : String(reply));
    // Redis expires the key at expiresAt; this covers clock skew between processes.
    return session.expiresAt > Date.now() ? session : undefined;
  }

  async set(id: string, session: Session, ttlSec: number): Promise<void> {
    checkString('id', id);
    checkSession(session);
    const keys = this.#r.keys;
    const tag = keys.sessionTag(id);
    // The TTL is the rolling window, cut at the session's own expiry: a touch never extends a
    // session past expiresAt (connect-redis #251), and an expired session is not written.
    const now = Date.now();
    const ttl = Math.min(ttlMs(ttlSec), Math.floor(session.expiresAt - now));
    if (!(ttl > 0)) {
      await this.#r.port.command(['DEL', keys.session(tag)]);
      return;
    }
    // Index first, then the session (see the module comment for why this order).
    await this.#r.port.evalScript(SUBJECT_INDEX_ADD, [keys.subjectSessions(session.tenant, session.sub)], [tag, String(Math.ceil(session.expiresAt)), String(now)]);
    await this.#r.port.evalScript(SESSION_SET, [keys.session(tag), keys.tombstone(tag)], [JSON.stringify(session), String(ttl)]);
  }

  async delete(id: string): Promise<void> {
    checkString('id', id);
    await this.#deleteTag(this.#r.keys.sessionTag(id));
  }

  /**
   * Deletes (and tombstones) every session of `sub` at `tenant`; resolves how many existed. A
   * failure part-way rejects; calling it again deletes the rest.
   */
  async deleteBySubject(tenant: string, sub: string): Promise<number> {
    checkString('tenant', tenant);
    checkString('sub', sub);
    const index = this.#r.keys.subjectSessions(tenant, sub);
    const reply = await this.#r.port.command(['ZRANGEBYSCORE', index, `(${Date.now()}`, '+inf']);
    if (!Array.isArray(reply)) throw storeFailure('ZRANGEBYSCORE', 'corrupt');
    const tags = reply.map(String);
    if (tags.length === 0) return 0;
    const existed = await Promise.all(tags.map((tag) => this.#deleteTag(tag)));
    // Only now: had a delete failed, the entries stay and a retry finds them.
    for (let i = 0; i < tags.length; i += 500) await this.#r.port.command(['ZREM', index, ...tags.slice(i, i + 500)]);
    return existed.filter(Boolean).length;
  }

  async #deleteTag(tag: string): Promise<boolean> {
    const keys = this.#r.keys;
    const existed = await this.#r.port.evalScript(SESSION_DELETE, [keys.session(tag), keys.tombstone(tag)], [String(this.#tombstoneMs)]);
    return Number(existed) === 1;
  }
}

function checkSession(session: Session): void {
  if (typeof session !== 'object' || session === null) throw codedTypeError('session must be an object', 'ERR_INVALID_ARG_TYPE');
  checkString('session.tenant', session.tenant);
  checkString('session.sub', session.sub);
  if (typeof session.expiresAt !== 'number' || !Number.isFinite(session.expiresAt)) throw codedTypeError('session.expiresAt must be a finite number (epoch ms)', 'ERR_INVALID_ARG_VALUE');
}

/** A stored value back to a `Session`; anything else was not written by this store (reject, never guess). */
function parseSession(value: string): Session {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw storeFailure('GET', 'corrupt');
  }
  const s = parsed as Partial<Session> | null;
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.id !== 'string' ||
    typeof s.tenant !== 'string' ||
    typeof s.sub !== 'string' ||
    typeof s.expiresAt !== 'number' ||
    typeof s.issuedAt !== 'number'
  ) {
    throw storeFailure('GET', 'corrupt');
  }
  return s as Session;
}
