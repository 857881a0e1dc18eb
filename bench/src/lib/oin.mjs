/**
 * The subject: oin-oidc's ID-token validation through @oin-oidc/core's public exports, resolved at
 * run time so the harness works against whichever shape the package exports:
 *   1. createOidcClient({ store }).validateIdToken(tenant, idToken, expected)   (preferred: the user-facing API)
 *   2. validateIdToken({ jwks: createJwksRegistry(createTransport()), now, clockToleranceSec }, tenant, idToken, expected)
 * Returns null when neither exists yet.
 */
export async function loadCore() {
  try {
    return await import('@oin-oidc/core');
  } catch {
    return null;
  }
}

/**
 * ID-token validation through a client. `verifySignature` is passed on when given: the Express,
 * Fastify and Koa adapters use `nodeSignatureVerifier`; core's own default is Web Crypto.
 */
export async function makeOinValidator(core, tenantRecord, { verifySignature, kind = 'createOidcClient().validateIdToken' } = {}) {
  if (!core) return null;
  const store = core.createMemoryCredentialStore([tenantRecord]);
  const tenant = await store.get(tenantRecord.id);
  if (typeof core.createOidcClient === 'function') {
    const client = core.createOidcClient({ store, allowLoopbackIssuers: true, ...(verifySignature ? { verifySignature } : {}) });
    return { kind, validate: (token, expected) => client.validateIdToken(tenant, token, expected), client, tenant };
  }
  if (typeof core.validateIdToken === 'function' && typeof core.createJwksRegistry === 'function' && typeof core.createTransport === 'function') {
    const deps = { jwks: core.createJwksRegistry(core.createTransport()), now: Date.now, clockToleranceSec: 30 };
    return { kind: 'validateIdToken()', validate: (token, expected) => core.validateIdToken(deps, tenant, token, expected), tenant };
  }
  return null;
}

export function tenantRecordFor(issuer, clientId, id = 'bench') {
  return {
    id,
    issuer,
    clientId,
    clientSecret: 'bench-secret-0123456789abcdef0123456789abcdef',
    redirectUris: ['http://127.0.0.1:3000/auth/callback'],
  };
}
