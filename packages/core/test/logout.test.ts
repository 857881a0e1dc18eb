import { describe, expect, it } from 'vitest';
import { buildLogoutUrl } from '../src/logout/build-logout-url';
import { parseTenant } from '../src/tenant/tenant';

const tenant = parseTenant({
  id: 'acme',
  issuer: 'https://acme.okta.com',
  clientId: 'client-acme',
  clientSecret: 's3cret',
  redirectUris: ['https://app.example.com/auth/callback'],
  postLogoutRedirectUris: ['https://app.example.com/', 'https://app.example.com/signed-out'],
});
const idToken = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln';

describe('buildLogoutUrl', () => {
  it('targets /oauth2/v1/logout with id_token_hint, the first registered post-logout URI and state', () => {
    const url = buildLogoutUrl(tenant, { idTokenHint: idToken, state: 'st-123' });
    expect(`${url.origin}${url.pathname}`).toBe('https://acme.okta.com/oauth2/v1/logout');
    expect(url.searchParams.get('id_token_hint')).toBe(idToken);
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe('https://app.example.com/');
    expect(url.searchParams.get('state')).toBe('st-123');
    expect(url.searchParams.has('client_id')).toBe(false);
  });

  it('accepts another registered URI, exact match', () => {
    const url = buildLogoutUrl(tenant, { idTokenHint: idToken, postLogoutRedirectUri: 'https://app.example.com/signed-out' });
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe('https://app.example.com/signed-out');
  });

  it.each([
    'https://evil.example/',
    'https://app.example.com/signed-out/',
    'https://app.example.com/Signed-out',
    'https://app.example.com/signed-out?x=1',
    'https://app.example.com.evil.com/',
    'https://app.example.com@evil.com/',
    '//evil.com',
    '/signed-out',
  ])('refuses an unregistered post-logout URI %s (LO-03)', (uri) => {
    expect(() => buildLogoutUrl(tenant, { idTokenHint: idToken, postLogoutRedirectUri: uri })).toThrow(
      expect.objectContaining({ code: 'ERR_OIDC_REDIRECT_URI_NOT_REGISTERED' }),
    );
  });

  it('omits post_logout_redirect_uri when the tenant registered none', () => {
    const bare = parseTenant({ id: 'b', issuer: 'https://b.okta.com', clientId: 'c', clientSecret: 's', redirectUris: ['https://app.example.com/cb'] });
    const url = buildLogoutUrl(bare, { idTokenHint: idToken });
    expect(url.searchParams.has('post_logout_redirect_uri')).toBe(false);
    expect(() => buildLogoutUrl(bare, { postLogoutRedirectUri: 'https://app.example.com/' })).toThrow(
      expect.objectContaining({ code: 'ERR_OIDC_REDIRECT_URI_NOT_REGISTERED' }),
    );
  });

  it('adds client_id when there is no id_token_hint (RP-Initiated Logout §2) (LO-02)', () => {
    const url = buildLogoutUrl(tenant, {});
    expect(url.searchParams.get('client_id')).toBe('client-acme');
    expect(url.searchParams.has('id_token_hint')).toBe(false);
  });

  it.each(['not-a-jwt', 'a.b', 'a.b.c.d.e', `${'a'.repeat(17_000)}.b.c`, 'a b.c.d'])('refuses a malformed id_token_hint %# (LO-02)', (hint) => {
    expect(() => buildLogoutUrl(tenant, { idTokenHint: hint })).toThrow(expect.objectContaining({ code: 'ERR_OIDC_INVALID_REQUEST' }));
  });

  it.each(['', 'a b', 'x'.repeat(513), 'line\r\nbreak'])('refuses a malformed state %#', (state) => {
    expect(() => buildLogoutUrl(tenant, { idTokenHint: idToken, state })).toThrow(expect.objectContaining({ code: 'ERR_OIDC_INVALID_REQUEST' }));
  });

  it('uses the custom authorization server layout for custom-profile tenants', () => {
    const custom = parseTenant({
      id: 'c',
      issuer: 'https://c.okta.com/oauth2/default',
      clientId: 'c',
      clientSecret: 's',
      redirectUris: ['https://app.example.com/cb'],
      profile: 'custom',
    });
    expect(buildLogoutUrl(custom, { idTokenHint: idToken }).pathname).toBe('/oauth2/default/v1/logout');
  });
});
