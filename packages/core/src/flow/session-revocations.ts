/**
 * Revoked sessions (audit finding SA-05 in docs/security.md; fleet-wide through a shared
 * revocation list, docs/deployment.md; Universal Logout, docs/universal-logout.md). A sealed
 * session cookie is a bearer credential: a copy taken before logout stays valid until its absolute
 * expiry unless something remembers that the session ended. Two kinds of record:
 *
 * - `session:<id>`: one session, ended by logout (or replaced after a confirmed tenant switch);
 * - `subject:<tenant>\n<sub>`: every session of that user issued at or before `revokedAt`
 *   (Universal Logout, back-channel logout), so a stale session on another device cannot survive;
 * - `email:<tenant>\n<e-mail, lower case>`: the same by the session's `email` claim (Universal
 *   Logout's default subject format; revoking by an unverified e-mail can only end sessions, never
 *   grant one, so `email_verified` does not matter here);
 * - `sid:<tenant>\n<sid>`: the session whose `sid` claim is that (back-channel logout by `sid`;
 *   needs `sid` among `session.claims`).
 *
 * Layers: an in-process map, checked synchronously on every read (the warm path does no I/O); then
 * either a {@link SharedRevocationList} (preferred: every process loads the live records at start
 * and after each reconnect, and receives new ones as they are added, so checks stay in memory), or
 * the older `revocationStore` {@link TtlStore}, read on every request for session records. Without
 * either the promise is per process (docs/sessions.md, "What logout ends").
 */
import { OidcError } from '../errors';
import type { RevocationRecord, SharedRevocationList } from '../session/revocation-list';
import type { Session } from '../session/types';
import type { TtlStore } from '../ttl-store';

export interface SessionRevocations {
  /** Refuse session `id` until `untilMs` (its absolute expiry). */
  revoke(id: string, untilMs: number): Promise<void>;
  /** Refuse every session of user `sub` at tenant `tenant` issued at or before `revokedAt`, keeping the mark until `untilMs`. */
  revokeSubject(tenant: string, sub: string, revokedAt: number, untilMs: number): Promise<void>;
  /** The same for sessions whose `email` claim is `email` (compared in lower case). */
  revokeEmail(tenant: string, email: string, revokedAt: number, untilMs: number): Promise<void>;
  /** The same for the session whose `sid` claim is `sid`. */
  revokeSid(tenant: string, sid: string, revokedAt: number, untilMs: number): Promise<void>;
  /** Whether `session` is revoked; synchronous unless a store must be asked or the shared list is still loading. */
  isRevoked(session: RevocableSession): boolean | Promise<boolean>;
  /** Stop receiving records from the shared list. */
  close(): void;
}

/** In-process entries kept; when full the oldest revocations go first (the shared list has its own bound). */
export const MAX_LOCAL_REVOCATIONS = 100_000;
/** How long the first read waits for the shared list's initial load before it proceeds with what is known. */
export const INITIAL_LOAD_WAIT_MS = 1000;
const KEY_PREFIX = 'oin-oidc:session-revoked:';

type RevocableSession = Pick<Session, 'id' | 'tenant' | 'sub' | 'issuedAt' | 'claims'>;

type RecordKind = 'session' | 'subject' | 'email' | 'sid';
interface Mark {
  revokedAt: number;
  until: number;
}
const KINDS: ReadonlySet<string> = new Set<RecordKind>(['session', 'subject', 'email', 'sid']);

/** `session:<id>` → { kind: 'session', rest: '<id>' }; undefined for a kind this version does not know. */
function splitKey(key: string): { kind: RecordKind; rest: string } | undefined {
  const colon = key.indexOf(':');
  const kind = key.slice(0, colon);
  return colon > 0 && KINDS.has(kind) ? { kind: kind as RecordKind, rest: key.slice(colon + 1) } : undefined;
}

const sessionKey = (id: string) => `session:${id}`;
// User-wide marks are per app instance (tenant id): Okta sends Universal Logout to each
// logout-enabled app instance of the org, so one instance's request must not end another's sessions.
const subjectKey = (tenant: string, sub: string) => `subject:${tenant}\n${sub}`;
const emailKey = (tenant: string, email: string) => `email:${tenant}\n${email.toLowerCase()}`;
const sidKey = (tenant: string, sid: string) => `sid:${tenant}\n${sid}`;

