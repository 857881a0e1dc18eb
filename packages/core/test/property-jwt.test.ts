/**
 * Property-based tests for JWT and JWKS handling.
 *
 * - validateIdToken against a model of OIDC Core §3.1.3.7 (plus RFC 8725 and the SDK's own rules):
 *   structurally valid JWTs with random headers and claims, signed by a key in the JWKS or not, are
 *   accepted exactly when the model says every rule holds; arbitrary strings never are.
 * - The JWKS registry against random JWKS documents served from a real local node:http server:
 *   a key is returned exactly when the model finds one usable RS256 key for the request, and that
 *   key verifies the matching private key's signatures; failures carry the model's code.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OidcErrorCode } from '../src/errors';
import { createTransport } from '../src/http/transport';
import { createJwksRegistry, type JwksRegistry } from '../src/jwks/jwks-registry';
import { parseTenant, type Tenant } from '../src/tenant/tenant';
import { type IdTokenExpectations, validateIdToken } from '../src/tokens/validate-id-token';
import { atHash, b64url, compactJws, rsaKey, type RsaKey, type SignatureMode } from './support/jws';
import { check, expectFailure, hostileString, type LocalServer, outcome, printRunCounts, startLocalServer, tally } from './support/properties';

const CLIENT = '0oa-client';
const NONCE = 'n-0S6_WzA2Mj-nonce-value-0123456789';
const AT = 'access-token-value-0123456789';
const TOLERANCE = 30;
const NOW_MS = 1_790_000_000_500;
const NOW = Math.floor(NOW_MS / 1000);
const ABSENT = Symbol('absent');
type Maybe<T> = T | typeof ABSENT;

let k1: RsaKey;
let k2: RsaKey;
let unpublished: RsaKey;
let small: RsaKey;
/** Two issuers: one publishing two keys (a kid is required), one publishing a single key. */
let twoKeys: LocalServer;
let oneKey: LocalServer;
let tenants: { two: Tenant; one: Tenant };
let registry: JwksRegistry;

