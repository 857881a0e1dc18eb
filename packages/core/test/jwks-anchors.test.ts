/**
 * JWKS and key selection against the OpenID-certified anchors: oauth4webapi
 * (getPublicSigKeyFromIssuerJwksUri, processJwksResponse in src/index.ts) and the OpenID
 * conformance suite's checks on an OP's JWKS (ValidateServerJWKs, CheckDistinctKeyIdValueInServerJWKs,
 * EnsureServerJwksDoesNotContainPrivateOrSymmetricKeys). Wherever an anchor refuses, core refuses
 * with a typed OidcError and no key, and a full sign-in against the Okta emulator creates no
 * session. docs/security.md, "JWKS, discovery and introspection against the certified anchors",
 * lists each rule with its source and test.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importPKCS8, type JWK } from 'jose';
import type { HostileArtefact } from '@oin-oidc/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OidcError } from '../src/errors';
import { discover } from '../src/discovery/discover';
import { createTransport } from '../src/http/transport';
import { createJwksRegistry, type JwksEvent } from '../src/jwks/jwks-registry';
import { validateIdToken } from '../src/tokens/validate-id-token';
import { Browser, CLIENT_ID, errorCode, expectRejectedCallback, type Harness, hostileSignIn, sessionCookies, startHarness } from './catalogue-harness';
import { newSigningKey, startTestProvider, type TestProvider } from './jwks-test-provider';

async function failure(promise: Promise<unknown>): Promise<OidcError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OidcError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

const NOW_SEC = 1_700_000_000;
let provider: TestProvider;
let events: JwksEvent[];

function registry() {
  return createJwksRegistry(createTransport({ retries: 0, timeoutMs: 2000 }), { now: () => NOW_SEC * 1000, onJwks: (event) => events.push(event) });
}

/** A real ID token for the provider's tenant, signed with its first published key. */
async function signIn(jwks = registry(), idTokenPromise?: Promise<string>) {
  const idToken = await (idTokenPromise ?? provider.sign(provider.claims(NOW_SEC)));
  return validateIdToken({ jwks, now: () => NOW_SEC * 1000, clockToleranceSec: 0 }, provider.tenant(), idToken, { nonce: 'n-0S6_WzA2Mj' });
}

beforeEach(async () => {
  provider = await startTestProvider();
  events = [];
});
afterEach(() => provider.close());

describe('JWKS document (oauth4webapi processJwksResponse, conformance AbstractValidateJWKs)', () => {
  it('the baseline: a conforming set signs in', async () => {
    expect((await signIn()).sub).toBe('00u1user');
  });

  it.each([
    ['a string', 'not a key'],
    ['null', null],
    ['an array', [1, 2]],
    ['a number', 42],
  ])('"keys" holding %s beside the genuine key refuses the whole set', async (_label, member) => {
    provider.extraJwks = [member];
    const error = await failure(signIn());
    expect(error.code).toBe('ERR_OIDC_JWKS_UNAVAILABLE');
    expect(error.details?.upstream).toBe('ERR_OIDC_HTTP_ERROR');
  });

  it('"keys" missing or not an array refuses the set', async () => {
    provider.mode = 'not-a-set';
    const error = await failure(signIn());
    expect(error.code).toBe('ERR_OIDC_JWKS_UNAVAILABLE');
    expect(error.details?.upstream).toBe('ERR_OIDC_HTTP_ERROR');
  });
});

