/** The Okta org emulator from @oin-oidc/testing, started in the bench process. */
export const CLIENT_ID = '0oa1benchclient';
export const CLIENT_SECRET = 'bench-client-secret-0123456789abcdef0123456789';
export const SESSION_SECRET = 'bench-session-secret-0123456789abcdef0123456789abcdef';
export const USER = { login: 'bench.user@example.com', password: 'Bench-Password-1', claims: { name: 'Bench User', email: 'bench.user@example.com' } };

export async function loadTesting() {
  try {
    const testing = await import('@oin-oidc/testing');
    return typeof testing.startOktaOrg === 'function' ? testing : null;
  } catch {
    return null;
  }
}

/** Start one org whose client accepts every given redirect URI. */
export async function startOrg(testing, redirectUris) {
  return testing.startOktaOrg({
    name: 'bench',
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris }],
    users: [USER],
    // Benchmarks measure the SDK, not an org's budget: with the default window (600 a minute) the
    // SDK rightly stops calling Okta at `X-Rate-Limit-Remaining: 0` (docs/rate-limits.md).
    rateLimit: { limit: 1_000_000 },
  });
}

export function tenantRecord(issuer, redirectUris, id = 'bench') {
  return { id, issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris };
}
