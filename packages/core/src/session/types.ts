/** Session types shared by the session cookie, the server-side store and the flow layer. */

/**
 * A signed-in user's session. Times are epoch **milliseconds**.
 *
 * Identity is `(tenant, sub)`: the same e-mail in two tenants is two different users, and `claims`
 * must never be used to link accounts across tenants (catalogue MT-04).
 */
export interface Session {
  /** Random, fresh on every sign-in (no fixation, catalogue CK-01). */
  id: string;
  /** The tenant id the user signed in through (catalogue MT-08). */
  tenant: string;
  /**
   * The tenant's issuer and client id at sign-in. Every read compares them with the current record
   * of `tenant`: a removed tenant, or a tenant id re-used for another org or app instance, ends the
   * session (SA-14, docs/security.md).
   */
  issuer: string;
  clientId: string;
  /** The ID token's `sub`. */
  sub: string;
  /** The configured subset of ID token claims (default `name`, `email`, `preferred_username`, `given_name`, `family_name`). */
  claims: Record<string, unknown>;
  /** When the user signed in; the absolute lifetime counts from here. */
  issuedAt: number;
  /** When the session ends unless activity extends it (rolling), never beyond `issuedAt + absoluteSec`. */
  expiresAt: number;
  /** The raw ID token, kept only as the `id_token_hint` for RP-initiated logout. */
  idToken?: string;
}

/**
 * A server-side session store. When configured, the cookie holds only the sealed session id and the
 * session itself lives here. `ttlSec` is how long the entry must be kept; a store may drop it after.
 */
export interface SessionStore {
  get(id: string): Promise<Session | undefined | null>;
  /**
   * Store `session` for `ttlSec` seconds (the rolling window, never past `session.expiresAt`). A
   * shared store must not bring back a session that `delete` (or `deleteBySubject`) removed, even
   * when the `set` raced the delete (connect-redis #328), and must never keep an entry past
   * `session.expiresAt` (connect-redis #251).
   */
  set(id: string, session: Session, ttlSec: number): Promise<void>;
  delete(id: string): Promise<void>;
  /**
   * Delete every session of the user `sub` signed in through tenant `tenant`; resolves how many were
   * deleted. Optional: Universal Logout and back-channel logout use it when present
   * (docs/universal-logout.md).
   */
  deleteBySubject?(tenant: string, sub: string): Promise<number>;
}

/** True when `value` looks like a {@link SessionStore}. */
export function isSessionStore(value: unknown): value is SessionStore {
  if (typeof value !== 'object' || value === null) return false;
  const store = value as Record<string, unknown>;
  return typeof store['get'] === 'function' && typeof store['set'] === 'function' && typeof store['delete'] === 'function';
}

/**
 * What the session and transaction cookies need from `createSealer` (`crypto/seal.ts`): JWE `dir` +
 * `A256GCM` under keys derived per secret and purpose. The purpose separates the keys, so a
 * transaction cookie can never be opened as a session and vice versa (catalogue CK-03).
 */
export interface CookieSealer {
  seal(payload: Record<string, unknown>, purpose: SealPurpose, ttlSec: number): Promise<string>;
  unseal(sealed: string, purpose: SealPurpose): Promise<unknown>;
}

/** The purposes the flow layer seals for; each has its own derived key. `confirm`: a sign-in awaiting confirmation. */
export type SealPurpose = 'session' | 'transaction' | 'confirm';

/** Where a cookie is read from and written to for one request. */
export interface CookieContext {
  /** The request's `Cookie` header. */
  cookieHeader: string | null;
  /** False only for plain http on a loopback host (development): then no `Secure` and no `__Host-` prefix. */
  secure: boolean;
}