describe('private and symmetric keys (conformance EnsureServerJwksDoesNotContainPrivateOrSymmetricKeys; oauth4webapi importJwk)', () => {
  it('the signing key published with its private members refuses the set', async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    const signer = provider.published[0]!;
    // The genuine public key, with a private key's members pasted in: what a mis-export publishes.
    const { kty: _kty, n: _n, e: _e, ...privateMembers } = await exportJWK(pair.privateKey);
    provider.published = [{ ...signer, publicJwk: { ...signer.publicJwk, ...privateMembers } }];
    const error = await failure(signIn());
    expect(error.code).toBe('ERR_OIDC_JWKS_UNAVAILABLE');
    expect(error.details?.upstream).toBe('ERR_OIDC_HTTP_ERROR');
  });

  it.each(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'])('another key carrying private member %s refuses the set', async (member) => {
    const other = (await newSigningKey()).publicJwk;
    provider.extraJwks = [{ ...other, [member]: member === 'oth' ? [{ r: 'AQAB', d: 'AQAB', t: 'AQAB' }] : 'AQAB' }];
    expect((await failure(signIn())).code).toBe('ERR_OIDC_JWKS_UNAVAILABLE');
  });

  it('an oct (symmetric) key beside the genuine key refuses the set', async () => {
    provider.extraJwks = [{ kty: 'oct', kid: 'hmac', k: 'c2VjcmV0' }];
    expect((await failure(signIn())).code).toBe('ERR_OIDC_JWKS_UNAVAILABLE');
  });
});

