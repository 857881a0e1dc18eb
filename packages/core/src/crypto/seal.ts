/**
 * Sealing: short-lived encrypted and authenticated blobs (login transactions, sessions) under
 * keys derived from app secrets.
 *
 * - jose compact JWE, `alg: dir`, `enc: A256GCM` (RFC 7516, RFC 7518 §4.5, §5.3).
 * - One AES-256 key per (secret, purpose), derived with HKDF-SHA-256 (RFC 5869) through Web Crypto,
 *   so a value sealed for one purpose (a transaction) never opens as another (a session).
 * - The protected header carries `kid` = a short SHA-256 fingerprint of the *derived* key (never of
 *   the secret), so unsealing picks the right key directly.
 * - The first secret seals; every secret unseals, so secrets rotate without logging users out.
 * - Keys are derived once per sealer and purpose and cached as non-extractable CryptoKeys.
 *
 * Errors: every failure to unseal is an `OidcError` with the sealer's `invalidCode`
 * (default `ERR_OIDC_TRANSACTION_INVALID`) or, for an expired value, its `expiredCode`
 * (default `ERR_OIDC_TRANSACTION_EXPIRED`). A session store passes
 * `{ invalidCode: 'ERR_OIDC_SESSION_INVALID', expiredCode: 'ERR_OIDC_SESSION_EXPIRED' }` to
 * `createSealer` or per `unseal` call. The message never contains the sealed value.
 */
import { EncryptJWT, errors as joseErrors, jwtDecrypt, type JWTPayload } from 'jose';
import { OidcError, type OidcErrorCode } from '../errors';
import { encodeBase64url } from '../internal/base64url';
import { codedTypeError } from '../internal/misuse';

/** Sealed values above this size are refused unopened (they travel in cookies; DoS guard). */
export const MAX_SEALED_LENGTH = 8 * 1024;
/** Minimum secret length: 32 characters, about 190 bits for random base64 secrets. */
export const MIN_SECRET_LENGTH = 32;
const MAX_SECRETS = 8;
const MAX_PURPOSES = 64;
const PURPOSE = /^[a-z0-9][a-z0-9._:-]{0,63}$/;
/** HKDF salt: fixed and public (RFC 5869 §3.1 allows a non-secret salt); it versions the derivation. */
const HKDF_SALT = new TextEncoder().encode('oin-oidc/seal/v1');

export interface SealerOptions {
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
  /** Code for tampered, foreign, wrong-purpose, garbage or oversized values. Default `ERR_OIDC_TRANSACTION_INVALID`. */
  invalidCode?: OidcErrorCode;
  /** Code for values past their expiry. Default `ERR_OIDC_TRANSACTION_EXPIRED`. */
  expiredCode?: OidcErrorCode;
}

export interface Sealer {
  /** Seal `payload` for `purpose`, valid for `ttlSec` seconds. */
  seal(payload: object, purpose: string, ttlSec: number): Promise<string>;
  /**
   * Open a value sealed for `purpose` by any of the sealer's secrets. Throws an `OidcError` with
   * the sealer's invalid or expired code ({@link SealerOptions}).
   */
  unseal<T>(sealed: string, purpose: string): Promise<T>;
}

interface DerivedKey {
  kid: string;
  key: CryptoKey;
}

async function deriveKey(secret: CryptoKey, purpose: string): Promise<DerivedKey> {
  const bits = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: HKDF_SALT, info: new TextEncoder().encode(`oin-oidc seal ${purpose}`) },
      secret,
      256,
    ),
  );
  // kid: 8 octets of SHA-256 over the derived key: identifies the key, reveals nothing usable.
  const fingerprint = new Uint8Array(await crypto.subtle.digest('SHA-256', bits));
  const key = await crypto.subtle.importKey('raw', bits, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  bits.fill(0);
  return { kid: encodeBase64url(fingerprint.subarray(0, 8)), key };
}

function checkPurpose(purpose: string): void {
  if (typeof purpose !== 'string') throw codedTypeError('seal purpose must be a string', 'ERR_INVALID_ARG_TYPE');
  if (!PURPOSE.test(purpose)) throw codedTypeError('seal purpose must be 1-64 characters from [a-z0-9._:-]', 'ERR_INVALID_ARG_VALUE');
}

/**
 * Create a sealer over one or more secrets (each at least 32 characters). The first secret seals;
 * all of them unseal, so add the new secret first and drop the old one after the longest TTL.
 *
 * @example
 * ```ts
 * const sealer = createSealer([appSecret]); // at least 32 characters, from your secret store
 * const cookie = await sealer.seal({ state }, 'transaction', 600);
 * const value = await sealer.unseal<{ state: string }>(cookie, 'transaction');
 * ```
 */
