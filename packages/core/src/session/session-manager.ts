/**
 * The sealed cookie session: encrypted and authenticated (JWE via the sealer), rolling and absolute
 * expiry, chunked when large (cookie-chunks.ts), optionally backed by a server-side {@link SessionStore}.
 *
 * Reading is cheap by construction: the options are resolved once in the constructor, the sealer's
 * keys are derived once, and a read is one cookie-header scan plus one unseal. Nothing touches the
 * credential store; the session store is consulted only when one is configured.
 */
import { decodeProtectedHeader } from 'jose';
import { deepFreeze } from '../internal/deep-freeze';
import { deleteCookie, parseCookies, serializeCookie, type CookieMap } from '../cookies';
import { isOidcError, OidcError } from '../errors';
import { BoundedCache, type BoundedCacheEntry } from '../internal/bounded-cache';
import { randomToken } from '../internal/random';
import { chunkCount, chunkIndex, chunkName, joinChunks, MAX_CHUNKS, splitChunks } from './cookie-chunks';
import type { CookieContext, CookieSealer, Session, SessionStore } from './types';

export const DEFAULT_SESSION_COOKIE_NAME = 'oin_session';

/**
 * A cookie that belongs with the session cookie (the login transactions' prefix, the held sign-in
 * of the switch page): `oin_<part>` for the default session name, `<cookieName>_<part>` otherwise,
 * so two apps on one host with different `session.cookieName`s never share one.
 */
export function companionCookieName(cookieName: string | undefined, part: string): string {
  return cookieName === undefined || cookieName === DEFAULT_SESSION_COOKIE_NAME ? `oin_${part}` : `${cookieName}_${part}`;
}
export const DEFAULT_ROLLING_SEC = 24 * 60 * 60;
export const DEFAULT_ABSOLUTE_SEC = 7 * 24 * 60 * 60;
export const DEFAULT_SESSION_CLAIMS: readonly string[] = Object.freeze(['name', 'email', 'preferred_username', 'given_name', 'family_name']);

export interface SessionManagerOptions {
  sealer: CookieSealer;
  cookieName?: string;
  rollingSec?: number;
  absoluteSec?: number;
  store?: SessionStore;
  claims?: readonly string[];
  /** Milliseconds clock (injectable for tests). */
  now?: () => number;
  /**
   * Consulted on every read of a live session, the warm path included: `false` (or a promise of it)
   * ends the session (it reads as signed out and its cookies are deleted); a throw fails the read.
   * The flow layer checks the tenant record and the logout deny-list here. Keep it synchronous on
   * the common path: a promise per request costs the warm path its speed.
   */
  accept?: (session: Session) => boolean | Promise<boolean>;
}

/** What a sign-in contributes to a new session. */
export interface NewSession {
  tenant: string;
  /** The tenant's issuer and client id, checked against the record on every read. */
  issuer: string;
  clientId: string;
  sub: string;
  /** The validated ID token claims; only the configured subset is kept. */
  claims: Record<string, unknown>;
  idToken?: string;
}

export interface SessionRead {
  session: Session | null;
  /** Cookies to send: a re-issued session (rolling), or deletions of an invalid/expired one. */
  setCookies: string[];
}

/** Sealed cookie payloads. `k` types the payload, on top of the sealer's purpose separation. */
interface CookieSessionPayload {
  k: 'session';
  s: Session;
}
interface StoreReferencePayload {
  k: 'ref';
  id: string;
  exp: number;
}

const SESSION_ID_OCTETS = 24; // 192 bits

/** Opened session cookies kept per process ({@link SessionManager}'s cache): entry and character bounds. */
export const MAX_OPENED_SESSIONS = 10_000;
const MAX_OPENED_CHARS = 16 * 1024 * 1024;
/**
 * Where {@link SessionManager}'s cache indexes a sealed value: its last 22 characters, which in a
 * JWE we sealed are the whole last segment, the 128-bit GCM tag. A fixed-length tail rather than
 * `lastIndexOf('.')`: a backward scan over the ~370-character ciphertext segment of a fresh header
 * string cost ~0.2 µs per request. Only a shortcut: a hit still needs the whole value to be equal.
 */
