/**
 * Property-based tests for the sealed transaction and session cookies, through the
 * flow layer against the Okta org emulator: arbitrary `Cookie` headers, real sealed cookies with
 * flipped, inserted or removed characters, truncation, values sealed for another purpose or with
 * another secret, random sealed payloads, and expiry.
 *
 * Model: a cookie opens only when it is byte-for-byte (after base64url decoding) what we sealed, for
 * its own purpose, with a payload of the right shape, and not expired. Everything else reads as "no
 * session" (with deletions) or fails the callback with a typed 400, with no call to Okta.
 */
import { type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSealer } from '../src/crypto/seal';
import { OIDC_ERROR_STATUS, type OidcErrorCode } from '../src/errors';
import { createOidcAuth } from '../src/flow/auth';
import type { OidcAuth, OidcRequest } from '../src/flow/types';
import { Browser, onlyDeletions, setCookieValues } from './support/browser';
import { check, hostileString, outcome, printRunCounts, tally, withTimeout } from './support/properties';

const APP = 'https://app.example.com';
const SECRET = 'property-cookies-secret-0123456789-abcdefgh';
const OTHER_SECRET = 'another-apps-secret-0123456789-abcdefghijk';
const USER = { login: 'alice@acme.example', password: 'pw', claims: { name: 'Alice', email: 'alice@acme.example' } };
const SESSION_NAME = /^__Host-oin_session(\.\d+)?$/;
const TX_NAME = /^__Host-oin_tx_/;
const HOUR = 3_600_000;

let org: OktaOrg;
let auth: OidcAuth;
let offsetMs = 0;
let calls = 0;
/** The real session cookies of one sign-in, and what they hold. */
let sessionCookies: Map<string, string>;
let sealedSession: string;
let sessionSub: string;
/** The real transaction cookie of one login, and its state. */
let txName: string;
let txValue: string;
let txState: string;

/**
 * The one clock of the sealers, the flow and the model. It runs during the sign-in in `beforeAll`
 * (the emulator stamps its ID token with real time) and is then frozen, so an expiry boundary is
 * where the model says it is, however slowly a loaded machine runs the properties.
 */
let frozenMs: number | undefined;
const now = () => (frozenMs ?? Date.now()) + offsetMs;

const sealer = createSealer([SECRET], { now });
const foreignSealer = createSealer([OTHER_SECRET]);

beforeAll(async () => {
  org = await startOktaOrg({
    clients: [{ clientId: 'app-acme', clientSecret: 'acme-client-secret', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [`${APP}/auth/callback`] }],
    users: [USER],
  });
  auth = createOidcAuth({
    store: [{ id: 'acme', issuer: org.issuer, clientId: 'app-acme', clientSecret: 'acme-client-secret', redirectUris: [`${APP}/auth/callback`] }],
    session: { secret: SECRET },
    client: {
      allowLoopbackIssuers: true,
      httpTimeoutMs: 5_000,
      now,
      http: (url, init) => {
        calls += 1;
        return fetch(url, init);
      },
    },
  });
  const browser = new Browser(auth);
  const signedIn = await browser.complete(await browser.send('GET', `${APP}/auth/login?tenant=acme`));
  expect(signedIn.status).toBe(302);
  sessionCookies = setCookieValues(signedIn.setCookies, SESSION_NAME);
  expect(sessionCookies.size).toBeGreaterThan(0);
  sealedSession = [...sessionCookies.values()].join('');
  const read = await auth.getSession(req(cookieHeader(sessionCookies)));
  expect(read.session).not.toBeNull();
  sessionSub = read.session!.sub;

  const login = await new Browser(auth).send('GET', `${APP}/auth/login?tenant=acme`);
  const tx = setCookieValues(login.setCookies, TX_NAME);
  expect(tx.size).toBe(1);
  [[txName, txValue]] = [...tx] as [[string, string]];
  txState = new URL(login.headers['Location']!).searchParams.get('state')!;
  frozenMs = Date.now();
});
afterAll(async () => {
  printRunCounts('property-cookies.test.ts');
  await org?.close();
});