export function createSealer(secrets: readonly string[], options: SealerOptions = {}): Sealer {
  if (!Array.isArray(secrets) || secrets.length === 0 || secrets.length > MAX_SECRETS) {
    throw new OidcError('ERR_OIDC_INVALID_OPTIONS', `secret: between 1 and ${MAX_SECRETS} secrets are required`, { details: { field: 'secret' } });
  }
  secrets.forEach((secret, index) => {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
      throw new OidcError('ERR_OIDC_INVALID_OPTIONS', `secret[${index}]: must be a string of at least ${MIN_SECRET_LENGTH} characters`, {
        details: { field: `secret.${index}` },
      });
    }
  });
  const now = options.now ?? Date.now;
  const invalidCode: OidcErrorCode = options.invalidCode ?? 'ERR_OIDC_TRANSACTION_INVALID';
  const expiredCode: OidcErrorCode = options.expiredCode ?? 'ERR_OIDC_TRANSACTION_EXPIRED';

  // Secrets are imported once; the raw strings are not kept beyond this point.
  const secretKeys = Promise.all(
    secrets.map((secret) => crypto.subtle.importKey('raw', new TextEncoder().encode(secret), 'HKDF', false, ['deriveBits'])),
  );
  const byPurpose = new Map<string, Promise<DerivedKey[]>>();
  function keysFor(purpose: string): Promise<DerivedKey[]> {
    let keys = byPurpose.get(purpose);
    if (!keys) {
      // Purposes are constants in code; the bound keeps a misuse from growing the cache.
      if (byPurpose.size >= MAX_PURPOSES) throw codedTypeError(`a sealer supports at most ${MAX_PURPOSES} purposes`, 'ERR_INVALID_ARG_VALUE');
      keys = secretKeys.then((imported) => Promise.all(imported.map((secret) => deriveKey(secret, purpose))));
      byPurpose.set(purpose, keys);
    }
    return keys;
  }

  return Object.freeze({
    async seal(payload: object, purpose: string, ttlSec: number): Promise<string> {
      checkPurpose(purpose);
      if (!Number.isInteger(ttlSec) || ttlSec <= 0) throw codedTypeError('seal ttlSec must be a positive integer', 'ERR_INVALID_ARG_VALUE');
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw codedTypeError('seal payload must be an object', 'ERR_INVALID_ARG_TYPE');
      const [first] = await keysFor(purpose);
      const iat = Math.floor(now() / 1000);
      // The payload is nested under `p` so its own members can never collide with iat/exp.
      const sealed = await new EncryptJWT({ p: payload } as JWTPayload)
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: first!.kid })
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSec)
        .encrypt(first!.key);
      if (sealed.length > MAX_SEALED_LENGTH) {
        throw new OidcError('ERR_OIDC_PAYLOAD_TOO_LARGE', `The sealed value exceeds ${MAX_SEALED_LENGTH} characters`);
      }
      return sealed;
    },

    async unseal<T>(sealed: string, purpose: string): Promise<T> {
      checkPurpose(purpose);
      const invalid = (cause?: unknown) => new OidcError(invalidCode, 'The sealed value is invalid.', cause === undefined ? {} : { cause });
      if (typeof sealed !== 'string' || sealed.length === 0 || sealed.length > MAX_SEALED_LENGTH) throw invalid();
      const keys = await keysFor(purpose);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtDecrypt(
          sealed,
          (header) => {
            const match = keys.find((candidate) => candidate.kid === header.kid);
            // No key → foreign secret or another purpose.
            if (!match) throw new joseErrors.JWEDecryptionFailed();
            return match.key;
          },
          {
            keyManagementAlgorithms: ['dir'],
            contentEncryptionAlgorithms: ['A256GCM'],
            currentDate: new Date(now()),
            requiredClaims: ['exp', 'iat'],
          },
        ));
      } catch (cause) {
        // jose's claim errors carry the decrypted payload (a PKCE verifier, a session's ID token):
        // never kept as the cause, so logging the error cannot log them (catalogue LG-01).
        if (cause instanceof joseErrors.JWTExpired) throw new OidcError(expiredCode, 'The sealed value has expired.');
        throw invalid(cause instanceof joseErrors.JWTClaimValidationFailed ? undefined : cause);
      }
      const inner = payload.p;
      if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) throw invalid();
      return inner as T;
    },
  });
}