beforeAll(async () => {
  [k1, k2, unpublished, small] = await Promise.all([rsaKey('key-1'), rsaKey('key-2'), rsaKey('key-unpublished'), rsaKey('key-small', 1024)]);
  twoKeys = await startLocalServer();
  oneKey = await startLocalServer();
  const serve = (keys: RsaKey[]) => (req: { url?: string }, res: import('node:http').ServerResponse) => {
    const body = JSON.stringify({ keys: keys.map((k) => k.publicJwk) });
    res.writeHead(req.url === '/oauth2/v1/keys' ? 200 : 404, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' });
    res.end(body);
  };
  twoKeys.respond(serve([k1, k2]));
  oneKey.respond(serve([k1]));
  const record = (issuer: string, id: string) => parseTenant({ id, issuer, clientId: CLIENT, clientSecret: 'client-secret', redirectUris: ['https://app.example.com/cb'] });
  tenants = { two: record(twoKeys.origin, 'two'), one: record(oneKey.origin, 'one') };
  registry = createJwksRegistry(createTransport({ timeoutMs: 5_000, retries: 0 }), { now: () => NOW_MS });
});
afterAll(async () => {
  printRunCounts('property-jwt.test.ts');
  await Promise.all([twoKeys?.close(), oneKey?.close(), jwksServer?.close()]);
});

const deps = () => ({ jwks: registry, now: () => NOW_MS, clockToleranceSec: TOLERANCE });
const ID_TOKEN_CODES: readonly OidcErrorCode[] = ['ERR_OIDC_ID_TOKEN_INVALID', 'ERR_OIDC_ID_TOKEN_EXPIRED', 'ERR_OIDC_NONCE_MISMATCH', 'ERR_OIDC_JWKS_NO_MATCHING_KEY'];

// ---- arbitraries ----------------------------------------------------------------------------------

/** Mostly the valid value, sometimes one of the broken ones, sometimes absent. */
function claim<T>(valid: T, broken: readonly unknown[], absentWeight = 1): fc.Arbitrary<Maybe<unknown>> {
  return fc.oneof(
    { weight: 40, arbitrary: fc.constant(valid) },
    { weight: 3, arbitrary: fc.constantFrom(...broken) },
    { weight: absentWeight, arbitrary: fc.constant(ABSENT) },
  );
}

const headerArb = fc.record({
  alg: claim('RS256', ['none', 'HS256', 'RS384', 'PS256', 'ES256', 'rs256', 1, null]),
  kid: fc.oneof(
    { weight: 10, arbitrary: fc.constant('signer') },
    { weight: 1, arbitrary: fc.constantFrom('key-1', 'key-2', 'unknown-kid', '', 5, null) },
    { weight: 2, arbitrary: fc.constant(ABSENT) },
  ),
  typ: fc.oneof({ weight: 8, arbitrary: fc.constant(ABSENT) }, { weight: 2, arbitrary: fc.constantFrom('JWT', 'jwt', 'application/jwt', 'at+jwt', 'JOSE', 'dpop+jwt', 5) }),
  crit: fc.oneof({ weight: 12, arbitrary: fc.constant(ABSENT) }, { weight: 1, arbitrary: fc.constantFrom(['exp'], [], 'x') }),
  // Never consulted (JK-08): a token cannot bring its own key.
  jku: fc.oneof({ weight: 8, arbitrary: fc.constant(ABSENT) }, { weight: 1, arbitrary: fc.constant('https://evil.example/keys') }),
  jwk: fc.oneof({ weight: 8, arbitrary: fc.constant(ABSENT) }, { weight: 1, arbitrary: fc.constant('unpublished-jwk') }),
});

const claimsArb = fc.record({
  iss: claim('ISSUER', ['ISSUER/', 'https://evil.example', 'ISSUER_UPPER', 5, null]),
  sub: claim('00u1user', ['', 'x'.repeat(256), 'x'.repeat(255), 5, null]),
  aud: claim(CLIENT, [[CLIENT], [CLIENT, 'other'], ['other'], 'other', [CLIENT, 5], [], 5]),
  azp: fc.oneof({ weight: 8, arbitrary: fc.constant(ABSENT) }, { weight: 2, arbitrary: fc.constantFrom(CLIENT, 'other', 5) }),
  exp: claim(NOW + 3600, [NOW - TOLERANCE - 5, NOW - TOLERANCE + 5, '9999999999', null, NOW]),
  iat: claim(NOW - 10, [NOW + TOLERANCE + 5, NOW + TOLERANCE - 5, NOW - 86_400 - TOLERANCE - 5, NOW - 86_400 + 100, 'x', null]),
  nbf: fc.oneof({ weight: 8, arbitrary: fc.constant(ABSENT) }, { weight: 2, arbitrary: fc.constantFrom(NOW - 10, NOW + TOLERANCE + 5, NOW + TOLERANCE - 5, 'x') }),
  nonce: claim(NONCE, ['other-nonce', 5, '']),
  auth_time: fc.oneof({ weight: 4, arbitrary: fc.constant(ABSENT) }, { weight: 4, arbitrary: fc.constantFrom(NOW - 60, NOW - 100_000, 'x', null) }),
  at_hash: fc.oneof({ weight: 4, arbitrary: fc.constant(ABSENT) }, { weight: 4, arbitrary: fc.constantFrom('AT_HASH', 'OTHER_HASH', 5, '') }),
  extra: fc.dictionary(fc.constantFrom('email', 'name', 'amr', 'idp', 'ver', 'jti', 'foo', '__proto__'), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
});

const expectationsArb = fc.record({
  nonce: fc.oneof({ weight: 8, arbitrary: fc.constant<string | undefined>(NONCE) }, { weight: 2, arbitrary: fc.constant(undefined) }),
  allowNoNonce: fc.constantFrom(undefined, true, false),
  maxAge: fc.constantFrom(undefined, undefined, 300, 200_000),
  accessToken: fc.constantFrom(AT, AT, undefined, 'another-access-token'),
});

const signerArb = fc.oneof({ weight: 8, arbitrary: fc.constant('key-1' as const) }, { weight: 2, arbitrary: fc.constantFrom('key-2' as const, 'unpublished' as const) });
const signatureArb = fc.oneof({ weight: 10, arbitrary: fc.constant<SignatureMode>('valid') }, { weight: 2, arbitrary: fc.constantFrom<SignatureMode>('random', 'empty', 'truncated', 'other-input') });

// ---- the model ------------------------------------------------------------------------------------

interface Case {
  org: 'two' | 'one';
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  signer: 'key-1' | 'key-2' | 'unpublished';
  signature: SignatureMode;
  expected: IdTokenExpectations;
}

/** Why the model refuses a case (empty: it must be accepted). */
async function modelViolations(c: Case, issuer: string): Promise<string[]> {
  const v: string[] = [];
  const { header: h, claims: p, expected: e } = c;
  if (e.nonce === undefined && e.allowNoNonce !== true) v.push('no nonce expected');
  if (c.signature === 'empty') v.push('empty signature');
  if (h.alg !== 'RS256') v.push('alg');
  if ('crit' in h) v.push('crit');
  if (h.typ !== undefined && !(typeof h.typ === 'string' && ['jwt', 'application/jwt'].includes(h.typ.toLowerCase()))) v.push('typ');
  if (h.kid !== undefined && !(typeof h.kid === 'string' && h.kid.length > 0)) v.push('kid type');
  // Key selection: a kid picks a published key; no kid only works when the issuer has one key.
  const published = c.org === 'two' ? ['key-1', 'key-2'] : ['key-1'];
  const resolved = h.kid === undefined ? (published.length === 1 ? published[0] : undefined) : published.includes(h.kid as string) ? h.kid : undefined;
  if (resolved === undefined) v.push('no key');
  else if (c.signature !== 'valid' || c.signer !== resolved) v.push('signature');
  // jose's JWT claim set checks.
  if (p.iss !== issuer) v.push('iss');
  for (const name of ['iss', 'sub', 'aud', 'exp', 'iat']) if (!(name in p)) v.push(`${name} missing`);
  const aud = p.aud;
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (!audiences.includes(CLIENT)) v.push('aud');
  if (audiences.some((a) => typeof a !== 'string')) v.push('aud type');
  if (audiences.length > 1 && p.azp !== CLIENT) v.push('azp required');
  if (p.azp !== undefined && p.azp !== CLIENT) v.push('azp');
  if (typeof p.exp !== 'number') v.push('exp type');
  else if (p.exp <= NOW - TOLERANCE) v.push('expired');
  if (typeof p.iat !== 'number') v.push('iat type');
  else {
    if (p.iat > NOW + TOLERANCE) v.push('iat future');
    if (NOW - p.iat - TOLERANCE > 86_400) v.push('iat too old');
  }
  if (p.nbf !== undefined && (typeof p.nbf !== 'number' || p.nbf > NOW + TOLERANCE)) v.push('nbf');
  if (!(typeof p.sub === 'string' && p.sub.length >= 1 && p.sub.length <= 255)) v.push('sub');
  if (e.nonce !== undefined && p.nonce !== e.nonce) v.push('nonce');
  if (p.nonce !== undefined && typeof p.nonce !== 'string') v.push('nonce type');
  if (p.auth_time !== undefined && typeof p.auth_time !== 'number') v.push('auth_time type');
  if (e.maxAge !== undefined && (typeof p.auth_time !== 'number' || p.auth_time + e.maxAge < NOW - TOLERANCE)) v.push('max_age');
  if (p.at_hash !== undefined) {
    if (typeof p.at_hash !== 'string') v.push('at_hash type');
    else if (e.accessToken !== undefined && p.at_hash !== (await atHash(e.accessToken))) v.push('at_hash');
  }
  return v;
}

async function buildCase(
  org: 'two' | 'one',
  rawHeader: Record<string, unknown>,
  rawClaims: Record<string, unknown>,
  signer: Case['signer'],
  signature: SignatureMode,
  expectations: IdTokenExpectations,
): Promise<{ c: Case; token: string }> {
  const issuer = tenants[org].issuer;
  const keys = { 'key-1': k1, 'key-2': k2, unpublished };
  const header: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(rawHeader)) {
    if (value === ABSENT) continue;
    header[name] = name === 'kid' && value === 'signer' ? keys[signer].kid : name === 'jwk' ? unpublished.publicJwk : value;
  }
  const { extra, ...named } = rawClaims as { extra: Record<string, unknown> } & Record<string, unknown>;
  const claims: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(extra)) if (name !== '__proto__') claims[name] = value;
  for (const [name, value] of Object.entries(named)) {
    if (value === ABSENT) continue;
    claims[name] =
      value === 'ISSUER' ? issuer : value === 'ISSUER/' ? `${issuer}/` : value === 'ISSUER_UPPER' ? issuer.toUpperCase() : value === 'AT_HASH' ? await atHash(AT) : value === 'OTHER_HASH' ? await atHash('x') : value;
  }
  const expected: IdTokenExpectations = { nonce: expectations.nonce };
  if (expectations.allowNoNonce !== undefined) expected.allowNoNonce = expectations.allowNoNonce;
  if (expectations.maxAge !== undefined) expected.maxAge = expectations.maxAge;
  if (expectations.accessToken !== undefined) expected.accessToken = expectations.accessToken;
  const c: Case = { org, header, claims, signer, signature, expected };
  return { c, token: await compactJws(header, claims, keys[signer].privateKey, signature) };
}

