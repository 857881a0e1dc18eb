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
 * - **Cross-site form_post.** Okta's `response_mode=form_post` (and the simplified flow) arrive as a
 *   cross-site top-level POST, on which browsers do not send `SameSite=Lax` cookies (catalogue FP-01).
 *   On https the cookie is therefore `SameSite=None; Secure`. Plain http is allowed only on loopback
 *   hosts, where `Secure` is impossible (and `SameSite=None` without `Secure` is rejected), so there
 *   it is `SameSite=Lax`; that works because the Okta emulator and the app are both on the loopback
 *   host and cookies' "site" ignores the port, so the POST is same-site.
 * - On https the name carries the `__Host-` prefix (so `Path=/`): a sibling subdomain cannot toss in
 *   its own transaction cookie to force a login CSRF (catalogue CK-05).
 * - Single use: the callback deletes it whatever the outcome (catalogue CB-08); `Max-Age` bounds the
 *   rest, so cookies of abandoned logins disappear on their own.
 */
import { parseTransaction, TRANSACTION_PURPOSE, TRANSACTION_TTL_SEC, type Transaction } from '../authorize/transaction';
import { deleteCookie, INVALID_COOKIE, parseCookies, serializeCookie, type CookieMap } from '../cookies';
import { isOidcError, type OidcErrorCode } from '../errors';
import { encodeBase64url } from '../internal/base64url';
import type { CookieContext, CookieSealer } from './types';

export { TRANSACTION_TTL_SEC };
const BASE_PREFIX = 'oin_tx_';
/**
 * At most this many logins in flight per browser. Transaction cookies use `Path=/` (required by the
 * `__Host-` prefix), so they travel on every request until used or expired; without a bound, a user
 * clicking "sign in" twenty times would push the `Cookie` header past server limits (431).
 */
export const MAX_CONCURRENT_TRANSACTIONS = 5;

/** The sealed payload: `k` types it, on top of the sealer's purpose separation (catalogue CK-03). */
interface TransactionPayload {
  k: 'tx';
  t: Transaction;
}

export type TakenTransaction =
  | { status: 'ok'; transaction: Transaction; setCookies: string[] }
  /** No cookie for this state; `others` when the browser holds transactions for other states. */
  | { status: 'missing'; others: boolean; setCookies: string[] }
  | { status: 'invalid'; code: OidcErrorCode; setCookies: string[] };

export class TransactionCookies {
  readonly #sealer: CookieSealer;

  constructor(sealer: CookieSealer) {
    this.#sealer = sealer;
  }

  /** The cookie name prefix for a request (`__Host-oin_tx_` on https). */
  prefix(secure: boolean): string {
    return secure ? `__Host-${BASE_PREFIX}` : BASE_PREFIX;
  }

  /** The cookie name for a given `state`. */
  async name(state: string, secure: boolean): Promise<string> {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(state)));
    return `${this.prefix(secure)}${encodeBase64url(digest).slice(0, 8)}`;
  }

  /** Seal a new transaction into its own cookie. */
  async create(transaction: Transaction, secure: boolean): Promise<string> {
    const payload: TransactionPayload = { k: 'tx', t: transaction };
    const sealed = await this.#sealer.seal(payload as unknown as Record<string, unknown>, TRANSACTION_PURPOSE, TRANSACTION_TTL_SEC);
    return serializeCookie(await this.name(transaction.state, secure), sealed, {
      ...this.#attributes(secure),
      maxAge: TRANSACTION_TTL_SEC,
    });
  }

  /**
   * Find, open and consume the transaction for `state`. The cookie is deleted in every outcome
   * (single use). When no cookie matches, every transaction cookie present is deleted too: a
   * callback that matches none of them is an attack or a bug, and the cost is only that another
   * tab's login has to start again.
   */
  async take(context: CookieContext, state: string | undefined): Promise<TakenTransaction> {
    const cookies = this.#parse(context);
    if (state === undefined || state === '') {
      return { status: 'missing', others: cookies.size > 0, setCookies: this.#deleteAll(cookies, context.secure) };
    }
    const name = await this.name(state, context.secure);
    const value = cookies.get(name);
    if (value === undefined) return { status: 'missing', others: cookies.size > 0, setCookies: this.#deleteAll(cookies, context.secure) };
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
   * Deletions that make room for one more transaction: when the request already carries
   * {@link MAX_CONCURRENT_TRANSACTIONS} or more, the oldest (and any unreadable ones) go.
   */
  async prune(context: CookieContext): Promise<string[]> {
    const cookies = this.#parse(context);
    if (cookies.size < MAX_CONCURRENT_TRANSACTIONS) return [];
    const readable: { name: string; createdAt: number }[] = [];
    const deletions: string[] = [];
    for (const [name, value] of cookies) {
      let createdAt: number | undefined;
      if (value !== INVALID_COOKIE) {
        try {
          const payload = (await this.#sealer.unseal(value, TRANSACTION_PURPOSE)) as { t?: { createdAt?: unknown } };
          if (typeof payload.t?.createdAt === 'number') createdAt = payload.t.createdAt;
        } catch {
          // expired or invalid: deleted below
        }
      }
      if (createdAt === undefined) deletions.push(deleteCookie(name, this.#attributes(context.secure)));
      else readable.push({ name, createdAt });
    }
    readable.sort((a, b) => b.createdAt - a.createdAt);
    for (const { name } of readable.slice(MAX_CONCURRENT_TRANSACTIONS - 1)) deletions.push(deleteCookie(name, this.#attributes(context.secure)));
    return deletions;
  }

  /** Delete every transaction cookie the request carries. */
  deleteAll(context: CookieContext): string[] {
    return this.#deleteAll(this.#parse(context), context.secure);
  }

  #parse(context: CookieContext): CookieMap {
    const prefix = this.prefix(context.secure);
    return parseCookies(context.cookieHeader, (name) => name.startsWith(prefix));
  }

  #deleteAll(cookies: CookieMap, secure: boolean): string[] {
    return [...cookies.keys()].map((name) => deleteCookie(name, this.#attributes(secure)));
  }

  #attributes(secure: boolean) {
    return secure
      ? { path: '/', httpOnly: true, secure: true, sameSite: 'None' as const }
      : { path: '/', httpOnly: true, secure: false, sameSite: 'Lax' as const };
  }
}
