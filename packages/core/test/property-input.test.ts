/**
 * Property-based tests for the pure parsers of untrusted request input: callback
 * parameters (query and form body), the `Cookie` header, and Okta's `X-Rate-Limit-*` headers.
 * Each property compares the parser with an independent model of what it must accept; everything
 * else must be a typed OidcError with a documented code whose reason actually holds.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_CALLBACK_SIZE, MAX_CALLBACK_VALUE_LENGTH, parseCallbackParams } from '../src/callback/parse-callback';
import { INVALID_COOKIE, MAX_COOKIE_HEADER_LENGTH, parseCookies } from '../src/cookies';
import type { OidcErrorCode } from '../src/errors';
import { MAX_BODY_BYTES } from '../src/flow/body-limit';
import { fromWebRequest } from '../src/flow/web';
import { isConcurrentLimit, parseRateLimitHeaders, RETRY_AFTER_MAX_SEC, RETRY_AFTER_MIN_SEC, retryAfterSeconds } from '../src/http/rate-limit';
import { check, hostileString, outcome, printRunCounts, rateLimitValue, sometimesHuge, tally } from './support/properties';

afterAll(() => printRunCounts('property-input.test.ts'));

// ---- callback parameters ------------------------------------------------------------------------

const CALLBACK = 'https://app.example.com/auth/callback';
const FORM = 'application/x-www-form-urlencoded';

const paramName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('state', 'code', 'iss', 'error', 'error_description', 'id_token', 'session_state', '__proto__', 'constructor', 'toString', 'hasOwnProperty') },
  { weight: 2, arbitrary: hostileString({ maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 120, maxLength: 140 }) },
);
const paramValue = sometimesHuge(hostileString(), [MAX_CALLBACK_VALUE_LENGTH, MAX_CALLBACK_VALUE_LENGTH + 1, 40_000, MAX_CALLBACK_SIZE + 10]);
const entries = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.tuple(paramName, paramValue), { maxLength: 8 }) },
  // Many parameters: around the 64-parameter cap.
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 70 }).map((n) => Array.from({ length: n }, (_, i) => [`p${i}`, 'v'] as [string, string])) },
);

/** encodeURIComponent, or the raw text for a lone surrogate (which it refuses). */
function safeEncode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A raw query or body: a serialisation of entries, percent-encoding garbage, or both. */
const rawEncoded = fc.oneof(
  { weight: 4, arbitrary: entries.map((list) => new URLSearchParams(list).toString()) },
  { weight: 2, arbitrary: hostileString({ maxLength: 30 }) },
  {
    weight: 2,
    arbitrary: fc.tuple(entries, hostileString({ maxLength: 10 }), fc.boolean()).map(([list, garbage, first]) => {
      const encoded = new URLSearchParams(list).toString();
      return first ? `${garbage}&${encoded}` : `${encoded}&${garbage}`;
    }),
  },
  // The same name twice, with raw (not re-encoded) values.
  { weight: 1, arbitrary: fc.tuple(paramName, hostileString(), hostileString()).map(([n, a, b]) => `${safeEncode(n)}=${a}&${safeEncode(n)}=${b}`) },
);

const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('GET', 'POST', 'get', 'post', 'Post') },
  { weight: 1, arbitrary: fc.constantFrom('PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', '', 'GET ', 'CONNECT') },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(FORM, `${FORM}; charset=utf-8`, 'APPLICATION/X-WWW-FORM-URLENCODED', ` ${FORM} ;x=y`) },
  { weight: 2, arbitrary: fc.constantFrom('text/plain', 'multipart/form-data; boundary=x', 'application/json', `${FORM}x`, '', undefined) },
  { weight: 1, arbitrary: hostileString({ maxLength: 5 }) },
);

/** Why a callback must be refused, from the raw inputs (order-independent). */
function callbackViolations(m: string, url: URL, body: string, type: string | undefined): Set<OidcErrorCode> {
  const found = new Set<OidcErrorCode>();
  const upper = m.toUpperCase();
  if (url.search.length > MAX_CALLBACK_SIZE) found.add('ERR_OIDC_PAYLOAD_TOO_LARGE');
  const inspect = (list: [string, string][]) => {
    if (list.length > 64) found.add('ERR_OIDC_CALLBACK_INVALID');
    const names = new Set<string>();
    for (const [name, value] of list) {
      if (name.length > 128) found.add('ERR_OIDC_CALLBACK_INVALID');
      if (value.length > MAX_CALLBACK_VALUE_LENGTH) found.add('ERR_OIDC_PAYLOAD_TOO_LARGE');
      if (names.has(name)) found.add('ERR_OIDC_DUPLICATE_PARAMETER');
      names.add(name);
    }
    return names;
  };
  if (upper === 'GET') {
    inspect([...url.searchParams]);
  } else if (upper === 'POST') {
    const media = (type ?? '').split(';')[0]!.trim().toLowerCase();
    if (media !== FORM) found.add('ERR_OIDC_CALLBACK_INVALID');
    if (body.length > MAX_CALLBACK_SIZE) found.add('ERR_OIDC_PAYLOAD_TOO_LARGE');
    const inBody = inspect([...new URLSearchParams(body)]);
    const inQuery = inspect([...url.searchParams]);
    for (const name of inQuery) if (inBody.has(name)) found.add('ERR_OIDC_DUPLICATE_PARAMETER');
  } else {
    found.add('ERR_OIDC_METHOD_NOT_ALLOWED');
  }
  return found;
}

