import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDiscoveryCache, discover, discoveryUrl } from '../src/discovery/discover';
import { validateProviderMetadata } from '../src/discovery/metadata';
import { OidcError } from '../src/errors';
import { createTransport } from '../src/http/transport';
import { json, startTestServer, type TestServer } from './http-test-server';

const PATH = '/.well-known/openid-configuration';

async function failure(promise: Promise<unknown> | (() => unknown)): Promise<OidcError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (error instanceof OidcError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

let server: TestServer;
let issuer: string;
let document: Record<string, unknown> | 'fail';

function metadata(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth2/v1/authorize`,
    token_endpoint: `${issuer}/oauth2/v1/token`,
    jwks_uri: `${issuer}/oauth2/v1/keys`,
    userinfo_endpoint: `${issuer}/oauth2/v1/userinfo`,
    end_session_endpoint: `${issuer}/oauth2/v1/logout`,
    introspection_endpoint: `${issuer}/oauth2/v1/introspect`,
    revocation_endpoint: `${issuer}/oauth2/v1/revoke`,
    authorization_response_iss_parameter_supported: true,
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code'],
    ...overrides,
  };
}

beforeAll(async () => {
  server = await startTestServer((req, res) => {
    if (req.url !== PATH) return json(res, 404, {});
    if (document === 'fail') return json(res, 503, {});
    json(res, 200, document);
  });
  issuer = server.origin;
});
afterAll(() => server.close());
beforeEach(() => {
  document = metadata();
  server.requests.length = 0;
});

const transport = createTransport({ retries: 0 });

describe('discovery', () => {
  it('builds the well-known URL (Discovery §4)', () => {
    expect(discoveryUrl('https://acme.okta.com')).toBe('https://acme.okta.com/.well-known/openid-configuration');
    expect(discoveryUrl('https://acme.okta.com/oauth2/aus1')).toBe('https://acme.okta.com/oauth2/aus1/.well-known/openid-configuration');
  });

  it('fetches and validates the document', async () => {
    const result = await discover(transport, issuer);
    expect(result.token_endpoint).toBe(`${issuer}/oauth2/v1/token`);
    expect(result.authorization_response_iss_parameter_supported).toBe(true);
    expect(result.response_types_supported).toEqual(['code']);
  });

  it.each([`${'ISSUER'}/`, 'https://evil.okta.com', 'http://127.0.0.1', 'ISSUER/oauth2/default'])(
    'refuses an issuer that is not exactly the configured one (%s) (AR-06)',
    async (template) => {
      document = metadata({ issuer: template.replace('ISSUER', issuer) });
      const error = await failure(discover(transport, issuer));
      expect(error.code).toBe('ERR_OIDC_DISCOVERY_FAILED');
      expect(error.details?.field).toBe('issuer');
    },
  );

  it.each(['token_endpoint', 'jwks_uri', 'authorization_endpoint', 'end_session_endpoint', 'introspection_endpoint'])(
    'refuses %s on another origin (AR-10, HF-06)',
    async (field) => {
      for (const value of ['https://evil.example/oauth2/v1/x', `${issuer.replace('http:', 'https:')}/x`, `${issuer}:1/x`, 'not a url', `${issuer}/x#frag`]) {
        document = metadata({ [field]: value });
        const error = await failure(discover(transport, issuer));
        expect(error.code).toBe('ERR_OIDC_DISCOVERY_FAILED');
        expect(error.details?.field).toBe(field);
      }
    },
  );

  it('refuses a document missing required members or with wrong types', async () => {
    document = metadata({ jwks_uri: undefined });
    expect((await failure(discover(transport, issuer))).details?.field).toBe('jwks_uri');
    document = metadata({ authorization_response_iss_parameter_supported: 'yes' });
    expect((await failure(discover(transport, issuer))).code).toBe('ERR_OIDC_DISCOVERY_FAILED');
    expect((await failure(() => validateProviderMetadata(issuer, [1, 2]))).code).toBe('ERR_OIDC_DISCOVERY_FAILED');
  });

  it('refuses a provider that does not sign ID tokens with RS256', async () => {
    document = metadata({ id_token_signing_alg_values_supported: ['ES256'] });
    expect((await failure(discover(transport, issuer))).details?.field).toBe('id_token_signing_alg_values_supported');
  });

  it('reports a non-200 JSON answer as ERR_OIDC_DISCOVERY_FAILED and a 5xx as ERR_OIDC_UNAVAILABLE', async () => {
    expect((await failure(discover(transport, `${issuer}/nowhere`))).code).toBe('ERR_OIDC_DISCOVERY_FAILED');
    document = 'fail';
    expect((await failure(discover(transport, issuer))).code).toBe('ERR_OIDC_UNAVAILABLE');
  });
});

describe('discovery cache', () => {
  it('fetches once per issuer, single-flight', async () => {
    const cache = createDiscoveryCache(transport);
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.get(issuer)));
    expect(new Set(results).size).toBe(1);
    expect(server.hits(PATH)).toBe(1);
    await cache.get(issuer);
    expect(server.hits(PATH)).toBe(1);
  });

  it('does not cache a failure: it retries lazily and recovers (HF-07)', async () => {
    const cache = createDiscoveryCache(transport);
    document = 'fail';
    expect((await failure(cache.get(issuer))).code).toBe('ERR_OIDC_UNAVAILABLE');
    document = metadata();
    expect((await cache.get(issuer)).issuer).toBe(issuer);
    expect(server.hits(PATH)).toBe(2);
  });

  it('refreshes after the TTL and keeps the previous document while the provider is down', async () => {
    let clock = 1_700_000_000_000;
    const cache = createDiscoveryCache(transport, { ttlSec: 60, now: () => clock });
    const first = await cache.get(issuer);
    clock += 61_000;
    document = 'fail';
    expect(await cache.get(issuer)).toBe(first);
    expect(server.hits(PATH)).toBe(2);
    document = metadata({ token_endpoint: `${issuer}/oauth2/v1/token2` });
    expect((await cache.get(issuer)).token_endpoint).toBe(`${issuer}/oauth2/v1/token2`);
    // An invalid document is never papered over with the old one.
    clock += 61_000;
    document = metadata({ issuer: 'https://evil.okta.com' });
    expect((await failure(cache.get(issuer))).code).toBe('ERR_OIDC_DISCOVERY_FAILED');
  });

  it('validates its options once', async () => {
    expect((await failure(() => createDiscoveryCache(transport, { ttlSec: 0 }))).code).toBe('ERR_OIDC_INVALID_OPTIONS');
  });
});