export function createSessionRevocations(options: {
  store?: TtlStore;
  list?: SharedRevocationList;
  now: () => number;
  /** Told when the shared list cannot be loaded (the process then serves what it knows and reloads on reconnect). */
  onLoadFailure?: (cause: unknown) => void;
}): SessionRevocations {
  const { store, list, now } = options;
  /**
   * One map per kind of record, keyed by what follows the kind's prefix, in insertion order: a
   * session id is looked up as it is (no string built on the warm path), and a kind with no record
   * costs one size check. Values: { revokedAt, until } (ms).
   */
  const byKind: Record<RecordKind, Map<string, Mark>> = { session: new Map(), subject: new Map(), email: new Map(), sid: new Map() };

  function remember(record: RevocationRecord): void {
    if (!(record.until > now())) return;
    const split = splitKey(record.key);
    if (split === undefined) return; // a kind this version does not know: nothing it could revoke
    const map = byKind[split.kind];
    const previous = map.get(split.rest);
    if (previous !== undefined && previous.revokedAt >= record.revokedAt && previous.until >= record.until) return;
    map.delete(split.rest);
    map.set(split.rest, { revokedAt: Math.max(record.revokedAt, previous?.revokedAt ?? 0), until: Math.max(record.until, previous?.until ?? 0) });
    for (const key of map.keys()) {
      if (map.size <= MAX_LOCAL_REVOCATIONS) break;
      map.delete(key);
    }
  }

  /** The live mark under `rest` of `kind` at time `t`, dropping it once its time is over. */
  function localMark(kind: RecordKind, rest: string, t: number): Mark | undefined {
    const map = byKind[kind];
    const mark = map.get(rest);
    if (mark === undefined) return undefined;
    if (mark.until > t) return mark;
    map.delete(rest);
    return undefined;
  }

  let loaded = list === undefined;
  let loading: Promise<void> | undefined;
  function reload(): Promise<void> {
    loading ??= list!
      .load()
      .then(
        (records) => {
          for (const record of records) remember(record);
        },
        (cause) => options.onLoadFailure?.(cause),
      )
      .finally(() => {
        loaded = true;
        loading = undefined;
      });
    return loading;
  }
  const unsubscribe = list?.subscribe({ onRecord: remember, onResync: () => void reload() });
  const initialLoad = list === undefined ? undefined : reload();

  /** Whether a user-wide mark of `kind` under `rest` covers a session issued at `issuedAt`. */
  function marked(kind: Exclude<RecordKind, 'session'>, rest: string, issuedAt: number, t: number): boolean {
    const mark = localMark(kind, rest, t);
    return mark !== undefined && issuedAt <= mark.revokedAt;
  }

  function localHit(session: RevocableSession): boolean {
    const { session: sessions, subject, email: emails, sid: sids } = byKind;
    // Nothing revoked at all, the common case: four size checks and no clock read.
    if (sessions.size === 0 && subject.size === 0 && emails.size === 0 && sids.size === 0) return false;
    const t = now();
    if (sessions.size > 0 && localMark('session', session.id, t) !== undefined) return true;
    if (subject.size > 0 && marked('subject', `${session.tenant}\n${session.sub}`, session.issuedAt, t)) return true;
    if (emails.size > 0) {
      const email = session.claims['email'];
      if (typeof email === 'string' && marked('email', `${session.tenant}\n${email.toLowerCase()}`, session.issuedAt, t)) return true;
    }
    if (sids.size > 0) {
      const sid = session.claims['sid'];
      if (typeof sid === 'string' && marked('sid', `${session.tenant}\n${sid}`, session.issuedAt, t)) return true;
    }
    return false;
  }

  async function storeHit(id: string): Promise<boolean> {
    try {
      return (await store!.get(KEY_PREFIX + id)) !== undefined;
    } catch (cause) {
      // Never fail open: an unreadable deny-list refuses the read (the app answers 503).
      throw new OidcError('ERR_OIDC_STORE_FAILURE', 'The session revocation store failed.', { cause });
    }
  }

  async function share(record: RevocationRecord): Promise<void> {
    if (list === undefined) return;
    try {
      await list.add(record);
    } catch (cause) {
      throw new OidcError('ERR_OIDC_STORE_FAILURE', 'The revocation list failed; the session may stay valid on other instances.', { cause });
    }
  }

  async function mark(key: string, revokedAt: number, untilMs: number): Promise<void> {
    if (!(untilMs > now())) return;
    const record = { key, revokedAt, until: untilMs };
    remember(record);
    await share(record);
  }

  return {
    async revoke(id, untilMs) {
      if (!(untilMs > now())) return;
      await mark(sessionKey(id), now(), untilMs);
      if (store === undefined) return;
      try {
        await store.set(KEY_PREFIX + id, '1', Math.ceil((untilMs - now()) / 1000));
      } catch (cause) {
        throw new OidcError('ERR_OIDC_STORE_FAILURE', 'The session revocation store failed; the session may stay valid on other instances.', { cause });
      }
    },
    revokeSubject: (tenant, sub, revokedAt, untilMs) => mark(subjectKey(tenant, sub), revokedAt, untilMs),
    revokeEmail: (tenant, email, revokedAt, untilMs) => mark(emailKey(tenant, email), revokedAt, untilMs),
    revokeSid: (tenant, sid, revokedAt, untilMs) => mark(sidKey(tenant, sid), revokedAt, untilMs),
    isRevoked(session) {
      if (!loaded && initialLoad !== undefined) {
        // The first reads of a new process wait (briefly) for the fleet's records, so a session
        // revoked elsewhere is not accepted just because this process started a moment ago.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const wait = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, INITIAL_LOAD_WAIT_MS);
        });
        return Promise.race([initialLoad, wait]).then(() => {
          clearTimeout(timer);
          if (localHit(session)) return true;
          return store === undefined ? false : storeHit(session.id);
        });
      }
      if (localHit(session)) return true;
      return store === undefined ? false : storeHit(session.id);
    },
    close() {
      unsubscribe?.();
    },
  };
}