describe('key selection (oauth4webapi getPublicSigKeyFromIssuerJwksUri candidate filter)', () => {
  it('two keys with the token\'s kid, the genuine one first: refused, neither is used', async () => {
    const signer = provider.published[0]!;
    provider.extraJwks = [{ ...(await newSigningKey()).publicJwk, kid: signer.kid }];
    const jwks = registry();
    const error = await failure(signIn(jwks));
    expect(error.code).toBe('ERR_OIDC_ID_TOKEN_INVALID');
    expect(error.details?.check).toBe('kid');
    // The set was read once; the duplicate does not spend the unknown-kid refetch budget.
    expect(provider.keysHits()).toBe(1);
    expect(jwks.peekKey?.(provider.issuer, provider.jwksUri, signer.kid)).toBeUndefined();
  });

  it('two keys with the token\'s kid, the foreign one first: refused the same way', async () => {
    const signer = provider.published[0]!;
    provider.published = [];
    provider.extraJwks = [{ ...(await newSigningKey()).publicJwk, kid: signer.kid }, signer.publicJwk];
    const idToken = await provider.sign(provider.claims(NOW_SEC), { key: signer });
    const error = await failure(
      validateIdToken({ jwks: registry(), now: () => NOW_SEC * 1000, clockToleranceSec: 0 }, provider.tenant(), idToken, { nonce: 'n-0S6_WzA2Mj' }),
    );
    expect(error.code).toBe('ERR_OIDC_ID_TOKEN_INVALID');
    expect(error.details?.check).toBe('kid');
  });

  it('a duplicate kid does not affect the other keys of the set', async () => {
    const signer = provider.published[0]!;
    const twin = (await newSigningKey()).publicJwk;
    provider.extraJwks = [twin, { ...(await newSigningKey()).publicJwk, kid: twin.kid }];
    expect((await signIn()).sub).toBe('00u1user');
    expect(events[0]).toMatchObject({ type: 'fetch', keys: 3 });
    expect(signer.kid).not.toBe(twin.kid);
  });

  it.each([
    ['alg RS512', { alg: 'RS512' }],
    ['alg none', { alg: 'none' }],
    ['alg HS256', { alg: 'HS256' }],
    ['use enc', { use: 'enc' }],
    ['key_ops without verify', { key_ops: ['encrypt'] }],
    ['key_ops not an array', { key_ops: 'verify' }],
  ] as Array<[string, Record<string, unknown>]>)('the only key with %s is no candidate for an RS256 token: refused', async (_label, change) => {
    const signer = provider.published[0]!;
    // Hostile documents on purpose: members a JWK type does not allow (key_ops as a string).
    provider.published = [{ ...signer, publicJwk: { ...signer.publicJwk, ...change } as JWK }];
    const error = await failure(signIn());
    expect(error.code).toBe('ERR_OIDC_JWKS_UNAVAILABLE'); // the set holds no usable RS256 key
    expect(error.details?.upstream).toBe('ERR_OIDC_HTTP_ERROR');
  });

  it.each([
    ['alg RS512', { alg: 'RS512' }],
    ['use enc', { use: 'enc' }],
    ['key_ops without verify', { key_ops: ['encrypt'] }],
  ])('a key with the token\'s kid but %s is no candidate even when another key is usable', async (_label, change) => {
    const signer = provider.published[0]!;
    const other = await newSigningKey();
    provider.published = [other, { ...signer, publicJwk: { ...signer.publicJwk, ...change } }];
    const idToken = await provider.sign(provider.claims(NOW_SEC), { key: signer });
    const error = await failure(
      validateIdToken({ jwks: registry(), now: () => NOW_SEC * 1000, clockToleranceSec: 0 }, provider.tenant(), idToken, { nonce: 'n-0S6_WzA2Mj' }),
    );
    expect(error.code).toBe('ERR_OIDC_JWKS_NO_MATCHING_KEY');
  });

  it('EC and OKP keys are no candidates for an RS256 token (kty follows alg)', async () => {
    const signer = provider.published[0]!;
    const ec = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
    const okp = await exportJWK((await generateKeyPair('EdDSA', { extractable: true })).publicKey);
    provider.published = [];
    provider.extraJwks = [{ ...ec, kid: signer.kid }, { ...okp, kid: `${signer.kid}-okp` }];
    expect((await failure(signIn(registry(), provider.sign(provider.claims(NOW_SEC), { key: signer })))).code).toBe('ERR_OIDC_JWKS_UNAVAILABLE');
    provider.extraJwks = [{ ...ec, kid: signer.kid }, signer.publicJwk];
    // The EC key shares the kid but is no candidate, so the RSA key is the only one: accepted, as oauth4webapi does.
    expect((await signIn(registry(), provider.sign(provider.claims(NOW_SEC), { key: signer }))).sub).toBe('00u1user');
  });

  it('an RSA key under 2048 bits is never used (oauth4webapi checkRsaKeyAlgorithm; RFC 7518 §3.3)', async () => {
    const small = await crypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      true,
      ['sign', 'verify'],
    );
    const publicJwk = { ...(await crypto.subtle.exportKey('jwk', small.publicKey)), kid: 'rsa-1024', alg: 'RS256', use: 'sig' };
    provider.published = [{ kid: 'rsa-1024', privateKey: small.privateKey, publicJwk }];
    // jose refuses to sign with such a key, so the token is put together by hand with Web Crypto.
    const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const text = (value: unknown) => b64(new TextEncoder().encode(JSON.stringify(value)));
    const input = `${text({ alg: 'RS256', kid: 'rsa-1024' })}.${text(provider.claims(NOW_SEC))}`;
    const signature = new Uint8Array(await crypto.subtle.sign('RSASSA-PKCS1-v1_5', small.privateKey, new TextEncoder().encode(input)));
    const error = await failure(signIn(registry(), Promise.resolve(`${input}.${b64(signature)}`)));
    expect(error.code).toBe('ERR_OIDC_JWKS_UNAVAILABLE');
    expect(error.details?.upstream).toBe('ERR_OIDC_HTTP_ERROR');
  });

  it('a token without kid while several keys are candidates is refused (OIDC Core §10.1)', async () => {
    provider.published.push(await newSigningKey());
    const idToken = await provider.sign(provider.claims(NOW_SEC), { header: { kid: undefined } });
    const error = await failure(
      validateIdToken({ jwks: registry(), now: () => NOW_SEC * 1000, clockToleranceSec: 0 }, provider.tenant(), idToken, { nonce: 'n-0S6_WzA2Mj' }),
    );
    expect(error.code).toBe('ERR_OIDC_ID_TOKEN_INVALID');
    expect(error.details?.check).toBe('kid');
  });
});

