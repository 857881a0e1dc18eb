/**
 * A rotation-aware, per-issuer JWKS cache shared by every tenant of an org.
 *
 * Why not jose's `createRemoteJWKSet`: it refuses to refetch for 30 s after a fetch (openid-client
 * for 60 s), so the first logins after Okta rotates its signing key fail. OIDC Core §10.1.1 says the
 * verifier "knows to go back to the jwks_uri location to re-retrieve the keys when it sees an
 * unfamiliar kid value". Here an unknown `kid` triggers an immediate refetch, bounded by a small
 * budget per issuer (then a cooldown) so a flood of random `kid`s cannot amplify into a flood of
 * `/keys` calls (catalogue JK-01, JK-02, JK-10).
 *
 * - One fetch in flight per issuer (single-flight): every waiter reuses its result.
 * - Stale-if-error: when `/keys` fails or hangs, the cached keys keep serving for a bounded time
 *   (JK-04); an expired set is revalidated in the background while known keys keep verifying.
 * - Only RSA signing keys usable with RS256 are imported (JK-07: the algorithm comes from our
 *   allowlist, never from the token or the JWK); malformed keys are skipped, not fatal. A set
 *   whose `keys` holds a non-object, a private or a symmetric key is refused whole, and a `kid`
 *   two candidate keys share selects neither (docs/security.md, "JWKS, discovery and
 *   introspection against the certified anchors").
 * - `Cache-Control: max-age` is honoured within bounds; the registry is an LRU over issuers.
 * - The cache key is the issuer and its JWKS URL, both derived from the tenant (JK-08, JK-09):
 *   `jku`, `x5u`, `jwk` and `x5c` headers are never consulted.
 * - Two refetch budgets per issuer (audit finding SA-09, docs/security.md): `'front'` for tokens a
 * browser posted (the simplified flow: anyone can post one, with only public values), `'back'` for
 * tokens straight from `/token` over TLS. A flood of forged posts can exhaust the front budget
 * only, so the first code-flow sign-in after a real key rotation still gets its refetch.
 */
import { base64url, exportJWK, importJWK, importX509 } from 'jose';
import { OidcError } from '../errors';
import { type OidcEventListener, type OidcJwksEvent, safeEventListener } from '../events';
import { BOUNDS, checkBound } from '../internal/bounds';
import { clamp } from '../internal/time';
import type { Transport } from '../http/types';
import { MIN_RSA_BITS } from '../tokens/signature-verifier';
import type { JwksChannel, JwksEvent, JwksFetchReason } from './jwks-events';

export type { JwksChannel, JwksEvent, JwksFetchReason } from './jwks-events';

/** The only algorithm the org authorization server signs ID tokens with (Core §3.1.3.7 step 7). */
const ALLOWED_ALG = 'RS256';
/** Keys beyond this many entries in one JWKS are not examined (a bound on import work). */
const MAX_KEYS_PER_SET = 100;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Options of {@link JwksRegistry.getKey}. */
export interface JwksKeyOptions {
  /**
   * `'back'` (default): the token came from the token endpoint (code flow). `'front'`: a browser
   * posted it (Okta simplified flow), so anyone can send one. Budgets are kept per channel.
   */
  channel?: JwksChannel;
}

/** Resolves the verification key for a JWS header. */
export interface JwksRegistry {
  /**
   * Key for this JWS header from the issuer's cached set; unknown kid → immediate single-flight
   * refetch (budget per channel, then cooldown). `options.channel` defaults to `'back'`.
   */
  getKey(issuer: string, jwksUri: string, header: { alg?: string; kid?: string }, options?: JwksKeyOptions): Promise<CryptoKey>;
  /**
   * The warm path of {@link getKey} without a promise: the RS256 key for `kid` when the issuer's
   * set is cached, fresh (not past its max-age) and holds it unambiguously; otherwise `undefined`,
   * and the caller falls back to `getKey` (which fetches, refetches or serves stale as it must).
   * Optional so registries written against the older contract keep working.
   */
  peekKey?(issuer: string, jwksUri: string, kid: string | undefined): CryptoKey | undefined;
}

