import { describe, expect, it } from 'vitest';
import { CODE_CHALLENGE_METHOD, computeCodeChallenge, randomCodeVerifier } from '../src/authorize/pkce';
import { randomNonce, randomState } from '../src/internal/random';

describe('PKCE (RFC 7636)', () => {
  it('computes the Appendix B S256 vector (AR-03)', async () => {
    expect(await computeCodeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('never produces the negative vectors (padded base64, hex, plain) (AR-03)', async () => {
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    const challenge = await computeCodeChallenge(verifier);
    for (const wrong of ['E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM=', '13d31e961a1ad8ec2f16b10c4c982e0876a878ad6df144566ee1894acb70f9c3', verifier]) {
      expect(challenge).not.toBe(wrong);
    }
    expect(CODE_CHALLENGE_METHOD).toBe('S256');
  });

  it('generates 43-character unreserved verifiers, all distinct (AR-03)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const verifier = randomCodeVerifier();
      expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
      seen.add(verifier);
    }
    expect(seen.size).toBe(1000);
  });

  it('refuses verifiers outside RFC 7636 §4.1', async () => {
    await expect(computeCodeChallenge('short')).rejects.toThrow(TypeError);
    await expect(computeCodeChallenge(`${'a'.repeat(42)}!`)).rejects.toThrow(TypeError);
    await expect(computeCodeChallenge('a'.repeat(129))).rejects.toThrow(TypeError);
  });
});

describe('state and nonce (AR-01, AR-02)', () => {
  it('are 256-bit base64url values, unique across 1,000 draws', () => {
    const values = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const state = randomState();
      const nonce = randomNonce();
      expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
      values.add(state).add(nonce);
    }
    expect(values.size).toBe(2000);
  });
});
