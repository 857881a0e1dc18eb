/**
 * The login transaction cookie (state, nonce, PKCE verifier, tenant, redirect URI, returnTo): sealed
 * with the purpose `transaction`, 10 minutes, single-use.
 *
 * Design:
 * - **One cookie per login**, named `oin_tx_<8 chars of base64url(SHA-256(state))>`. Several tabs can
 *   sign in at once (to different tenants, too) without a read-modify-write race: with a single
 *   cookie holding a map, two logins started in parallel would each write a map missing the other's
 *   entry, and the last response would win. The callback finds its cookie from the `state` it
 *   carries; the hash keeps the state itself out of the cookie name, and the sealed transaction's own
 *   `state` is still compared by `handleCallback`, so a name collision cannot pass.
 * - **SameSite follows the response mode.** A `response_mode=query` callback is a top-level GET
 *   navigation, which carries `SameSite=Lax` cookies, so those transactions are `Lax` (a cross-site
 *   subresource cannot then set or send them). Okta's `response_mode=form_post` arrives as a
 *   cross-site top-level POST, on which browsers do not send `Lax` cookies (catalogue FP-01): on
 *   https those transactions are `SameSite=None; Secure`. Plain http is allowed only on loopback
 *   hosts, where `Secure` is impossible (and `SameSite=None` without `Secure` is rejected), so there
 *   it is always `Lax`; that works because the Okta emulator and the app are both on the loopback
 *   host and cookies' "site" ignores the port, so the POST is same-site.
 * - **Several apps on one host.** The name prefix derives from the session cookie name
 *   (`oin_tx_` for the default `oin_session`, `<cookieName>_tx_` otherwise), and this class only
 *   ever deletes a transaction cookie it can open or the one a callback's `state` names: another
 *   app's logins in flight on the same host are never touched (SA-08, docs/security.md).
 * - On https the name carries the `__Host-` prefix (so `Path=/`): a sibling subdomain cannot toss in
 *   its own transaction cookie to force a login CSRF (catalogue CK-05).
 * - Single use: the callback deletes the cookie its `state` names whatever the outcome (catalogue
 *   CB-08), and nothing else: a forged callback with another state cannot wipe the logins in flight.
 *   `Max-Age` bounds the rest, so cookies of abandoned logins disappear on their own.
 * - **Logins started cross-site** (`Sec-Fetch-Site: cross-site`: another site navigating the browser
 *   to `/auth/login`, or Okta's third-party-initiated login) are marked, and when the browser holds
 *   {@link MAX_CONCURRENT_TRANSACTIONS} they are the first to make room, so a page that fires
 *   cross-site logins cannot push the user's own login out.
 */
import { parseTransaction, TRANSACTION_PURPOSE, TRANSACTION_TTL_SEC, type Transaction } from '../authorize/transaction';
import { deleteCookie, INVALID_COOKIE, parseCookies, serializeCookie, type CookieMap } from '../cookies';
import { isOidcError, type OidcErrorCode } from '../errors';
import { encodeBase64url } from '../internal/base64url';
import { companionCookieName } from './session-manager';
import type { CookieContext, CookieSealer } from './types';

export { TRANSACTION_TTL_SEC };
/**
 * At most this many logins in flight per browser. Transaction cookies use `Path=/` (required by the
 * `__Host-` prefix), so they travel on every request until used or expired; without a bound, a user
 * clicking "sign in" twenty times would push the `Cookie` header past server limits (431).
 */
export const MAX_CONCURRENT_TRANSACTIONS = 5;

/**
 * The sealed payload: `k` types it, on top of the sealer's purpose separation (catalogue CK-03);
 * `x` marks a login started by a cross-site request.
 */
interface TransactionPayload {
  k: 'tx';
  t: Transaction;
  x?: 1;
}

export type TakenTransaction =
  | { status: 'ok'; transaction: Transaction; setCookies: string[] }
  /** No cookie for this state; `others` when the browser holds transactions for other states. */
  | { status: 'missing'; others: boolean; setCookies: string[] }
  | { status: 'invalid'; code: OidcErrorCode; setCookies: string[] };

export interface TransactionCookieOptions {
  /** The session cookie name the transaction prefix derives from (default `oin_session` → `oin_tx_`). */
  cookieName?: string;
}

export class TransactionCookies {
  readonly #sealer: CookieSealer;
  readonly #prefixes: readonly [string, string];

  constructor(sealer: CookieSealer, options: TransactionCookieOptions = {}) {
    this.#sealer = sealer;
    const base = companionCookieName(options.cookieName, 'tx_');
    this.#prefixes = [base, `__Host-${base}`];
  }

  /** The cookie name prefix for a request (`__Host-oin_tx_` on https). */
  prefix(secure: boolean): string {
    return this.#prefixes[secure ? 1 : 0];
  }

