import { base64url, CompactSign, exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OidcError, type OidcErrorCode } from '../src/errors';
import { createTransport } from '../src/http/transport';
import { createJwksRegistry, type JwksRegistry } from '../src/jwks/jwks-registry';
import type { Tenant } from '../src/tenant/tenant';
import { computeTokenHash } from '../src/tokens/at-hash';
import { type IdTokenExpectations, MAX_ID_TOKEN_LENGTH, validateIdToken, type ValidateIdTokenDeps } from '../src/tokens/validate-id-token';
import { nodeSignatureVerifier } from '../src/node/signature-verifier';
import { CLIENT_ID, newSigningKey, startTestProvider, type TestProvider } from './jwks-test-provider';

const NOW_SEC = 1_700_000_000;
const TOLERANCE = 30;
const NONCE = 'n-0S6_WzA2Mj';

let provider: TestProvider;
let tenant: Tenant;
let jwks: JwksRegistry;
let deps: ValidateIdTokenDeps;

beforeAll(async () => {
  provider = await startTestProvider();
});
afterAll(() => provider.close());
beforeEach(() => {
  tenant = provider.tenant();
  jwks = createJwksRegistry(createTransport({ retries: 0 }), { now: () => NOW_SEC * 1000 });
  deps = { jwks, now: () => NOW_SEC * 1000, clockToleranceSec: TOLERANCE };
});

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return provider.claims(NOW_SEC, extra);
}

function without(...names: string[]): Record<string, unknown> {
  const c = claims();
  for (const name of names) delete c[name];
  return c;
}