/** Options of {@link createJwksRegistry}. Every field is optional. */
export interface JwksOptions {
  /** Issuers kept (LRU). Default 1000. */
  maxIssuers?: number;
  /** Lifetime of a set when `/keys` sends no usable `Cache-Control: max-age`. Default 3600 s. */
  defaultMaxAgeSec?: number;
  /** Lower bound for `max-age` (also used for `no-cache`/`no-store`). Default 60 s. */
  minMaxAgeSec?: number;
  /** Upper bound for `max-age` (Okta sends ~44 days). Default 86400 s. */
  maxMaxAgeSec?: number;
  /**
   * Unknown-`kid` refetches allowed per issuer per window before a cooldown, for each channel
   * separately (front: browser-posted tokens; back: tokens from `/token`). Default 3.
   */
  refetchBudget?: number;
  /** The refetch budget window. Default 60 s. */
  refetchWindowSec?: number;
  /** How long past its expiry a set keeps serving while `/keys` fails. Default 86400 s. */
  maxStaleSec?: number;
  /** After a failed fetch, background revalidation of a stale set pauses this long. Default 30 s. */
  failureBackoffSec?: number;
  /** Clock in epoch ms. Default `Date.now`. */
  now?: () => number;
  /** Fetches, failures, refused refetches and evictions. Exceptions it throws are ignored. */
  onJwks?: (event: JwksEvent) => void;
  /** The same events as `onJwks`, as `{ type: 'jwks', action: <their type>, … }` (docs/operations.md, 'Telemetry'). Exceptions it throws are ignored. */
  onEvent?: OidcEventListener;
}

interface KeySet {
  byKid: Map<string, CryptoKey>;
  /** kids more than one candidate key carries: a token naming one is refused. */
  ambiguous: Set<string>;
  all: CryptoKey[];
  expiresAt: number;
}

interface Entry {
  issuer: string;
  jwksUri: string;
  set: KeySet | undefined;
  inflight: Promise<KeySet> | undefined;
  /** Times (ms) of the unknown-kid refetches in the window, per channel. */
  refetches: Record<JwksChannel, number[]>;
  /** When the last fetch failed (cleared by a success). */
  failedAt: number | undefined;
}

/** `max-age` in seconds from a Cache-Control header (RFC 9111 §5.2.2.1); 0 for no-store/no-cache; undefined when absent. */
export function parseMaxAge(header: string | null): number | undefined {
  if (header === null) return undefined;
  let maxAge: number | undefined;
  for (const directive of header.toLowerCase().split(',')) {
    const [name, value] = directive.trim().split('=', 2) as [string, string | undefined];
    if (name === 'no-store' || name === 'no-cache') return 0;
    if (name === 'max-age' && value !== undefined && /^\d{1,10}$/.test(value.trim().replace(/^"|"$/g, ''))) {
      maxAge = Number(value.trim().replace(/^"|"$/g, ''));
    }
  }
  return maxAge;
}

/**
 * JWK members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
 * A JWKS is public by definition (OIDC Core §10.1.1): one that carries any of them is refused whole.
 * Anchors: the OpenID conformance suite's EnsureServerJwksDoesNotContainPrivateOrSymmetricKeys
 * (condition/as/AbstractEnsureJwksDoesNotContainPrivateOrSymmetricKeys.java: any private or `oct`
 * key fails the OP's JWKS); oauth4webapi imports the selected JWK as it is with usages ['verify']
 * (src/index.ts importJwk), which Web Crypto refuses for a private JWK, so a leaked `d` fails there too.
 */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** An unsigned big-endian integer's octets without leading zeros (RFC 7518 §2 Base64urlUInt). */