describe('validateIdToken', () => {
  it('accepts a random JWT exactly when the model finds no broken rule, and returns its claims', async () => {
    const seen = new Map<string, number>();
    await check(
      'ID token: random headers and claims vs model',
      fc.asyncProperty(fc.constantFrom('two', 'one' as const), headerArb, claimsArb, signerArb, signatureArb, expectationsArb, async (org, h, p, signer, sig, e) => {
        const { c, token } = await buildCase(org as 'two' | 'one', h, p, signer, sig, e as IdTokenExpectations);
        const violations = await modelViolations(c, tenants[c.org].issuer);
        const result = await outcome(() => validateIdToken(deps(), tenants[c.org], token, c.expected));
        tally(seen, result.ok ? 'accepted' : 'refused');
        if (result.ok) {
          expect(violations, `accepted despite: ${violations.join(', ')}`).toEqual([]);
          // The claims as a JWT carries them: JSON has no -0, so a generated -0 comes back as 0.
          expect(result.value).toEqual(JSON.parse(JSON.stringify(c.claims)));
        } else {
          expect(violations, `refused (${result.error.code}: ${result.error.message}) a token the model accepts`).not.toEqual([]);
          expect(ID_TOKEN_CODES).toContain(result.error.code);
          // A nonce problem alone is reported as such.
          if (violations.length === 1 && violations[0] === 'nonce') expect(result.error.code).toBe('ERR_OIDC_NONCE_MISMATCH');
          if (violations.length === 1 && violations[0] === 'expired') expect(result.error.code).toBe('ERR_OIDC_ID_TOKEN_EXPIRED');
          // Messages never carry the token or a claim value.
          expect(result.error.message).not.toContain(token.split('.')[1]!.slice(0, 20));
        }
      }),
      2000,
    );
    expect(seen.get('accepted') ?? 0).toBeGreaterThan(50);
    expect(seen.get('refused') ?? 0).toBeGreaterThan(500);
  });

  const segment = fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/),
    fc.jsonValue({ maxDepth: 2 }).map((v) => b64url(JSON.stringify(v))),
    fc.constant(b64url('{"alg":"RS256","kid":"key-1"}')),
    fc.constant(b64url('{"alg":"none"}')),
    fc.constant(b64url('{"alg":"PBES2-HS512+A256KW","p2c":2147483647,"enc":"A256GCM"}')),
    hostileString({ maxLength: 4 }),
  );
  const arbitraryToken = fc.oneof(
    { weight: 3, arbitrary: fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('.')) },
    { weight: 2, arbitrary: hostileString({ maxLength: 30 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.constantFrom(16 * 1024, 16 * 1024 + 1, 1024 * 1024).map((n) => `${'a'.repeat(n - 4)}.b.c`) },
  );

  it('never accepts an arbitrary string, and fails with an ID token code', async () => {
    await check(
      'ID token: arbitrary strings',
      fc.asyncProperty(arbitraryToken, fc.constantFrom('two', 'one' as const), async (token, org) => {
        await expectFailure(() => validateIdToken(deps(), tenants[org as 'two' | 'one'], token, { nonce: NONCE }), ID_TOKEN_CODES);
      }),
      3000,
    );
  });

  it('refuses a JWE (DS-03) and an oversized token (DS-01) before any key fetch', async () => {
    const before = twoKeys.seen.length;
    const jwe = `${b64url('{"alg":"PBES2-HS512+A256KW","p2c":2147483647,"enc":"A256GCM","zip":"DEF"}')}.AAAA.AAAA.AAAA.AAAA`;
    expect((await expectFailure(() => validateIdToken(deps(), tenants.two, jwe, { nonce: NONCE }), ['ERR_OIDC_ID_TOKEN_INVALID'])).details).toEqual({ check: 'format' });
    const huge = `${b64url('{"alg":"RS256","kid":"key-9"}')}.${'A'.repeat(1024 * 1024)}.AAAA`;
    expect((await expectFailure(() => validateIdToken(deps(), tenants.two, huge, { nonce: NONCE }), ['ERR_OIDC_ID_TOKEN_INVALID'])).details).toEqual({ check: 'size' });
    expect(twoKeys.seen.length).toBe(before);
  });
});