function b64json(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

async function rejection(idToken: string, expected: Partial<IdTokenExpectations> = {}): Promise<OidcError> {
  try {
    await validateIdToken(deps, tenant, idToken, { nonce: NONCE, ...expected });
  } catch (error) {
    if (!(error instanceof OidcError)) throw error;
    // Messages never carry the token or any part of it (catalogue LG).
    for (const part of idToken.split('.')) if (part.length > 8) expect(error.message).not.toContain(part);
    return error;
  }
  throw new Error('expected the ID token to be rejected');
}

async function expectRejected(idToken: string, code: OidcErrorCode, check?: string, expected: Partial<IdTokenExpectations> = {}) {
  const error = await rejection(idToken, expected);
  expect(error.code).toBe(code);
  if (check !== undefined) expect(error.details?.check).toBe(check);
}

const accept = (idToken: string, expected: Partial<IdTokenExpectations> = {}) =>
  validateIdToken(deps, tenant, idToken, { nonce: NONCE, ...expected });

// Every case runs with core's default (Web Crypto) and with the node:crypto verifier the Node
// adapters inject: the verifier only checks the signature, so every other outcome must be identical.
describe.each([
  ['Web Crypto (core default)', undefined],
  ['node:crypto (@oin-oidc/core/node)', nodeSignatureVerifier],
] as const)('signature verifier: %s', (_name, verifySignature) => {
  beforeEach(() => {
    if (verifySignature) deps = { ...deps, verifySignature };
  });

  describe('ID token: a valid token', () => {
    it('returns the claims', async () => {
      const result = await accept(await provider.sign(claims({ email: 'ada@example.com' })));
      expect(result).toMatchObject({ iss: provider.issuer, sub: '00u1user', aud: CLIENT_ID, nonce: NONCE, email: 'ada@example.com' });
    });

    it('is validated with keys shared by two tenants of the same org (one /keys fetch)', async () => {
      const hits = provider.keysHits();
      const other = provider.tenant({ id: 'acme-2', clientId: '0oa2clientB' });
      await accept(await provider.sign(claims()));
      await validateIdToken(deps, other, await provider.sign(claims({ aud: '0oa2clientB' })), { nonce: NONCE });
      expect(provider.keysHits() - hits).toBe(1);
    });

    it('validates the first token signed after a key rotation with exactly one extra /keys fetch (JK-01)', async () => {
      await accept(await provider.sign(claims()));
      const hits = provider.keysHits();
      const previous = provider.published;
      const rotated = await newSigningKey();
      provider.published = [rotated, ...previous];
      try {
        expect((await accept(await provider.sign(claims(), { key: rotated }))).sub).toBe('00u1user');
        expect(provider.keysHits() - hits).toBe(1);
      } finally {
        provider.published = previous;
      }
    });

    it('reports an unknown kid as ERR_OIDC_JWKS_NO_MATCHING_KEY', async () => {
      const stranger = await newSigningKey();
      await expectRejected(await provider.sign(claims(), { key: stranger }), 'ERR_OIDC_JWKS_NO_MATCHING_KEY');
    });
  });

  describe('ID token: the JWKS refetch budget is spent only on plausible tokens (SA-09)', () => {
    it('never fetches /keys for a token whose unverified iss or aud is not the tenant, cold or warm', async () => {
      const stranger = await newSigningKey();
      const hits = provider.keysHits();
      const foreign = [
        { iss: 'https://other.okta.com' },
        { iss: `${provider.issuer}/` },
        { aud: 'someone-else' },
        { aud: ['someone-else', 'another'] },
        { iss: undefined },
        { aud: undefined },
      ];
      for (const channel of ['front', 'back'] as const) {
        for (const extra of foreign) {
          const token = await provider.sign(claims(extra), { key: stranger });
          const error = await rejection(token, { channel });
          expect(error.code).toBe('ERR_OIDC_ID_TOKEN_INVALID');
          expect(['iss', 'aud']).toContain(error.details?.check);
        }
        // A payload that does not even decode: no fetch either.
        const [h, , sig] = (await provider.sign(claims(), { key: stranger })).split('.') as [string, string, string];
        expect((await rejection(`${h}.bm90LWpzb24.${sig}`, { channel })).details?.check).toBe('format');
      }
      expect(provider.keysHits() - hits).toBe(0); // cold: not even the first fetch
      await accept(await provider.sign(claims())); // warm the cache
      for (let i = 0; i < 10; i += 1) {
        await rejection(await provider.sign(claims({ aud: 'someone-else' }), { key: stranger }), { channel: 'front' });
      }
      expect(provider.keysHits() - hits).toBe(1);
    });

    it('keeps separate budgets: forged front-channel tokens do not stop a back-channel token after a rotation', async () => {
      await accept(await provider.sign(claims()));
      const hits = provider.keysHits();
      // Plausible forgeries (public iss and aud, random kid) posted by a browser: the front budget (3) is spent.
      const stranger = await newSigningKey();
      for (let i = 0; i < 20; i += 1) {
        const forged = await provider.sign(claims({ nonce: undefined }), { key: stranger, header: { kid: `forged-${i}` } });
        expect((await rejection(forged, { nonce: undefined, allowNoNonce: true, channel: 'front' })).code).toBe('ERR_OIDC_JWKS_NO_MATCHING_KEY');
      }
      expect(provider.keysHits() - hits).toBe(3);
      const previous = provider.published;
      const rotated = await newSigningKey();
      provider.published = [rotated, ...previous];
      try {
        // The first code-flow token signed with the new key validates on first use (default channel: back).
        expect((await accept(await provider.sign(claims(), { key: rotated }))).sub).toBe('00u1user');
        expect(provider.keysHits() - hits).toBe(4);
      } finally {
        provider.published = previous;
      }
    });
  });

  describe('ID token: signature and algorithm (IT-01..04, JK-07, JK-08)', () => {
    it('rejects a flipped signature byte and a re-written payload (IT-01)', async () => {
      const token = await provider.sign(claims());
      const [h, p, s] = token.split('.') as [string, string, string];
      const sig = base64url.decode(s);
      sig[10] = sig[10]! ^ 0x01;
      await expectRejected(`${h}.${p}.${base64url.encode(sig)}`, 'ERR_OIDC_ID_TOKEN_INVALID', 'signature');
      await expectRejected(`${h}.${b64json(claims({ sub: 'admin' }))}.${s}`, 'ERR_OIDC_ID_TOKEN_INVALID', 'signature');
    });

    it.each(['none', 'None', 'NONE', 'nOnE'])('rejects alg %s without fetching keys (IT-02)', async (alg) => {
      const hits = provider.keysHits();
      const unsigned = `${b64json({ alg, kid: provider.published[0]!.kid })}.${b64json(claims())}`;
      await expectRejected(`${unsigned}.`, 'ERR_OIDC_ID_TOKEN_INVALID', 'format');
      await expectRejected(`${unsigned}.c2ln`, 'ERR_OIDC_ID_TOKEN_INVALID', 'alg');
      expect(provider.keysHits()).toBe(hits);
    });

    it('rejects HS256 signed with the RSA public key as the secret (IT-03)', async () => {
      const publicKey = await importJWK(provider.published[0]!.publicJwk, 'RS256');
      const pem = await exportSPKI(publicKey as CryptoKey);
      const secrets = [pem, `\n${pem}`, ` ${pem}`, provider.published[0]!.publicJwk.n!];
      for (const secret of secrets) {
        const token = await new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS256', kid: provider.published[0]!.kid })
          .sign(new TextEncoder().encode(secret));
        await expectRejected(token, 'ERR_OIDC_ID_TOKEN_INVALID', 'alg');
      }
    });

    it.each(['RS384', 'RS512', 'PS256'])('rejects %s signed with a key that is in the JWKS (IT-04)', async (alg) => {
      const key = provider.published[0]!;
      const privateKey = await importJWK(await exportJWK(key.privateKey), alg);
      const token = await new SignJWT(claims()).setProtectedHeader({ alg, kid: key.kid }).sign(privateKey);
      await expectRejected(token, 'ERR_OIDC_ID_TOKEN_INVALID', 'alg');
    });

    it('rejects ES256 (IT-04)', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid: provider.published[0]!.kid }).sign(privateKey);
      await expectRejected(token, 'ERR_OIDC_ID_TOKEN_INVALID', 'alg');
    });

    it('ignores jwk / jku / x5u headers: the key comes only from the issuer JWKS (JK-08)', async () => {
      const attacker = await newSigningKey();
      const token = await provider.sign(claims(), {
        key: attacker,
        header: { kid: provider.published[0]!.kid, jwk: attacker.publicJwk, jku: 'https://evil.example/keys', x5u: 'https://evil.example/cert' },
      });
      await expectRejected(token, 'ERR_OIDC_ID_TOKEN_INVALID', 'signature');
    });

    it.each(["../../etc/passwd", "' OR 1=1"])('treats kid %j only as a lookup key (JK-08)', async (kid) => {
      await expectRejected(await provider.sign(claims(), { header: { kid } }), 'ERR_OIDC_JWKS_NO_MATCHING_KEY');
    });

    it('refuses a crit header', async () => {
      // jose refuses to produce an unknown crit, so this one is signed with Web Crypto directly.
      const input = `${b64json({ alg: 'RS256', kid: provider.published[0]!.kid, crit: ['urn:example:x'], 'urn:example:x': 1 })}.${b64json(claims())}`;
      const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', provider.published[0]!.privateKey, new TextEncoder().encode(input));
      await expectRejected(`${input}.${base64url.encode(new Uint8Array(signature))}`, 'ERR_OIDC_ID_TOKEN_INVALID', 'crit');
      const b64 = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims())))
        .setProtectedHeader({ alg: 'RS256', kid: provider.published[0]!.kid, b64: true, crit: ['b64'] })
        .sign(provider.published[0]!.privateKey);
      await expectRejected(b64, 'ERR_OIDC_ID_TOKEN_INVALID', 'crit');
    });
  });

  describe('ID token: kid absent (IT-15)', () => {
    it('accepts a token without kid when the JWKS holds one key, refuses when it holds several', async () => {
      const single = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256' }).sign(provider.published[0]!.privateKey);
      expect((await accept(single)).sub).toBe('00u1user');
      const previous = provider.published;
      provider.published = [...previous, await newSigningKey()];
      try {
        jwks = createJwksRegistry(createTransport(), { now: () => NOW_SEC * 1000 });
        deps = { ...deps, jwks };
        await expectRejected(single, 'ERR_OIDC_ID_TOKEN_INVALID', 'kid');
      } finally {
        provider.published = previous;
      }
    });
  });

  describe('ID token: claims (IT-05..13, IT-21)', () => {
    it.each(['https://evil.okta.com', `${'PROVIDER'}/`, 'http://acme.okta.com', 'UPPER', 'PROVIDER/oauth2/default'])(
      'rejects iss %s (IT-05)',
      async (template) => {
        const iss = template.replace('PROVIDER', provider.issuer).replace('UPPER', provider.issuer.toUpperCase());
        await expectRejected(await provider.sign(claims({ iss })), 'ERR_OIDC_ID_TOKEN_INVALID', 'iss');
      },
    );

    it('rejects a missing or non-string iss (IT-06)', async () => {
      await expectRejected(await provider.sign(without('iss')), 'ERR_OIDC_ID_TOKEN_INVALID', 'iss');
      await expectRejected(await provider.sign(claims({ iss: 42 })), 'ERR_OIDC_ID_TOKEN_INVALID', 'iss');
    });

    it('rejects a wrong or missing aud (IT-07)', async () => {
      await expectRejected(await provider.sign(claims({ aud: 'someone-else' })), 'ERR_OIDC_ID_TOKEN_INVALID', 'aud');
      await expectRejected(await provider.sign(without('aud')), 'ERR_OIDC_ID_TOKEN_INVALID', 'aud');
      await expectRejected(await provider.sign(claims({ aud: [] })), 'ERR_OIDC_ID_TOKEN_INVALID', 'aud');
    });

    it('handles aud arrays: [client] accepted, extra audiences need azp = client (IT-08)', async () => {
      expect((await accept(await provider.sign(claims({ aud: [CLIENT_ID] })))).aud).toEqual([CLIENT_ID]);
      await expectRejected(await provider.sign(claims({ aud: [CLIENT_ID, 'other-client'] })), 'ERR_OIDC_ID_TOKEN_INVALID', 'azp');
      expect((await accept(await provider.sign(claims({ aud: [CLIENT_ID, 'other-client'], azp: CLIENT_ID })))).azp).toBe(CLIENT_ID);
      await expectRejected(await provider.sign(claims({ aud: [CLIENT_ID, 7] })), 'ERR_OIDC_ID_TOKEN_INVALID', 'aud');
    });

    it('rejects azp that is not the client id (IT-09)', async () => {
      await expectRejected(await provider.sign(claims({ azp: 'other-client' })), 'ERR_OIDC_ID_TOKEN_INVALID', 'azp');
    });

    it('applies exp with the clock tolerance at the exact boundary (IT-10, HF-09)', async () => {
      const expired = await rejection(await provider.sign(claims({ exp: NOW_SEC - TOLERANCE - 1 })));
      expect(expired.code).toBe('ERR_OIDC_ID_TOKEN_EXPIRED');
      await expectRejected(await provider.sign(claims({ exp: NOW_SEC - TOLERANCE })), 'ERR_OIDC_ID_TOKEN_EXPIRED', 'exp');
      expect((await accept(await provider.sign(claims({ exp: NOW_SEC - TOLERANCE + 1 })))).sub).toBe('00u1user');
      expect((await accept(await provider.sign(claims({ exp: NOW_SEC + 1 })))).sub).toBe('00u1user');
      await expectRejected(await provider.sign(without('exp')), 'ERR_OIDC_ID_TOKEN_INVALID', 'exp');
      await expectRejected(await provider.sign(claims({ exp: '9999999999' })), 'ERR_OIDC_ID_TOKEN_INVALID', 'exp');
    });

    it('requires iat, not in the future beyond the tolerance and not a week old (IT-11)', async () => {
      await expectRejected(await provider.sign(without('iat')), 'ERR_OIDC_ID_TOKEN_INVALID', 'iat');
      await expectRejected(await provider.sign(claims({ iat: NOW_SEC + TOLERANCE + 1 })), 'ERR_OIDC_ID_TOKEN_INVALID', 'iat');
      expect((await accept(await provider.sign(claims({ iat: NOW_SEC + TOLERANCE })))).sub).toBe('00u1user');
      await expectRejected(await provider.sign(claims({ iat: NOW_SEC - 7 * 86_400 })), 'ERR_OIDC_ID_TOKEN_EXPIRED', 'iat');
      await expectRejected(await provider.sign(claims({ iat: 'yesterday' })), 'ERR_OIDC_ID_TOKEN_INVALID', 'iat');
    });

    it('applies nbf with the clock tolerance (HF-09)', async () => {
      await expectRejected(await provider.sign(claims({ nbf: NOW_SEC + TOLERANCE + 1 })), 'ERR_OIDC_ID_TOKEN_INVALID', 'nbf');
      expect((await accept(await provider.sign(claims({ nbf: NOW_SEC + TOLERANCE })))).sub).toBe('00u1user');
    });

    it('requires sub as a string of 1..255 characters (IT-12)', async () => {
      await expectRejected(await provider.sign(without('sub')), 'ERR_OIDC_ID_TOKEN_INVALID', 'sub');
      await expectRejected(await provider.sign(claims({ sub: '' })), 'ERR_OIDC_ID_TOKEN_INVALID', 'sub');
      await expectRejected(await provider.sign(claims({ sub: 12345 })), 'ERR_OIDC_ID_TOKEN_INVALID', 'sub');
      await expectRejected(await provider.sign(claims({ sub: 'x'.repeat(256) })), 'ERR_OIDC_ID_TOKEN_INVALID', 'sub');
      expect((await accept(await provider.sign(claims({ sub: 'x'.repeat(255) })))).sub).toHaveLength(255);
    });

    it('requires the transaction nonce (IT-13)', async () => {
      await expectRejected(await provider.sign(claims({ nonce: 'other' })), 'ERR_OIDC_NONCE_MISMATCH', 'nonce');
      await expectRejected(await provider.sign(without('nonce')), 'ERR_OIDC_NONCE_MISMATCH', 'nonce');
    });

    it('refuses to validate without an expected nonce unless allowNoNonce (simplified flow)', async () => {
      const hits = provider.keysHits();
      const token = await provider.sign(without('nonce'));
      await expectRejected(token, 'ERR_OIDC_NONCE_MISMATCH', 'nonce', { nonce: undefined });
      expect(provider.keysHits()).toBe(hits);
      expect((await accept(token, { nonce: undefined, allowNoNonce: true })).nonce).toBeUndefined();
    });

    it('requires a recent auth_time when max_age was requested (IT-21)', async () => {
      await expectRejected(await provider.sign(claims()), 'ERR_OIDC_ID_TOKEN_INVALID', 'auth_time', { maxAge: 300 });
      await expectRejected(await provider.sign(claims({ auth_time: NOW_SEC - 300 - TOLERANCE - 1 })), 'ERR_OIDC_ID_TOKEN_INVALID', 'auth_time', { maxAge: 300 });
      expect((await accept(await provider.sign(claims({ auth_time: NOW_SEC - 300 - TOLERANCE })), { maxAge: 300 })).auth_time).toBe(NOW_SEC - 330);
      await expectRejected(await provider.sign(claims({ auth_time: 'recently' })), 'ERR_OIDC_ID_TOKEN_INVALID', 'auth_time');
    });
  });

  describe('ID token: at_hash (OIDC Core §3.1.3.8, catalogue §2.2, IT-14)', () => {
    const ACCESS_TOKEN = 'jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y';

    it('computes the Core Appendix A.3 vector and the SHA-384/512 vectors', async () => {
      expect(await computeTokenHash(ACCESS_TOKEN, 'RS256')).toBe('77QmUPtjPfzWtF2AnpK9RQ');
      expect(await computeTokenHash(ACCESS_TOKEN, 'RS384')).toBe('jtAeDp945y1dDqU3nkIVGNZP1HjH_MFs');
      expect(await computeTokenHash(ACCESS_TOKEN, 'RS512')).toBe('q7nS86GgvvFaZkzALLWqJYaJIKw2wCDAVfCAsm5CrBM');
      expect(await computeTokenHash('Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk', 'RS256')).toBe('LDktKdoQak3Pk0cnXxCltA');
    });

    it('accepts the matching at_hash and rejects the untruncated one', async () => {
      expect((await accept(await provider.sign(claims({ at_hash: '77QmUPtjPfzWtF2AnpK9RQ' })), { accessToken: ACCESS_TOKEN })).at_hash).toBe(
        '77QmUPtjPfzWtF2AnpK9RQ',
      );
      await expectRejected(
        await provider.sign(claims({ at_hash: '77QmUPtjPfzWtF2AnpK9RWpXrWlrecdbLUyJDIb7S6Q' })),
        'ERR_OIDC_ID_TOKEN_INVALID',
        'at_hash',
        { accessToken: ACCESS_TOKEN },
      );
      await expectRejected(await provider.sign(claims({ at_hash: '77QmUPtjPfzWtF2AnpK9RQ' })), 'ERR_OIDC_ID_TOKEN_INVALID', 'at_hash', {
        accessToken: `${ACCESS_TOKEN}x`,
      });
    });

    it('accepts a code-flow token without at_hash (the claim is optional there)', async () => {
      expect((await accept(await provider.sign(claims()), { accessToken: ACCESS_TOKEN })).at_hash).toBeUndefined();
    });
  });

  describe('ID token: structure and size (IT-16, IT-19, DS-01, DS-03)', () => {
    it('refuses a token over 16 KiB before any parsing or key fetch', async () => {
      const hits = provider.keysHits();
      const huge = await provider.sign(claims({ padding: 'x'.repeat(MAX_ID_TOKEN_LENGTH) }));
      await expectRejected(huge, 'ERR_OIDC_ID_TOKEN_INVALID', 'size');
      expect(provider.keysHits()).toBe(hits);
    });

    it('refuses a JWE (PBES2 p2c bomb) without processing it (DS-03)', async () => {
      const header = b64json({ alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', p2c: 2147483647, p2s: 'c2FsdA', zip: 'DEF' });
      await expectRejected(`${header}.a2V5.aXY.Y2lwaGVy.dGFn`, 'ERR_OIDC_ID_TOKEN_INVALID', 'format');
    });

    it.each([
      ['two segments', (t: string) => t.split('.').slice(0, 2).join('.')],
      ['four segments', (t: string) => `${t}.eHl6`],
      ['non-base64url characters', (t: string) => t.replace('.', '+.')],
      ['an empty signature', (t: string) => `${t.split('.').slice(0, 2).join('.')}.`],
      ['an empty string', () => ''],
    ])('refuses %s as ERR_OIDC_ID_TOKEN_INVALID', async (_label, mutate) => {
      await expectRejected(mutate(await provider.sign(claims())), 'ERR_OIDC_ID_TOKEN_INVALID', 'format');
    });

    it('refuses a header that is a JSON array or not JSON', async () => {
      const [, p, s] = (await provider.sign(claims())).split('.') as [string, string, string];
      await expectRejected(`${b64json([{ alg: 'RS256' }])}.${p}.${s}`, 'ERR_OIDC_ID_TOKEN_INVALID', 'header');
      await expectRejected(`${base64url.encode('not json')}.${p}.${s}`, 'ERR_OIDC_ID_TOKEN_INVALID', 'header');
    });

    it('refuses a correctly signed payload that is not a JSON object', async () => {
      for (const payload of ['not json', '[1,2]', '"string"']) {
        const token = await new CompactSign(new TextEncoder().encode(payload))
          .setProtectedHeader({ alg: 'RS256', kid: provider.published[0]!.kid })
          .sign(provider.published[0]!.privateKey);
        await expectRejected(token, 'ERR_OIDC_ID_TOKEN_INVALID', 'format');
      }
    });

    it.each(['dpop+jwt', 'logout+jwt', 'at+jwt', 'application/at+jwt'])('refuses a foreign explicitly-typed JWT (typ %s, IT-19)', async (typ) => {
      await expectRejected(await provider.sign(claims(), { header: { typ } }), 'ERR_OIDC_ID_TOKEN_INVALID', 'typ');
    });

    it.each(['JWT', 'application/jwt', 'jwt'])('accepts typ %s', async (typ) => {
      expect((await accept(await provider.sign(claims(), { header: { typ } }))).sub).toBe('00u1user');
    });
  });
});
