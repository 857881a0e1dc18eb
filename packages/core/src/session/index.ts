/** Sessions and the login transaction cookie (issue 4 §2). */
export { SessionManager, DEFAULT_SESSION_COOKIE_NAME, DEFAULT_ROLLING_SEC, DEFAULT_ABSOLUTE_SEC, DEFAULT_SESSION_CLAIMS, MAX_CHUNK_BYTES, MAX_CHUNKS } from './session-manager';
export type { SessionManagerOptions, NewSession, SessionRead } from './session-manager';
export { TransactionCookies } from './transaction-cookie';
export type { TakenTransaction } from './transaction-cookie';
export { isSessionStore } from './types';
export type { Session, SessionStore, CookieSealer, CookieContext } from './types';
export { sessionUser } from './session-user';