function req(cookie: string | undefined, url = `${APP}/account`, headers: Record<string, string> = {}): OidcRequest {
  const h = new Headers(headers);
  if (cookie !== undefined) h.set('cookie', cookie);
  return { method: 'GET', url: new URL(url), basePath: '', headers: h, readBody: async () => '' };
}

function cookieHeader(cookies: Map<string, string>): string {
  return [...cookies].map(([n, v]) => `${n}=${v}`).join('; ');
}

/** Re-split a (mutated) sealed value into chunks with the original chunk boundaries. */
function rechunk(value: string): Map<string, string> {
  const names = [...sessionCookies.keys()];
  const sizes = [...sessionCookies.values()].map((v) => v.length);
  const result = new Map<string, string>();
  let offset = 0;
  names.forEach((name, i) => {
    const end = i === names.length - 1 ? value.length : offset + sizes[i]!;
    result.set(name, value.slice(offset, end));
    offset = end;
  });
  return result;
}

/**
 * The bytes a compact JWE denotes: each segment base64url-decoded (a non-canonical final character
 * may decode to the same bytes), or a marker when a segment is not base64url at all.
 */
function canonical(value: string): string {
  return value
    .split('.')
    .map((segment) => (/^[A-Za-z0-9_-]*$/.test(segment) && segment.length % 4 !== 1 ? Buffer.from(segment, 'base64url').toString('hex') : `!${segment}`))
    .join('.');
}

/**
 * What a server reads from a Cookie header (RFC 6265 §4.2.1, §5.4): pairs separated by ';', each
 * split at its first '=', the name and value without their surrounding whitespace (§5.2 step 5) and
 * a DQUOTE-wrapped value unwrapped (§4.1.1). So ' <genuine value>' is the genuine value, not a
 * tampered one, and a space or ';' that lands on a chunk's edge changes that chunk, not the joined
 * value. Every value of a name is kept, so a duplicate is visible.
 */
function readCookies(header: string): Map<string, string[]> {
  const read = new Map<string, string[]>();
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    const name = pair.slice(0, eq).trim();
    read.set(name, [...(read.get(name) ?? []), value]);
  }
  return read;
}

/**
 * The bytes the session cookies in `header` denote (each chunk read once, in order), or undefined
 * when a chunk is missing or sent twice, or a session cookie name we did not set is present.
 */
function sessionBytes(header: string): string | undefined {
  const read = readCookies(header);
  if ([...read.keys()].some((name) => SESSION_NAME.test(name) && !sessionCookies.has(name))) return undefined;
  const chunks = [...sessionCookies.keys()].map((name) => read.get(name));
  if (chunks.some((values) => values?.length !== 1)) return undefined;
  return canonical(chunks.map((values) => values![0]!).join(''));
}

/** The bytes of the one cookie `name` in `header`, or undefined when absent or sent twice. */
function cookieBytes(header: string, name: string): string | undefined {
  const values = readCookies(header).get(name);
  return values?.length === 1 ? canonical(values[0]!) : undefined;
}

const JWE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
const replacement = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...JWE_CHARS.split('')) },
  { weight: 1, arbitrary: fc.constantFrom('=', '+', '/', '!', ' ', '%', '"', ',', 'é', ';', '\u00ff') },
);
/** Mutations of a sealed value: flips, inserts, deletions, truncation, segment swaps, extensions. */
function mutate(original: string) {
  const position = fc.nat({ max: original.length - 1 });
  return fc.oneof(
    fc.tuple(position, replacement).map(([p, c]) => original.slice(0, p) + c + original.slice(p + 1)),
    fc.tuple(position, fc.array(replacement, { minLength: 1, maxLength: 3 })).map(([p, cs]) => original.slice(0, p) + cs.join('') + original.slice(p)),
    fc.tuple(position, fc.integer({ min: 1, max: 40 })).map(([p, n]) => original.slice(0, p) + original.slice(p + n)),
    position.map((p) => original.slice(0, p)),
    fc.constantFrom(0, 1, 2, 3, 4).chain((i) =>
      fc.constantFrom(0, 1, 2, 3, 4).map((j) => {
        const parts = original.split('.');
        [parts[i], parts[j]] = [parts[j]!, parts[i]!];
        return parts.join('.');
      }),
    ),
    fc.constantFrom('.', '.AAAA', 'A', '..', '.e30').map((s) => original + s),
    // The same bytes twice: flip every bit of one character then flip it back — i.e. the original.
    fc.constant(original),
  );
}

