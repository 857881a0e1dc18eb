import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import type { EmulatorClient, OktaOrg } from '../../src/index';

export const REDIRECT = 'http://127.0.0.1:9/callback';

export async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return { verifier, challenge: Buffer.from(digest).toString('base64url') };
}

export function authorizeUrl(issuer: string, params: Record<string, string>): URL {
  const url = new URL(`${issuer}/oauth2/v1/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    scope: 'openid profile email',
    redirect_uri: REDIRECT,
    state: 'state-1',
    nonce: 'nonce-1',
    ...params,
  }).toString();
  return url;
}

/** A private_key_jwt client key pair: the public JWKS for the emulator, the private key for tests. */
export async function clientKeys(): Promise<{ jwks: { keys: JsonWebKey[] }; privateJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const pub = { ...(await exportJWK(publicKey)), kid: 'client-key-1', alg: 'RS256', use: 'sig' };
  return { jwks: { keys: [pub as JsonWebKey] }, privateJwk: { ...(await exportJWK(privateKey)), kid: 'client-key-1', alg: 'RS256' } };
}

/** RFC 7523 client assertion for private_key_jwt. */
export async function clientAssertion(clientId: string, audience: string, privateJwk: JWK): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: privateJwk.kid })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(audience)
    .setJti(crypto.randomUUID())
    .setIssuedAt()
    .setExpirationTime('2m')
    .sign(await importJWK(privateJwk, 'RS256'));
}

export interface ClientCredentials {
  client: EmulatorClient;
  secret?: string;
  privateJwk?: JWK;
}

/** POSTs form params to an org endpoint authenticating as the client in its registered way. */
export async function clientPost(
  org: OktaOrg,
  path: string,
  creds: ClientCredentials,
  params: Record<string, string>,
): Promise<Response> {
  const { client } = creds;
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const body = new URLSearchParams(params);
  const url = `${org.issuer}${path}`;
  switch (client.tokenEndpointAuthMethod) {
    case 'client_secret_basic':
      headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(creds.secret ?? '')}`).toString('base64')}`;
      break;
    case 'client_secret_post':
      body.set('client_id', client.clientId);
      body.set('client_secret', creds.secret ?? '');
      break;
    case 'private_key_jwt':
      body.set('client_id', client.clientId);
      body.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      body.set('client_assertion', await clientAssertion(client.clientId, `${org.issuer}/oauth2/v1/token`, creds.privateJwk!));
      break;
    case 'none':
      body.set('client_id', client.clientId);
      break;
  }
  return fetch(url, { method: 'POST', headers, body: body.toString() });
}

export const USERS = [
  { login: 'alice@example.com', password: 'alice-pw', claims: { name: 'Alice Example', given_name: 'Alice' } },
  { login: 'bob@example.com', password: 'bob-pw', claims: { name: 'Bob Example' } },
];
