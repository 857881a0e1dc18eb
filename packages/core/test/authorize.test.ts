import { describe, expect, it } from 'vitest';
import { buildAuthorizationRequest } from '../src/authorize/build-authorization-request';
import { computeCodeChallenge } from '../src/authorize/pkce';
import { sanitizeReturnTo } from '../src/authorize/return-to';
import { parseTransaction } from '../src/authorize/transaction';
import { isOidcError, type OidcErrorCode } from '../src/errors';
import { parseTenant } from '../src/tenant/tenant';

const tenant = parseTenant({
  id: 'acme',
  issuer: 'https://acme.okta.example',
  clientId: '0oa-acme',
  clientSecret: 'x'.repeat(40),
  redirectUris: ['https://app.example.com/auth/callback', 'https://app.example.com/other/callback'],
  scopes: ['openid', 'profile', 'email'],
});

async function codeOf(promise: Promise<unknown>): Promise<OidcErrorCode | 'no error'> {
  try {
    await promise;
    return 'no error';
  } catch (error) {
    if (isOidcError(error)) return error.code;
    throw error;
  }
}

describe('sanitizeReturnTo (AR-07, catalogue §2.5)', () => {
  const payloads = [
    '//evil.com', '///evil.com', '/\\evil.com', '\\\\evil.com', '/\\/evil.com',
    'https://evil.com', 'https:evil.com', '//evil.com/%2F..', '/%2F%2Fevil.com', '/%5Cevil.com',
    'https://app.example.com.evil.com', 'https://app.example.com@evil.com', '//app.example.com@evil.com',
    'javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'java%0ascript:alert(1)', 'data:text/html,<script>alert(1)</script>',
    '/%0d%0aSet-Cookie:x=y', '/%09/evil.com', 'http://evil.com', 'ftp://evil.com', '//evil.com:443',
    // Extra: normalisation and double encoding.
    '/.//evil.com', '/%252F%252Fevil.com', '/%25%35Cevil.com', '/a\nb', '/a\u0000', '', 'evil.com', '?x=1', '#x',
    `/${'a'.repeat(3000)}`,
  ];
  for (const payload of payloads) {
    it(`falls back for ${JSON.stringify(payload).slice(0, 60)}`, () => {
      expect(sanitizeReturnTo(payload)).toBe('/');
      expect(sanitizeReturnTo(payload, '/home')).toBe('/home');
    });
  }

  // SA-10: checks must hold for the normalised output, not only for the decoded input.
  it.each([
    '/%2e/%2fevil.com',
    '/x/../%2fevil.com',
    '/./%2f%2fevil.com',
    '/%2e/%252fevil.com',
    '/%2E%2E/%2Fevil.com',
    '/a/%2e%2e/%5Cevil.com',
    '/x/%2e%2e//evil.com',
    '/%2e/%25252fevil.com',
  ])('falls back for %j, whose normalised path decodes to //evil.com or /\\evil.com (SA-10)', (payload) => {
    expect(sanitizeReturnTo(payload)).toBe('/');
    expect(sanitizeReturnTo(payload, '/home')).toBe('/home');
  });

  it('refuses a value still percent-encoded after the bounded decoding rounds, and keeps ordinary escapes (SA-10)', () => {
    // Five levels of %25 around a slash: decoding stops being judged after four rounds, so it falls back.
    expect(sanitizeReturnTo('/a%2525252525%32%66b')).toBe('/');
    expect(sanitizeReturnTo('/x?q=%252541')).toBe('/x?q=%252541');
    expect(sanitizeReturnTo('/%2e/ok')).toBe('/ok');
    expect(sanitizeReturnTo('/x/../y%2fz')).toBe('/y%2fz');
  });

  it('keeps same-origin paths, normalised', () => {
    expect(sanitizeReturnTo('/')).toBe('/');
    expect(sanitizeReturnTo('/orders?id=7#top')).toBe('/orders?id=7#top');
    expect(sanitizeReturnTo('/a/../b')).toBe('/b');
    expect(sanitizeReturnTo('/search?q=100%25')).toBe('/search?q=100%25');
    expect(sanitizeReturnTo('/caf%C3%A9')).toBe('/caf%C3%A9');
    expect(sanitizeReturnTo('/evil.com')).toBe('/evil.com');
  });

  it('falls back for non-strings', () => {
    expect(sanitizeReturnTo(undefined)).toBe('/');
    expect(sanitizeReturnTo(42)).toBe('/');
    expect(sanitizeReturnTo(['/a'])).toBe('/');
  });
});