async function callbackWith(cookie: string | undefined, state = txState) {
  const query = new URLSearchParams({ code: 'not-a-real-code', state, iss: org.issuer });
  const before = calls;
  const response = await withTimeout(auth.handle(req(cookie, `${APP}/auth/callback?${query}`, { accept: 'application/json' })));
  return { response: response!, calls: calls - before };
}

function expectRefusedWithoutOkta(result: Awaited<ReturnType<typeof callbackWith>>, allowed: readonly string[]) {
  const body = JSON.parse(result.response.body ?? 'null') as { error: string };
  expect(allowed).toContain(body.error);
  expect(result.response.status).toBe(OIDC_ERROR_STATUS[body.error as OidcErrorCode]);
  expect(result.calls).toBe(0);
  expect(setCookieValues(result.response.setCookies, SESSION_NAME).size).toBe(0);
  expect(onlyDeletions(result.response.setCookies)).toBe(true);
}


describe('session cookie', () => {
  it('opens only when its bytes are exactly what was sealed; otherwise no session, deletions, never a throw', async () => {
    const seen = new Map<string, number>();
    await check(
      'session cookie: tampered sealed value',
      fc.asyncProperty(
        fc.constant(null).chain(() => mutate(sealedSession)),
        async (mutated) => {
          offsetMs = 0;
          const read = await withTimeout(auth.getSession(req(cookieHeader(rechunk(mutated)))));
          // A different spelling of the same bytes (non-zero unused bits in a final base64url
          // character) may open or not; different bytes must never open, the original always.
          const same = sessionBytes(cookieHeader(rechunk(mutated))) === canonical(sealedSession);
          tally(seen, read.session ? 'opened' : 'refused');
          if (read.session) {
            expect(same, 'a tampered cookie opened').toBe(true);
            expect(read.session.sub).toBe(sessionSub);
          } else {
            expect(mutated === sealedSession, 'the untouched cookie was refused').toBe(false);
            expect(read.setCookies.length).toBeGreaterThan(0);
            expect(onlyDeletions(read.setCookies)).toBe(true);
          }
          // The API guard answers 401 JSON without a session.
          const guarded = await withTimeout(auth.requireSession(req(cookieHeader(rechunk(mutated)), `${APP}/api/me`, { accept: 'application/json' })));
          expect('session' in guarded).toBe(read.session !== null);
          if ('response' in guarded) expect(guarded.response.status).toBe(401);
        },
      ),
      2000,
    );
    expect(seen.get('refused') ?? 0).toBeGreaterThan(1000);
    expect(seen.get('opened') ?? 0).toBeGreaterThan(10);
  });

  it('never opens from an arbitrary Cookie header (our names, random values, duplicates, chunk games)', async () => {
    const name = fc.constantFrom('__Host-oin_session', '__Host-oin_session.1', '__Host-oin_session.2', '__Host-oin_session.9', 'oin_session', '__Host-oin_tx_x', 'other');
    const value = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9_.-]{0,60}$/),
      hostileString({ maxLength: 6 }),
      mutate(sealedSession),
      fc.constant(txValue),
      fc.constantFrom(...sessionCookies.values()),
    );
    await check(
      'session cookie: arbitrary Cookie headers',
      fc.asyncProperty(fc.array(fc.tuple(name, value), { maxLength: 6 }), fc.option(hostileString(), { nil: undefined }), async (pairs, raw) => {
        const header = raw ?? pairs.map(([n, v]) => `${n}=${v}`).join('; ');
        let h: Headers;
        try {
          h = new Headers({ cookie: header });
        } catch {
          return; // not sendable as a header
        }
        const sent = h.get('cookie') ?? undefined;
        const read = await withTimeout(auth.getSession(req(sent)));
        // The only way to open is the genuine, complete, single-copy chunk set.
        const genuine = raw === undefined && sent !== undefined && sessionBytes(sent) === canonical(sealedSession);
        if (read.session) expect(genuine, 'opened from a forged header').toBe(true);
        expect(onlyDeletions(read.setCookies) || read.session !== null).toBe(true);
      }),
      2000,
    );
  });

  it('follows the expiry model: rolling window, absolute lifetime, never past either', async () => {
    const issued = (await auth.getSession(req(cookieHeader(sessionCookies)))).session!;
    await check(
      'session cookie: expiry',
      fc.asyncProperty(fc.integer({ min: -2 * HOUR, max: 9 * 24 * HOUR }), async (offset) => {
        offsetMs = offset;
        try {
          const read = await withTimeout(auth.getSession(req(cookieHeader(sessionCookies))));
          const at = now();
          // Within a few seconds of the boundary either answer is fine (the sealed exp has 1 s resolution).
          if (Math.abs(at - issued.expiresAt) < 5_000) return;
          if (at < issued.expiresAt) {
            expect(read.session?.sub).toBe(sessionSub);
            expect(read.session!.expiresAt).toBeLessThanOrEqual(issued.issuedAt + 7 * 24 * HOUR);
          } else {
            expect(read.session).toBeNull();
            expect(onlyDeletions(read.setCookies)).toBe(true);
          }
        } finally {
          offsetMs = 0;
        }
      }),
      1000,
    );
  });

  /** Near-sessions: every field right, wrong or missing. */
  const field = <T>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: good.map((v) => ({ v })) }, { weight: 1, arbitrary: fc.constantFrom({ v: undefined }, { v: null }, { v: 7 }, { v: 'x' }, { v: [] }, { v: {} }) });
  const nearSession = fc.record({
    k: fc.oneof({ weight: 4, arbitrary: fc.constant('session') }, { weight: 1, arbitrary: fc.constantFrom('ref', 'tx', 'Session', undefined) }),
    id: field(fc.string({ minLength: 1, maxLength: 10 })),
    tenant: field(fc.constant('acme')),
    // The tenant record's issuer and client id, or another org's / app's (SA-14: never accepted).
    // Mostly right, so enough near-sessions open for the distribution check below.
    issuer: fc.oneof({ weight: 12, arbitrary: fc.constant({ v: 'ISSUER' as unknown }) }, { weight: 1, arbitrary: fc.constantFrom({ v: 'https://other.okta.example' }, { v: undefined }, { v: 7 }) }),
    clientId: fc.oneof({ weight: 12, arbitrary: fc.constant({ v: 'app-acme' as unknown }) }, { weight: 1, arbitrary: fc.constantFrom({ v: 'app-other' }, { v: undefined }, { v: null }) }),
    sub: field(fc.string({ minLength: 1, maxLength: 10 })),
    claims: field(fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 })),
    issuedAt: field(fc.integer({ min: -10 * 24 * HOUR, max: HOUR }).map((d) => now() + d)),
    expiresAt: field(fc.integer({ min: -HOUR, max: 30 * HOUR }).map((d) => now() + d)),
    idToken: fc.oneof(fc.constant({ v: undefined }), field(fc.constant('a.b.c'))),
  });

  it('opens a sealed payload only when it is a live session sealed for the session purpose with our secret', async () => {
    const seen = new Map<string, number>();
    await check(
      'session cookie: other-purpose, foreign and random sealed payloads',
      fc.asyncProperty(nearSession, fc.constantFrom('session', 'transaction', 'foreign'), fc.integer({ min: 1, max: 40 * 3600 }), async (near, purpose, ttl) => {
        const s: Record<string, unknown> = {};
        for (const key of ['id', 'tenant', 'issuer', 'clientId', 'sub', 'claims', 'issuedAt', 'expiresAt', 'idToken'] as const) {
          const { v } = near[key] as { v: unknown };
          if (v !== undefined) s[key] = v === 'ISSUER' ? org.issuer : v;
        }
        const payload = { k: near.k, s };
        const sealed = purpose === 'foreign' ? await foreignSealer.seal(payload, 'session', ttl) : await sealer.seal(payload, purpose, ttl);
        const read = await withTimeout(auth.getSession(req(`__Host-oin_session=${sealed}`)));
        const at = now();
        const wellTyped =
          typeof s['id'] === 'string' && s['tenant'] === 'acme' && typeof s['sub'] === 'string' &&
          s['issuer'] === org.issuer && s['clientId'] === 'app-acme' &&
          typeof s['claims'] === 'object' && s['claims'] !== null && !Array.isArray(s['claims']) &&
          typeof s['issuedAt'] === 'number' && typeof s['expiresAt'] === 'number' && (s['idToken'] === undefined || typeof s['idToken'] === 'string');
        const live = wellTyped && (s['expiresAt'] as number) > at + 2_000 && at - (s['issuedAt'] as number) < 7 * 24 * HOUR - 2_000;
        const expected = purpose === 'session' && near.k === 'session' && live;
        const borderline = wellTyped && (Math.abs((s['expiresAt'] as number) - at) < 2_000 || Math.abs(at - (s['issuedAt'] as number) - 7 * 24 * HOUR) < 2_000);
        tally(seen, read.session ? 'opened' : 'refused');
        if (!borderline) expect(read.session !== null, JSON.stringify(payload)).toBe(expected);
        if (read.session) expect(read.session.sub).toBe(s['sub']);
      }),
      2000,
    );
    expect(seen.get('opened') ?? 0).toBeGreaterThan(50);
    expect(seen.get('refused') ?? 0).toBeGreaterThan(500);
  });
});

