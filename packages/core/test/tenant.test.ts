import { describe, expect, it } from 'vitest';
import { OidcError, isOidcError } from '../src/errors';
import { parseTenant, tenantEndpoints } from '../src/tenant/tenant';
import { MemoryCredentialStore, createMemoryCredentialStore, parseTenantsJson } from '../src/tenant/credential-store';

const base = {
  id: 'acme',
  issuer: 'https://acme.okta.com',
  clientId: '0oa1',
  clientSecret: 'super-secret-value-that-must-not-leak',
  redirectUris: ['https://app.example.com/auth/callback'],
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(isOidcError(error)).toBe(true);
    return (error as OidcError).code;
  }
  return undefined;
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a throw');
}

describe('parseTenant', () => {
  it('normalises a minimal record with OIN defaults', () => {
    const tenant = parseTenant(base);
    expect(tenant.issuer).toBe('https://acme.okta.com');
    expect(tenant.auth).toEqual({ method: 'client_secret_basic', secrets: [{ value: base.clientSecret, active: true }] });
    expect(tenant.scopes).toEqual(['openid', 'profile', 'email']);
    expect(tenant.profile).toBe('oin');
    expect(tenant.endpoints.authorization).toBe('https://acme.okta.com/oauth2/v1/authorize');
    expect(tenant.endpoints.jwks).toBe('https://acme.okta.com/oauth2/v1/keys');
    expect(Object.isFrozen(tenant)).toBe(true);
  });

  it('strips one trailing slash from the issuer so iss compares byte for byte (IT-05)', () => {
    expect(parseTenant({ ...base, issuer: 'https://acme.okta.com/' }).issuer).toBe('https://acme.okta.com');
  });

  it.each(['https://acme.okta.com/oauth2/default', 'https://acme.okta.com/oauth2/aus123abc', 'https://acme.okta.com/oauth2/default/'])(
    'refuses the custom authorization server %s in the OIN profile',
    (issuer) => {
      expect(codeOf(() => parseTenant({ ...base, issuer }))).toBe('ERR_OIDC_CUSTOM_AUTHORIZATION_SERVER');
    },
  );

  it('accepts a custom authorization server only in the explicit custom profile', () => {
    const tenant = parseTenant({ ...base, issuer: 'https://acme.okta.com/oauth2/default', profile: 'custom', scopes: ['openid', 'offline_access', 'groups'] });
    expect(tenant.endpoints.token).toBe('https://acme.okta.com/oauth2/default/v1/token');
    expect(tenant.scopes).toContain('offline_access');
  });

  it('refuses other issuer paths, queries and credentials', () => {
    expect(codeOf(() => parseTenant({ ...base, issuer: 'https://acme.okta.com/tenant' }))).toBe('ERR_OIDC_INVALID_TENANT');
    expect(codeOf(() => parseTenant({ ...base, issuer: 'https://acme.okta.com?x=1' }))).toBe('ERR_OIDC_INVALID_TENANT');
    expect(codeOf(() => parseTenant({ ...base, issuer: 'https://u:p@acme.okta.com' }))).toBe('ERR_OIDC_INVALID_TENANT');
    expect(codeOf(() => parseTenant({ ...base, issuer: 'ftp://acme.okta.com' }))).toBe('ERR_OIDC_INVALID_TENANT');
    expect(codeOf(() => parseTenant({ ...base, issuer: 'not a url' }))).toBe('ERR_OIDC_INVALID_TENANT');
  });

  it('allows http only for loopback hosts (HF-06)', () => {
    expect(parseTenant({ ...base, issuer: 'http://127.0.0.1:4101', redirectUris: ['http://127.0.0.1:4000/cb'] }).issuer).toBe('http://127.0.0.1:4101');
    expect(parseTenant({ ...base, issuer: 'http://localhost:4101' }).issuer).toBe('http://localhost:4101');
    expect(parseTenant({ ...base, issuer: 'http://[::1]:4101' }).issuer).toBe('http://[::1]:4101');
    expect(codeOf(() => parseTenant({ ...base, issuer: 'http://acme.okta.com' }))).toBe('ERR_OIDC_INSECURE_ISSUER');
    expect(codeOf(() => parseTenant({ ...base, issuer: 'http://127.0.0.1.evil.example' }))).toBe('ERR_OIDC_INSECURE_ISSUER');
    expect(codeOf(() => parseTenant({ ...base, redirectUris: ['http://app.example.com/cb'] }))).toBe('ERR_OIDC_INVALID_TENANT');
  });

  it('limits scopes to the OIN set and requires openid (AR-04)', () => {
    expect(codeOf(() => parseTenant({ ...base, scopes: ['openid', 'offline_access'] }))).toBe('ERR_OIDC_SCOPE_NOT_ALLOWED');
    expect(codeOf(() => parseTenant({ ...base, scopes: ['openid', 'groups'] }))).toBe('ERR_OIDC_SCOPE_NOT_ALLOWED');
    expect(codeOf(() => parseTenant({ ...base, scopes: ['profile'] }))).toBe('ERR_OIDC_SCOPE_NOT_ALLOWED');
    expect(parseTenant({ ...base, scopes: ['openid', 'profile', 'email', 'address', 'phone'] }).scopes).toHaveLength(5);
  });

  it('orders secrets active-first and requires one active secret', () => {
    const tenant = parseTenant({ ...base, clientSecret: undefined, clientSecrets: [{ value: 'old-secret', active: false }, { value: 'new-secret', active: true }] });
    expect(tenant.auth.method === 'client_secret_basic' && tenant.auth.secrets.map((s) => s.value)).toEqual(['new-secret', 'old-secret']);
    expect(codeOf(() => parseTenant({ ...base, clientSecret: undefined, clientSecrets: [{ value: 'a', active: false }] }))).toBe('ERR_OIDC_INVALID_TENANT');
    expect(
      codeOf(() =>
        parseTenant({ ...base, clientSecret: undefined, clientSecrets: [{ value: 'a', active: true }, { value: 'b', active: true }, { value: 'c', active: true }] }),
      ),
    ).toBe('ERR_OIDC_INVALID_TENANT');
    expect(codeOf(() => parseTenant({ ...base, clientSecret: undefined }))).toBe('ERR_OIDC_INVALID_TENANT');
  });

  it('requires a private JWK for private_key_jwt and refuses secrets beside it', () => {
    const jwk = { kty: 'RSA', n: 'x', e: 'AQAB', d: 'y', kid: 'k1' };
    const tenant = parseTenant({ ...base, clientSecret: undefined, tokenEndpointAuthMethod: 'private_key_jwt', privateJwk: jwk });
    expect(tenant.auth.method).toBe('private_key_jwt');
    expect(codeOf(() => parseTenant({ ...base, clientSecret: undefined, tokenEndpointAuthMethod: 'private_key_jwt' }))).toBe('ERR_OIDC_INVALID_TENANT');
    expect(codeOf(() => parseTenant({ ...base, tokenEndpointAuthMethod: 'private_key_jwt', privateJwk: jwk }))).toBe('ERR_OIDC_INVALID_TENANT');
    // A public key is not a private key.
    expect(codeOf(() => parseTenant({ ...base, clientSecret: undefined, tokenEndpointAuthMethod: 'private_key_jwt', privateJwk: { kty: 'RSA', n: 'x', e: 'AQAB' } }))).toBe(
      'ERR_OIDC_INVALID_TENANT',
    );
  });

  it('names the failing field and never echoes secret values', () => {
    const message = messageOf(() => parseTenant({ ...base, redirectUris: ['javascript:alert(1)'] }));
    expect(message).toContain('redirectUris.0');
    const typo = messageOf(() => parseTenant({ ...base, clientSecrte: 'x' }));
    expect(typo).toContain('Unrecognized key');
    for (const bad of [{ ...base, clientSecrets: [{ value: base.clientSecret, active: 'yes' }], clientSecret: undefined }]) {
      try {
        parseTenant(bad);
      } catch (error) {
        expect(JSON.stringify({ m: (error as Error).message, d: (error as OidcError).details })).not.toContain(base.clientSecret);
      }
    }
  });

  it('refuses redirect URIs with fragments and tenant ids with odd characters', () => {
    expect(codeOf(() => parseTenant({ ...base, redirectUris: ['https://app.example.com/cb#x'] }))).toBe('ERR_OIDC_INVALID_TENANT');
    expect(codeOf(() => parseTenant({ ...base, id: 'a/b' }))).toBe('ERR_OIDC_INVALID_TENANT');
    expect(codeOf(() => parseTenant({ ...base, redirectUris: [] }))).toBe('ERR_OIDC_INVALID_TENANT');
    expect(codeOf(() => parseTenant(null))).toBe('ERR_OIDC_INVALID_TENANT');
    expect(codeOf(() => parseTenant('acme'))).toBe('ERR_OIDC_INVALID_TENANT');
  });

  it('refuses the tenant ids "." and "..", which URL parsing removes from /auth/login/ID (path mode)', () => {
    for (const id of ['.', '..']) {
      expect(codeOf(() => parseTenant({ ...base, id }))).toBe('ERR_OIDC_INVALID_TENANT');
      expect(messageOf(() => parseTenant({ ...base, id }))).toMatch(/must not be "\." or "\.\."/);
    }
    // Dots are still fine inside an id.
    expect(parseTenant({ ...base, id: '...' }).id).toBe('...');
    expect(parseTenant({ ...base, id: 'acme.eu' }).id).toBe('acme.eu');
    expect(new URL('https://app.example.com/auth/login/..').pathname).toBe('/auth/');
  });

  it('normalises, deduplicates and freezes oktaOrigins, sharing the frozen empty list', () => {
    const plain = parseTenant(base);
    expect(plain.oktaOrigins).toEqual([]);
    expect(plain.oktaOrigins).toBe(parseTenant({ ...base, id: 'other', oktaOrigins: [] }).oktaOrigins);
    expect(Object.isFrozen(plain.oktaOrigins)).toBe(true);
    const tenant = parseTenant({
      ...base,
      oktaOrigins: ['https://LOGIN.Acme.com', 'https://login.acme.com:443/', 'https://login.acme.com', 'https://sso.acme.com:8443', 'http://127.0.0.1:4101'],
    });
    expect(tenant.oktaOrigins).toEqual(['https://login.acme.com', 'https://sso.acme.com:8443', 'http://127.0.0.1:4101']);
    expect(Object.isFrozen(tenant.oktaOrigins)).toBe(true);
    expect(() => (tenant.oktaOrigins as string[]).push('https://evil.example')).toThrow(TypeError);
  });

  it.each([
    'https://login.acme.com/path',
    'https://login.acme.com/?',
    'https://login.acme.com?x=1',
    'https://login.acme.com#x',
    'https://u:p@login.acme.com',
    'http://login.acme.com',
    'ftp://login.acme.com',
    'login.acme.com',
    'null',
    '',
    'https://login.acme.com\\evil',
  ])('refuses the Okta origin %j', (origin) => {
    expect(codeOf(() => parseTenant({ ...base, oktaOrigins: [origin] }))).toBe('ERR_OIDC_INVALID_TENANT');
    expect(messageOf(() => parseTenant({ ...base, oktaOrigins: [origin] }))).toContain('oktaOrigins.0');
  });

  it('refuses more than ten Okta origins', () => {
    const many = Array.from({ length: 11 }, (_, i) => `https://login${i}.acme.com`);
    expect(codeOf(() => parseTenant({ ...base, oktaOrigins: many }))).toBe('ERR_OIDC_INVALID_TENANT');
  });

  it('derives org and custom authorization server endpoints the way Okta lays them out', () => {
    expect(tenantEndpoints('https://a.okta.com').introspection).toBe('https://a.okta.com/oauth2/v1/introspect');
    expect(tenantEndpoints('https://a.okta.com/oauth2/default').endSession).toBe('https://a.okta.com/oauth2/default/v1/logout');
  });

  it("derives a tenant's endpoints from its issuer: frozen, the same as tenantEndpoints, for org and custom servers", () => {
    const org = parseTenant({ ...base, issuer: 'https://acme.okta.com/' });
    const custom = parseTenant({ ...base, issuer: 'https://acme.okta.com/oauth2/aus1', profile: 'custom' });
    expect({ ...org.endpoints }).toEqual(tenantEndpoints('https://acme.okta.com'));
    expect({ ...custom.endpoints }).toEqual(tenantEndpoints('https://acme.okta.com/oauth2/aus1'));
    expect(custom.endpoints.jwks).toBe('https://acme.okta.com/oauth2/aus1/v1/keys');
    expect(Object.isFrozen(org.endpoints)).toBe(true);
    expect(() => {
      (org as { endpoints: unknown }).endpoints = { jwks: 'https://evil.example/keys' };
    }).toThrow(TypeError);
    expect(org.endpoints.jwks).toBe('https://acme.okta.com/oauth2/v1/keys');
    // Many tenants (more than the endpoint cache holds) each still get their own issuer's endpoints.
    const many = Array.from({ length: 1500 }, (_, i) => parseTenant({ ...base, id: `t${i}`, issuer: `https://org${i}.okta.com` }));
    for (const tenant of [many[0]!, many[1499]!, many[0]!]) expect(tenant.endpoints.token).toBe(`${tenant.issuer}/oauth2/v1/token`);
  });

  it('shares identical frozen lists between tenants without letting one tenant change another', () => {
    const one = parseTenant(base);
    const two = parseTenant({ ...base, id: 'other', clientId: '0oa2' });
    expect(one.scopes).toBe(two.scopes);
    expect(one.redirectUris).toBe(two.redirectUris);
    expect(Object.isFrozen(one.scopes) && Object.isFrozen(one.redirectUris) && Object.isFrozen(one.postLogoutRedirectUris)).toBe(true);
    expect(() => (one.scopes as string[]).push('phone')).toThrow(TypeError);
    expect(parseTenant({ ...base, scopes: ['openid', 'email', 'openid'] }).scopes).toEqual(['openid', 'email']);
    expect(parseTenant({ ...base, redirectUris: ['https://app.example.com/cb2'] }).redirectUris).toEqual(['https://app.example.com/cb2']);
  });
});

