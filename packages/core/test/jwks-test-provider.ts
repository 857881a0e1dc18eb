/**
 * A minimal real OpenID provider for the JWKS and ID-token tests: RSA keys generated with jose,
 * `/oauth2/v1/keys` and `/.well-known/openid-configuration` served over node:http, tokens signed
 * with jose. Tests control rotation and faults (500, hang, HTML, garbage, Cache-Control).
 */
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { parseTenant, type Tenant } from '../src/tenant/tenant';
import { json, startTestServer, type TestServer } from './http-test-server';

export const KEYS_PATH = '/oauth2/v1/keys';
export const CLIENT_ID = '0oa1clientA';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export type KeysMode = 'ok' | 500 | 'hang' | 'html' | 'garbage' | 'not-a-set' | 'redirect';

export interface TestProvider {
  readonly server: TestServer;
  readonly issuer: string;
  readonly jwksUri: string;
  /** Keys published at /keys (the first signs by default). */
  published: SigningKey[];
  /** Extra raw JWKs appended to the published set (malformed-key tests). */
  extraJwks: unknown[];
  mode: KeysMode;
  cacheControl: string | undefined;
  keysHits(): number;
  tenant(overrides?: Record<string, unknown>): Tenant;
  sign(claims: Record<string, unknown>, options?: { key?: SigningKey; header?: Record<string, unknown>; alg?: string }): Promise<string>;
  /** Claims of a valid ID token for the default tenant, now in epoch seconds. */
  claims(nowSec: number, extra?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

let counter = 0;

/** A fresh RS256 key pair with a unique kid. */
export async function newSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  counter += 1;
  const kid = `k${counter}-${Math.random().toString(36).slice(2, 8)}`;
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' } };
}

export async function startTestProvider(): Promise<TestProvider> {
  const server = await startTestServer();
  const first = await newSigningKey();
  const provider: TestProvider = {
    server,
    issuer: server.origin,
    jwksUri: `${server.origin}${KEYS_PATH}`,
    published: [first],
    extraJwks: [],
    mode: 'ok',
    cacheControl: undefined,
    keysHits: () => server.hits(KEYS_PATH),
    tenant(overrides = {}) {
      return parseTenant({
        id: 'acme',
        issuer: server.origin,
        clientId: CLIENT_ID,
        clientSecret: 'test-secret',
        redirectUris: ['http://127.0.0.1/callback'],
        ...overrides,
      });
    },
    async sign(claims, options = {}) {
      const key = options.key ?? provider.published[0]!;
      return new SignJWT(claims)
        .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: key.kid, ...options.header })
        .sign(key.privateKey);
    },
    claims(nowSec, extra = {}) {
      return { iss: server.origin, sub: '00u1user', aud: CLIENT_ID, iat: nowSec, exp: nowSec + 3600, nonce: 'n-0S6_WzA2Mj', ...extra };
    },
    close: () => server.close(),
  };
  server.handle((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      json(res, 200, {
        issuer: server.origin,
        authorization_endpoint: `${server.origin}/oauth2/v1/authorize`,
        token_endpoint: `${server.origin}/oauth2/v1/token`,
        jwks_uri: provider.jwksUri,
      });
      return;
    }
    if (req.url !== KEYS_PATH) {
      json(res, 404, { errorCode: 'E0000022' });
      return;
    }
    switch (provider.mode) {
      case 'hang':
        return; // never answer
      case 500:
        json(res, 500, { errorCode: 'E0000009' });
        return;
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><body>Service temporarily unavailable</body></html>');
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"keys": [ {"kty": "RSA",');
        return;
      case 'not-a-set':
        json(res, 200, { kty: 'RSA', n: 'abc', e: 'AQAB' });
        return;
      case 'redirect':
        res.writeHead(302, { location: `${server.origin}/.well-known/openid-configuration` });
        res.end();
        return;
      default: {
        const headers: Record<string, string> = provider.cacheControl === undefined ? {} : { 'cache-control': provider.cacheControl };
        json(res, 200, { keys: [...provider.published.map((k) => k.publicJwk), ...provider.extraJwks] }, headers);
      }
    }
  });
  return provider;
}