describe('transaction cookie', () => {
  it('a tampered transaction cookie fails the callback before any call to Okta', async () => {
    const seen = new Map<string, number>();
    await check(
      'transaction cookie: tampered sealed value',
      fc.asyncProperty(fc.constant(null).chain(() => mutate(txValue)), async (mutated) => {
        const result = await callbackWith(`${txName}=${mutated}`);
        const body = JSON.parse(result.response.body ?? 'null') as { error: string };
        if (cookieBytes(`${txName}=${mutated}`, txName) === canonical(txValue) && (mutated === txValue || body.error !== 'ERR_OIDC_TRANSACTION_INVALID')) {
          // Genuine: the callback goes on to redeem the (fake) code, which Okta refuses.
          tally(seen, 'genuine');
          expect(result.response.status).toBe(400);
          expect(JSON.parse(result.response.body!).error).toBe('ERR_OIDC_TOKEN_ENDPOINT_ERROR');
          expect(setCookieValues(result.response.setCookies, SESSION_NAME).size).toBe(0);
          return;
        }
        tally(seen, 'tampered');
        expectRefusedWithoutOkta(result, ['ERR_OIDC_TRANSACTION_INVALID']);
      }),
      2000,
    );
    expect(seen.get('genuine') ?? 0).toBeGreaterThan(10);
  });

  it('an arbitrary Cookie header or state fails the callback with a typed 400 and no call to Okta', async () => {
    const value = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.-]{0,60}$/), hostileString({ maxLength: 6 }), fc.constant(sealedSession), fc.constant(txValue));
    const name = fc.oneof(fc.constant(txName), fc.constant('__Host-oin_tx_AAAAAAAA'), fc.constant('oin_tx_x'), fc.constant('__Host-oin_session'));
    const state = fc.oneof(fc.constant(txState), fc.stringMatching(/^[A-Za-z0-9_-]{0,50}$/), hostileString({ maxLength: 5 }));
    await check(
      'transaction cookie: arbitrary Cookie headers and states',
      fc.asyncProperty(fc.array(fc.tuple(name, value), { maxLength: 4 }), state, async (pairs, st) => {
        const header = pairs.map(([n, v]) => `${n}=${v}`).join('; ');
        try {
          new Headers({ cookie: header });
        } catch {
          return;
        }
        const genuine = st === txState && pairs.filter(([n]) => n === txName).length === 1 && pairs.some(([n, v]) => n === txName && v === txValue);
        const result = await callbackWith(header === '' ? undefined : header, st);
        if ((await withTimeout(auth.getSession(req(header === '' ? undefined : header)))).session !== null && result.response.status === 302) {
          // A stale or replayed callback while signed in goes home, reprocessing nothing (CB-03, CB-08).
          expect(result.response.headers['Location']).toBe('/');
          expect(result.calls).toBe(0);
          expect(onlyDeletions(result.response.setCookies)).toBe(true);
          return;
        }
        if (genuine) {
          expect(JSON.parse(result.response.body!).error).toBe('ERR_OIDC_TOKEN_ENDPOINT_ERROR');
          return;
        }
        expectRefusedWithoutOkta(result, ['ERR_OIDC_TRANSACTION_INVALID', 'ERR_OIDC_STATE_MISMATCH', 'ERR_OIDC_STATE_MISSING', 'ERR_OIDC_TRANSACTION_EXPIRED']);
      }),
      2000,
    );
  });

  it('reads the genuine value with whitespace around it as the genuine value, not as tampering (RFC 6265 §5.2 step 5)', async () => {
    // The case a generator once produced: ' <genuine value>'. The callback goes on to the token
    // endpoint (which refuses the fake code), exactly as for the untouched cookie.
    for (const cookie of [`${txName}= ${txValue}`, `${txName}=${txValue} `, `${txName}=\t${txValue}`]) {
      const result = await callbackWith(cookie);
      expect(JSON.parse(result.response.body!).error).toBe('ERR_OIDC_TOKEN_ENDPOINT_ERROR');
    }
  });

  it('a session cookie or a foreign seal presented as the transaction is refused', async () => {
    const foreign = await foreignSealer.seal({ k: 'tx', t: {} }, 'transaction', 600);
    for (const value of [sealedSession, foreign, [...sessionCookies.values()][0]!]) {
      expectRefusedWithoutOkta(await callbackWith(`${txName}=${value}`), ['ERR_OIDC_TRANSACTION_INVALID']);
    }
  });

  it('expires after 10 minutes: ERR_OIDC_TRANSACTION_EXPIRED without a call to Okta', async () => {
    await check(
      'transaction cookie: expiry',
      // From 5 s past the 10-minute TTL (the sealed exp has 1 s resolution) to hours later.
      fc.asyncProperty(fc.integer({ min: 605_000, max: 3 * HOUR }), async (offset) => {
        offsetMs = offset;
        try {
          expectRefusedWithoutOkta(await callbackWith(`${txName}=${txValue}`), ['ERR_OIDC_TRANSACTION_EXPIRED']);
        } finally {
          offsetMs = 0;
        }
      }),
      1000,
    );
  });

  it('random sealed transactions are used only when fully valid for this tenant, state and method', async () => {
    const token = fc.stringMatching(/^[A-Za-z0-9_-]{43,50}$/);
    const near = fc.record({
      k: fc.oneof({ weight: 5, arbitrary: fc.constant('tx') }, { weight: 1, arbitrary: fc.constantFrom('session', undefined) }),
      state: fc.oneof({ weight: 5, arbitrary: fc.constant(txState) }, { weight: 1, arbitrary: token }),
      nonce: fc.oneof({ weight: 5, arbitrary: token }, { weight: 1, arbitrary: fc.constantFrom('short', 7) }),
      codeVerifier: fc.oneof({ weight: 5, arbitrary: token }, { weight: 1, arbitrary: fc.constantFrom('x', '') }),
      tenantId: fc.oneof({ weight: 5, arbitrary: fc.constant('acme') }, { weight: 1, arbitrary: fc.constantFrom('other', '') }),
      redirectUri: fc.oneof({ weight: 5, arbitrary: fc.constant(`${APP}/auth/callback`) }, { weight: 1, arbitrary: fc.constantFrom('https://evil.com/cb', '') }),
      returnTo: fc.oneof({ weight: 5, arbitrary: fc.constant('/home') }, { weight: 1, arbitrary: fc.constantFrom('//evil.com', 'https://evil.com') }),
      responseMode: fc.constantFrom(undefined, 'query', 'form_post', 'fragment'),
      createdAt: fc.oneof({ weight: 5, arbitrary: fc.constant(now()) }, { weight: 1, arbitrary: fc.constantFrom(now() - 3_600_000, -1, 1.5) }),
      extra: fc.constantFrom(undefined, 'x'),
    });
    const seen = new Map<string, number>();
    await check(
      'transaction cookie: random sealed transactions',
      fc.asyncProperty(near, async ({ k, extra, ...t }) => {
        const transaction: Record<string, unknown> = { ...t };
        if (transaction['responseMode'] === undefined) delete transaction['responseMode'];
        if (extra !== undefined) transaction['extra'] = extra;
        const sealed = await sealer.seal({ k, t: transaction }, 'transaction', 600);
        const result = await callbackWith(`${txName}=${sealed}`);
        const valid =
          k === 'tx' && t.state === txState && typeof t.nonce === 'string' && t.nonce.length >= 43 && t.codeVerifier.length >= 43 &&
          t.tenantId === 'acme' && t.redirectUri === `${APP}/auth/callback` && t.returnTo.startsWith('/') && // the redirect re-sanitises it
          
          (t.responseMode === undefined || t.responseMode === 'query') && Number.isInteger(t.createdAt) && t.createdAt >= 0 &&
          now() - t.createdAt < 600_000 && extra === undefined;
        const body = JSON.parse(result.response.body ?? 'null') as { error: string };
        tally(seen, valid ? 'valid' : 'invalid');
        if (valid) {
          expect(body.error).toBe('ERR_OIDC_TOKEN_ENDPOINT_ERROR');
          return;
        }
        expect(result.calls, body.error).toBe(0);
        // An unknown tenantId in a genuine seal is a 404 (the tenant was removed since the login).
        expectRefusedWithoutOkta(result, ['ERR_OIDC_TRANSACTION_INVALID', 'ERR_OIDC_TRANSACTION_EXPIRED', 'ERR_OIDC_STATE_MISMATCH', 'ERR_OIDC_CALLBACK_INVALID', 'ERR_OIDC_TENANT_UNKNOWN']);
      }),
      1000,
    );
    expect(seen.get('valid') ?? 0).toBeGreaterThan(20);
  });
});

describe('no cookie reader ever throws', () => {
  it('getSession, requireSession and the callback answer for any Cookie header', async () => {
    await check(
      'cookies: any header through every reader',
      fc.asyncProperty(hostileString({ maxLength: 80 }), async (header) => {
        let value: string | null;
        try {
          value = new Headers({ cookie: header }).get('cookie');
        } catch {
          return;
        }
        const cookie = value ?? undefined;
        const read = await outcome(() => auth.getSession(req(cookie)));
        expect(read.ok && read.value.session).toBe(null);
        const guarded = await outcome(() => auth.requireSession(req(cookie)));
        expect(guarded.ok && 'response' in guarded.value).toBe(true);
        const callback = await callbackWith(cookie);
        expectRefusedWithoutOkta(callback, ['ERR_OIDC_TRANSACTION_INVALID', 'ERR_OIDC_STATE_MISMATCH']);
      }),
      1000,
    );
  });
});
