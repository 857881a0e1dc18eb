/**
 * The injectable signature verifier (`verifySignature`): its contract with validateIdToken, the
 * client option, and the node:crypto verifier of `@oin-oidc/core/node`. Tokens are signed by the
 * test provider and keys come from its /keys endpoint over HTTP, as in id-token.test.ts.
 */
import { base64url, generateKeyPair, importJWK } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOidcClient } from '../src/client';
import { OidcError } from '../src/errors';
import { createTransport } from '../src/http/transport';
import { createJwksRegistry } from '../src/jwks/jwks-registry';
import { nodeSignatureVerifier, withNodeSignatureVerifier } from '../src/node/signature-verifier';
import { resolveOptions } from '../src/options';
import { createMemoryCredentialStore } from '../src/tenant/credential-store';
import type { Tenant } from '../src/tenant/tenant';
import { type SignatureVerifier, webCryptoVerifier } from '../src/tokens/signature-verifier';
import { validateIdToken, type ValidateIdTokenDeps } from '../src/tokens/validate-id-token';
import { newSigningKey, startTestProvider, type TestProvider } from './jwks-test-provider';

const NOW_SEC = 1_700_000_000;
const NONCE = 'n-0S6_WzA2Mj'; // the nonce in provider.claims()

let provider: TestProvider;
let tenant: Tenant;

beforeAll(async () => {
  provider = await startTestProvider();
});
afterAll(() => provider.close());
beforeEach(() => {
  tenant = provider.tenant();
});

function depsWith(verifySignature: SignatureVerifier | undefined): ValidateIdTokenDeps {
  const jwks = createJwksRegistry(createTransport({ retries: 0 }), { now: () => NOW_SEC * 1000 });
  return { jwks, now: () => NOW_SEC * 1000, clockToleranceSec: 30, ...(verifySignature ? { verifySignature } : {}) };
}

async function outcome(verifySignature: SignatureVerifier | undefined, token: string): Promise<string> {
  try {
    await validateIdToken(depsWith(verifySignature), tenant, token, { nonce: NONCE });
    return 'accepted';
  } catch (error) {
    if (!(error instanceof OidcError)) throw error;
    return `${error.code}:${String(error.details?.check)}`;
  }
}

const validToken = () => provider.sign(provider.claims(NOW_SEC));

/** The token with one bit of its signature flipped (a well-formed but wrong signature). */
function withFlippedSignature(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const signature = base64url.decode(s);
  signature[10] = signature[10]! ^ 1;
  return `${h}.${p}.${base64url.encode(signature)}`;
}

