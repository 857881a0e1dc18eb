/**
 * Local signing keys, a local JWKS served over HTTP, and Okta-shaped ID tokens.
 * Used where the emulator is not needed (pure validation); the emulator signs everything else.
 */
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

export async function rsaKey(kid = randomUUID()) {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, publicKey, privateKey, jwk };
}

/** A JWKS endpoint on 127.0.0.1:0 that counts its fetches; `keys` can be swapped at run time. */
export async function startJwksServer(keys) {
  const state = { keys, fetches: 0 };
  const server = createServer((_req, res) => {
    state.fetches++;
    const body = JSON.stringify({ keys: state.keys.map((k) => k.jwk) });
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=86400' });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  return {
    issuer,
    jwksUri: `${issuer}/oauth2/v1/keys`,
    state,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** An ID token with the claims an Okta org authorization server puts in one. */
export async function mintIdToken(key, { issuer, clientId, nonce, sub = '00u1benchuser', lifetimeSec = 3600 }) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    ver: 1,
    jti: `ID.${randomUUID()}`,
    amr: ['pwd'],
    idp: '00o1benchidp',
    nonce,
    preferred_username: 'bench.user@example.com',
    name: 'Bench User',
    email: 'bench.user@example.com',
    auth_time: now - 5,
  })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .setIssuer(issuer)
    .setSubject(sub)
    .setAudience(clientId)
    .setIssuedAt(now)
    .setExpirationTime(now + lifetimeSec)
    .sign(key.privateKey);
}
