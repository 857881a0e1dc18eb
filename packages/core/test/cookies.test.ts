import { describe, expect, it } from 'vitest';
import { cookieValue, deleteCookie, INVALID_COOKIE, MAX_COOKIE_HEADER_LENGTH, parseCookies, serializeCookie } from '../src/cookies';

const ours = (name: string) => name === 'oin_session' || name.startsWith('oin_session.') || name.startsWith('oin_tx_');

describe('serializeCookie', () => {
  it('writes name, value and every attribute, with no Domain (host-only)', () => {
    const header = serializeCookie('oin_session', 'abc.DEF-_', { maxAge: 60, httpOnly: true, secure: true, sameSite: 'Lax' });
    expect(header).toBe('oin_session=abc.DEF-_; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax');
    expect(header.toLowerCase()).not.toContain('domain');
  });

  it('defaults to HttpOnly and Path=/, and floors Max-Age', () => {
    expect(serializeCookie('a', 'b', { maxAge: 1.9 })).toBe('a=b; Path=/; Max-Age=1; HttpOnly');
  });

  it('deletes with Max-Age=0 and an Expires in the past, keeping path and flags', () => {
    const header = deleteCookie('oin_tx_abc', { secure: true, sameSite: 'None' });
    expect(header).toBe('oin_tx_abc=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=None');
  });

  it.each([
    ['a;b', 'v'],
    ['a b', 'v'],
    ['', 'v'],
    ['a', 'v;Domain=evil.com'],
    ['a', 'v w'],
    ['a', 'v\r\nSet-Cookie: x=y'],
    ['a', '"quoted"'],
  ])('refuses the name %j / value %j outside the base64url/JWE alphabet', (name, value) => {
    expect(() => serializeCookie(name, value)).toThrow(TypeError);
  });

  it('refuses a path that could inject attributes', () => {
    expect(() => serializeCookie('a', 'b', { path: '/x; Domain=evil.com' })).toThrow(TypeError);
    expect(() => serializeCookie('a', 'b', { path: 'relative' })).toThrow(TypeError);
  });
});

describe('parseCookies', () => {
  it('finds our cookies and ignores others', () => {
    const cookies = parseCookies('theme=dark; oin_session=abc.def; oin_tx_12345678=x-y_z; other=1', ours);
    expect([...cookies.keys()].sort()).toEqual(['oin_session', 'oin_tx_12345678']);
    expect(cookieValue(cookies, 'oin_session')).toBe('abc.def');
    expect(cookieValue(cookies, 'oin_tx_12345678')).toBe('x-y_z');
  });

  it('tolerates missing spaces, surrounding whitespace and a quoted value', () => {
    const cookies = parseCookies('  oin_session = "abc" ;oin_session.1=def  ', ours);
    expect(cookieValue(cookies, 'oin_session')).toBe('abc');
    expect(cookieValue(cookies, 'oin_session.1')).toBe('def');
  });

  it('marks a cookie sent twice as invalid (a tossed cookie cannot be told from ours)', () => {
    const cookies = parseCookies('oin_session=aaa; oin_session=bbb', ours);
    expect(cookies.get('oin_session')).toBe(INVALID_COOKIE);
    expect(cookieValue(cookies, 'oin_session')).toBeUndefined();
  });

  it('marks a malformed value of ours as invalid, so it gets deleted, and ignores malformed pairs', () => {
    const cookies = parseCookies('oin_session=a%20b; =novalue; noequals; ;; oin_tx_1=<script>; oin_session.1=ok', ours);
    expect(cookies.get('oin_session')).toBe(INVALID_COOKIE);
    expect(cookies.get('oin_tx_1')).toBe(INVALID_COOKIE);
    expect(cookieValue(cookies, 'oin_session.1')).toBe('ok');
    expect(cookies.size).toBe(3);
  });

  it('ignores names that are not tokens', () => {
    const cookies = parseCookies('oin session=abc; oin_session\u0000=x', () => true);
    expect(cookies.size).toBe(0);
  });

  it('reads nothing from an oversized header, and handles many pairs linearly', () => {
    expect(parseCookies(`oin_session=abc; ${'x'.repeat(MAX_COOKIE_HEADER_LENGTH)}`, ours).size).toBe(0);
    const many = Array.from({ length: 5000 }, (_, i) => `c${i}=v`).join('; ');
    const cookies = parseCookies(`${many}; oin_session=ok`, ours);
    expect(cookieValue(cookies, 'oin_session')).toBe('ok');
  });

  it('refuses an over-long value', () => {
    expect(parseCookies(`oin_session=${'a'.repeat(5000)}`, ours).get('oin_session')).toBe(INVALID_COOKIE);
  });

  it('returns an empty map for a missing or empty header', () => {
    expect(parseCookies(null, ours).size).toBe(0);
    expect(parseCookies('', ours).size).toBe(0);
  });
});
