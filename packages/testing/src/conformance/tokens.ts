/**
 * Bearer tokens an attacker can make without any key, for the bearer API cases (catalogue IN-08,
 * SA-01). Okta org authorization server access tokens are RS256 JWTs carrying `iss` (the org),
 * `cid` (the client id) and `exp`; core's triage refuses, without asking Okta, what can never be
 * one of the tenant's (not such a JWT, another issuer or client, expired, or a bad signature under
 * a key it already holds), and sends the rest ("plausible") to `/introspect` through its buckets.
 */
import { randomBytes } from 'node:crypto';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const random = (bytes: number) => randomBytes(bytes).toString('base64url');

/** What an Okta access token of `issuer` for `clientId` looks like, unsigned; `claims` and `header` override. */
export function accessTokenShaped(
  issuer: string,
  clientId: string,
  options: { claims?: Record<string, unknown>; header?: Record<string, unknown>; signature?: string } = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', kid: `forged-${random(6)}`, typ: 'application/okta-internal-at+jwt', ...options.header };
  const claims = {
    ver: 1,
    jti: `AT.${random(24)}`,
    iss: issuer,
    aud: issuer,
    iat: now,
    exp: now + 3600,
    cid: clientId,
    uid: `00u${random(12)}`,
    scp: ['openid'],
    sub: 'someone@example.com',
    ...options.claims,
  };
  return `${b64url(header)}.${b64url(claims)}.${options.signature ?? random(256)}`;
}

/**
 * A token only Okta can judge: right issuer, client and lifetime, signed (it claims) with a key no
 * key set holds. `/introspect` answers it inactive.
 */
export function plausibleForgery(issuer: string, clientId: string): string {
  return accessTokenShaped(issuer, clientId);
}

/**
 * Tokens core refuses without any call to Okta: random b64token strings, and JWT-shaped forgeries
 * that name another issuer or client, another algorithm, no lifetime, or that are expired. With
 * `realToken` (an access token of the org whose key the app holds), also that token's header on an
 * edited payload and a garbled signature: the key it names proves them forged.
 */
export function junkTokens(issuer: string, clientId: string, realToken?: string): string[] {
  const now = Math.floor(Date.now() / 1000);
  const junk = [
    random(32),
    `${random(16)}~${random(16)}`,
    crypto.randomUUID(),
    'a'.repeat(900),
    `${random(20)}.${random(40)}`,
    `${random(20)}.${random(40)}.${random(40)}`,
    accessTokenShaped('https://attacker.example', clientId),
    accessTokenShaped(`${issuer}/`, clientId),
    accessTokenShaped(issuer, '0oa-someone-else'),
    accessTokenShaped(issuer, clientId, { header: { alg: 'none' }, signature: '' }).replace(/\.$/, '.x'),
    accessTokenShaped(issuer, clientId, { header: { alg: 'HS256' } }),
    accessTokenShaped(issuer, clientId, { claims: { exp: undefined } }),
    accessTokenShaped(issuer, clientId, { claims: { exp: now - 3600, iat: now - 7200 } }),
    accessTokenShaped(issuer, clientId, { claims: { cid: undefined, aud: clientId } }), // an ID token's shape
  ];
  if (realToken !== undefined) {
    const [header = '', payload = '', signature = ''] = realToken.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    junk.push(`${header}.${b64url({ ...claims, sub: 'attacker@example.com' })}.${signature}`);
    junk.push(`${header}.${payload}.${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`);
    junk.push(`${header}.${b64url({ ...claims, jti: `AT.${random(24)}` })}.${random(256)}`);
  }
  return junk;
}
