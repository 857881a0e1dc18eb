import { describe, expect, it } from 'vitest';
import { timingSafeEqual } from '../src/callback/constant-time';
import { MAX_CALLBACK_SIZE, MAX_CALLBACK_VALUE_LENGTH, parseCallbackParams, type CallbackRequest } from '../src/callback/parse-callback';
import { isOidcError, type OidcErrorCode } from '../src/errors';

const base = 'https://app.example.com/auth/callback';
const FORM = 'application/x-www-form-urlencoded';

function codeOf(request: CallbackRequest): OidcErrorCode | 'no error' {
  try {
    parseCallbackParams(request);
    return 'no error';
  } catch (error) {
    if (isOidcError(error)) return error.code;
    throw error;
  }
}

describe('parseCallbackParams', () => {
  it('reads the query of a GET', () => {
    const params = parseCallbackParams({ method: 'get', url: new URL(`${base}?code=abc&state=xyz&iss=https%3A%2F%2Facme.okta.example`) });
    expect({ ...params }).toEqual({ code: 'abc', state: 'xyz', iss: 'https://acme.okta.example' });
    expect(Object.getPrototypeOf(params)).toBeNull();
  });

  it('reads the form body of a POST and not its query', () => {
    const params = parseCallbackParams({ method: 'POST', url: new URL(`${base}?tenant=acme`), body: 'code=abc&state=xyz', contentType: `${FORM}; charset=UTF-8` });
    expect({ ...params }).toEqual({ code: 'abc', state: 'xyz' });
  });

  it('refuses duplicated parameters (RFC 6749 §3.1), reporting only safe names', () => {
    for (const query of ['state=a&state=b', 'code=a&code=a', 'state=a&state=', 'x=1&x=2']) {
      expect(codeOf({ method: 'GET', url: new URL(`${base}?${query}`) })).toBe('ERR_OIDC_DUPLICATE_PARAMETER');
    }
    expect(codeOf({ method: 'POST', url: new URL(base), body: 'code=a&state=b&code=c', contentType: FORM })).toBe('ERR_OIDC_DUPLICATE_PARAMETER');
    try {
      parseCallbackParams({ method: 'GET', url: new URL(`${base}?state=a&state=b`) });
      expect.unreachable();
    } catch (error) {
      expect(isOidcError(error) && error.details).toEqual({ parameter: 'state' });
    }
    try {
      parseCallbackParams({ method: 'GET', url: new URL(`${base}?%3Cscript%3E=a&%3Cscript%3E=b`) });
      expect.unreachable();
    } catch (error) {
      expect(isOidcError(error) && error.details).toEqual({});
      expect((error as Error).message).not.toContain('script');
    }
  });

  it('refuses a POST whose query repeats a body parameter', () => {
    expect(codeOf({ method: 'POST', url: new URL(`${base}?state=attacker`), body: 'code=abc&state=xyz', contentType: FORM })).toBe('ERR_OIDC_DUPLICATE_PARAMETER');
  });

  it('requires a urlencoded POST body (form_post)', () => {
    for (const contentType of [undefined, 'application/json', 'multipart/form-data; boundary=x', 'text/plain']) {
      expect(codeOf({ method: 'POST', url: new URL(base), body: 'code=abc&state=xyz', ...(contentType ? { contentType } : {}) })).toBe('ERR_OIDC_CALLBACK_INVALID');
    }
  });

  it('refuses other methods', () => {
    for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      expect(codeOf({ method, url: new URL(`${base}?code=a&state=b`) })).toBe('ERR_OIDC_METHOD_NOT_ALLOWED');
    }
  });

  it('caps sizes and counts', () => {
    expect(codeOf({ method: 'GET', url: new URL(`${base}?state=${'a'.repeat(MAX_CALLBACK_VALUE_LENGTH + 1)}`) })).toBe('ERR_OIDC_PAYLOAD_TOO_LARGE');
    expect(codeOf({ method: 'POST', url: new URL(base), body: `id_token=${'a'.repeat(MAX_CALLBACK_SIZE)}`, contentType: FORM })).toBe('ERR_OIDC_PAYLOAD_TOO_LARGE');
    expect(codeOf({ method: 'GET', url: new URL(`${base}?${'a'.repeat(MAX_CALLBACK_SIZE + 1)}=1`) })).toBe('ERR_OIDC_PAYLOAD_TOO_LARGE');
    const many = Array.from({ length: 65 }, (_, i) => `p${i}=1`).join('&');
    expect(codeOf({ method: 'GET', url: new URL(`${base}?${many}`) })).toBe('ERR_OIDC_CALLBACK_INVALID');
    expect(codeOf({ method: 'GET', url: new URL(`${base}?${'n'.repeat(129)}=1`) })).toBe('ERR_OIDC_CALLBACK_INVALID');
  });

  it('treats empty values as omitted and keeps unknown names inert', () => {
    const params = parseCallbackParams({ method: 'GET', url: new URL(`${base}?code=abc&state=&__proto__=x&constructor=y`) });
    expect(params.state).toBeUndefined();
    expect(params.code).toBe('abc');
    expect(Object.getOwnPropertyDescriptor(params, '__proto__')?.value).toBe('x');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('timingSafeEqual', () => {
  it('compares by value and length', () => {
    expect(timingSafeEqual('abc', 'abc')).toBe(true);
    expect(timingSafeEqual('abc', 'abd')).toBe(false);
    expect(timingSafeEqual('abc', 'abcd')).toBe(false);
    expect(timingSafeEqual('', 'a')).toBe(false);
    expect(timingSafeEqual('é', 'e\u0301')).toBe(false);
  });
});
