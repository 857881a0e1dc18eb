import { describe, expect, it } from 'vitest';
import type { OidcError } from '../src/errors';
import { INITIATE_UNKNOWN_MESSAGE, resolveInitiateLogin } from '../src/initiate/initiate-login';
import { MemoryCredentialStore } from '../src/tenant/credential-store';

const base = { clientSecret: 's3cret', redirectUris: ['https://app.example.com/auth/callback'] };
const store = new MemoryCredentialStore([
  { id: 'acme', issuer: 'https://acme.okta.com', clientId: 'acme-client', ...base },
  { id: 'globex-hr', issuer: 'https://globex.okta.com', clientId: 'globex-hr-client', ...base },
  { id: 'globex-eng', issuer: 'https://globex.okta.com', clientId: 'globex-eng-client', ...base },
]);
const appOrigin = 'https://app.example.com';

function resolve(query: string) {
  return resolveInitiateLogin(store, new URLSearchParams(query), appOrigin);
}

describe('resolveInitiateLogin', () => {
  it('maps iss to its single tenant and passes login_hint through', async () => {
    const result = await resolve('iss=https%3A%2F%2Facme.okta.com&login_hint=alice%40acme.com');
    expect(result.tenant.id).toBe('acme');
    expect(result.loginHint).toBe('alice@acme.com');
    expect(result.returnTo).toBeUndefined();
  });

  it('refuses a missing or empty iss', async () => {
    await expect(resolve('login_hint=a')).rejects.toMatchObject({ code: 'ERR_OIDC_INVALID_REQUEST' });
    await expect(resolve('iss=')).rejects.toMatchObject({ code: 'ERR_OIDC_INVALID_REQUEST' });
  });

  it('refuses an unknown iss (TP-01)', async () => {
    await expect(resolve('iss=https://attacker.example')).rejects.toMatchObject({ code: 'ERR_OIDC_TENANT_UNKNOWN' });
  });

  it('refuses a non-https iss (TP-02)', async () => {
    await expect(resolve('iss=http://acme.okta.com')).rejects.toMatchObject({ code: 'ERR_OIDC_INVALID_REQUEST' });
    await expect(resolve('iss=javascript:alert(1)')).rejects.toMatchObject({ code: 'ERR_OIDC_INVALID_REQUEST' });
  });

  it.each(['https://acme.okta.com/', 'https://ACME.okta.com', 'https://acme.okta.com:443', 'https://acme.okta.com/oauth2/default', ' https://acme.okta.com'])(
    'matches iss exactly, without normalisation: %s',
    async (iss) => {
      await expect(resolve(`iss=${encodeURIComponent(iss)}`)).rejects.toMatchObject({
        code: expect.stringMatching(/^ERR_OIDC_(TENANT_UNKNOWN|INVALID_REQUEST)$/),
      });
    },
  );

  it('needs the tenant parameter to choose among several instances of one org', async () => {
    await expect(resolve('iss=https://globex.okta.com')).rejects.toMatchObject({ code: 'ERR_OIDC_TENANT_UNKNOWN', details: { reason: 'ambiguous' } });
    expect((await resolve('iss=https://globex.okta.com&tenant=globex-eng')).tenant.id).toBe('globex-eng');
    expect((await resolve('iss=https://globex.okta.com&tenant=globex-hr')).tenant.id).toBe('globex-hr');
  });

  it('refuses a tenant parameter that is not an instance of that issuer (MT)', async () => {
    await expect(resolve('iss=https://globex.okta.com&tenant=acme')).rejects.toMatchObject({ code: 'ERR_OIDC_TENANT_UNKNOWN' });
    await expect(resolve('iss=https://acme.okta.com&tenant=globex-hr')).rejects.toMatchObject({ code: 'ERR_OIDC_TENANT_UNKNOWN' });
    await expect(resolve('iss=https://acme.okta.com&tenant=nope')).rejects.toMatchObject({ code: 'ERR_OIDC_TENANT_UNKNOWN' });
  });

  it.each(['iss', 'tenant', 'login_hint', 'target_link_uri'])('refuses a duplicated %s parameter', async (name) => {
    const query = `iss=https://acme.okta.com&tenant=acme&login_hint=a&target_link_uri=https://app.example.com/x&${name}=again`;
    await expect(resolve(query)).rejects.toMatchObject({ code: 'ERR_OIDC_DUPLICATE_PARAMETER' });
  });

  it('drops an oversized or control-character login_hint (TP-06)', async () => {
    expect((await resolve(`iss=https://acme.okta.com&login_hint=${'a'.repeat(10_000)}`)).loginHint).toBeUndefined();
    expect((await resolve('iss=https://acme.okta.com&login_hint=alice%0D%0ASet-Cookie:x')).loginHint).toBeUndefined();
    expect((await resolve(`iss=https://acme.okta.com&login_hint=${'a'.repeat(256)}`)).loginHint).toHaveLength(256);
    // Markup is passed through as data; the authorization request URL-encodes it.
    expect((await resolve('iss=https://acme.okta.com&login_hint=%22%3E%3Cscript%3E')).loginHint).toBe('"><script>');
  });

  it('follows a same-origin target_link_uri, reduced to a path', async () => {
    const result = await resolve(`iss=https://acme.okta.com&target_link_uri=${encodeURIComponent('https://app.example.com/reports/7?tab=a#top')}`);
    expect(result.returnTo).toBe('/reports/7?tab=a#top');
  });

  it('ignores an external target_link_uri (TP-04)', async () => {
    const result = await resolve(`iss=https://acme.okta.com&target_link_uri=${encodeURIComponent('https://evil.example/x')}`);
    expect(result.tenant.id).toBe('acme');
    expect(result.returnTo).toBeUndefined();
  });

  // Catalogue §2.5: each payload must be ignored or reduced to '/'.
  it.each([
    '//evil.com',
    '///evil.com',
    '/\\evil.com',
    '\\\\evil.com',
    '/\\/evil.com',
    'https://evil.com',
    'https:evil.com',
    '//evil.com/%2F..',
    '/%2F%2Fevil.com',
    '/%5Cevil.com',
    'https://app.example.com.evil.com',
    'https://app.example.com@evil.com',
    '//app.example.com@evil.com',
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    'java%0ascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    '/%0d%0aSet-Cookie:x=y',
    '/%09/evil.com',
    'http://evil.com',
    'ftp://evil.com',
    '//evil.com:443',
    // The same payloads behind the app's own origin must still reduce to '/'.
    'https://app.example.com//evil.com',
    'https://app.example.com/%2F%2Fevil.com',
    'https://app.example.com/%5Cevil.com',
    'https://app.example.com/%0d%0aSet-Cookie:x=y',
    'https://app.example.com/%09/evil.com',
    'https://app.example.com/.//evil.com',
    'http://app.example.com/x',
    'https://app.example.com:8443/x',
    'https://user:pw@app.example.com/x',
  ])('never turns target_link_uri %s into an open redirect (TP-05)', async (payload) => {
    const result = await resolve(`iss=https://acme.okta.com&target_link_uri=${encodeURIComponent(payload)}`);
    expect(result.returnTo === undefined || result.returnTo === '/').toBe(true);
  });

  it('refuses an appOrigin that is not a URL as programmer misuse', async () => {
    await expect(resolveInitiateLogin(store, new URLSearchParams('iss=https://acme.okta.com'), 'app.example.com')).rejects.toMatchObject({
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
    });
  });

  it('works with loopback development issuers only when the policy allows them (SA-12)', async () => {
    const dev = new MemoryCredentialStore([{ id: 'dev', issuer: 'http://127.0.0.1:4000', clientId: 'dev', ...base }]);
    const params = new URLSearchParams('iss=http://127.0.0.1:4000');
    const result = await resolveInitiateLogin(dev, params, 'http://localhost:3000', { issuerPolicy: { allowLoopbackIssuers: true } });
    expect(result.tenant.id).toBe('dev');
    // The default policy refuses loopback, and answers exactly like an unknown issuer.
    await expect(resolveInitiateLogin(dev, params, 'http://localhost:3000')).rejects.toMatchObject({
      code: 'ERR_OIDC_TENANT_UNKNOWN',
      message: INITIATE_UNKNOWN_MESSAGE,
      details: { reason: 'issuer-not-allowed' },
    });
  });

  it('applies the issuer policy to iss before asking the store: IP literals, loopback, allow-list (SA-12)', async () => {
    let asked = 0;
    const counting = {
      get: store.get.bind(store),
      findByIssuer(iss: string) {
        asked += 1;
        return store.findByIssuer(iss);
      },
    };
    const policy = { allowedIssuerHosts: ['.okta.com'] };
    for (const iss of ['https://10.0.0.5', 'https://[fd00::1]', 'https://127.0.0.1:8443', 'https://localhost', 'https://2130706433', 'https://acme.oktapreview.com']) {
      await expect(resolveInitiateLogin(counting, new URLSearchParams({ iss }), appOrigin, { issuerPolicy: policy })).rejects.toMatchObject({
        code: 'ERR_OIDC_TENANT_UNKNOWN',
        details: { reason: 'issuer-not-allowed' },
      });
    }
    expect(asked).toBe(0);
    expect((await resolveInitiateLogin(counting, new URLSearchParams({ iss: 'https://acme.okta.com' }), appOrigin, { issuerPolicy: policy })).tenant.id).toBe('acme');
  });

  it('answers an unknown issuer, an unknown instance and an ambiguous org the same way; the reason only in details (SA-18)', async () => {
    const failures: OidcError[] = [];
    for (const query of ['iss=https://attacker.okta.com', 'iss=https://acme.okta.com&tenant=nope', 'iss=https://globex.okta.com&tenant=acme', 'iss=https://globex.okta.com']) {
      failures.push(await resolve(query).then(() => Promise.reject(new Error(`accepted ${query}`)), (error: OidcError) => error));
    }
    expect(failures.map((f) => f.details?.reason)).toEqual(['unknown-issuer', 'unknown-instance', 'unknown-instance', 'ambiguous']);
    for (const failure of failures) {
      expect(failure.code).toBe('ERR_OIDC_TENANT_UNKNOWN');
      expect(failure.status).toBe(404);
      expect(failure.message).toBe('This sign-in link does not match an organisation configured for this application.');
      expect(Object.keys(failure.details ?? {}).sort()).toEqual(['parameter', 'reason']);
    }
  });
});
