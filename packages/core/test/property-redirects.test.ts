/**
 * Property-based tests for every redirect target that comes from a request:
 * `returnTo` (login), `target_link_uri` (third-party-initiated login) and the post-logout
 * redirect, against random URLs and the catalogue §2.5 open-redirect payloads.
 *
 * The invariant, judged the way a browser judges a `Location`: the result is the fallback, or a
 * path starting with a single `/` that, resolved with `new URL(result, base)` against the app's
 * origin (from several base URLs), stays on that origin.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sanitizeReturnTo } from '../src/authorize/return-to';
import type { Transaction } from '../src/authorize/transaction';
import { createSealer } from '../src/crypto/seal';
import { createOidcAuth } from '../src/flow/auth';
import type { OidcAuth, OidcRequest } from '../src/flow/types';
import { resolveInitiateLogin } from '../src/initiate/initiate-login';
import { buildLogoutUrl } from '../src/logout/build-logout-url';
import { createMemoryCredentialStore } from '../src/tenant/credential-store';
import { parseTenant, type TenantRecord } from '../src/tenant/tenant';
import { check, expectFailure, hostileString, OPEN_REDIRECT_PAYLOADS, outcome, printRunCounts, tally, withTimeout } from './support/properties';

const APP = 'https://app.example.com';
const ISSUER = 'https://acme.okta.com';
const SECRET = 'property-redirects-secret-0123456789-abcdef';
const FALLBACK = '/__fallback__';
const RECORD: TenantRecord = {
  id: 'acme',
  issuer: ISSUER,
  clientId: '0oa-acme',
  clientSecret: 'acme-client-secret',
  redirectUris: [`${APP}/auth/callback`],
  postLogoutRedirectUris: [`${APP}/`, `${APP}/signed-out`],
};

afterAll(() => printRunCounts('property-redirects.test.ts'));

/** Bases a browser may resolve a relative `Location` against on the app. */
const BASES = [`${APP}/`, `${APP}/auth/callback?code=x&state=y`, `${APP}/a/b/c/`, `${APP}/deep/path#frag`];