// ---- JWKS documents ------------------------------------------------------------------------------

let jwksServer: LocalServer | undefined;
interface Served {
  status: number;
  contentType: string | undefined;
  body: string;
  cacheControl: string | undefined;
}
let served: Served = { status: 200, contentType: 'application/json', body: '{"keys":[]}', cacheControl: undefined };

const keyNames = ['key-1', 'key-2', 'unpublished', 'small'] as const;
type KeyName = (typeof keyNames)[number];
const jwkEntry = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      key: fc.constantFrom<KeyName>(...keyNames),
      kid: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('key-1', 'key-2', 'key-3') }, { weight: 1, arbitrary: fc.constantFrom(ABSENT, '', 5) }),
      kty: claim('RSA', ['EC', 'rsa', 'oct']),
      use: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('sig', ABSENT) }, { weight: 1, arbitrary: fc.constantFrom('enc', 5) }),
      alg: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('RS256', ABSENT) }, { weight: 1, arbitrary: fc.constantFrom('RS384', 'none', 'HS256') }),
      key_ops: fc.oneof({ weight: 4, arbitrary: fc.constant(ABSENT) }, { weight: 1, arbitrary: fc.constantFrom(['verify'], ['sign'], 'verify', [], ['sign', 'verify']) }),
      n: fc.oneof({ weight: 6, arbitrary: fc.constant('KEY') }, { weight: 1, arbitrary: fc.constantFrom(ABSENT, 'a b', 5, 'AQAB', b64url('garbage-modulus')) }),
      e: fc.oneof({ weight: 6, arbitrary: fc.constant('AQAB') }, { weight: 1, arbitrary: fc.constantFrom(ABSENT, 'A A', 3) }),
      d: fc.oneof({ weight: 6, arbitrary: fc.constant(ABSENT) }, { weight: 1, arbitrary: fc.constant('private-exponent-leaked') }),
    }),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);