describe('callback parameters (parseCallbackParams)', () => {
  it('accepts exactly the callbacks without a violation, returning their non-empty parameters; refuses the rest with a code whose reason holds', async () => {
    const seen = new Map<string, number>();
    await check(
      'callback parameters: query and form body',
      fc.asyncProperty(method, rawEncoded, rawEncoded, contentType, async (m, query, body, type) => {
        const url = new URL(`${CALLBACK}?${query}`);
        const violations = callbackViolations(m, url, body, type);
        const result = await outcome(() =>
          parseCallbackParams({ method: m, url, body, ...(type === undefined ? {} : { contentType: type }) }),
        );
        tally(seen, result.ok ? 'success' : result.error.code);
        if (!result.ok) {
          expect(violations.has(result.error.code), `${result.error.code} without its reason`).toBe(true);
          return;
        }
        expect([...violations]).toEqual([]);
        const params = result.value;
        // No prototype: "__proto__" or "constructor" are just names.
        expect(Object.getPrototypeOf(params)).toBeNull();
        const source = m.toUpperCase() === 'GET' ? [...url.searchParams] : [...new URLSearchParams(body)];
        const expected = Object.fromEntries(source.filter(([, value]) => value !== ''));
        expect({ ...params }).toEqual(expected);
        for (const value of Object.values(params)) expect(value.length).toBeLessThanOrEqual(MAX_CALLBACK_VALUE_LENGTH);
      }),
      3000,
    );
    // The generators reach every outcome (a property that never succeeds proves little).
    for (const key of ['success', 'ERR_OIDC_DUPLICATE_PARAMETER', 'ERR_OIDC_PAYLOAD_TOO_LARGE', 'ERR_OIDC_CALLBACK_INVALID', 'ERR_OIDC_METHOD_NOT_ALLOWED']) {
      expect(seen.get(key) ?? 0, key).toBeGreaterThan(30);
    }
  });
});

// ---- the Cookie header ----------------------------------------------------------------------------

const OUR_NAMES = ['oin_session', 'oin_session.1', 'oin_session.2', 'oin_tx_abcdEF12', '__Host-oin_session', '__Host-oin_tx_abcdEF12'];
const cookieName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...OUR_NAMES) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.-]{1,10}$/) },
  { weight: 1, arbitrary: hostileString({ maxLength: 4 }).filter((s) => !s.includes(';')) },
);
const cookieValueArb = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.-]{0,40}$/) },
  { weight: 2, arbitrary: hostileString({ maxLength: 6 }).filter((s) => !s.includes(';')) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{0,20}$/).map((v) => `"${v}"`) },
  { weight: 1, arbitrary: fc.constantFrom(4096, 4097, 5000).map((n) => 'A'.repeat(n)) },
);
const separator = fc.constantFrom('; ', ';', ' ;  ', ';\t');

/** The expected cookie map of a header made of `pairs` (RFC 6265 §5.4, our narrowed alphabet). */
function cookieModel(pairs: [string, string][], accept: (name: string) => boolean) {
  const expected = new Map<string, string | typeof INVALID_COOKIE>();
  for (const [rawName, rawValue] of pairs) {
    const name = rawName.trim();
    if (!/^[A-Za-z0-9_.-]{1,128}$/.test(name) || !accept(name)) continue;
    let value = rawValue.trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    const valid = value.length <= 4096 && /^[A-Za-z0-9_.-]*$/.test(value);
    expected.set(name, expected.has(name) || !valid ? INVALID_COOKIE : value);
  }
  return expected;
}

describe('Cookie header (parseCookies)', () => {
  const accept = (name: string) => name.includes('oin_');

  it('never throws on arbitrary headers, and yields only our names with in-alphabet values or INVALID_COOKIE', async () => {
    await check(
      'Cookie header: arbitrary strings',
      fc.asyncProperty(sometimesHuge(hostileString({ maxLength: 60 }), [MAX_COOKIE_HEADER_LENGTH, MAX_COOKIE_HEADER_LENGTH + 1]), async (header) => {
        const parsed = parseCookies(header, accept);
        if (header.length > MAX_COOKIE_HEADER_LENGTH) expect(parsed.size).toBe(0);
        for (const [name, value] of parsed) {
          expect(accept(name) && /^[A-Za-z0-9_.-]{1,128}$/.test(name)).toBe(true);
          if (value !== INVALID_COOKIE) expect(value).toMatch(/^[A-Za-z0-9_.-]{0,4096}$/);
        }
      }),
      3000,
    );
  });

  it('matches the RFC 6265 model on structured headers: duplicates and malformed values are INVALID_COOKIE', async () => {
    await check(
      'Cookie header: structured pairs vs model',
      fc.asyncProperty(fc.array(fc.tuple(cookieName, cookieValueArb, separator, fc.constantFrom('', ' ')), { maxLength: 8 }), async (pairs) => {
        const header = pairs.map(([n, v, sep, pad], i) => `${i === 0 ? '' : sep}${pad}${n}=${v}`).join('');
        const parsed = parseCookies(header, accept);
        expect(new Map(parsed)).toEqual(cookieModel(pairs.map(([n, v]) => [n, v]), accept));
      }),
      3000,
    );
  });
});

