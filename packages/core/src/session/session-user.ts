/**
 * The user of a session, as the adapters expose it (`req.oidc.user`): the kept claims plus `sub`.
 * Built once per session object and frozen: a warm session is the same frozen object on every
 * request (the session cache), so its user is too, and no handler can change what the next request
 * of the same session sees.
 */
import type { Session } from './types';

const users = new WeakMap<Session, Readonly<Record<string, unknown>>>();

export function sessionUser(session: Session): Readonly<Record<string, unknown>> {
  let user = users.get(session);
  if (user === undefined) {
    user = Object.freeze({ ...session.claims, sub: session.sub });
    users.set(session, user);
  }
  return user;
}
