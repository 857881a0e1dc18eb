/**
 * Issuer aliases: a tenant's `issuerAliases` (a custom URL domain, the OIN dynamic issuer
 * mode) are accepted wherever a token's issuer is checked — ID tokens, the callback's RFC 9207
 * `iss`, introspection answers and triage, logout JWTs — while keys always come from the tenant's
 * own `issuer`. A JWT naming any other issuer is still refused.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTransport } from '../src/http/transport';
import { createJwksRegistry } from '../src/jwks/jwks-registry';
import { isTenantIssuer, parseTenant, type Tenant } from '../src/tenant/tenant';
import { type ValidateIdTokenDeps, validateIdToken } from '../src/tokens/validate-id-token';
import { startTestProvider, type TestProvider } from './jwks-test-provider';

const NOW_SEC = 1_700_000_000;
const NONCE = 'n-alias-0123';
const ALIAS = 'https://login.acme.example';

let provider: TestProvider;
let deps: ValidateIdTokenDeps;

beforeAll(async () => {
  provider = await startTestProvider();
});
afterAll(() => provider.close());
beforeEach(() => {
  deps = { jwks: createJwksRegistry(createTransport({ retries: 0 }), { now: () => NOW_SEC * 1000 }), now: () => NOW_SEC * 1000, clockToleranceSec: 30 };
});

function withAliases(tenant: Tenant, aliases: string[]): Tenant {
  return parseTenant({ id: tenant.id, issuer: tenant.issuer, clientId: tenant.clientId, clientSecret: 'unused-secret-0123456789', redirectUris: [...tenant.redirectUris], issuerAliases: aliases });
}

describe('issuerAliases', () => {
  it('accepts an ID token whose iss is an alias, signed with the keys of the tenant\'s issuer', async () => {
    const tenant = withAliases(provider.tenant(), [ALIAS]);
    const idToken = await provider.sign(provider.claims(NOW_SEC, { iss: ALIAS, nonce: NONCE }));
    expect((await validateIdToken(deps, tenant, idToken, { nonce: NONCE })).iss).toBe(ALIAS);
  });

  it('refuses that token for a tenant without the alias, and any other issuer for one with it', async () => {
    const plain = provider.tenant();
    const aliased = withAliases(plain, [ALIAS]);
    const fromAlias = await provider.sign(provider.claims(NOW_SEC, { iss: ALIAS, nonce: NONCE }));
    await expect(validateIdToken(deps, plain, fromAlias, { nonce: NONCE })).rejects.toMatchObject({ code: 'ERR_OIDC_ID_TOKEN_INVALID', details: { check: 'iss' } });
    const elsewhere = await provider.sign(provider.claims(NOW_SEC, { iss: 'https://login.other.example', nonce: NONCE }));
    await expect(validateIdToken(deps, aliased, elsewhere, { nonce: NONCE })).rejects.toMatchObject({ code: 'ERR_OIDC_ID_TOKEN_INVALID', details: { check: 'iss' } });
  });

  it('normalises aliases like the issuer, drops one equal to the issuer, and refuses custom authorization servers', () => {
    const base = provider.tenant();
    const tenant = withAliases(base, [`${ALIAS}/`, base.issuer]);
    expect(tenant.issuerAliases).toEqual([ALIAS]);
    expect(isTenantIssuer(tenant, ALIAS)).toBe(true);
    expect(isTenantIssuer(tenant, `${ALIAS}/`)).toBe(false);
    expect(isTenantIssuer(tenant, 'https://LOGIN.acme.example.evil')).toBe(false);
    expect(() => withAliases(base, ['https://login.acme.example/oauth2/default'])).toThrow(expect.objectContaining({ code: 'ERR_OIDC_CUSTOM_AUTHORIZATION_SERVER' }));
    expect(() => withAliases(base, ['http://login.acme.example'])).toThrow(expect.objectContaining({ code: 'ERR_OIDC_INSECURE_ISSUER' }));
  });
});
