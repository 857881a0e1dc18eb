import { describe, expect, it } from 'vitest';
import { parseEncryptionKeys } from '../src/index';
import { keyText, randomKey } from './helpers';

function refusal(text: string): { code?: string; message: string } {
  try {
    parseEncryptionKeys(text);
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected a refusal');
}

describe('parseEncryptionKeys', () => {
  it('parses kid:base64url entries in order, the first one encrypting', () => {
    const a = randomKey('2026-01');
    const b = randomKey('old.key_1');
    const keys = parseEncryptionKeys(` ${keyText(a)} , ${keyText(b)}\n`);
    expect(keys.map((k) => k.kid)).toEqual(['2026-01', 'old.key_1']);
    expect(Array.from(keys[0]!.key)).toEqual(Array.from(a.key));
    expect(keys[1]!.key.length).toBe(32);
  });

  it('refuses wrong lengths, padding, non-base64url, duplicate and invalid kids, and never echoes key material', () => {
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
    const short = Buffer.from(crypto.getRandomValues(new Uint8Array(31))).toString('base64url');
    const long = Buffer.from(crypto.getRandomValues(new Uint8Array(33))).toString('base64url');
    const cases = [
      '',
      '   ',
      key, // no kid
      `k1:${short}`,
      `k1:${long}`,
      `k1:${key}=`,
      `k1:${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}+/`.replace(/=+$/, ''),
      `k1:${key},k1:${key}`,
      `${key}:${key}`, // swapped: the "kid" is a key
      `bad kid:${key}`,
      `k1:${key},`,
    ];
    for (const text of cases) {
      const error = refusal(text);
      expect(error.code, JSON.stringify(text)).toBe('ERR_OIDC_INVALID_OPTIONS');
      expect(error.message).not.toContain(key);
      expect(error.message).not.toContain(short);
      expect(error.message).not.toContain(long);
      expect(JSON.stringify(error)).not.toContain(key);
    }
  });

  it('refuses a non-canonical last character (the same 32 bytes spelled differently)', () => {
    // 43 characters carry 258 bits: the last character's 2 low bits must be zero.
    const canonical = Buffer.from(new Uint8Array(32)).toString('base64url'); // 'AAAA…A'
    expect(parseEncryptionKeys(`k:${canonical}`)[0]!.key.length).toBe(32);
    expect(refusal(`k:${canonical.slice(0, -1)}B`).code).toBe('ERR_OIDC_INVALID_OPTIONS');
  });
});