/** Fail unless `result` is the fallback or a same-origin path that starts with a single '/'. */
function expectSameOriginPath(result: string, fallback: string): void {
  if (result === fallback) return;
  expect(result.startsWith('/'), `not a path: ${JSON.stringify(result)}`).toBe(true);
  expect(['/', '\\'].includes(result[1] ?? ''), `protocol-relative: ${JSON.stringify(result)}`).toBe(false);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is checked.
  expect(/[\u0000-\u001F\u007F-\u009F\\]/.test(result), `control or backslash: ${JSON.stringify(result)}`).toBe(false);
  for (const base of BASES) {
    const resolved = new URL(result, base);
    expect(resolved.origin, `${JSON.stringify(result)} against ${base}`).toBe(APP);
    expect(resolved.username + resolved.password).toBe('');
  }
  // SA-10: the result must stay a single-slash path however often it is
  // percent-decoded (an app, a proxy or a framework router may decode it again).
  let decoded = result;
  for (let round = 0; round < 5; round++) {
    decoded = decoded.replace(/%([0-7][0-9A-Fa-f])/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    expect(['/', '\\'].includes(decoded[1] ?? ''), `decodes to a protocol-relative path: ${JSON.stringify(result)}`).toBe(false);
    expect(decoded.includes('\\'), `decodes to a backslash: ${JSON.stringify(result)}`).toBe(false);
  }
}

/** Payloads whose normalised output (dot-segments removed, %2e included) decodes to //evil.com (SA-10). */
const NORMALISED_OUTPUT_PAYLOADS = ['/%2e/%2fevil.com', '/x/../%2fevil.com', '/./%2f%2fevil.com', '/%2e/%252fevil.com'] as const;

/** Percent-encode some characters of a string (once or twice), as an attacker would to slip past a filter. */
const encodedVariant = (source: fc.Arbitrary<string>) =>
  fc.tuple(source, fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), fc.boolean()).map(([text, flags, twice]) =>
    [...text]
      .map((ch, i) => {
        if (!flags[i % flags.length] || ch.length !== 1 || ch.charCodeAt(0) > 0x7f) return ch;
        const once = `%${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
        return twice ? once.replace('%', '%25') : once;
      })
      .join(''),
  );

const payload = fc.constantFrom(...OPEN_REDIRECT_PAYLOADS, ...NORMALISED_OUTPUT_PAYLOADS);
/** Candidate redirect targets: payloads, mutated payloads, random URLs and paths, hostile text. */
const target = fc.oneof(
  { weight: 2, arbitrary: payload },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('', '/', '/.', '/./', '/..', '/a/..', ' ', '\t', '/%2e/', '/%2e%2e/'), payload).map(([p, x]) => `${p}${x}`) },
  // Dot-segments (plain or encoded) before an encoded slash or backslash: the SA-10 shape.
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('/%2e/', '/./', '/x/../', '/%2E%2E/', '/a/%2e%2e/', '/'),
        fc.constantFrom('%2f', '%2F', '%252f', '%25252f', '%5c', '%255C', '/'),
        fc.constantFrom('%2f', '%2F', '%252f', ''),
        fc.constantFrom('evil.com', 'evil.com/x?y=1', '@evil.com'),
      )
      .map(([dots, first, second, host]) => `${dots}${first}${second}${host}`),
  },
  { weight: 2, arbitrary: encodedVariant(payload) },
  { weight: 1, arbitrary: fc.mixedCase(payload) },
  { weight: 2, arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }) },
  { weight: 2, arbitrary: fc.webPath() },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('/', '//', '/\\', '\\', ''), hostileString()).map(([p, x]) => `${p}${x}`) },
  { weight: 2, arbitrary: encodedVariant(hostileString()) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
);
/** Plain safe paths: these must survive unchanged (a false reject is a bug too). */
const ALNUM = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-');
const plainPath = fc
  .tuple(
    fc.array(fc.string({ unit: ALNUM, minLength: 1, maxLength: 8 }), { maxLength: 5 }),
    fc.option(fc.tuple(fc.string({ unit: ALNUM, minLength: 1, maxLength: 5 }), fc.string({ unit: ALNUM, maxLength: 5 })), { nil: undefined }),
  )
  .map(([segments, query]) => `/${segments.join('/')}${query === undefined ? '' : `?${query[0]}=${query[1]}`}`);

describe('returnTo (sanitizeReturnTo)', () => {
  it('turns every §2.5 payload into the fallback', () => {
    for (const value of OPEN_REDIRECT_PAYLOADS) expect(sanitizeReturnTo(value, FALLBACK), value).toBe(FALLBACK);
  });

  it('turns every normalised-output payload into the fallback (SA-10)', () => {
    for (const value of NORMALISED_OUTPUT_PAYLOADS) expect(sanitizeReturnTo(value, FALLBACK), value).toBe(FALLBACK);
  });

  it('returns the fallback or a same-origin path for any input', async () => {
    await check(
      'returnTo: random URLs and §2.5 payloads',
      fc.asyncProperty(target, async (value) => {
        expectSameOriginPath(sanitizeReturnTo(value, FALLBACK), FALLBACK);
      }),
      5000,
    );
  });

  it('keeps plain same-origin paths unchanged', async () => {
    await check(
      'returnTo: plain paths kept',
      fc.asyncProperty(plainPath, async (value) => {
        expect(sanitizeReturnTo(value, FALLBACK)).toBe(value);
      }),
      1000,
    );
  });
});

// ---- through the flow layer: what the transaction cookie carries ----------------------------------

let auth: OidcAuth;
const sealer = createSealer([SECRET]);

function request(url: string, init: { method?: string; body?: string } = {}): OidcRequest {
  const headers = new Headers(init.body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' });
  return { method: init.method ?? 'GET', url: new URL(url), basePath: '', headers, readBody: async () => init.body ?? '' };
}

/** The returnTo sealed into the transaction cookie of a login response. */
async function sealedReturnTo(setCookies: string[]): Promise<string> {
  const cookie = setCookies.find((c) => c.startsWith('__Host-oin_tx_') && !/Max-Age=0/.test(c));
  expect(cookie).toBeDefined();
  const value = cookie!.slice(cookie!.indexOf('=') + 1, cookie!.indexOf(';'));
  const payload = await sealer.unseal<{ k: string; t: Transaction }>(value, 'transaction');
  return payload.t.returnTo;
}

beforeAll(() => {
  // No HTTP client is ever needed: login and initiate build URLs and cookies only. Any call fails the test.
  auth = createOidcAuth({
    store: [RECORD],
    session: { secret: SECRET },
    client: {
      allowLoopbackIssuers: true,
      http: async () => {
        throw new Error('unexpected network call');
      },
    },
  });
});

describe('returnTo through /auth/login', () => {
  it('seals only the fallback or a same-origin path into the transaction', async () => {
    await check(
      'returnTo: /auth/login transaction',
      fc.asyncProperty(target, async (value) => {
        const query = new URLSearchParams({ tenant: 'acme', returnTo: value });
        const response = await withTimeout(auth.handle(request(`${APP}/auth/login?${query}`)));
        expect(response?.status).toBe(302);
        expect(new URL(response!.headers['Location']!).origin).toBe(ISSUER);
        expectSameOriginPath(await sealedReturnTo(response!.setCookies), '/');
      }),
      1000,
    );
  });
});

describe('target_link_uri (third-party-initiated login)', () => {
  const store = createMemoryCredentialStore([RECORD]);
  /** Same-origin absolute URLs around the payloads, and look-alike origins. */
  const targetLink = fc.oneof(
    { weight: 3, arbitrary: target },
    { weight: 3, arbitrary: target.map((path) => `${APP}${path}`) },
    { weight: 1, arbitrary: target.map((path) => `${APP}/${path}`) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.constantFrom('https://app.example.com', 'https://APP.example.com', 'https://app.example.com:443', 'https://app.example.com.', 'https://user:pw@app.example.com', 'http://app.example.com', 'https://app.example.com.evil.com', 'https://evil.com#@app.example.com', 'https://app.example.com\\@evil.com', 'https:\\\\app.example.com'),
          fc.oneof(plainPath, target),
        )
        .map(([origin, path]) => `${origin}${path}`),
    },
  );

  it('yields no returnTo or a same-origin path; failures are typed', async () => {
    const seen = new Map<string, number>();
    await check(
      'target_link_uri: resolveInitiateLogin',
      fc.asyncProperty(
        targetLink,
        fc.constantFrom(ISSUER, `${ISSUER}/`, 'https://evil.com', '', 'http://acme.okta.com', ISSUER.toUpperCase()),
        fc.constantFrom('none', 'dup-target', 'tenant', 'bad-tenant'),
        async (link, iss, extra) => {
          const params = new URLSearchParams({ iss, target_link_uri: link });
          if (extra === 'dup-target') params.append('target_link_uri', `${APP}/`);
          if (extra === 'tenant') params.set('tenant', 'acme');
          if (extra === 'bad-tenant') params.set('tenant', 'other');
          const result = await outcome(() => resolveInitiateLogin(store, params, APP));
          tally(seen, result.ok ? (result.value.returnTo === undefined ? 'ignored' : 'kept') : result.error.code);
          if (!result.ok) {
            expect(['ERR_OIDC_INVALID_REQUEST', 'ERR_OIDC_DUPLICATE_PARAMETER', 'ERR_OIDC_TENANT_UNKNOWN']).toContain(result.error.code);
            return;
          }
          expect(iss).toBe(ISSUER);
          if (result.value.returnTo !== undefined) expectSameOriginPath(result.value.returnTo, FALLBACK);
        },
      ),
      3000,
    );
    for (const key of ['kept', 'ignored', 'ERR_OIDC_INVALID_REQUEST', 'ERR_OIDC_DUPLICATE_PARAMETER', 'ERR_OIDC_TENANT_UNKNOWN']) {
      expect(seen.get(key) ?? 0, key).toBeGreaterThan(10);
    }
  });

  it('through /auth/initiate (GET and POST), seals only "/" or a same-origin path', async () => {
    await check(
      'target_link_uri: /auth/initiate transaction',
      fc.asyncProperty(targetLink, fc.boolean(), async (link, post) => {
        const query = new URLSearchParams({ iss: ISSUER, target_link_uri: link });
        const response = post
          ? await withTimeout(auth.handle(request(`${APP}/auth/initiate`, { method: 'POST', body: query.toString() })))
          : await withTimeout(auth.handle(request(`${APP}/auth/initiate?${query}`)));
        expect(response?.status).toBe(302);
        expectSameOriginPath(await sealedReturnTo(response!.setCookies), '/');
      }),
      1000,
    );
  });
});

describe('post-logout redirect', () => {
  const tenant = parseTenant(RECORD);
  const hint = fc.oneof(
    fc.constant(undefined),
    fc.constant('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln'),
    hostileString({ maxLength: 10 }),
    fc.stringMatching(/^[A-Za-z0-9_-]{1,10}\.[A-Za-z0-9_-]{1,10}\.[A-Za-z0-9_-]{0,10}$/),
  );
  const state = fc.oneof(fc.constant(undefined), fc.string({ maxLength: 20 }), hostileString({ maxLength: 6 }), fc.constant('x'.repeat(513)));
  const postLogout = fc.oneof(fc.constant(undefined), fc.constantFrom(...RECORD.postLogoutRedirectUris!), target, target.map((p) => `${APP}${p}`));

  it('buildLogoutUrl goes only to the org logout endpoint, with a registered post_logout_redirect_uri', async () => {
    await check(
      'post-logout: buildLogoutUrl',
      fc.asyncProperty(hint, postLogout, state, async (idTokenHint, postLogoutRedirectUri, logoutState) => {
        const result = await outcome(() =>
          buildLogoutUrl(tenant, {
            ...(idTokenHint === undefined ? {} : { idTokenHint }),
            ...(postLogoutRedirectUri === undefined ? {} : { postLogoutRedirectUri }),
            ...(logoutState === undefined ? {} : { state: logoutState }),
          }),
        );
        if (!result.ok) {
          expect(['ERR_OIDC_REDIRECT_URI_NOT_REGISTERED', 'ERR_OIDC_INVALID_REQUEST']).toContain(result.error.code);
          return;
        }
        const url = result.value;
        expect(`${url.origin}${url.pathname}`).toBe(`${ISSUER}/oauth2/v1/logout`);
        expect(url.searchParams.getAll('post_logout_redirect_uri')).toHaveLength(1);
        expect(RECORD.postLogoutRedirectUris).toContain(url.searchParams.get('post_logout_redirect_uri'));
        if (postLogoutRedirectUri !== undefined) expect(url.searchParams.get('post_logout_redirect_uri')).toBe(postLogoutRedirectUri);
      }),
      3000,
    );
  });

  it('afterLogoutPath is refused at start-up unless it is a same-origin path, and logout redirects only there', async () => {
    const seen = new Map<string, number>();
    await check(
      'post-logout: afterLogoutPath option',
      fc.asyncProperty(fc.oneof(target, plainPath), async (path) => {
        const created = await outcome(() => createOidcAuth({ store: [RECORD], session: { secret: SECRET }, afterLogoutPath: path }));
        tally(seen, created.ok ? 'accepted' : created.error.code);
        if (!created.ok) {
          expect(created.error.code).toBe('ERR_OIDC_INVALID_OPTIONS');
          return;
        }
        const response = await withTimeout(created.value.handle(request(`${APP}/auth/logout`)));
        expect(response?.status).toBe(302);
        expectSameOriginPath(response!.headers['Location']!, '\u0000never');
      }),
      1000,
    );
    expect(seen.get('accepted') ?? 0).toBeGreaterThan(50);
    expect(seen.get('ERR_OIDC_INVALID_OPTIONS') ?? 0).toBeGreaterThan(50);
  });

  it('refuses every §2.5 payload as afterLogoutPath', async () => {
    for (const path of OPEN_REDIRECT_PAYLOADS) {
      await expectFailure(() => createOidcAuth({ store: [RECORD], session: { secret: SECRET }, afterLogoutPath: path }), ['ERR_OIDC_INVALID_OPTIONS']);
    }
  });
});