describe('MemoryCredentialStore', () => {
  const orgA = 'https://org-a.okta.com';
  const records = [
    { ...base, id: 'a1', issuer: orgA },
    { ...base, id: 'a2', issuer: orgA, clientId: '0oa2' },
    { ...base, id: 'b1', issuer: 'https://org-b.okta.com' },
  ];

  it('finds tenants by id and every instance of an org by issuer', async () => {
    const store = new MemoryCredentialStore(records);
    expect((await store.get('a2'))?.clientId).toBe('0oa2');
    expect(await store.get('missing')).toBeUndefined();
    expect((await store.findByIssuer(orgA)).map((t) => t.id)).toEqual(['a1', 'a2']);
    expect(await store.findByIssuer('https://other.okta.com')).toEqual([]);
    expect(store.size).toBe(3);
  });

  it('puts, replaces and deletes with validation', async () => {
    const store = new MemoryCredentialStore(records);
    await store.put({ ...base, id: 'a1', issuer: 'https://org-c.okta.com' });
    expect((await store.findByIssuer(orgA)).map((t) => t.id)).toEqual(['a2']);
    expect((await store.findByIssuer('https://org-c.okta.com')).map((t) => t.id)).toEqual(['a1']);
    expect(await store.delete('a2')).toBe(true);
    expect(await store.delete('a2')).toBe(false);
    expect(await store.findByIssuer(orgA)).toEqual([]);
    await expect(store.put({ ...base, issuer: 'https://x.okta.com/oauth2/default' })).rejects.toMatchObject({ code: 'ERR_OIDC_CUSTOM_AUTHORIZATION_SERVER' });
    expect((await store.list()).length).toBe(2);
  });

  it('refuses duplicate ids at construction', () => {
    expect(codeOf(() => new MemoryCredentialStore([records[0]!, records[0]!]))).toBe('ERR_OIDC_INVALID_TENANT');
  });

  it('never changes a list it has handed out (findByIssuer)', async () => {
    const store = new MemoryCredentialStore([records[0]!]);
    const before = await store.findByIssuer(orgA);
    await store.put(records[1]!);
    expect(before.map((t) => t.id)).toEqual(['a1']);
    const both = await store.findByIssuer(orgA);
    expect(both.map((t) => t.id)).toEqual(['a1', 'a2']);
    await store.delete('a1');
    expect(both.map((t) => t.id)).toEqual(['a1', 'a2']);
    expect((await store.findByIssuer(orgA)).map((t) => t.id)).toEqual(['a2']);
  });

  it('re-validates already-parsed tenants without loss', async () => {
    const store = new MemoryCredentialStore(records);
    const copy = new MemoryCredentialStore(await store.list());
    expect(await copy.get('a1')).toEqual(await store.get('a1'));
  });

  it('keeps oktaOrigins when an already-parsed tenant is re-validated (toRecord)', async () => {
    const store = new MemoryCredentialStore([{ ...base, oktaOrigins: ['https://login.acme.com'] }]);
    const copy = new MemoryCredentialStore(await store.list());
    expect((await copy.get('acme'))?.oktaOrigins).toEqual(['https://login.acme.com']);
  });
});

