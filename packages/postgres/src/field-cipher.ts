/**
 * Field encryption at rest: each secret column holds one compact JWE (RFC 7516 §7.1) with
 * `alg: dir` and `enc: A256GCM`, made and opened by jose with Web Crypto AES-GCM keys.
 *
 * The protected header carries `kid` (which key), `oin_tid` (the tenant id) and `oin_fld` (the
 * column). RFC 7516 §5.1 step 14 makes the encoded protected header the AEAD's additional
 * authenticated data, so none of them can be changed without failing decryption, and a
 * ciphertext copied onto another tenant's row, or into the other secret column, decrypts but is
 * refused by the binding check below. Keys are chosen by `kid`, never by trying each one.
 */
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import type { EncryptionKey } from './encryption-keys';
import { storeFailure } from './errors';

/** The columns that hold ciphertext, named as in the protected header's `oin_fld` (`session`: a session row, `oin_tid` then holds its id hash). */
export type SecretField = 'clientSecrets' | 'privateJwk' | 'session';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const DECRYPT_OPTIONS = { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] };

export interface FieldCipher {
  /** The kid every new ciphertext is made with (the first key). */
  readonly currentKid: string;
  /** JSON-serialise `value` and encrypt it for `tenantId`'s `field` with the first key. */
  encrypt(value: unknown, tenantId: string, field: SecretField): Promise<string>;
  /**
   * Decrypt a ciphertext read from `tenantId`'s `field` column. Throws `ERR_OIDC_STORE_FAILURE` with
   * `details.reason` `unknown-key`, `decrypt-failed`, `bound-elsewhere` or `malformed`.
   */
  decrypt(jwe: string, tenantId: string, field: SecretField): Promise<unknown>;
  /** The kid a ciphertext names (unauthenticated: only for choosing what to re-encrypt). */
  kidOf(jwe: string): string | undefined;
}

export async function createFieldCipher(keys: readonly EncryptionKey[]): Promise<FieldCipher> {
  const byKid = new Map<string, CryptoKey>();
  for (const { kid, key } of keys) {
    // Non-extractable: the raw bytes cannot be read back out of the CryptoKey.
    byKid.set(kid, await crypto.subtle.importKey('raw', new Uint8Array(key), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']));
  }
  const currentKid = keys[0]!.kid;
  const currentKey = byKid.get(currentKid)!;

  const refuse = (reason: 'unknown-key' | 'decrypt-failed' | 'bound-elsewhere' | 'malformed', tenantId: string, field: SecretField, extra: Record<string, unknown> = {}, cause?: unknown) =>
    storeFailure(reason, `Postgres credential store: the ${field} ciphertext of tenant "${tenantId}" was refused (${reason})`, {
      ...(cause === undefined ? {} : { cause }),
      details: { tenantId, field, ...extra },
    });

  return {
    currentKid,
    async encrypt(value, tenantId, field) {
      return new CompactEncrypt(encoder.encode(JSON.stringify(value)))
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: currentKid, oin_tid: tenantId, oin_fld: field })
        .encrypt(currentKey);
    },
    async decrypt(jwe, tenantId, field) {
      let header: Record<string, unknown>;
      try {
        header = decodeProtectedHeader(jwe) as Record<string, unknown>;
      } catch (cause) {
        throw refuse('malformed', tenantId, field, {}, cause);
      }
      const kid = header['kid'];
      if (typeof kid !== 'string' || header['alg'] !== 'dir' || header['enc'] !== 'A256GCM') throw refuse('malformed', tenantId, field);
      const key = byKid.get(kid);
      // The kid is configuration, not a secret: naming it tells the operator which key to add back.
      if (key === undefined) throw refuse('unknown-key', tenantId, field, { kid });
      let opened: Awaited<ReturnType<typeof compactDecrypt>>;
      try {
        opened = await compactDecrypt(jwe, key, DECRYPT_OPTIONS);
      } catch (cause) {
        throw refuse('decrypt-failed', tenantId, field, { kid }, cause);
      }
      // Read from the authenticated header (it is the AAD that just verified).
      const bound = opened.protectedHeader as Record<string, unknown>;
      if (bound['oin_tid'] !== tenantId || bound['oin_fld'] !== field) throw refuse('bound-elsewhere', tenantId, field, { kid });
      try {
        return JSON.parse(decoder.decode(opened.plaintext)) as unknown;
      } catch {
        throw refuse('malformed', tenantId, field, { kid });
      }
    },
    kidOf(jwe) {
      try {
        const kid = (decodeProtectedHeader(jwe) as Record<string, unknown>)['kid'];
        return typeof kid === 'string' ? kid : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