const documentArb = fc.oneof(
  { weight: 8, arbitrary: fc.array(jwkEntry, { maxLength: 6 }).map((keys) => ({ keys })) },
  { weight: 1, arbitrary: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom({ keys: 'x' }, { Keys: [] }, [], null, { keys: {} })) },
);

function materialise(doc: unknown): unknown {
  const keys = { 'key-1': k1, 'key-2': k2, unpublished, small };
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { keys?: unknown }).keys)) return doc;
  return {
    keys: (doc as { keys: unknown[] }).keys.map((entry) => {
      if (typeof entry !== 'object' || entry === null || !('key' in entry)) return entry;
      const { key, ...members } = entry as { key: KeyName } & Record<string, unknown>;
      const jwk: Record<string, unknown> = { _key: key };
      for (const [name, value] of Object.entries(members)) if (value !== ABSENT) jwk[name] = value === 'KEY' ? keys[key].publicJwk.n : value;
      return jwk;
    }),
  };
}

/** The key the registry must return for `kid` from `doc` (model of RFC 7517 + the registry's rules), or the code it must fail with. */
function jwksModel(s: Served, kid: string | undefined): { key: KeyName } | { code: OidcErrorCode } {
  const unavailable = { code: 'ERR_OIDC_JWKS_UNAVAILABLE' as const };
  const media = (s.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const jsonType = media === '' || media === 'application/json' || (media.startsWith('application/') && media.endsWith('+json'));
  if (s.status !== 200 || !jsonType || s.body === '') return unavailable;
  let parsed: unknown;
  try {
    parsed = JSON.parse(s.body);
  } catch {
    return unavailable;
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { keys?: unknown }).keys)) return unavailable;
  const members = (parsed as { keys: unknown[] }).keys;
  // The whole set is refused when a member is not an object (oauth4webapi processJwksResponse) or
  // carries private or symmetric key material (conformance EnsureServerJwksDoesNotContainPrivateOrSymmetricKeys).
  for (const candidate of members) {
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) return unavailable;
    const j = candidate as Record<string, unknown>;
    if (j.kty === 'oct' || ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'].some((m) => m in j)) return unavailable;
  }
  const byKid = new Map<string, KeyName>();
  const seen = new Set<string>();
  const ambiguous = new Set<string>();
  const all: KeyName[] = [];
  for (const candidate of members) {
    const j = candidate as Record<string, unknown>;
    const shape =
      j.kty === 'RSA' && (j.use === undefined || j.use === 'sig') && (j.alg === undefined || j.alg === 'RS256') &&
      (j.kid === undefined || (typeof j.kid === 'string' && j.kid.length > 0)) &&
      (j.key_ops === undefined || (Array.isArray(j.key_ops) && j.key_ops.includes('verify'))) &&
      typeof j.n === 'string' && /^[A-Za-z0-9_-]+$/.test(j.n) && typeof j.e === 'string' && /^[A-Za-z0-9_-]+$/.test(j.e);
    if (!shape) continue;
    // Two candidates with one kid: neither is used for it (oauth4webapi "multiple applicable keys").
    if (typeof j.kid === 'string') {
      if (seen.has(j.kid)) {
        ambiguous.add(j.kid);
        byKid.delete(j.kid);
      }
      seen.add(j.kid);
    }
    const name = j._key as KeyName | undefined;
    const importable = name !== undefined && name !== 'small' && j.e === 'AQAB' && j.n === { 'key-1': k1, 'key-2': k2, unpublished, small }[name].publicJwk.n;
    if (!importable) continue;
    all.push(name);
    if (typeof j.kid === 'string' && !ambiguous.has(j.kid)) byKid.set(j.kid, name);
  }
  if (all.length === 0) return unavailable;
  if (kid !== undefined) {
    if (ambiguous.has(kid)) return { code: 'ERR_OIDC_ID_TOKEN_INVALID' };
    const key = byKid.get(kid);
    return key === undefined ? { code: 'ERR_OIDC_JWKS_NO_MATCHING_KEY' } : { key };
  }
  return all.length === 1 ? { key: all[0]! } : { code: 'ERR_OIDC_ID_TOKEN_INVALID' };
}