describe('x5c (conformance ValidateServerJWKs: the first certificate must hold the JWK\'s key; RFC 7517 §4.7)', () => {
  /** A self-signed RSA certificate made by openssl: its key as a signing key, and x5c[0]. */
  async function certified(): Promise<{ kid: string; privateKey: CryptoKey; publicJwk: JWK; x5c: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'x5c-'));
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '2', '-subj', '/CN=x5c-test'], { encoding: 'utf8' });
    expect(made.error, 'openssl is not installed: apt-get install -y openssl').toBeUndefined();
    expect(made.status, made.stderr).toBe(0);
    const privateKey = await importPKCS8(readFileSync(join(dir, 'k.pem'), 'utf8'), 'RS256', { extractable: true });
    const { kty, n, e } = await exportJWK(privateKey);
    const x5c = readFileSync(join(dir, 'c.pem'), 'utf8').replace(/-----[A-Z ]+-----|\s/g, '');
    rmSync(dir, { recursive: true, force: true });
    return { kid: `x5c-${Math.random().toString(36).slice(2, 8)}`, privateKey, publicJwk: { kty, n, e, alg: 'RS256', use: 'sig' }, x5c };
  }

  it('a key whose x5c holds the same key signs in', async () => {
    const key = await certified();
    provider.published = [{ ...key, publicJwk: { ...key.publicJwk, kid: key.kid, x5c: [key.x5c] } }];
    expect((await signIn()).sub).toBe('00u1user');
  });

  it.each([
    ['another key\'s certificate', 'other'],
    ['a certificate that does not parse', 'garbage'],
    ['an empty chain', 'empty'],
  ])('a key whose x5c is %s refuses the set', async (_label, mode) => {
    const key = await certified();
    const other = await certified();
    const x5c = mode === 'other' ? [other.x5c] : mode === 'garbage' ? ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] : [];
    provider.published = [{ ...key, publicJwk: { ...key.publicJwk, kid: key.kid, x5c } }];
    const error = await failure(signIn());
    expect(error.code).toBe('ERR_OIDC_JWKS_UNAVAILABLE');
    expect(error.details?.upstream).toBe('ERR_OIDC_HTTP_ERROR');
  });
});

describe('JWKS content type (oauth4webapi getResponseJsonBody: the type matters only when the body is not JSON)', () => {
  /** Serve the provider's genuine set with this Content-Type (undefined: none at all). */
  function serveAs(contentType: string | undefined, body?: string) {
    provider.server.handle((_req, res) => {
      res.writeHead(200, contentType === undefined ? {} : { 'content-type': contentType });
      res.end(body ?? JSON.stringify({ keys: provider.published.map((k) => k.publicJwk) }));
    });
  }

  it.each([
    ['application/json; charset=utf-8', 'application/json; charset=utf-8'],
    ['application/jwk-set+json', 'application/jwk-set+json'],
    ['Application/JSON', 'Application/JSON'],
    ['no Content-Type (oauth4webapi parses the JSON body too)', undefined],
  ])('a genuine set served as %s is accepted', async (_label, type) => {
    serveAs(type);
    expect((await signIn()).sub).toBe('00u1user');
  });

  it.each(['text/html', 'text/plain'])('a set served as %s is refused (stricter than oauth4webapi: a proxy page is never parsed)', async (type) => {
    serveAs(type);
    const error = await failure(signIn());
    expect(error.code).toBe('ERR_OIDC_JWKS_UNAVAILABLE');
    expect(error.details?.upstream).toBe('ERR_OIDC_HTTP_ERROR');
  });

  it('a body that is not JSON is refused whatever its type', async () => {
    serveAs('application/json', '<html>Service unavailable</html>');
    const error = await failure(signIn());
    expect(error.code).toBe('ERR_OIDC_JWKS_UNAVAILABLE');
    expect(error.details?.upstream).toBe('ERR_OIDC_HTTP_ERROR');
  });
});