describe('validateIdToken with an injected verifier', () => {
  it('hands the verifier RS256, the issuer key, the signature and the signing input, as copies', async () => {
    const token = await validToken();
    const seen: Array<{ alg: string; key: CryptoKey; signature: Uint8Array; signingInput: Uint8Array }> = [];
    const recording: SignatureVerifier = (alg, key, signature, signingInput) => {
      seen.push({ alg, key, signature, signingInput });
      return webCryptoVerifier(alg, key, signature, signingInput);
    };
    expect(await outcome(recording, token)).toBe('accepted');
    expect(await outcome(recording, await validToken())).toBe('accepted');
    const [h, p, s] = token.split('.') as [string, string, string];
    expect(seen[0]!.alg).toBe('RS256');
    expect(seen[0]!.key.type).toBe('public');
    expect(new TextDecoder().decode(seen[0]!.signingInput)).toBe(`${h}.${p}`);
    expect(base64url.encode(seen[0]!.signature)).toBe(s);
    // Kept bytes stay the verifier's own: the second call did not overwrite the first's input.
    expect(seen[0]!.signingInput).not.toBe(seen[1]!.signingInput);
    expect(new TextDecoder().decode(seen[0]!.signingInput)).toBe(`${h}.${p}`);
  });

  it('accepts only an answer of exactly true, synchronous or resolved', async () => {
    const token = await validToken();
    const answers: Array<[string, SignatureVerifier, string]> = [
      ['true', () => true, 'accepted'],
      ['a promise of true', async () => true, 'accepted'],
      ['false', () => false, 'ERR_OIDC_ID_TOKEN_INVALID:signature'],
      ['a promise of false', async () => false, 'ERR_OIDC_ID_TOKEN_INVALID:signature'],
      ['a truthy non-boolean', () => 1 as unknown as boolean, 'ERR_OIDC_ID_TOKEN_INVALID:signature'],
      ['undefined', () => undefined as unknown as boolean, 'ERR_OIDC_ID_TOKEN_INVALID:signature'],
      ['a throw', () => { throw new Error('boom'); }, 'ERR_OIDC_ID_TOKEN_INVALID:signature'],
      ['a rejection', () => Promise.reject(new Error('boom')), 'ERR_OIDC_ID_TOKEN_INVALID:signature'],
    ];
    for (const [name, verifier, expected] of answers) {
      expect([name, await outcome(verifier, token)]).toEqual([name, expected]);
    }
  });

  it('never lets a verifier that accepts everything bypass the other checks', async () => {
    const yes: SignatureVerifier = () => true;
    let calls = 0;
    const counting: SignatureVerifier = () => {
      calls++;
      return true;
    };
    // Claims are still checked after the signature.
    expect(await outcome(yes, await provider.sign(provider.claims(NOW_SEC, { iss: 'https://evil.example' })))).toBe('ERR_OIDC_ID_TOKEN_INVALID:iss');
    expect(await outcome(yes, await provider.sign(provider.claims(NOW_SEC, { aud: 'someone-else' })))).toBe('ERR_OIDC_ID_TOKEN_INVALID:aud');
    expect(await outcome(yes, await provider.sign(provider.claims(NOW_SEC, { exp: NOW_SEC - 3600 })))).toBe('ERR_OIDC_ID_TOKEN_EXPIRED:exp');
    expect(await outcome(yes, await provider.sign(provider.claims(NOW_SEC, { nonce: 'other' })))).toBe('ERR_OIDC_NONCE_MISMATCH:nonce');
    // Header, structure and key selection come before it: such tokens never reach the verifier.
    const [, p, s] = (await validToken()).split('.') as [string, string, string];
    const hs256 = `${base64url.encode(JSON.stringify({ alg: 'HS256', kid: provider.published[0]!.kid }))}.${p}.${s}`;
    expect(await outcome(counting, hs256)).toBe('ERR_OIDC_ID_TOKEN_INVALID:alg');
    expect(await outcome(counting, `${p}.${s}`)).toBe('ERR_OIDC_ID_TOKEN_INVALID:format');
    const unknownKid = await provider.sign(provider.claims(NOW_SEC), { key: await newSigningKey() });
    expect(await outcome(counting, unknownKid)).toMatch(/^ERR_OIDC_JWKS_NO_MATCHING_KEY/);
    expect(calls).toBe(0);
  });
});

