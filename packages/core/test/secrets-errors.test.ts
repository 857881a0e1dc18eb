/**
 * Secrets hygiene of the building blocks' errors (catalogue LG-01), for the leaks the
 * full-flow harness (secrets-hygiene.test.ts) found and the flow layer does not reach by itself:
 * an error, logged with its cause chain, must not carry what it failed on.
 *
 * Regression tests: before the fix, jose's claim errors (kept as `cause`) carried the decrypted
 * sealed payload or the ID token's claims, and V8's JSON.parse messages (kept as `cause`) quoted
 * the input around the error.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSealer } from '../src/crypto/seal';
import { createTransport } from '../src/http/transport';
import { createJwksRegistry } from '../src/jwks/jwks-registry';
import { parseTenantsJson } from '../src/tenant/credential-store';
import { parseTenant } from '../src/tenant/tenant';
import { validateIdToken } from '../src/tokens/validate-id-token';
import { compactJws, rsaKey, type RsaKey } from './support/jws';
import { expectFailure, type LocalServer, startLocalServer } from './support/properties';

/** What a logger prints for an error: JSON with the cause chain, and util.inspect. */
function logged(error: unknown): string {
  const walk = (value: unknown, depth: number): unknown => {
    if (!(value instanceof Error) || depth > 10) return value;
    const own: Record<string, unknown> = {};
    for (const name of Object.getOwnPropertyNames(value)) own[name] = (value as unknown as Record<string, unknown>)[name];
    return { ...own, cause: walk((value as { cause?: unknown }).cause, depth + 1) };
  };
  return `${JSON.stringify(walk(error, 0))}\n${inspect(error, { depth: 10, showHidden: true })}`;
}

describe('errors carry nothing they failed on (LG-01)', () => {
  it('an expired sealed value: the error does not hold the decrypted payload', async () => {
    let now = Date.now();
    const sealer = createSealer(['errors-test-secret-0123456789-abcdefghij'], { now: () => now });
    const verifier = 'pkce-verifier-that-must-not-leak-0123456789abcdef';
    const sealed = await sealer.seal({ codeVerifier: verifier, idToken: 'id.token.value-that-must-not-leak' }, 'transaction', 60);
    now += 120_000;
    const error = await expectFailure(() => sealer.unseal(sealed, 'transaction'), ['ERR_OIDC_TRANSACTION_EXPIRED']);
    expect(logged(error)).not.toContain(verifier);
    expect(logged(error)).not.toContain('must-not-leak');
  });

  it('a malformed tenants file: the error does not quote the text around the error (a client secret)', async () => {
    const secret = 'tenants-file-client-secret-0123456789';
    const text = `[{"id":"acme","issuer":"https://acme.okta.com","clientId":"0oa1","clientSecret":${secret}}]`;
    const error = await expectFailure(() => parseTenantsJson(text), ['ERR_OIDC_INVALID_TENANT']);
    expect(logged(error)).not.toMatch(/tenants-fi|0123456789/);
  });

  describe('over HTTP', () => {
    let server: LocalServer;
    let key: RsaKey;
    let body = '';
    beforeAll(async () => {
      key = await rsaKey('k');
      server = await startLocalServer();
      server.respond((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(req.url === '/oauth2/v1/keys' ? JSON.stringify({ keys: [key.publicJwk] }) : body);
      });
    });
    afterAll(async () => {
      await server?.close();
    });

    it('a malformed JSON answer: the error does not quote the answer (a token)', async () => {
      body = '{"access_token":secret-access-token-value-0123456789,"token_type":"Bearer"}';
      const transport = createTransport({ timeoutMs: 5_000, retries: 0 });
      const error = await expectFailure(() => transport.request('token', { issuer: server.origin }, `${server.origin}/oauth2/v1/token`, { method: 'POST', body: 'x=y' }), ['ERR_OIDC_HTTP_ERROR']);
      expect(logged(error)).not.toMatch(/secret-acc|ccess-token-value|0123456789/);
    });

    it('an ID token failing a claim check: the error does not hold its claims (nonce, e-mail)', async () => {
      const tenant = parseTenant({ id: 'acme', issuer: server.origin, clientId: '0oa1', clientSecret: 'client-secret', redirectUris: ['https://app.example.com/cb'] });
      const nonce = 'nonce-that-must-not-leak-0123456789';
      const now = Math.floor(Date.now() / 1000);
      const jwks = createJwksRegistry(createTransport({ timeoutMs: 5_000, retries: 0 }));
      for (const claims of [{ iss: 'https://evil.example' }, { aud: 'someone-else' }, { nbf: now + 3600 }]) {
        const token = await compactJws(
          { alg: 'RS256', kid: 'k' },
          { iss: server.origin, aud: '0oa1', sub: '00u1', iat: now, exp: now + 3600, nonce, email: 'alice@private.example', ...claims },
          key.privateKey,
        );
        const error = await expectFailure(() => validateIdToken({ jwks, now: Date.now, clockToleranceSec: 30 }, tenant, token, { nonce }), ['ERR_OIDC_ID_TOKEN_INVALID']);
        expect(logged(error), JSON.stringify(claims)).not.toContain(nonce);
        expect(logged(error)).not.toContain('alice@private.example');
      }
    });
  });
});
