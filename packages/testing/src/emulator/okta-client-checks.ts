import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './http-util';
import type { EmulatorClient, EmulatorEndpoint, ResolvedOrgConfig } from './types';

/**
 * Answers Okta gives on its client-authenticated endpoints before it looks at the grant, which
 * oidc-provider gives differently or not at all. Runs after the secret rewrite (secrets.ts), so the
 * body is on `req.body`; returns true when it answered.
 *
 * - DPoP required: an app with "Require Demonstrating Proof of Possession (DPoP) header in token
 *   requests" answers a `/token` request without a `DPoP` header with 400 `invalid_dpop_proof`,
 *   "The DPoP proof JWT header is missing." (Okta support, "The DPoP Proof JWT Header Is Missing",
 *   support.okta.com/help/s/article/the-dpop-proof-jwt-header-is-missing). oidc-provider checks the
 *   grant first, so a request with a made-up code got `invalid_grant` and never showed it.
 * - Strict client authentication method (`OrgConfig.strictClientAuthMethod`): Okta wants "a header
 *   or parameter in the request depending on the authentication method that the application is
 *   configured with" (developer.okta.com/docs/api/openapi/okta-oauth/guides/client-auth), and lists
 *   "an incorrect client authentication method" among the causes of `invalid_client` (Okta support,
 *   "Invalid_Client Error Returned When Requesting OAuth Token(s)"). oidc-provider accepts either
 *   secret method for a secret client; with the option on, the other secret method is refused with
 *   Okta's 401 `invalid_client`. Off by default, so existing suites keep their behaviour.
 */
export function answerLikeOkta(
  org: { issuer: string; config: ResolvedOrgConfig },
  endpoint: EmulatorEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  if (req.method !== 'POST' || (endpoint !== 'token' && endpoint !== 'introspect' && endpoint !== 'revoke')) return false;
  const presented = presentedClient(req);
  const client = presented === undefined ? undefined : org.config.clients.find((c) => c.clientId === presented.clientId);
  if (client === undefined || presented === undefined) return false;

  if (org.config.strictClientAuthMethod && isSecretMethod(client) && presented.method !== client.tokenEndpointAuthMethod) {
    if (presented.method === 'client_secret_basic') res.setHeader('www-authenticate', `Basic realm="${org.issuer}", error="invalid_client"`);
    sendJson(res, 401, { error: 'invalid_client', error_description: 'Client authentication failed. Either the client or the client credentials are invalid.' });
    return true;
  }
  if (endpoint === 'token' && client.dpopBoundAccessTokens && req.headers.dpop === undefined) {
    sendJson(res, 400, { error: 'invalid_dpop_proof', error_description: 'The DPoP proof JWT header is missing.' });
    return true;
  }
  return false;
}

type PresentedMethod = 'client_secret_basic' | 'client_secret_post' | 'jwt' | 'none';

function isSecretMethod(client: EmulatorClient): boolean {
  return client.tokenEndpointAuthMethod === 'client_secret_basic' || client.tokenEndpointAuthMethod === 'client_secret_post';
}

/** Which client the request names and how it authenticates (unverified: oidc-provider verifies). */
function presentedClient(req: IncomingMessage): { clientId: string; method: PresentedMethod } | undefined {
  const params = new URLSearchParams((req as IncomingMessage & { body?: string }).body ?? '');
  const auth = req.headers.authorization;
  if (auth?.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return undefined;
    try {
      return { clientId: decodeURIComponent(decoded.slice(0, colon).replaceAll('+', ' ')), method: 'client_secret_basic' };
    } catch {
      return undefined;
    }
  }
  const assertion = params.get('client_assertion');
  if (assertion !== null) {
    try {
      const payload = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: unknown };
      return typeof payload.sub === 'string' ? { clientId: payload.sub, method: 'jwt' } : undefined;
    } catch {
      return undefined;
    }
  }
  const clientId = params.get('client_id');
  if (clientId === null) return undefined;
  return { clientId, method: params.has('client_secret') ? 'client_secret_post' : 'none' };
}