  /** The cookie name for a given `state`. */
  async name(state: string, secure: boolean): Promise<string> {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(state)));
    return `${this.prefix(secure)}${encodeBase64url(digest).slice(0, 8)}`;
  }

  /**
   * Seal a new transaction into its own cookie. `crossSite`: the login was started by a cross-site
   * request (it makes room first, see {@link prune}).
   */
  async create(transaction: Transaction, secure: boolean, options: { crossSite?: boolean } = {}): Promise<string> {
    const payload: TransactionPayload = { k: 'tx', t: transaction, ...(options.crossSite ? { x: 1 as const } : {}) };
    const sealed = await this.#sealer.seal(payload as unknown as Record<string, unknown>, TRANSACTION_PURPOSE, TRANSACTION_TTL_SEC);
    return serializeCookie(await this.name(transaction.state, secure), sealed, {
      ...this.#attributes(secure, transaction.responseMode),
      maxAge: TRANSACTION_TTL_SEC,
    });
  }

  /**
   * Find, open and consume the transaction for `state`. The cookie that `state` names is deleted in
   * every outcome (single use); no other cookie is touched, so a callback that matches none of them
   * (a forged or stale one) cannot end the logins in flight in other tabs or of other apps.
   */
  async take(context: CookieContext, state: string | undefined): Promise<TakenTransaction> {
    const cookies = this.#parse(context);
    if (state === undefined || state === '') return { status: 'missing', others: cookies.size > 0, setCookies: [] };
    const name = await this.name(state, context.secure);
    const value = cookies.get(name);
    if (value === undefined) return { status: 'missing', others: cookies.size > 0, setCookies: [] };
    // The deletion matches the cookie's Path (and prefix); SameSite plays no part in it.
    const setCookies = [deleteCookie(name, this.#attributes(context.secure))];
    const invalid = { status: 'invalid', code: 'ERR_OIDC_TRANSACTION_INVALID', setCookies } as const;
    if (value === INVALID_COOKIE) return invalid;
    let payload: unknown;
    try {
      payload = await this.#sealer.unseal(value, TRANSACTION_PURPOSE);
    } catch (error) {
      // The sealer reports expiry separately (ERR_OIDC_TRANSACTION_EXPIRED); anything else is invalid.
      return isOidcError(error) && error.code === 'ERR_OIDC_TRANSACTION_EXPIRED' ? { ...invalid, code: error.code } : invalid;
    }
    if (typeof payload !== 'object' || payload === null || (payload as { k?: unknown }).k !== 'tx') return invalid;
    try {
      return { status: 'ok', transaction: parseTransaction((payload as { t?: unknown }).t), setCookies };
    } catch {
      return invalid;
    }
  }

  /**
   * Deletions that make room for one more transaction. Only cookies this instance can open count
   * and are ever deleted: expired ones of ours go; when {@link MAX_CONCURRENT_TRANSACTIONS} or more
   * are live, logins started cross-site make room first (oldest first), then the oldest of the
   * rest. A cookie that does not open (another app's on the same host, or garbage) is left alone:
   * its own `Max-Age` ends it.
   */
  async prune(context: CookieContext): Promise<string[]> {
    const cookies = this.#parse(context);
    if (cookies.size < MAX_CONCURRENT_TRANSACTIONS) return [];
    const live: { name: string; createdAt: number; crossSite: boolean }[] = [];
    const deletions: string[] = [];
    for (const [name, value] of cookies) {
      if (value === INVALID_COOKIE) continue;
      try {
        const payload = (await this.#sealer.unseal(value, TRANSACTION_PURPOSE)) as { k?: unknown; t?: { createdAt?: unknown }; x?: unknown };
        if (payload.k === 'tx' && typeof payload.t?.createdAt === 'number') live.push({ name, createdAt: payload.t.createdAt, crossSite: payload.x === 1 });
      } catch (error) {
        // Ours but expired: it opened under our key, so it is ours to delete.
        if (isOidcError(error) && error.code === 'ERR_OIDC_TRANSACTION_EXPIRED') deletions.push(deleteCookie(name, this.#attributes(context.secure)));
      }
    }
    // Newest same-site logins are kept first; cross-site ones are the first to go.
    live.sort((a, b) => Number(a.crossSite) - Number(b.crossSite) || b.createdAt - a.createdAt);
    for (const { name } of live.slice(MAX_CONCURRENT_TRANSACTIONS - 1)) deletions.push(deleteCookie(name, this.#attributes(context.secure)));
    return deletions;
  }

  #parse(context: CookieContext): CookieMap {
    const prefix = this.prefix(context.secure);
    return parseCookies(context.cookieHeader, (name) => name.startsWith(prefix));
  }

  /** `SameSite=None` only where it is needed and possible: a form_post response on https. */
  #attributes(secure: boolean, responseMode?: 'query' | 'form_post') {
    return secure && responseMode === 'form_post'
      ? { path: '/', httpOnly: true, secure: true, sameSite: 'None' as const }
      : { path: '/', httpOnly: true, secure, sameSite: 'Lax' as const };
  }
}
