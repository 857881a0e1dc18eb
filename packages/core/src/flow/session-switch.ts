/**
 * Confirming a sign-in that would replace another live session (audit finding SA-13,
 * docs/security.md).
 *
 * Binding the callback to the browser (state, PKCE, nonce) does not stop login CSRF when the
 * attacker owns the authorization server: a malicious tenant can start a sign-in in the victim's
 * browser (a cross-site navigation to `/auth/login?tenant=evil`, or `/auth/initiate?iss=<evil org>`)
 * with the victim's own state, nonce and verifier, authenticate the attacker's user at its org, and
 * the callback would silently put the victim in the attacker's account at another tenant. So when
 * a sign-in would replace a live session of a different tenant or subject, the new sign-in is held
 * in a sealed short-lived cookie and the browser gets a confirmation page; only a same-origin POST
 * from that page (Fetch Metadata / `Origin`, plus a random value sealed with the pending sign-in)
 * makes the switch. The page cannot be framed (`frame-ancestors 'none'`) and posts only to the app.
 *
 * Not covered, by design of the protocol: a browser with no session at all, signed in by a
 * malicious tenant through third-party-initiated login (docs/security.md, residual risks).
 */
import { timingSafeEqual } from '../callback/constant-time';
import { deleteCookie, cookieValue, parseCookies, serializeCookie } from '../cookies';
import { randomToken } from '../internal/random';
import { companionCookieName, type NewSession } from '../session/session-manager';
import type { CookieContext, CookieSealer, Session } from '../session/types';
import { escapeHtml, htmlPage } from './responses';
import type { OidcResponse } from './types';

/** How long a held sign-in waits for its confirmation. */
export const SWITCH_TTL_SEC = 300;
/** The form field that carries the confirmation value (and marks a callback POST as a confirmation). */
export const SWITCH_FIELD = 'oin_switch';
export const DECISION_FIELD = 'oin_decision';
/** The longest sealed value held in the one confirmation cookie. */
const MAX_HELD_CHARS = 3600;

interface PendingPayload {
  k: 'switch';
  /** The random value the confirmation form must echo. */
  n: string;
  s: NewSession;
  r: string;
}

export interface PendingSignIn {
  session: NewSession;
  returnTo: string;
}

const SWITCH_STYLE = 'body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}form{display:inline-block;margin:.5rem 1rem .5rem 0}button{font:inherit;padding:.4rem .9rem}';

export class SessionSwitch {
  readonly #sealer: CookieSealer;
  readonly #names: readonly [string, string];

  constructor(sealer: CookieSealer, cookieName: string | undefined) {
    this.#sealer = sealer;
    const base = companionCookieName(cookieName, 'switch');
    this.#names = [base, `__Host-${base}`];
  }

  /** Hold `session` until confirmed; returns the cookie to set and the value the form must carry. */
  async hold(session: NewSession, returnTo: string, secure: boolean): Promise<{ cookie: string; value: string }> {
    const value = randomToken(24);
    const seal = (s: NewSession) => this.#sealer.seal({ k: 'switch', n: value, s, r: returnTo } satisfies PendingPayload as unknown as Record<string, unknown>, 'confirm', SWITCH_TTL_SEC);
    let sealed = await seal(session);
    // One cookie must hold it (RFC 6265 §6.1: 4,096 bytes); without the ID token, logout then
    // stays local, as for a session too large for its cookies.
    if (sealed.length > MAX_HELD_CHARS && session.idToken !== undefined) {
      const { idToken: _dropped, ...smaller } = session;
      sealed = await seal(smaller);
    }
    return { cookie: serializeCookie(this.#name(secure), sealed, { ...this.#attributes(secure), maxAge: SWITCH_TTL_SEC }), value };
  }

  /**
   * The held sign-in whose value the form posted, or `undefined` (none, expired, tampered, or the
   * value does not match). The cookie is deleted in every case: a held sign-in is used once.
   */
  async take(context: CookieContext, posted: string): Promise<{ pending: PendingSignIn | undefined; setCookies: string[] }> {
    const name = this.#name(context.secure);
    const sealed = cookieValue(parseCookies(context.cookieHeader, (candidate) => candidate === name), name);
    if (sealed === undefined) return { pending: undefined, setCookies: [] };
    const setCookies = [deleteCookie(name, this.#attributes(context.secure))];
    let payload: Partial<PendingPayload>;
    try {
      payload = (await this.#sealer.unseal(sealed, 'confirm')) as Partial<PendingPayload>;
    } catch {
      return { pending: undefined, setCookies };
    }
    if (payload.k !== 'switch' || typeof payload.n !== 'string' || typeof payload.r !== 'string' || !isNewSession(payload.s)) return { pending: undefined, setCookies };
    if (!timingSafeEqual(payload.n, posted)) return { pending: undefined, setCookies };
    return { pending: { session: payload.s, returnTo: payload.r }, setCookies };
  }

  /**
   * The 409 page that asks which account to keep. `action` is the callback route's path; the names
   * shown are the app's tenant ids and the users' names from their ID tokens, HTML-escaped (the new
   * one comes from a tenant that may be hostile).
   */
  page(action: string, current: Session, next: NewSession, value: string, setCookies: string[]): OidcResponse {
    const was = `${displayName(current.claims, current.sub)} (${current.tenant})`;
    const now = `${displayName(next.claims, next.sub)} (${next.tenant})`;
    const hidden = `<input type="hidden" name="${SWITCH_FIELD}" value="${escapeHtml(value)}">`;
    const content = `<p>This browser is signed in as <strong>${escapeHtml(was)}</strong>.</p>
<p>A sign-in as <strong>${escapeHtml(now)}</strong> has just completed. If you did not start it, keep your current account.</p>
<form method="post" action="${escapeHtml(action)}">${hidden}<input type="hidden" name="${DECISION_FIELD}" value="continue"><button type="submit" id="switch-continue">Continue as ${escapeHtml(now)}</button></form>
<form method="post" action="${escapeHtml(action)}">${hidden}<input type="hidden" name="${DECISION_FIELD}" value="cancel"><button type="submit" id="switch-cancel">Stay signed in as ${escapeHtml(was)}</button></form>
`;
    return htmlPage(409, { title: 'Switch account?', style: SWITCH_STYLE, content, forms: true }, {}, setCookies);
  }

  #name(secure: boolean): string {
    return this.#names[secure ? 1 : 0];
  }

  #attributes(secure: boolean) {
    return { path: '/', httpOnly: true, secure, sameSite: 'Lax' as const };
  }
}

/** Who a session is, for people: a name, else an e-mail or login, else the subject; at most 64 characters. */
function displayName(claims: Record<string, unknown>, sub: string): string {
  for (const claim of ['name', 'email', 'preferred_username']) {
    const value = claims[claim];
    if (typeof value === 'string' && value.trim() !== '') return value.trim().slice(0, 64);
  }
  return sub.slice(0, 64);
}

function isNewSession(value: unknown): value is NewSession {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Record<string, unknown>;
  return (
    typeof s['tenant'] === 'string' &&
    typeof s['issuer'] === 'string' &&
    typeof s['clientId'] === 'string' &&
    typeof s['sub'] === 'string' &&
    typeof s['claims'] === 'object' &&
    s['claims'] !== null &&
    (s['idToken'] === undefined || typeof s['idToken'] === 'string')
  );
}