function uint(value: string): string {
  const bytes = base64url.decode(value);
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
  return Array.from(bytes.subarray(start), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * RFC 7517 §4.7: when a JWK carries `x5c`, its first certificate's key must be the JWK's key. The
 * conformance suite's ValidateServerJWKs parses every key with Nimbus (AbstractValidateJWKs
 * .parseJWKWithNimbus), which refuses an RSA JWK whose first certificate holds another key. jose
 * parses the certificate (importX509); only `n` and `e` are compared. oauth4webapi ignores `x5c`.
 */
async function x5cMatches(jwk: Record<string, unknown>): Promise<boolean> {
  const chain = jwk.x5c;
  if (!Array.isArray(chain) || chain.length === 0 || typeof chain[0] !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(chain[0])) return false;
  try {
    const key = await importX509(`-----BEGIN CERTIFICATE-----\n${chain[0]}\n-----END CERTIFICATE-----`, ALLOWED_ALG, { extractable: true });
    const certified = await exportJWK(key);
    return certified.n !== undefined && certified.e !== undefined && uint(certified.n) === uint(jwk.n as string) && uint(certified.e) === uint(jwk.e as string);
  } catch {
    return false;
  }
}

function notAJwks(message: string): OidcError {
  return new OidcError('ERR_OIDC_HTTP_ERROR', message);
}

/** Import the usable keys of a JWKS document; throws when the document is not a public `{ keys: [{…}, …] }`. */
async function importKeySet(json: unknown): Promise<{ byKid: Map<string, CryptoKey>; ambiguous: Set<string>; all: CryptoKey[]; ignored: number }> {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { keys?: unknown }).keys)) {
    throw notAJwks('The JWKS response is not a JSON Web Key Set ({"keys": [...]})');
  }
  const keys = (json as { keys: unknown[] }).keys;
  // oauth4webapi processJwksResponse (src/index.ts): every member of "keys" must be a JSON object,
  // or the whole response is refused; the conformance suite's AbstractValidateJWKs.checkJWKs reads
  // each member with getAsJsonObject(), which fails on anything else. Skipping them hid a broken set.
  for (const candidate of keys) {
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
      throw notAJwks('The JWKS "keys" members must be JSON Web Key objects');
    }
    const jwk = candidate as Record<string, unknown>;
    if (jwk.kty === 'oct' || PRIVATE_MEMBERS.some((member) => member in jwk)) {
      throw notAJwks('The JWKS publishes private or symmetric key material');
    }
  }
  const byKid = new Map<string, CryptoKey>();
  const all: CryptoKey[] = [];
  const seenKids = new Set<string>();
  const ambiguous = new Set<string>();
  let ignored = Math.max(0, keys.length - MAX_KEYS_PER_SET);
  for (const candidate of keys.slice(0, MAX_KEYS_PER_SET)) {
    const jwk = candidate as Record<string, unknown>;
    // The candidate filter of oauth4webapi getPublicSigKeyFromIssuerJwksUri (src/index.ts):
    // kty from the alg (RS* → RSA), `alg` equal to the token's when present, `use` "sig" when
    // present, `key_ops` holding "verify" when present.
    const usable =
      jwk.kty === 'RSA' &&
      (jwk.use === undefined || jwk.use === 'sig') &&
      (jwk.alg === undefined || jwk.alg === ALLOWED_ALG) &&
      (jwk.kid === undefined || (typeof jwk.kid === 'string' && jwk.kid.length > 0)) &&
      (jwk.key_ops === undefined || (Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) &&
      typeof jwk.n === 'string' &&
      BASE64URL.test(jwk.n) &&
      typeof jwk.e === 'string' &&
      BASE64URL.test(jwk.e);
    if (!usable) {
      ignored += 1;
      continue;
    }
    const kid = jwk.kid as string | undefined;
    if (kid !== undefined) {
      // Two candidates with one kid: oauth4webapi refuses the token ("multiple applicable keys
      // found", after filtering, before import), and the conformance suite's
      // CheckDistinctKeyIdValueInServerJWKs fails the set. Neither key is used for that kid: which
      // one is genuine cannot be told (keeping the first let a set with the genuine key first sign in).
      if (seenKids.has(kid)) {
        ambiguous.add(kid);
        byKid.delete(kid);
      }
      seenKids.add(kid);
    }
    if (jwk.x5c !== undefined && !(await x5cMatches(jwk))) {
      throw notAJwks('A key of the JWKS does not match its own x5c certificate');
    }
    // Only the public members (the document was checked above to hold no private ones).
    const key = await importJWK({ kty: 'RSA', n: jwk.n as string, e: jwk.e as string }, ALLOWED_ALG).catch(() => undefined);
    // RFC 7518 §3.3: RS256 keys are 2048 bits or larger (Web Crypto imports a garbage modulus as 0 bits).
    if (!isUsablePublicKey(key)) {
      ignored += 1;
      continue;
    }
    all.push(key);
    if (kid !== undefined && !ambiguous.has(kid)) byKid.set(kid, key);
  }
  return { byKid, ambiguous, all, ignored };
}

