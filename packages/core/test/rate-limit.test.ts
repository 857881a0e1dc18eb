import { describe, expect, it } from 'vitest';
import { isConcurrentLimit, parseRateLimitHeaders, retryAfterSeconds } from '../src/http/rate-limit';

const NOW_MS = 1_609_459_180_000; // reset 1609459200 is 20 s later

function headers(values: Record<string, string>): Headers {
  return new Headers(values);
}

describe('Okta X-Rate-Limit-* parsing', () => {
  it('reads the three headers (Okta docs example)', () => {
    const info = parseRateLimitHeaders(
      headers({ 'X-Rate-Limit-Limit': '1200', 'X-Rate-Limit-Remaining': '1199', 'X-Rate-Limit-Reset': '1609459200' }),
    );
    expect(info).toEqual({ limit: 1200, remaining: 1199, reset: 1609459200 });
  });

  it('tolerates surrounding whitespace', () => {
    expect(parseRateLimitHeaders(headers({ 'x-rate-limit-limit': ' 600 ' }))).toEqual({ limit: 600 });
  });

  it.each([
    ['garbage', 'abc'],
    ['negative', '-1'],
    ['exponent', '1e3'],
    ['hex', '0x10'],
    ['fraction', '1.5'],
    ['empty', ''],
    ['huge', '99999999999999999999'],
    ['beyond 1e9', '1000000001'],
  ])('ignores a %s value without throwing', (_label, value) => {
    expect(parseRateLimitHeaders(headers({ 'x-rate-limit-limit': value, 'x-rate-limit-remaining': value }))).toEqual({});
  });

  it('ignores a duplicated header (folded into "a, b" by Headers)', () => {
    const h = new Headers();
    h.append('x-rate-limit-remaining', '10');
    h.append('x-rate-limit-remaining', '9');
    h.append('x-rate-limit-reset', '1609459200');
    h.append('x-rate-limit-reset', '1609459260');
    expect(parseRateLimitHeaders(h)).toEqual({});
  });

  it('ignores an implausible or zero reset', () => {
    expect(parseRateLimitHeaders(headers({ 'x-rate-limit-reset': '0' }))).toEqual({});
    expect(parseRateLimitHeaders(headers({ 'x-rate-limit-reset': '99999999999' }))).toEqual({});
  });

  it('derives retryAfter from the reset, clamped to [1, 600] s', () => {
    expect(retryAfterSeconds({ reset: 1609459200 }, NOW_MS)).toBe(20);
    expect(retryAfterSeconds({ reset: 1609459200 }, NOW_MS + 19_500)).toBe(1);
    expect(retryAfterSeconds({ reset: 1609459000 }, NOW_MS)).toBe(1); // already past: clocks disagree
    expect(retryAfterSeconds({ reset: 1609459200 + 86_400 }, NOW_MS)).toBe(600);
    expect(retryAfterSeconds({}, NOW_MS)).toBe(1);
  });

  it('recognises the concurrent-limit 429 (limit and remaining both 0)', () => {
    expect(isConcurrentLimit({ limit: 0, remaining: 0, reset: 1 })).toBe(true);
    expect(isConcurrentLimit({ limit: 600, remaining: 0 })).toBe(false);
    expect(isConcurrentLimit({})).toBe(false);
  });
});
