/**
 * `redirect-uri.registered`: one `prompt=none` authorization request per redirect URI, with PKCE,
 * sent by us (not a browser), so no user can be signed in and nothing is issued.
 *
 * - Registered: the authorization server redirects back to the URI with an error such as
 *   `login_required` (OIDC Core §3.1.2.6: with `prompt=none` and no session "an error is
 *   returned", and errors go to the redirect URI, RFC 6749 §4.1.2.1).
 * - Not registered: RFC 6749 §4.1.2.1 forbids redirecting to it; Okta shows its own error page,
 *   "400 Bad Request — The 'redirect_uri' parameter must be a Login redirect URI in the client app
 *   settings" (Okta support, support.okta.com/help/s/article/okta-error-400-bad-request-the-redirect-uri-parameter-must-be-a-login-redirect-uri-in-the-client-app-settings),
 *   which it also shows for a client id the org does not know.
 *
 * The request goes to Okta only; the redirect URI itself is never fetched.
 */
import { computeCodeChallenge, randomCodeVerifier } from '../authorize/pkce';
import type { HttpClient } from '../http/http-client';
import { randomNonce, randomState } from '../internal/random';
import type { Tenant } from '../tenant/tenant';
import type { TenantCheck } from './types';

/** `error` values that only say "no session", which is what a probe without a browser must get. */
const NO_SESSION = new Set(['login_required', 'interaction_required', 'consent_required', 'account_selection_required']);
const SAFE_ERROR = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$/;

/** What to do about an `error` Okta redirected back with (the URI is registered; something else is not). */
const ERROR_FIXES: Record<string, string> = {
  unauthorized_client: "enable the Authorization Code grant type for the app in Okta (General > Grant type)",
  invalid_scope: 'request only scopes the org grants (openid profile email address phone)',
  access_denied: 'check the app\'s assignments and sign-on policy in Okta',
  invalid_request: 'check the app is an OIDC Web Application in Okta',
};

/** True when `location` is `redirectUri` plus response parameters (RFC 6749 §3.1.2: its query is kept). */
function pointsTo(location: URL, redirectUri: URL): boolean {
  if (location.origin !== redirectUri.origin || location.pathname !== redirectUri.pathname) return false;
  for (const [name, value] of redirectUri.searchParams) {
    if (!location.searchParams.getAll(name).includes(value)) return false;
  }
  return true;
}

/** Probe one redirect URI. */
export async function probeRedirectUri(http: HttpClient, tenant: Tenant, redirectUri: string, timeoutMs: number): Promise<TenantCheck> {
  const id = 'redirect-uri.registered' as const;
  const state = randomState();
  const verifier = randomCodeVerifier();
  const url = new URL(tenant.endpoints.authorization);
  url.search = new URLSearchParams({
    client_id: tenant.clientId,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: redirectUri,
    state,
    nonce: randomNonce(),
    // The SDK always sends S256 PKCE (RFC 9700 §2.1.1); the probe asks exactly as a sign-in does.
    code_challenge: await computeCodeChallenge(verifier),
    code_challenge_method: 'S256',
    prompt: 'none',
  }).toString();

  const register = `Register ${redirectUri} as a Sign-in redirect URI in the Okta app (Applications > Applications > the app > General > Sign-in redirect URIs; exact match, including the path and any trailing slash), and check the client id.`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response: Response;
  try {
    response = await http(url.toString(), { method: 'GET', headers: { accept: 'text/html' }, signal: controller.signal, redirect: 'manual' });
  } catch {
    clearTimeout(timer);
    const timedOut = controller.signal.aborted;
    return {
      id,
      status: 'fail',
      message: timedOut
        ? `Okta's authorize endpoint did not answer within ${timeoutMs} ms, so ${redirectUri} could not be checked; sign-ins would hang the same way.`
        : `Okta's authorize endpoint could not be reached, so ${redirectUri} could not be checked; check the network path from this server to Okta.`,
      details: { redirectUri, code: timedOut ? 'ERR_OIDC_HTTP_TIMEOUT' : 'ERR_OIDC_UNAVAILABLE' },
    };
  }
  clearTimeout(timer);
  // Nothing in the body is read: Okta's page is for people, and the probe must not echo remote text.
  response.body?.cancel().catch(() => undefined);

  const status = response.status;
  if (response.type === 'opaqueredirect' || status === 0) {
    // A browser's fetch hides manual redirects (Fetch: "opaque-redirect filtered response").
    return { id, status: 'skip', message: `Not checked: the HTTP client hides redirects (a browser's fetch), so ${redirectUri} cannot be checked; run the check on a server.`, details: { redirectUri } };
  }
  const raw = response.headers.get('location');
  const location = raw === null ? null : URL.parse(raw, url);
  if (status >= 300 && status < 400 && location !== null && pointsTo(location, new URL(redirectUri))) {
    const error = location.searchParams.get('error');
    const details: Record<string, unknown> = { redirectUri, status };
    if (error !== null && SAFE_ERROR.test(error)) details.error = error;
    if (location.searchParams.get('state') !== state) details.stateEchoed = false;
    if (error === null || NO_SESSION.has(error)) {
      return { id, status: 'ok', message: `${redirectUri} is registered: Okta redirected the prompt=none probe back to it.`, details };
    }
    const fix = ERROR_FIXES[error] ?? 'see the Okta System Log for the refused authorization request';
    return {
      id,
      status: 'warn',
      message: `${redirectUri} is registered, but Okta redirected back with error=${SAFE_ERROR.test(error) ? error : '(unreadable)'}: ${fix}.`,
      details,
    };
  }
  if (status >= 300 && status < 400) {
    return { id, status: 'fail', message: `Okta redirected the probe somewhere other than ${redirectUri}. ${register}`, details: { redirectUri, status } };
  }
  return {
    id,
    status: 'fail',
    message: `Okta answered the probe with HTTP ${status} (its error page) instead of redirecting back to ${redirectUri}. ${register}`,
    details: { redirectUri, status },
  };
}
