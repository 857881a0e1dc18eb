/**
 * Logged-out sessions (issue 17 item 5). A sealed session cookie is a bearer credential: a copy
 * taken before logout stays valid until its absolute expiry unless something remembers that the
 * user signed out. This deny-list holds the ids of sessions ended by logout (or replaced after a
 * confirmed tenant switch) until the latest moment they could still be presented.
 *
 * Two layers: an in-process map, so a logout is seen at once by the process that served it and the
 * warm path stays synchronous; and, when configured, a shared {@link TtlStore} (Redis…), so every
 * process of a fleet refuses the session too. Without a shared store the promise is only per
 * process (docs/sessions.md, "What logout ends").
 */
import { OidcError } from '../errors';
import type { TtlStore } from '../ttl-store';

export interface SessionRevocations {
  /** Refuse session `id` until `untilMs` (its absolute expiry). */
  revoke(id: string, untilMs: number): Promise<void>;
  /** Whether `id` was revoked; synchronous unless the shared store must be asked. */
  isRevoked(id: string): boolean | Promise<boolean>;
}

/** In-process entries kept; when full the oldest revocations go first (a shared store has no such bound). */
export const MAX_LOCAL_REVOCATIONS = 100_000;
const KEY_PREFIX = 'oin-oidc:session-revoked:';

export function createSessionRevocations(options: { store?: TtlStore; now: () => number }): SessionRevocations {
  const { store, now } = options;
  /** Session id → until when (ms), in insertion order. */
  const local = new Map<string, number>();

  function localHit(id: string): boolean {
    const until = local.get(id);
    if (until === undefined) return false;
    if (until > now()) return true;
    local.delete(id);
    return false;
  }

  async function storeHit(id: string): Promise<boolean> {
    try {
      return (await store!.get(KEY_PREFIX + id)) !== undefined;
    } catch (cause) {
      // Never fail open: an unreadable deny-list refuses the read (the app answers 500/503).
      throw new OidcError('ERR_OIDC_STORE_FAILURE', 'The session revocation store failed.', { cause });
    }
  }

  return {
    async revoke(id, untilMs) {
      const ttlMs = untilMs - now();
      if (ttlMs <= 0) return;
      local.delete(id);
      local.set(id, untilMs);
      for (const key of local.keys()) {
        if (local.size <= MAX_LOCAL_REVOCATIONS) break;
        local.delete(key);
      }
      if (store === undefined) return;
      try {
        await store.set(KEY_PREFIX + id, '1', Math.ceil(ttlMs / 1000));
      } catch (cause) {
        throw new OidcError('ERR_OIDC_STORE_FAILURE', 'The session revocation store failed; the session may stay valid on other instances.', { cause });
      }
    },
    isRevoked(id) {
      if (localHit(id)) return true;
      return store === undefined ? false : storeHit(id);
    },
  };
}