describe('parseTenantsJson', () => {
  it('loads an array of records', async () => {
    const store = createMemoryCredentialStore(JSON.stringify([base]));
    expect((await store.get('acme'))?.clientId).toBe('0oa1');
  });

  it('names the record index and field of a bad record', () => {
    const message = messageOf(() => parseTenantsJson(JSON.stringify([base, { ...base, id: 'x', clientId: '' }])));
    expect(message).toContain('record 1');
    expect(message).toContain('clientId');
  });

  it('refuses non-JSON and non-arrays with a typed error', () => {
    expect(codeOf(() => parseTenantsJson('{'))).toBe('ERR_OIDC_INVALID_TENANT');
    expect(codeOf(() => parseTenantsJson('{}'))).toBe('ERR_OIDC_INVALID_TENANT');
  });
});

describe('OidcError', () => {
  it('carries a stable code, a status hint and survives a second copy of core', () => {
    const error = new OidcError('ERR_OIDC_RATE_LIMITED', 'slow down', { retryAfter: 3 });
    expect(error.status).toBe(503);
    expect(error.toJSON()).toEqual({ error: 'ERR_OIDC_RATE_LIMITED', message: 'slow down' });
    const foreign = Object.assign(new Error('x'), { name: 'OidcError', code: 'ERR_OIDC_STATE_MISMATCH' });
    expect(isOidcError(foreign)).toBe(true);
    expect(isOidcError(Object.assign(new Error('x'), { name: 'OidcError', code: 'NOPE' }))).toBe(false);
    expect(isOidcError(null)).toBe(false);
  });
});