describe('buildAuthorizationRequest', () => {
  it('builds a code + PKCE S256 request with state, nonce and the tenant scopes (AR-03, AR-04)', async () => {
    const { url, transaction } = await buildAuthorizationRequest(tenant, { returnTo: '//evil.com', now: () => 1234 });
    expect(`${url.origin}${url.pathname}`).toBe('https://acme.okta.example/oauth2/v1/authorize');
    const params = Object.fromEntries(url.searchParams);
    expect(params).toEqual({
      response_type: 'code',
      client_id: '0oa-acme',
      redirect_uri: 'https://app.example.com/auth/callback',
      scope: 'openid profile email',
      state: transaction.state,
      nonce: transaction.nonce,
      code_challenge: await computeCodeChallenge(transaction.codeVerifier),
      code_challenge_method: 'S256',
    });
    expect(transaction).toMatchObject({ tenantId: 'acme', redirectUri: 'https://app.example.com/auth/callback', returnTo: '/', createdAt: 1234 });
    expect(transaction.state).not.toBe(transaction.nonce);
    expect(parseTransaction(JSON.parse(JSON.stringify(transaction)))).toEqual(transaction);
  });

  it('passes prompt, login_hint, max_age and response_mode through', async () => {
    const { url, transaction } = await buildAuthorizationRequest(tenant, {
      redirectUri: 'https://app.example.com/other/callback',
      prompt: 'login consent',
      loginHint: 'jane@acme.example',
      maxAge: 0,
      responseMode: 'form_post',
      returnTo: '/orders',
    });
    expect(url.searchParams.get('prompt')).toBe('login consent');
    expect(url.searchParams.get('login_hint')).toBe('jane@acme.example');
    expect(url.searchParams.get('max_age')).toBe('0');
    expect(url.searchParams.get('response_mode')).toBe('form_post');
    expect(url.searchParams.get('redirect_uri')).toBe('https://app.example.com/other/callback');
    expect(transaction).toMatchObject({ maxAge: 0, responseMode: 'form_post', returnTo: '/orders' });
  });

  it('refuses an unregistered redirect URI (exact match, AR-05)', async () => {
    for (const redirectUri of ['https://evil.example/auth/callback', 'https://app.example.com/auth/callback/', 'https://APP.example.com/auth/callback', 'https://app.example.com/auth/callback?x=1']) {
      expect(await codeOf(buildAuthorizationRequest(tenant, { redirectUri }))).toBe('ERR_OIDC_REDIRECT_URI_NOT_REGISTERED');
    }
  });

  it('validates prompt, max_age and login_hint without echoing them', async () => {
    const cases: Parameters<typeof buildAuthorizationRequest>[1][] = [
      { prompt: 'none login' }, { prompt: 'bogus' }, { prompt: 'login login' }, { prompt: '' },
      { maxAge: -1 }, { maxAge: 1.5 }, { maxAge: Number.NaN },
      { loginHint: 'x'.repeat(257) }, { loginHint: 'a\r\nb' }, { loginHint: '' },
      { responseMode: 'fragment' as 'query' },
    ];
    for (const options of cases) {
      try {
        await buildAuthorizationRequest(tenant, options);
        expect.unreachable();
      } catch (error) {
        expect(isOidcError(error) && error.code).toBe('ERR_OIDC_INVALID_REQUEST');
        expect((error as Error).message).not.toContain('bogus');
      }
    }
  });

  it('uses fresh state, nonce and verifier for every request (AR-01/02/03)', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const { transaction } = await buildAuthorizationRequest(tenant);
      seen.add(transaction.state).add(transaction.nonce).add(transaction.codeVerifier);
    }
    expect(seen.size).toBe(150);
  });

  it('refuses malformed transactions', () => {
    try {
      parseTransaction({ state: 'x' });
      expect.unreachable();
    } catch (error) {
      expect(isOidcError(error) && error.code).toBe('ERR_OIDC_TRANSACTION_INVALID');
    }
  });
});
