import { describe, expect, it } from 'vitest';
import { createSealer, MAX_SEALED_LENGTH } from '../src/crypto/seal';
import { isOidcError, type OidcErrorCode } from '../src/errors';

const SECRET_A = 'a'.repeat(16) + 'secret-A-0123456789';
const SECRET_B = 'b'.repeat(16) + 'secret-B-0123456789';

async function codeOf(promise: Promise<unknown>): Promise<OidcErrorCode | 'no error'> {
  try {
    await promise;
    return 'no error';
  } catch (error) {
    if (isOidcError(error)) return error.code;
    throw error;
  }
}

function flip(sealed: string, index: number): string {
  const c = sealed[index] === 'A' ? 'B' : 'A';
  return sealed.slice(0, index) + c + sealed.slice(index + 1);
}

describe('createSealer', () => {
  it('round-trips a payload and keeps its own exp/iat members intact', async () => {
    const sealer = createSealer([SECRET_A]);
    const sealed = await sealer.seal({ state: 's', exp: 'mine', nested: { a: [1, 2] } }, 'transaction', 60);
    expect(sealed.split('.')).toHaveLength(5);
    expect(sealed).not.toContain('state');
    expect(await sealer.unseal(sealed, 'transaction')).toEqual({ state: 's', exp: 'mine', nested: { a: [1, 2] } });
  });

  it('puts a kid derived from the key, not the secret, in the header', async () => {
    const sealed = await createSealer([SECRET_A]).seal({}, 'transaction', 60);
    const header = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(sealed.split('.')[0]!.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))));
    expect(header).toMatchObject({ alg: 'dir', enc: 'A256GCM' });
    expect(header.kid).toMatch(/^[A-Za-z0-9_-]{11}$/);
    expect(JSON.stringify(header)).not.toContain('secret');
    const other = await createSealer([SECRET_A]).seal({}, 'session', 60);
    expect(other.split('.')[0]).not.toBe(sealed.split('.')[0]);
  });

  it('rotates: the first secret seals, all secrets unseal', async () => {
    const old = createSealer([SECRET_A]);
    const rotated = createSealer([SECRET_B, SECRET_A]);
    const sealedByOld = await old.seal({ v: 1 }, 'transaction', 60);
    expect(await rotated.unseal(sealedByOld, 'transaction')).toEqual({ v: 1 });
    const sealedByNew = await rotated.seal({ v: 2 }, 'transaction', 60);
    expect(await codeOf(old.unseal(sealedByNew, 'transaction'))).toBe('ERR_OIDC_TRANSACTION_INVALID');
    expect(await createSealer([SECRET_B]).unseal(sealedByNew, 'transaction')).toEqual({ v: 2 });
  });

  it('refuses a value sealed for another purpose', async () => {
    const sealer = createSealer([SECRET_A]);
    const sealed = await sealer.seal({ v: 1 }, 'transaction', 60);
    expect(await codeOf(sealer.unseal(sealed, 'session'))).toBe('ERR_OIDC_TRANSACTION_INVALID');
  });

  it('refuses tampering in every part', async () => {
    const sealer = createSealer([SECRET_A]);
    const sealed = await sealer.seal({ v: 1 }, 'transaction', 60);
    const parts = sealed.split('.');
    let offset = 0;
    for (const part of parts) {
      if (part.length > 0) expect(await codeOf(sealer.unseal(flip(sealed, offset + Math.floor(part.length / 2)), 'transaction'))).toBe('ERR_OIDC_TRANSACTION_INVALID');
      offset += part.length + 1;
    }
  });

  it('enforces expiry with the injected clock', async () => {
    let now = 1_700_000_000_000;
    const sealer = createSealer([SECRET_A], { now: () => now });
    const sealed = await sealer.seal({ v: 1 }, 'transaction', 60);
    now += 59_000;
    expect(await sealer.unseal(sealed, 'transaction')).toEqual({ v: 1 });
    now += 2_000;
    expect(await codeOf(sealer.unseal(sealed, 'transaction'))).toBe('ERR_OIDC_TRANSACTION_EXPIRED');
  });

  it('maps codes per sealer (sessions)', async () => {
    let now = 1_700_000_000_000;
    const sealer = createSealer([SECRET_A], { now: () => now, invalidCode: 'ERR_OIDC_SESSION_INVALID', expiredCode: 'ERR_OIDC_SESSION_EXPIRED' });
    expect(await codeOf(sealer.unseal('garbage', 'session'))).toBe('ERR_OIDC_SESSION_INVALID');
    const sealed = await sealer.seal({}, 'session', 1);
    now += 5_000;
    expect(await codeOf(sealer.unseal(sealed, 'session'))).toBe('ERR_OIDC_SESSION_EXPIRED');
    // A sealer without codes keeps the transaction defaults for the same value.
    const plain = createSealer([SECRET_A], { now: () => now });
    expect(await codeOf(plain.unseal(sealed, 'session'))).toBe('ERR_OIDC_TRANSACTION_EXPIRED');
  });

  it('refuses garbage, empty, oversized and non-dir JWE inputs', async () => {
    const sealer = createSealer([SECRET_A]);
    for (const input of ['', 'garbage', 'a.b.c.d.e', '....', 'x'.repeat(MAX_SEALED_LENGTH + 1), 'eyJhbGciOiJub25lIn0.e30.']) {
      expect(await codeOf(sealer.unseal(input, 'transaction'))).toBe('ERR_OIDC_TRANSACTION_INVALID');
    }
    expect(await codeOf(sealer.unseal(undefined as unknown as string, 'transaction'))).toBe('ERR_OIDC_TRANSACTION_INVALID');
  });

  it('refuses to seal more than the size cap', async () => {
    const sealer = createSealer([SECRET_A]);
    expect(await codeOf(sealer.seal({ big: 'x'.repeat(MAX_SEALED_LENGTH) }, 'transaction', 60))).toBe('ERR_OIDC_PAYLOAD_TOO_LARGE');
  });

  it('validates secrets at creation', () => {
    for (const secrets of [[], ['short'], [SECRET_A, 'short'], 'not-an-array']) {
      try {
        createSealer(secrets as string[]);
        expect.unreachable();
      } catch (error) {
        expect(isOidcError(error) && error.code).toBe('ERR_OIDC_INVALID_OPTIONS');
        expect(String((error as Error).message)).not.toContain('short');
      }
    }
  });

  it('produces a different ciphertext each time (random IV)', async () => {
    const sealer = createSealer([SECRET_A]);
    expect(await sealer.seal({ v: 1 }, 'transaction', 60)).not.toBe(await sealer.seal({ v: 1 }, 'transaction', 60));
  });
});