const INDEX_CHARS = 22;
/**
 * A cached value is trusted only until this long before the expiry it carries. The sealed JWE's own
 * `exp` (whole seconds, `iat + ceil(ttl)`) can fall up to one second before the session's
 * `expiresAt`; inside that last second every read goes through the sealer again, so the cache never
 * accepts a value the sealer would refuse.
 */
const SEAL_EXP_SLACK_MS = 1000;

/**
 * What an unseal of one exact cookie value produced, after the payload type checks. In the cache,
 * the entry's `until` is when the sealer is no longer certain to accept the value again (see
 * {@link SEAL_EXP_SLACK_MS}).
 */
interface Opened {
  payload: CookieSessionPayload | StoreReferencePayload;
  /** Sealed with the current (first) secret; `undefined` until learned. */
  current: boolean | undefined;
}

export class SessionManager {
  readonly #sealer: CookieSealer;
  readonly #baseName: string;
  /** The cookie names and chunk prefixes for http (index 0) and https (index 1), built once. */
  readonly #names: readonly [string, string];
  readonly #prefixes: readonly [string, string];
  readonly #rollingMs: number;
  readonly #absoluteMs: number;
  readonly #store: SessionStore | undefined;
  readonly #claims: readonly string[];
  readonly #now: () => number;
  readonly #accept: ((session: Session) => boolean | Promise<boolean>) | undefined;
  #currentKid: Promise<string | undefined> | undefined;
  /**
   * Unsealed session cookies, found by the exact sealed value (all chunks joined), in use order
   * (approximately: {@link BoundedCache.touch}). The cache is indexed by the value's last JWE
   * segment (the 128-bit AES-GCM tag, {@link INDEX_CHARS}), and a hit requires the whole stored
   * value to equal the presented one (`===`), so the index is only a shortcut. Why this is safe:
   * - the value is a JWE with AES-256-GCM (authenticated encryption): one ciphertext opens to one
   *   plaintext or to nothing, so a hit returns exactly what unsealing would, and no forged,
   *   truncated or altered value can ever match an entry (the match is on the whole value; a value
   *   sharing only the tag is a miss and is unsealed, and refused, like any other);
   * - only values that opened and passed the payload type checks are cached, never failures;
   * - expiry (rolling and absolute, {@link SessionManager.#live}) is re-checked against the cached
   *   payload on every read with the current clock, and in the last second before expiry the
   *   sealer itself decides again, so an expired session is never served;
   * - with a server-side store only the unsealed *reference* (the session id) is cached: the store is
   *   still read on every request, so a session deleted there (logout on another instance) ends at once;
   * - logout ({@link SessionManager.destroy}) drops the entry of the value it signed out;
   * - cached payloads are deep-frozen: a handler cannot change what the next request reads.
   */
  readonly #opened = new BoundedCache<Opened>({ maxEntries: MAX_OPENED_SESSIONS, maxChars: MAX_OPENED_CHARS, indexChars: INDEX_CHARS });
  /** The entry {@link #isOpened} matched last: the session read that follows the cookie parse reuses it. */
  #lastOpened: BoundedCacheEntry<Opened> | undefined;
  /** Which cookie names are session cookies or chunks, for http (index 0) and https (index 1). */
  readonly #accepts: readonly [(name: string) => boolean, (name: string) => boolean];

  constructor(options: SessionManagerOptions) {
    this.#sealer = options.sealer;
    this.#baseName = options.cookieName ?? DEFAULT_SESSION_COOKIE_NAME;
    this.#names = [this.#baseName, `__Host-${this.#baseName}`];
    this.#prefixes = [`${this.#names[0]}.`, `${this.#names[1]}.`];
    const accept = (index: 0 | 1) => (candidate: string) => candidate === this.#names[index] || candidate.startsWith(this.#prefixes[index]);
    this.#accepts = [accept(0), accept(1)];
    this.#rollingMs = (options.rollingSec ?? DEFAULT_ROLLING_SEC) * 1000;
    this.#absoluteMs = (options.absoluteSec ?? DEFAULT_ABSOLUTE_SEC) * 1000;
    this.#store = options.store;
    this.#claims = Object.freeze([...(options.claims ?? DEFAULT_SESSION_CLAIMS)]);
    this.#now = options.now ?? Date.now;
    this.#accept = options.accept;
  }

