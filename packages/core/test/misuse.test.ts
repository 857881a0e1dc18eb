/**
 * Programmer misuse of a function argument is one kind of error everywhere: a TypeError with a
 * stable code (ERR_INVALID_ARG_TYPE | ERR_INVALID_ARG_VALUE), never an OidcError and never a
 * message to parse. Configuration stays ERR_OIDC_INVALID_OPTIONS (options.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { computeCodeChallenge } from '../src/authorize/pkce';
import { serializeCookie } from '../src/cookies';
import { createSealer } from '../src/crypto/seal';
import { isOidcError } from '../src/errors';
import { codedTypeError } from '../src/index';
import { decodeBase64url } from '../src/internal/base64url';
import { createJwksRegistry } from '../src/jwks/jwks-registry';
import { createTransport } from '../src/http/transport';
import { MemorySessionStore } from '../src/session/memory-session-store';
import { MemoryTtlStore } from '../src/ttl-store';

const SECRET = 'misuse-secret-0123456789-0123456789-abc';

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

async function rejected(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('misuse errors', () => {
  it('codedTypeError is a plain TypeError with the code (and the cause when given)', () => {
    const cause = new Error('inner');
    const error = codedTypeError('limit must be a non-negative integer', 'ERR_INVALID_ARG_VALUE', cause);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: 'limit must be a non-negative integer', cause });
    expect(isOidcError(error)).toBe(false);
    expect(codedTypeError('x must be a string', 'ERR_INVALID_ARG_TYPE')).not.toHaveProperty('cause');
  });

  it('core reports a wrong argument type as ERR_INVALID_ARG_TYPE and a refused value as ERR_INVALID_ARG_VALUE', async () => {
    const sealer = createSealer([SECRET]);
    expect(await rejected(sealer.seal('text' as unknown as object, 'session', 60))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(await rejected(sealer.seal({}, 42 as unknown as string, 60))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(await rejected(sealer.seal({}, 'Not A Purpose', 60))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    expect(await rejected(sealer.seal({}, 'session', 0))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    expect(await rejected(computeCodeChallenge('short'))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    expect(thrown(() => serializeCookie('a b', 'v'))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    expect(thrown(() => decodeBase64url('not base64url!'))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    expect(thrown(() => new MemoryTtlStore({ maxEntries: 0 }))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    expect(thrown(() => new MemorySessionStore({ tombstoneSec: 0 }))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  });

  it('factory options out of their bound are configuration: ERR_OIDC_INVALID_OPTIONS naming the field', () => {
    expect(thrown(() => createTransport({ timeoutMs: 0 }))).toMatchObject({ code: 'ERR_OIDC_INVALID_OPTIONS', details: { field: 'timeoutMs' } });
    expect(thrown(() => createTransport({ retries: 1.5 }))).toMatchObject({ code: 'ERR_OIDC_INVALID_OPTIONS', details: { field: 'retries' } });
    expect(thrown(() => createJwksRegistry(createTransport(), { refetchWindowSec: 0 }))).toMatchObject({ code: 'ERR_OIDC_INVALID_OPTIONS', details: { field: 'refetchWindowSec' } });
    expect(() => createTransport({ timeoutMs: 600_000, retries: 10 })).not.toThrow();
  });
});