// ---- X-Rate-Limit-* ------------------------------------------------------------------------------

const optionalValue = fc.option(rateLimitValue, { nil: undefined });

function countModel(raw: string | undefined, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = raw.trim();
  if (!/^[0-9]{1,11}$/.test(value)) return undefined;
  const n = Number(value);
  return n <= max ? n : undefined;
}

describe('X-Rate-Limit-* headers (parseRateLimitHeaders)', () => {
  it('keeps exactly the plain in-range integers and always derives a Retry-After within bounds', async () => {
    await check(
      'X-Rate-Limit-* parsing',
      fc.asyncProperty(optionalValue, optionalValue, optionalValue, fc.integer({ min: 0, max: 2 ** 40 }), async (limit, remaining, reset, nowMs) => {
        const headers = new Headers();
        if (limit !== undefined) headers.set('x-rate-limit-limit', limit);
        if (remaining !== undefined) headers.set('X-Rate-Limit-Remaining', remaining);
        if (reset !== undefined) headers.set('x-rate-limit-reset', reset);
        const info = parseRateLimitHeaders(headers);
        // Headers trims leading/trailing whitespace itself; the model sees what a server sent.
        expect(info.limit).toBe(countModel(limit, 1_000_000_000));
        expect(info.remaining).toBe(countModel(remaining, 1_000_000_000));
        const expectedReset = countModel(reset, 10_000_000_000);
        expect(info.reset).toBe(expectedReset === 0 ? undefined : expectedReset);
        const retryAfter = retryAfterSeconds(info, nowMs);
        expect(Number.isInteger(retryAfter)).toBe(true);
        expect(retryAfter).toBeGreaterThanOrEqual(RETRY_AFTER_MIN_SEC);
        expect(retryAfter).toBeLessThanOrEqual(RETRY_AFTER_MAX_SEC);
        expect(isConcurrentLimit(info)).toBe(info.limit === 0 && info.remaining === 0);
      }),
      5000,
    );
  });
});

// ---- request bodies (fromWebRequest) --------------------------------------------------------------

describe('request bodies (fromWebRequest readBody)', () => {
  it('reads a body up to the cap whatever Content-Length claims, and refuses a larger one with ERR_OIDC_PAYLOAD_TOO_LARGE', async () => {
    const seen = new Map<string, number>();
    await check(
      'request bodies: size caps and Content-Length',
      fc.asyncProperty(
        fc.oneof(fc.nat({ max: 2048 }), fc.constantFrom(MAX_BODY_BYTES - 1, MAX_BODY_BYTES, MAX_BODY_BYTES + 1, 200_000)),
        fc.option(fc.oneof(fc.nat({ max: 300_000 }).map(String), fc.constantFrom('abc', '-1', '1e9', '', ' 10', '0x10', '99999999999999999999')), { nil: undefined }),
        fc.constantFrom('a', 'é', '%'),
        fc.boolean(),
        async (size, declared, ch, chunked) => {
          const text = ch.repeat(Math.ceil(size / new TextEncoder().encode(ch).length));
          const bytes = new TextEncoder().encode(text);
          const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded' });
          if (declared !== undefined) headers.set('content-length', declared);
          const body = chunked
            ? new ReadableStream<Uint8Array>({
                start(controller) {
                  for (let i = 0; i < bytes.length; i += 1000) controller.enqueue(bytes.subarray(i, i + 1000));
                  controller.close();
                },
              })
            : bytes;
          const request = new Request('https://app.example.com/auth/callback', { method: 'POST', headers, body, ...(chunked ? { duplex: 'half' } : {}) } as RequestInit);
          const result = await outcome(() => fromWebRequest(request).readBody());
          tally(seen, result.ok ? 'read' : result.error.code);
          const declaredTooLarge = declared !== undefined && Number(declared) > MAX_BODY_BYTES;
          if (bytes.byteLength > MAX_BODY_BYTES || declaredTooLarge) {
            expect(result.ok).toBe(false);
            if (!result.ok) expect(result.error.code).toBe('ERR_OIDC_PAYLOAD_TOO_LARGE');
          } else {
            expect(result.ok && result.value).toBe(text);
          }
        },
      ),
      1000,
    );
    expect(seen.get('read') ?? 0).toBeGreaterThan(100);
    expect(seen.get('ERR_OIDC_PAYLOAD_TOO_LARGE') ?? 0).toBeGreaterThan(50);
  });
});