  /**
   * The cookie name for this request. On https it carries the `__Host-` prefix (RFC 6265bis
   * §4.1.3.2): the browser then accepts it only with `Secure`, `Path=/` and no `Domain`, so a
   * sibling subdomain can neither set nor overwrite it (catalogue CK-05). Plain http on loopback
   * cannot use `Secure`, so the prefix is dropped there.
   */
  cookieName(secure: boolean): string {
    return this.#names[secure ? 1 : 0];
  }

  /** Pick the configured claims subset from a validated ID token's claims. */
  pickClaims(claims: Record<string, unknown>): Record<string, unknown> {
    const picked: Record<string, unknown> = {};
    for (const name of this.#claims) {
      if (Object.hasOwn(claims, name) && claims[name] !== undefined) picked[name] = claims[name];
    }
    return picked;
  }

  /**
   * Read the session. An absent cookie → `null` with no cookies; an invalid, tampered, duplicated or
   * expired one → `null` plus deletions (catalogue CK-04, CK-08). When less than half of the rolling
   * window is left, the session is extended and the cookie re-issued; otherwise nothing is written.
   */
  read(context: CookieContext): Promise<SessionRead> {
    try {
      const cookies = this.#parse(context);
      // A warm value (see readWarm) is answered from the parse alone, with no async step; every
      // other case (first sight, rolling, re-sealing, deletions, a session store) reads on.
      const warm = this.#warm(cookies, context);
      if (warm === undefined) return this.#readParsed(cookies, context);
      if (warm.session === null || this.#accept === undefined) return Promise.resolve(warm);
      const verdict = this.#accept(warm.session);
      if (verdict === true) return Promise.resolve(warm);
      return this.#afterVerdict(verdict, warm, cookies, context);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The warm read once {@link SessionManagerOptions.accept} answered something other than a plain `true`. */
  async #afterVerdict(verdict: boolean | Promise<boolean>, warm: SessionRead, cookies: CookieMap, context: CookieContext): Promise<SessionRead> {
    if ((await verdict) === true) return warm;
    return this.#refuse(cookies, context);
  }

  /** A session {@link SessionManagerOptions.accept} refused: dropped from the cache, its cookies deleted. */
  #refuse(cookies: CookieMap, context: CookieContext): SessionRead {
    const sealed = joinChunks(cookies, this.cookieName(context.secure));
    if (sealed !== undefined) this.#opened.delete(sealed);
    return { session: null, setCookies: this.#deleteAll(cookies, context.secure) };
  }

  async #readParsed(cookies: CookieMap, context: CookieContext): Promise<SessionRead> {
    if (cookies.size === 0) return { session: null, setCookies: [] };
    const sealed = joinChunks(cookies, this.cookieName(context.secure));
    if (sealed === undefined) return { session: null, setCookies: this.#deleteAll(cookies, context.secure) };
    const now = this.#now();
    const opened = await this.#openCached(sealed, now);
    const session = opened === null ? null : await this.#resolve(opened.payload, now);
    if (opened === null || session === null) return { session: null, setCookies: this.#deleteAll(cookies, context.secure) };
    if (this.#accept !== undefined && (await this.#accept(session)) !== true) return this.#refuse(cookies, context);

    const absoluteEnd = session.issuedAt + this.#absoluteMs;
    const remaining = session.expiresAt - now;
    if (remaining >= this.#rollingMs / 2 || session.expiresAt >= absoluteEnd) {
      // Sealed under an older secret: re-issue under the current one, so the old secret can be
      // retired after one rolling window instead of the absolute lifetime (catalogue CK-07).
      opened.current ??= await this.#isCurrentKey(sealed);
      if (opened.current) return { session, setCookies: [] };
      return { session, setCookies: await this.#write(session, cookies, context.secure, now) };
    }
    // Rolling: extend, never past the absolute end (catalogue CK-08).
    const extended: Session = { ...session, expiresAt: Math.min(now + this.#rollingMs, absoluteEnd) };
    const setCookies = await this.#write(extended, cookies, context.secure, now);
    return { session: extended, setCookies };
  }

  /**
   * {@link read} without a promise, for the common case only: a cookie value opened before (cache
   * hit, see {@link #opened}), sealed with the current secret, still live, with more than half of
   * its rolling window left and no server-side store. `undefined` means "take {@link read}", which
   * answers every other case (first sight, rolling extension, re-sealing, deletions, store reads).
   */
  readWarm(context: CookieContext): SessionRead | undefined {
    return this.#warm(this.#parse(context), context);
  }

  /** {@link readWarm} on cookies {@link #parse} has just read (it relies on {@link #lastOpened}). */
  #warm(cookies: CookieMap, context: CookieContext): SessionRead | undefined {
    if (this.#store !== undefined) return undefined;
    if (cookies.size === 0) return { session: null, setCookies: [] };
    // The parse already found the value in the cache (#isOpened) when it is warm. With exactly one
    // session cookie (no chunks) that joins to a value, that value is the one #isOpened matched
    // character for character, so the entry needs no second comparison.
    const hit = this.#lastOpened;
    if (hit === undefined || hit.value.current !== true || hit.value.payload.k !== 'session' || cookies.size !== 1) return undefined;
    const sealed = joinChunks(cookies, this.cookieName(context.secure));
    const now = this.#now();
    if (sealed === undefined || now >= hit.until) return undefined;
    const session = this.#live(hit.value.payload.s, now);
    if (session === null || session.expiresAt - now < this.#rollingMs / 2) return undefined;
    this.#opened.touch(hit);
    return { session, setCookies: [] };
  }

  /**
   * Start a new session after a successful sign-in: a fresh random id every time, so a planted
   * cookie can never become authenticated (catalogue CK-01, CK-02). Any previous session of this
   * browser is destroyed first (its store entry deleted; its cookie chunks overwritten or deleted).
   */
  async create(context: CookieContext, input: NewSession): Promise<{ session: Session; setCookies: string[] }> {
    const cookies = this.#parse(context);
    if (this.#store && cookies.size > 0) await this.#destroyStored(cookies, context.secure);
    const now = this.#now();
    const session: Session = {
      id: randomToken(SESSION_ID_OCTETS),
      tenant: input.tenant,
      issuer: input.issuer,
      clientId: input.clientId,
      sub: input.sub,
      claims: this.pickClaims(input.claims),
      issuedAt: now,
      expiresAt: now + Math.min(this.#rollingMs, this.#absoluteMs),
      ...(input.idToken === undefined ? {} : { idToken: input.idToken }),
    };
    const setCookies = await this.#write(session, cookies, context.secure, now);
    return { session, setCookies };
  }

  /** Start deriving the session keys and learning the current key id, so the first request does no setup. */
  warm(): void {
    this.#currentKidPromise().catch(() => {});
  }

  /** `Set-Cookie` deletions for every session cookie chunk the request carries. */
  deletions(context: CookieContext): string[] {
    return this.#deleteAll(this.#parse(context), context.secure);
  }

  /**
   * Sign out locally: read the session (without extending it), delete its store entry and every
   * cookie chunk. Returns the session that was open, if any, for the logout redirect.
   */
  async destroy(context: CookieContext): Promise<SessionRead> {
    const cookies = this.#parse(context);
    if (cookies.size === 0) return { session: null, setCookies: [] };
    const sealed = joinChunks(cookies, this.cookieName(context.secure));
    const session = sealed === undefined ? null : await this.#open(sealed, this.#now());
    // This value is signed out: the next read of it (a stale tab) unseals it again rather than hitting the cache.
    if (sealed !== undefined) this.#opened.delete(sealed);
    if (session && this.#store) await this.#storeCall(() => this.#store!.delete(session.id));
    return { session, setCookies: this.#deleteAll(cookies, context.secure) };
  }

  /**
   * Whether `sealed` was sealed with the first (current) secret. The sealer puts a fingerprint of
   * the derived key in the JWE header's `kid`; the current one is learned once by sealing a probe.
   */
  async #isCurrentKey(sealed: string): Promise<boolean> {
    try {
      return decodeProtectedHeader(sealed).kid === (await this.#currentKidPromise());
    } catch {
      return true;
    }
  }

  #currentKidPromise(): Promise<string | undefined> {
    this.#currentKid ??= this.#sealer.seal({}, 'session', 1).then(
      (probe) => decodeProtectedHeader(probe).kid,
      (error: unknown) => {
        // Not cached: some runtimes refuse crypto outside a request (Workers' global scope).
        this.#currentKid = undefined;
        throw error;
      },
    );
    return this.#currentKid;
  }

  #parse(context: CookieContext): CookieMap {
    this.#lastOpened = undefined;
    return parseCookies(context.cookieHeader, this.#accepts[context.secure ? 1 : 0], this.#isOpened);
  }

  async #open(sealed: string, now: number): Promise<Session | null> {
    const payload = await this.#unsealChecked(sealed);
    return payload === null ? null : this.#resolve(payload, now);
  }

  /** Unseal and type-check, no cache. `null` for anything that is not a session value of this configuration. */
  async #unsealChecked(sealed: string): Promise<CookieSessionPayload | StoreReferencePayload | null> {
    let payload: unknown;
    try {
      payload = await this.#sealer.unseal(sealed, 'session');
    } catch {
      // Tampered, truncated, wrong key, wrong purpose or expired: all mean "no session" (CK-04).
      return null;
    }
    if (this.#store) return isStoreReference(payload) ? payload : null;
    return isCookieSession(payload) ? payload : null;
  }

  /** The session a checked payload stands for, expiry checked against `now` (store read for a reference). */
  async #resolve(payload: CookieSessionPayload | StoreReferencePayload, now: number): Promise<Session | null> {
    if (payload.k === 'ref') {
      if (payload.exp <= now) return null;
      const stored = await this.#storeCall(() => this.#store!.get(payload.id));
      if (!stored || !isSession(stored) || stored.id !== payload.id) return null;
      return this.#live(stored, now);
    }
    return this.#live(payload.s, now);
  }

  /**
   * {@link #unsealChecked} through the per-process cache (see {@link #opened} for why this is safe).
   * A hit costs one Map lookup instead of an AES-GCM decryption and a JSON parse; an entry past its
   * `until` is dropped and the value unsealed again.
   */
  async #openCached(sealed: string, now: number): Promise<Opened | null> {
    const hit = this.#opened.get(sealed, now);
    if (hit !== undefined) {
      this.#opened.touch(hit);
      return hit.value;
    }
    const payload = await this.#unsealChecked(sealed);
    if (payload === null) return null;
    const expiry = payload.k === 'ref' ? payload.exp : payload.s.expiresAt;
    const opened: Opened = { payload: deepFreeze(payload), current: undefined };
    this.#opened.set(sealed, opened, expiry - SEAL_EXP_SLACK_MS, now);
    return opened;
  }

  /** True when `value` is, character for character, a value already opened and cached (so already validated). */
  #isOpened = (value: string): boolean => {
    const entry = this.#opened.find(value);
    if (entry === undefined) return false;
    this.#lastOpened = entry;
    return true;
  };

  /** Expiry is checked here even though the sealed token has its own `exp`: the session clock is authoritative. */
  #live(session: Session, now: number): Session | null {
    if (session.expiresAt <= now) return null;
    if (now - session.issuedAt >= this.#absoluteMs) return null;
    return session;
  }

  async #write(session: Session, cookies: CookieMap, secure: boolean, now: number): Promise<string[]> {
    const ttlSec = Math.max(1, Math.ceil((session.expiresAt - now) / 1000));
    const name = this.cookieName(secure);
    let sealed: string;
    if (this.#store) {
      await this.#storeCall(() => this.#store!.set(session.id, session, ttlSec));
      sealed = await this.#sealer.seal({ k: 'ref', id: session.id, exp: session.expiresAt } satisfies StoreReferencePayload, 'session', ttlSec);
    } else {
      const full = await this.#sealSession(session, ttlSec);
      let fits = full !== undefined && chunkCount(name, full) <= MAX_CHUNKS ? full : undefined;
      if (fits === undefined && session.idToken !== undefined) {
        const { idToken: _dropped, ...withoutIdToken } = session;
        const smaller = await this.#sealSession(withoutIdToken, ttlSec);
        if (smaller !== undefined && chunkCount(name, smaller) <= MAX_CHUNKS) fits = smaller;
      }
      if (fits === undefined) {
        throw new OidcError('ERR_OIDC_PAYLOAD_TOO_LARGE', 'The session is too large for a cookie: configure fewer session claims or a session store.');
      }
      sealed = fits;
    }
    const attributes = { path: '/', httpOnly: true, secure, sameSite: 'Lax' as const, maxAge: ttlSec };
    const chunks = splitChunks(name, sealed);
    const setCookies = chunks.map((chunk, index) => serializeCookie(chunkName(name, index), chunk, attributes));
    // Stale chunks from a previous, larger session would corrupt the next read: delete them.
    for (const existing of cookies.keys()) {
      const index = chunkIndex(name, existing);
      if (index !== undefined && index >= chunks.length) setCookies.push(deleteCookie(existing, { path: '/', secure, sameSite: 'Lax' }));
    }
    return setCookies;
  }

  /** Seal a cookie session; `undefined` when the sealer refuses it as too large. */
  async #sealSession(session: Session, ttlSec: number): Promise<string | undefined> {
    try {
      return await this.#sealer.seal({ k: 'session', s: session } satisfies CookieSessionPayload, 'session', ttlSec);
    } catch (error) {
      if (isOidcError(error) && error.code === 'ERR_OIDC_PAYLOAD_TOO_LARGE') return undefined;
      throw error;
    }
  }

  async #destroyStored(cookies: CookieMap, secure: boolean): Promise<void> {
    const sealed = joinChunks(cookies, this.cookieName(secure));
    if (sealed === undefined) return;
    let payload: unknown;
    try {
      payload = await this.#sealer.unseal(sealed, 'session');
    } catch {
      return;
    }
    if (isStoreReference(payload)) await this.#storeCall(() => this.#store!.delete(payload.id));
  }

  #deleteAll(cookies: CookieMap, secure: boolean): string[] {
    return [...cookies.keys()].map((name) => deleteCookie(name, { path: '/', secure, sameSite: 'Lax' }));
  }

  async #storeCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (cause) {
      throw new OidcError('ERR_OIDC_STORE_FAILURE', 'The session store failed.', { cause });
    }
  }
}



function isSession(value: unknown): value is Session {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Record<string, unknown>;
  return (
    typeof s['id'] === 'string' &&
    typeof s['tenant'] === 'string' &&
    // Sessions sealed before issuer and client id were kept cannot be checked against their tenant
    // record: they are not accepted (SA-14; a one-time sign-out after the upgrade).
    typeof s['issuer'] === 'string' &&
    typeof s['clientId'] === 'string' &&
    typeof s['sub'] === 'string' &&
    typeof s['claims'] === 'object' &&
    s['claims'] !== null &&
    !Array.isArray(s['claims']) &&
    typeof s['issuedAt'] === 'number' &&
    typeof s['expiresAt'] === 'number' &&
    (s['idToken'] === undefined || typeof s['idToken'] === 'string')
  );
}

function isCookieSession(value: unknown): value is CookieSessionPayload {
  return typeof value === 'object' && value !== null && (value as { k?: unknown }).k === 'session' && isSession((value as { s?: unknown }).s);
}

function isStoreReference(value: unknown): value is StoreReferencePayload {
  if (typeof value !== 'object' || value === null) return false;
  const ref = value as Record<string, unknown>;
  return ref['k'] === 'ref' && typeof ref['id'] === 'string' && typeof ref['exp'] === 'number';
}