describe('JWKS registry (random JWKS documents over HTTP)', () => {
  beforeAll(async () => {
    jwksServer = await startLocalServer();
    jwksServer.respond((_req, res) => {
      const headers: Record<string, string> = {};
      if (served.contentType !== undefined) headers['content-type'] = served.contentType;
      if (served.cacheControl !== undefined) headers['cache-control'] = served.cacheControl;
      if (served.status >= 300 && served.status < 400) headers['location'] = '/elsewhere';
      res.writeHead(served.status, headers);
      res.end(served.body);
    });
  });

  it('returns a key exactly when the model finds one usable RS256 key for the request, and it is that key', async () => {
    const seen = new Map<string, number>();
    await check(
      'JWKS: random documents served over HTTP',
      fc.asyncProperty(
        documentArb,
        fc.oneof({ weight: 10, arbitrary: fc.constant(200) }, { weight: 2, arbitrary: fc.constantFrom(201, 204, 302, 304, 400, 404, 429, 500, 503) }),
        fc.oneof({ weight: 6, arbitrary: fc.constant('application/json') }, { weight: 2, arbitrary: fc.constantFrom(undefined, 'application/jwk-set+json', 'application/json; charset=utf-8', 'text/html', 'text/plain') }),
        fc.oneof({ weight: 10, arbitrary: fc.constant('as-is') }, { weight: 1, arbitrary: fc.constantFrom('truncated', 'not-json', 'empty') }),
        fc.option(fc.oneof(fc.nat({ max: 10 ** 9 }).map((n) => `max-age=${n}`), fc.constantFrom('no-store', 'max-age=-1', 'max-age="60"', 'private, max-age=99999999999'), hostileString({ maxLength: 4 })), { nil: undefined }),
        fc.constantFrom(undefined, 'key-1', 'key-2', 'key-3', 'nope'),
        async (doc, status, contentType, bodyMode, cacheControl, kid) => {
          const materialised = materialise(doc);
          const json = JSON.stringify(materialised);
          const body = bodyMode === 'as-is' ? json : bodyMode === 'truncated' ? json.slice(0, Math.max(0, json.length - 3)) : bodyMode === 'not-json' ? '<html>' : '';
          // Only what node:http can send in a header.
          const header = cacheControl !== undefined && /^[\x20-\x7E]*$/.test(cacheControl) ? cacheControl : undefined;
          served = { status, contentType, body: status === 204 || status === 304 ? '' : body, cacheControl: header };
          const expected = jwksModel(served, kid);
          // A fresh registry per run: a cold cache, so every run fetches.
          const fresh = createJwksRegistry(createTransport({ timeoutMs: 5_000, retries: 0 }), { now: () => NOW_MS });
          const result = await outcome(() => fresh.getKey(jwksServer!.origin, `${jwksServer!.origin}/oauth2/v1/keys`, { alg: 'RS256', ...(kid === undefined ? {} : { kid }) }));
          tally(seen, result.ok ? 'key' : result.error.code);
          if ('code' in expected) {
            expect(result.ok, `returned a key; model says ${expected.code}`).toBe(false);
            if (!result.ok) expect(result.error.code).toBe(expected.code);
            return;
          }
          expect(result.ok, result.ok ? '' : `${result.error.code}: ${result.error.message}`).toBe(true);
          if (!result.ok) return;
          // It is the model's key: it verifies that private key's signature and no other's.
          const source = { 'key-1': k1, 'key-2': k2, unpublished, small }[expected.key];
          const data = new TextEncoder().encode('probe');
          const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', source.privateKey, data);
          expect(await crypto.subtle.verify('RSASSA-PKCS1-v1_5', result.value, signature, data)).toBe(true);
          expect(result.value.type).toBe('public');
        },
      ),
      1500,
    );
    // The generator must reach every outcome. ERR_OIDC_ID_TOKEN_INVALID (a usable-looking key the
    // registry still refuses) is the rarest: 13-40 of 1,500 runs were observed, so its floor is 5
    // (Poisson tail below 1e-3); the common outcomes keep a floor of 20.
    const floors: Record<string, number> = { key: 20, ERR_OIDC_JWKS_UNAVAILABLE: 20, ERR_OIDC_JWKS_NO_MATCHING_KEY: 20, ERR_OIDC_ID_TOKEN_INVALID: 5 };
    for (const [key, floor] of Object.entries(floors)) expect(seen.get(key) ?? 0, key).toBeGreaterThanOrEqual(floor);
  });
});