/** An imported RSA public key of at least {@link MIN_RSA_BITS} bits (anything else in a JWKS is ignored). */
function isUsablePublicKey(key: CryptoKey | Uint8Array | undefined): key is CryptoKey {
  if (!(typeof key === 'object' && 'type' in key && key.type === 'public')) return false;
  return (key.algorithm as RsaHashedKeyAlgorithm).modulusLength >= MIN_RSA_BITS;
}

/**
 * Create the per-issuer JWKS registry. One instance per application: it is shared by every tenant,
 * so tenants of one org share one cache and one refetch budget.
 */
export function createJwksRegistry(transport: Transport, options: JwksOptions = {}): JwksRegistry {
  checkBound('maxIssuers', options.maxIssuers, BOUNDS.jwksMaxIssuers);
  checkBound('defaultMaxAgeSec', options.defaultMaxAgeSec, BOUNDS.jwksMaxAgeSec);
  checkBound('minMaxAgeSec', options.minMaxAgeSec, BOUNDS.jwksMaxAgeSec);
  checkBound('maxMaxAgeSec', options.maxMaxAgeSec, BOUNDS.jwksMaxAgeSec);
  checkBound('refetchBudget', options.refetchBudget, BOUNDS.jwksRefetchBudget);
  checkBound('refetchWindowSec', options.refetchWindowSec, BOUNDS.jwksRefetchWindowSec);
  checkBound('maxStaleSec', options.maxStaleSec, BOUNDS.jwksMaxAgeSec);
  checkBound('failureBackoffSec', options.failureBackoffSec, BOUNDS.jwksFailureBackoffSec);
  const maxIssuers = options.maxIssuers ?? 1000;
  const minMaxAge = options.minMaxAgeSec ?? 60;
  const maxMaxAge = Math.max(minMaxAge, options.maxMaxAgeSec ?? 86_400);
  const defaultMaxAge = clamp(options.defaultMaxAgeSec ?? 3600, minMaxAge, maxMaxAge);
  const budget = options.refetchBudget ?? 3;
  const windowMs = (options.refetchWindowSec ?? 60) * 1000;
  const maxStaleMs = (options.maxStaleSec ?? 86_400) * 1000;
  const failureBackoffMs = (options.failureBackoffSec ?? 30) * 1000;
  const now = options.now ?? Date.now;
  const onJwks = options.onJwks;
  const onEvent = safeEventListener(options.onEvent);
  // Lookup index issuer → jwksUri → entry (no per-call key concatenation: tenant strings keep
  // their hash), and a Set of the same entries in least-recently-used-first order.
  const index = new Map<string, Map<string, Entry>>();
  const lru = new Set<Entry>();
  let mostRecent: Entry | undefined;

  function emit(event: JwksEvent): void {
    if (onEvent !== undefined) onEvent({ ...event, type: 'jwks', action: event.type } as OidcJwksEvent);
    if (onJwks === undefined) return;
    try {
      onJwks(event);
    } catch {
      // Monitoring must never break sign-in.
    }
  }

  function lookup(issuer: string, jwksUri: string): Entry | undefined {
    return index.get(issuer)?.get(jwksUri);
  }

  /** Mark the entry most recently used (a no-op when it already is: the common case of a hot issuer). */
  function markUsed(entry: Entry): void {
    if (entry === mostRecent) return;
    lru.delete(entry);
    lru.add(entry);
    mostRecent = entry;
  }

  function forget(entry: Entry): void {
    lru.delete(entry);
    const byUri = index.get(entry.issuer);
    byUri?.delete(entry.jwksUri);
    if (byUri !== undefined && byUri.size === 0) index.delete(entry.issuer);
    if (mostRecent === entry) mostRecent = undefined;
  }

  /** Find or create the entry and mark it most recently used; evict the least recently used idle entries. */
  function touch(issuer: string, jwksUri: string): Entry {
    let entry = lookup(issuer, jwksUri);
    if (entry === undefined) {
      entry = { issuer, jwksUri, set: undefined, inflight: undefined, refetches: { front: [], back: [] }, failedAt: undefined };
      let byUri = index.get(issuer);
      if (byUri === undefined) {
        byUri = new Map();
        index.set(issuer, byUri);
      }
      byUri.set(jwksUri, entry);
    }
    markUsed(entry);
    if (lru.size > maxIssuers) {
      for (const candidate of lru) {
        if (lru.size <= maxIssuers) break;
        if (candidate === entry || candidate.inflight !== undefined) continue;
        forget(candidate);
        emit({ type: 'evicted', issuer: candidate.issuer, jwksUri: candidate.jwksUri });
      }
    }
    return entry;
  }

  /** Start (or join) the issuer's single in-flight fetch. */
  function refresh(entry: Entry, reason: JwksFetchReason): Promise<KeySet> {
    if (entry.inflight !== undefined) return entry.inflight;
    const fetching = (async () => {
      try {
        const response = await transport.request('jwks', { issuer: entry.issuer }, entry.jwksUri, { method: 'GET' });
        if (response.status !== 200) {
          throw new OidcError('ERR_OIDC_HTTP_ERROR', `The JWKS endpoint answered HTTP ${response.status}`, { details: { status: response.status } });
        }
        // Content-Type: the transport already refuses non-JSON media types (text/html, text/plain)
        // and accepts none, application/json and application/*+json. oauth4webapi is looser: its
        // processJwksResponse consults the type (application/json, application/jwk-set+json) only
        // when the body fails to parse as JSON (getResponseJsonBody in src/index.ts), so nothing
        // stricter is needed here to fail closed where it does.
        const imported = await importKeySet(response.json);
        if (imported.all.length === 0) {
          throw new OidcError('ERR_OIDC_HTTP_ERROR', 'The JWKS holds no usable RS256 signing key');
        }
        const maxAge = clamp(parseMaxAge(response.headers.get('cache-control')) ?? defaultMaxAge, minMaxAge, maxMaxAge);
        const set: KeySet = { byKid: imported.byKid, ambiguous: imported.ambiguous, all: imported.all, expiresAt: now() + maxAge * 1000 };
        entry.set = set;
        entry.failedAt = undefined;
        emit({ type: 'fetch', issuer: entry.issuer, jwksUri: entry.jwksUri, reason, keys: set.all.length, ignored: imported.ignored, maxAgeSec: maxAge });
        return set;
      } catch (cause) {
        const code = cause instanceof OidcError ? cause.code : 'ERR_OIDC_JWKS_UNAVAILABLE';
        entry.failedAt = now();
        const servingStale = entry.set !== undefined && now() < entry.set.expiresAt + maxStaleMs;
        emit({ type: 'fetch-failed', issuer: entry.issuer, jwksUri: entry.jwksUri, reason, code, servingStale });
        throw new OidcError('ERR_OIDC_JWKS_UNAVAILABLE', "The issuer's signing keys could not be fetched", {
          cause,
          details: { upstream: code },
          retryAfter: cause instanceof OidcError && cause.retryAfter !== undefined ? cause.retryAfter : 5,
        });
      }
    })();
    entry.inflight = fetching;
    const clear = () => {
      if (entry.inflight === fetching) entry.inflight = undefined;
    };
    fetching.then(clear, clear);
    return fetching;
  }

  function select(set: KeySet, kid: string | undefined): CryptoKey | undefined {
    if (kid !== undefined) {
      // oauth4webapi getPublicSigKeyFromIssuerJwksUri: more than one candidate is a key-selection
      // error, not a choice; no refetch either (the set that holds the duplicate was just read).
      if (set.ambiguous.has(kid)) {
        throw new OidcError('ERR_OIDC_ID_TOKEN_INVALID', 'Several keys in the issuer\'s JWKS carry the token\'s "kid"', {
          details: { check: 'kid' },
        });
      }
      return set.byKid.get(kid);
    }
    // OIDC Core §10.1: without a kid the key must be unambiguous.
    if (set.all.length > 1) {
      throw new OidcError('ERR_OIDC_ID_TOKEN_INVALID', 'The token has no "kid" header and the issuer publishes several keys (OIDC Core §10.1)', {
        details: { check: 'kid' },
      });
    }
    return set.all[0];
  }

  function noMatchingKey(): OidcError {
    return new OidcError('ERR_OIDC_JWKS_NO_MATCHING_KEY', "No key in the issuer's JWKS matches the token's kid");
  }

  /** {@link select} after a fetch: a miss now is final (no second refetch for the same call). */
  function pick(set: KeySet, kid: string | undefined): CryptoKey {
    const key = select(set, kid);
    if (key === undefined) throw noMatchingKey();
    return key;
  }

  /**
   * A kid the cached set does not hold: join the fetch in flight, or spend one unit of the refetch
   * budget on an immediate fetch (Core §10.1.1), or refuse during the cooldown (JK-02).
   */
  async function missingKid(entry: Entry, kid: string | undefined, reason: JwksFetchReason, channel: JwksChannel): Promise<CryptoKey> {
    if (entry.inflight !== undefined) return pick(await entry.inflight, kid);
    if (!withinBudget(entry, channel)) {
      emit({ type: 'refetch-refused', issuer: entry.issuer, jwksUri: entry.jwksUri, channel });
      throw noMatchingKey();
    }
    return pick(await refresh(entry, reason), kid);
  }

  function withinBudget(entry: Entry, channel: JwksChannel): boolean {
    const t = now();
    const recent = entry.refetches[channel].filter((at) => t - at < windowMs);
    entry.refetches[channel] = recent;
    if (recent.length >= budget) return false;
    recent.push(t);
    return true;
  }

  return {
    peekKey(issuer, jwksUri, kid) {
      const entry = lookup(issuer, jwksUri);
      const cached = entry?.set;
      if (cached === undefined || now() >= cached.expiresAt) return undefined;
      let key: CryptoKey | undefined;
      if (kid !== undefined) key = cached.byKid.get(kid);
      else if (cached.all.length === 1) key = cached.all[0];
      // Everything else (unknown kid, ambiguous key, expired set) takes the full path in getKey.
      if (key !== undefined) markUsed(entry!);
      return key;
    },

    async getKey(issuer, jwksUri, header, options) {
      // Anything but an explicit 'front' is the back channel (the default, and the safe reading of a typo).
      const channel: JwksChannel = options?.channel === 'front' ? 'front' : 'back';
      if (header.alg !== ALLOWED_ALG) {
        throw new OidcError('ERR_OIDC_JWKS_NO_MATCHING_KEY', 'Only RS256 keys are accepted', { details: { check: 'alg' } });
      }
      if (header.kid !== undefined && (typeof header.kid !== 'string' || header.kid.length === 0)) {
        throw new OidcError('ERR_OIDC_ID_TOKEN_INVALID', 'The token\'s "kid" header is not a non-empty string', { details: { check: 'kid' } });
      }
      const kid = header.kid;
      // No await before `refresh` registers its in-flight promise: concurrent callers all join one fetch.
      const entry = touch(issuer, jwksUri);
      const cached = entry.set;
      if (cached === undefined) {
        const set = await refresh(entry, 'cold');
        return pick(set, kid);
      }
      const t = now();
      if (t >= cached.expiresAt) {
        if (t < cached.expiresAt + maxStaleMs) {
          const hit = select(cached, kid);
          if (hit !== undefined) {
            // Stale-while-revalidate: a known key keeps verifying while /keys is slow, failing or
            // hanging; after a failure, revalidation pauses for failureBackoffSec (no hammering).
            const backingOff = entry.failedAt !== undefined && t - entry.failedAt < failureBackoffMs;
            if (!backingOff) refresh(entry, 'expired').catch(() => undefined);
            return hit;
          }
          return missingKid(entry, kid, 'expired', channel);
        }
        return pick(await refresh(entry, 'expired'), kid);
      }
      const hit = select(cached, kid);
      if (hit !== undefined) return hit;
      return missingKid(entry, kid, 'unknown-kid', channel);
    },
  };
}
