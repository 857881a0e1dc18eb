/** What the store reports about itself: never silent about staleness, never a secret in a message. */
import type { OidcError } from '@oin-oidc/core';

export type PostgresStoreEventType =
  /** LISTEN is established (at start). */
  | 'listening'
  /** The LISTEN connection dropped: the snapshot is served as it is, possibly stale, from `staleSince`. */
  | 'listener-lost'
  /** A reconnect attempt failed; `retryInMs` until the next one. */
  | 'reconnect-failed'
  /** LISTEN is back and every tenant was reloaded; `downMs` is how long the snapshot may have been stale. */
  | 'reconnected'
  /** Tenants were (re)loaded from the database. */
  | 'reloaded'
  /** A reload after a notification failed; it is retried with backoff. */
  | 'reload-failed'
  /** A row could not be decrypted or validated: the tenant keeps its previous version, or stays absent. */
  | 'tenant-unreadable'
  /** An idle connection of a pool the store attached its error listener to failed (Postgres restarted). */
  | 'pool-error'
  /** Session store: a stored session no configured key opens; it is treated as signed out. */
  | 'session-unreadable';

export interface PostgresStoreEvent {
  type: PostgresStoreEventType;
  level: 'info' | 'warning';
  /** For humans; names tenant ids, kids and reasons, never secrets or connection strings. */
  message: string;
  error?: OidcError;
  tenantId?: string;
  /** For `listener-lost` / `reconnect-failed`: since when (epoch ms) changes may have been missed. */
  staleSince?: number;
  /** For `reconnected`: how long LISTEN was down. */
  downMs?: number;
  attempt?: number;
  retryInMs?: number;
  /** For `reloaded`: how many tenants the snapshot holds now, and whether it was a full reload. */
  tenants?: number;
  full?: boolean;
}

/** The default: warnings to `console.warn` with a package prefix, info dropped. */
export function defaultEventHandler(event: PostgresStoreEvent): void {
  if (event.level === 'warning') console.warn(`[oin-oidc/postgres] ${event.message}`);
}