describe('discovery document (oauth4webapi processDiscoveryResponse)', () => {
  function serveDocument(document: unknown) {
    provider.server.handle((_req, res) => {
      const body = JSON.stringify(document);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
  }
  const valid = () => ({
    issuer: provider.issuer,
    authorization_endpoint: `${provider.issuer}/oauth2/v1/authorize`,
    token_endpoint: `${provider.issuer}/oauth2/v1/token`,
    jwks_uri: provider.jwksUri,
  });
  const transport = () => createTransport({ retries: 0, timeoutMs: 2000 });

  it('a conforming document is accepted', async () => {
    serveDocument(valid());
    expect((await discover(transport(), provider.issuer)).jwks_uri).toBe(provider.jwksUri);
  });

  it.each([
    ['issuer missing', { issuer: undefined }],
    ['issuer not a string', { issuer: 42 }],
    ['issuer another URL', { issuer: 'https://evil.okta.com' }],
    ['issuer with a trailing slash (only equal after normalisation)', { issuer: 'TRAILING' }],
  ])('%s is refused (ERR_OIDC_DISCOVERY_FAILED, field issuer)', async (_label, change) => {
    const document: Record<string, unknown> = { ...valid(), ...change };
    if (document.issuer === 'TRAILING') document.issuer = `${provider.issuer}/`;
    serveDocument(document);
    const error = await failure(discover(transport(), provider.issuer));
    expect(error.code).toBe('ERR_OIDC_DISCOVERY_FAILED');
    expect(error.details?.field).toBe('issuer');
  });

  it.each([
    ['a JSON array', () => [valid()]],
    ['a JSON string', () => 'issuer'],
  ])('a document that is %s is refused', async (_label, document) => {
    serveDocument(document());
    expect((await failure(discover(transport(), provider.issuer))).code).toBe('ERR_OIDC_DISCOVERY_FAILED');
  });
});

describe('against the Okta emulator: hostile /keys answers create no session', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.close());
  afterEach(() => {
    h.org.control.clearHostile();
    h.org.control.clearFaults();
  });

  it.each([
    ['jwks-duplicate-kids-genuine-first', 'ERR_OIDC_ID_TOKEN_INVALID', 400],
    ['jwks-duplicate-kids', 'ERR_OIDC_ID_TOKEN_INVALID', 400],
    ['jwks-private-key', 'ERR_OIDC_JWKS_UNAVAILABLE', 503],
    ['jwks-symmetric-key', 'ERR_OIDC_JWKS_UNAVAILABLE', 503],
    ['jwks-non-object-member', 'ERR_OIDC_JWKS_UNAVAILABLE', 503],
  ] as [HostileArtefact, string, number][])('/keys answering %s → %s %i, no session', async (artefact, code, status) => {
    const result = await hostileSignIn(h, artefact, { endpoint: 'keys', persistent: true });
    expectRejectedCallback(result, code, status);
  });

  // oauth4webapi processIntrospectionResponse: a 200 answer whose body is a JSON object with a
  // boolean "active"; anything else throws. Core: never active, ERR_OIDC_INTROSPECTION_INVALID.
  it.each(['introspection-active-string', 'introspection-active-missing'] as HostileArtefact[])(
    'an introspection answer with %s is never active (502 ERR_OIDC_INTROSPECTION_INVALID)',
    async (artefact) => {
      const auth = h.auth();
      const token = await h.org.control.issueAccessToken(CLIENT_ID);
      h.org.control.hostile('introspect', artefact, { times: 1 });
      const browser = new Browser(auth);
      const result = await auth.requireAccessToken(browser.request('GET', 'http://127.0.0.1:4000/api/orders', { headers: { authorization: `Bearer ${token}` } }), {
        tenantId: 'acme',
      });
      if (!('response' in result)) throw new Error(`${artefact} was accepted`);
      expect(result.response.status).toBe(502);
      expect(JSON.parse(result.response.body ?? '{}')).toMatchObject({ error: 'ERR_OIDC_INTROSPECTION_INVALID' });
    },
  );

  it('the app keeps serving: the next sign-in with a conforming set succeeds', async () => {
    await hostileSignIn(h, 'jwks-private-key', { endpoint: 'keys', persistent: true });
    const { response } = await hostileSignIn(h, undefined);
    expect(errorCode(response)).toBeUndefined();
    expect(sessionCookies(response)).toHaveLength(1);
  });
});
