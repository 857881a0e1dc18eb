/**
 * At-rest encryption keys: `kid` + 32 raw bytes (AES-256-GCM, used directly as the JWE CEK with
 * `alg: dir`). The first key encrypts, every key decrypts, and a ciphertext names its key by `kid`,
 * so rotation is: add the new key first, deploy, run `reencrypt`, drop the old key.
 */
import { OidcError, base64urlDecodeStrict } from './internal';

/** One at-rest key. `key` must be exactly 32 bytes of CSPRNG output. */
export interface EncryptionKey {
  /** 1–32 characters of `A-Z a-z 0-9 . _ -`; written into every ciphertext's protected header. */
  kid: string;
  /** 32 bytes. */
  key: Uint8Array;
}

/** Short on purpose: a 32-byte key in base64url is 43 characters, so a key pasted where the kid goes is refused, never echoed. */
const KID = /^[A-Za-z0-9._-]{1,32}$/;
const KEY_TEXT = /^[A-Za-z0-9_-]{43}$/;

function invalid(message: string, details: Record<string, unknown> = {}): OidcError {
  return new OidcError('ERR_OIDC_INVALID_OPTIONS', message, { details: { option: 'encryptionKeys', ...details } });
}

/**
 * Parse `OIN_ENCRYPTION_KEYS`: comma-separated `kid:base64url-32-bytes` entries, the first one
 * encrypting. Throws `ERR_OIDC_INVALID_OPTIONS` naming the entry by position only: neither a key
 * nor anything that might be one (a kid and a key swapped) is ever put in a message.
 *
 * @example
 * ```ts
 * // openssl rand 32 | basenc --base64url | tr -d '=' → 43 characters
 * const keys = parseEncryptionKeys(process.env.OIN_ENCRYPTION_KEYS ?? '');
 * ```
 */
export function parseEncryptionKeys(text: string): EncryptionKey[] {
  if (typeof text !== 'string' || text.trim() === '') {
    throw invalid('Encryption keys: none given (expected comma-separated kid:base64url-32-bytes entries; the first encrypts)');
  }
  const keys = text
    .trim()
    .split(',')
    .map((entry, index) => {
      const position = index + 1;
      const trimmed = entry.trim();
      const colon = trimmed.indexOf(':');
      if (colon === -1) throw invalid(`Encryption keys: entry ${position} is not of the form kid:key`, { entry: position });
      const kid = trimmed.slice(0, colon);
      const keyText = trimmed.slice(colon + 1);
      if (!KID.test(kid)) {
        throw invalid(`Encryption keys: entry ${position} has an invalid kid (1-32 characters of A-Z a-z 0-9 . _ -)`, { entry: position });
      }
      const key = KEY_TEXT.test(keyText) ? base64urlDecodeStrict(keyText) : undefined;
      if (key === undefined || key.length !== 32) {
        throw invalid(`Encryption keys: entry ${position} is not 32 bytes of unpadded base64url (43 characters)`, { entry: position });
      }
      return { kid, key };
    });
  return resolveEncryptionKeys(keys);
}

/**
 * Check keys given in code (or parsed): at least one, kids valid and unique, each exactly 32
 * bytes. Returns frozen copies, so a caller that later zeroes or reuses its buffers changes nothing.
 */
export function resolveEncryptionKeys(input: readonly EncryptionKey[] | string): EncryptionKey[] {
  if (typeof input === 'string') return parseEncryptionKeys(input);
  if (!Array.isArray(input) || input.length === 0) {
    throw invalid('Encryption keys: at least one { kid, key } is required (the first encrypts)');
  }
  const seen = new Map<string, number>();
  return input.map((entry: unknown, index) => {
    const position = index + 1;
    const { kid, key } = (entry ?? {}) as { kid?: unknown; key?: unknown };
    if (typeof kid !== 'string' || !KID.test(kid)) {
      throw invalid(`Encryption keys: key ${position} has an invalid kid (1-32 characters of A-Z a-z 0-9 . _ -)`, { entry: position });
    }
    if (!(key instanceof Uint8Array) || key.length !== 32) {
      throw invalid(`Encryption keys: key ${position} must be a Uint8Array of exactly 32 bytes`, { entry: position });
    }
    const earlier = seen.get(kid);
    if (earlier !== undefined) {
      throw invalid(`Encryption keys: keys ${earlier} and ${position} share a kid; every kid must be unique`, { entry: position });
    }
    seen.set(kid, position);
    return Object.freeze({ kid, key: new Uint8Array(key) });
  });
}