describe('nodeSignatureVerifier (@oin-oidc/core/node)', () => {
  it('accepts what Web Crypto accepts and refuses what it refuses', async () => {
    const token = await validToken();
    const [h, p] = token.split('.') as [string, string, string];
    const otherPayload = base64url.encode(JSON.stringify(provider.claims(NOW_SEC, { sub: '00u2attacker' })));
    const cases: Array<[string, string, string]> = [
      ['valid', token, 'accepted'],
      ['flipped signature bit', withFlippedSignature(token), 'ERR_OIDC_ID_TOKEN_INVALID:signature'],
      ['swapped payload', `${h}.${otherPayload}.${token.split('.')[2]}`, 'ERR_OIDC_ID_TOKEN_INVALID:signature'],
      ['short signature', `${h}.${p}.${base64url.encode(new Uint8Array(16))}`, 'ERR_OIDC_ID_TOKEN_INVALID:signature'],
    ];
    for (const [name, candidate, expected] of cases) {
      const web = await outcome(undefined, candidate);
      const node = await outcome(nodeSignatureVerifier, candidate);
      expect([name, node, web]).toEqual([name, expected, expected]);
    }
  });

  it('refuses a token signed by another key published under the same kid', async () => {
    const impostor = await newSigningKey();
    const real = provider.published[0]!;
    const token = await provider.sign(provider.claims(NOW_SEC), { key: { ...impostor, kid: real.kid } });
    expect(await outcome(nodeSignatureVerifier, token)).toBe('ERR_OIDC_ID_TOKEN_INVALID:signature');
  });

  it('answers synchronously, and false for an algorithm it does not know', async () => {
    const { publicKey } = await generateKeyPair('RS256');
    const answer = nodeSignatureVerifier('PS256' as 'RS256', publicKey, new Uint8Array(256), new Uint8Array(8));
    expect(answer).toBe(false);
    const key = (await importJWK(provider.published[0]!.publicJwk, 'RS256')) as CryptoKey;
    expect(nodeSignatureVerifier('RS256', key, new Uint8Array(256), new Uint8Array(8))).toBe(false);
  });
});

describe('withNodeSignatureVerifier', () => {
  it("sets client.verifySignature, keeping the caller's other client options and never mutating them", () => {
    const now = () => 0;
    const options = { store: 'x', client: { now } };
    const result = withNodeSignatureVerifier(options);
    expect(result).toEqual({ store: 'x', client: { now, verifySignature: nodeSignatureVerifier } });
    expect(options).toEqual({ store: 'x', client: { now } });
    expect(withNodeSignatureVerifier({ store: 'x' })).toEqual({ store: 'x', client: { verifySignature: nodeSignatureVerifier } });
  });

  it("keeps the caller's own verifier", () => {
    const own: SignatureVerifier = () => false;
    const options = { client: { verifySignature: own } };
    expect(withNodeSignatureVerifier(options)).toBe(options);
  });

  it('passes anything that is not options through, for core to report', () => {
    for (const value of [undefined, null, 42, 'options', { client: 'nope' }, { client: null }]) {
      expect(withNodeSignatureVerifier(value)).toBe(value);
    }
  });
});

describe('the verifySignature client option', () => {
  it('must be a function (ERR_OIDC_INVALID_OPTIONS names it)', () => {
    const store = createMemoryCredentialStore([]);
    expect(() => resolveOptions({ store, verifySignature: 'node' })).toThrow(
      expect.objectContaining({ code: 'ERR_OIDC_INVALID_OPTIONS', details: expect.objectContaining({ field: 'verifySignature' }) }),
    );
    expect(resolveOptions({ store, verifySignature: nodeSignatureVerifier }).verifySignature).toBe(nodeSignatureVerifier);
    expect(resolveOptions({ store }).verifySignature).toBeUndefined();
  });

  it("is the one createOidcClient's validateIdToken uses", async () => {
    const record = { id: 'acme', issuer: provider.issuer, clientId: tenant.clientId, clientSecret: 'a-client-secret-of-sufficient-length-0123', redirectUris: ['http://127.0.0.1/cb'] };
    let calls = 0;
    const client = createOidcClient({
      store: createMemoryCredentialStore([record]),
      allowLoopbackIssuers: true,
      now: () => NOW_SEC * 1000,
      verifySignature: (...args) => {
        calls++;
        return nodeSignatureVerifier(...args);
      },
    });
    const claims = await client.validateIdToken(await client.getTenant('acme'), await validToken(), { nonce: NONCE });
    expect(claims.sub).toBe('00u1user');
    expect(calls).toBe(1);
    await expect(client.validateIdToken(await client.getTenant('acme'), withFlippedSignature(await validToken()), { nonce: NONCE })).rejects.toMatchObject({
      code: 'ERR_OIDC_ID_TOKEN_INVALID',
    });
    expect(calls).toBe(2);
  });
});
