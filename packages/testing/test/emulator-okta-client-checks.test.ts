/**
 * Okta's answers before the grant is looked at (src/emulator/okta-client-checks.ts): a DPoP-requiring
 * app refuses a token request without a proof, and with `strictClientAuthMethod` a secret sent with the
 * other secret method is refused, as Okta documents.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorClient, type OktaOrg, startOktaOrg } from '../src/index';
import { clientPost, REDIRECT } from './_support/emulator';

const basic: EmulatorClient = { clientId: 'basic-app', clientSecret: 'basic-secret', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [REDIRECT] };
const post: EmulatorClient = { clientId: 'post-app', clientSecret: 'post-secret', tokenEndpointAuthMethod: 'client_secret_post', redirectUris: [REDIRECT] };
const dpop: EmulatorClient = { ...basic, clientId: 'dpop-app', dpopBoundAccessTokens: true };
let strict: OktaOrg;
let lenient: OktaOrg;

beforeAll(async () => {
  [strict, lenient] = await Promise.all([
    startOktaOrg({ clients: [basic, post, dpop], strictClientAuthMethod: true }),
    startOktaOrg({ clients: [basic, post, dpop] }),
  ]);
});
afterAll(async () => {
  await Promise.all([strict?.close(), lenient?.close()]);
});

const madeUpCode = { grant_type: 'authorization_code', code: 'never-issued', redirect_uri: REDIRECT, code_verifier: 'v'.repeat(43) };

describe('DPoP required (Okta support: "The DPoP Proof JWT Header Is Missing")', () => {
  it('answers a token request without a DPoP header with 400 invalid_dpop_proof, before the code is looked at', async () => {
    const response = await clientPost(lenient, '/oauth2/v1/token', { client: dpop, secret: 'basic-secret' }, madeUpCode);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid_dpop_proof', error_description: 'The DPoP proof JWT header is missing.' });
  });

  it('leaves other apps to the grant check (invalid_grant)', async () => {
    const response = await clientPost(lenient, '/oauth2/v1/token', { client: basic, secret: 'basic-secret' }, madeUpCode);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_grant');
  });
});

describe('strictClientAuthMethod', () => {
  const introspect = (org: OktaOrg, as: EmulatorClient, secret: string) => clientPost(org, '/oauth2/v1/introspect', { client: as, secret }, { token: 'random' });

  it('refuses a secret sent with the other secret method (401 invalid_client)', async () => {
    // basic-app's secret sent in the body, post-app's in the Authorization header.
    const asPost = await introspect(strict, { ...basic, tokenEndpointAuthMethod: 'client_secret_post' }, 'basic-secret');
    expect(asPost.status).toBe(401);
    expect(((await asPost.json()) as { error: string }).error).toBe('invalid_client');
    const asBasic = await introspect(strict, { ...post, tokenEndpointAuthMethod: 'client_secret_basic' }, 'post-secret');
    expect(asBasic.status).toBe(401);
    expect(asBasic.headers.get('www-authenticate')).toContain('Basic');
  });

  it('accepts the registered method', async () => {
    for (const [client, secret] of [[basic, 'basic-secret'], [post, 'post-secret']] as const) {
      const response = await introspect(strict, client, secret);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ active: false });
    }
  });

  it('is off by default: either secret method is accepted', async () => {
    const response = await introspect(lenient, { ...basic, tokenEndpointAuthMethod: 'client_secret_post' }, 'basic-secret');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ active: false });
  });
});
