/**
 * The authorization request (OIDC Core §3.1.2.1, RFC 6749 §4.1.1) for one tenant, and the login
 * transaction that must be sealed and kept in the browser until the callback.
 */
import { OidcError } from '../errors';
import { randomNonce, randomState } from '../internal/random';
import type { Tenant } from '../tenant/tenant';
import { CODE_CHALLENGE_METHOD, computeCodeChallenge, randomCodeVerifier } from './pkce';
import { sanitizeReturnTo } from './return-to';
import type { Transaction } from './transaction';

export interface AuthorizationRequestOptions {
  /** One of the tenant's registered redirect URIs, exact match; default the first. */
  redirectUri?: string;
  /** Where to go after sign-in; reduced to a same-origin path (default `/`). */
  returnTo?: string;
  /** OIDC Core §3.1.2.1 `login_hint` (≤ 256 characters, no control characters). */
  loginHint?: string;
  /** OIDC Core §3.1.2.1 `prompt`: space-separated `none`, `login`, `consent`, `select_account`. */
  prompt?: string;
  /** OIDC Core §3.1.2.1 `max_age` in seconds; the ID token's `auth_time` is then checked. */
  maxAge?: number;
  /** `query` (default) or `form_post` (OAuth 2.0 Form Post Response Mode). */
  responseMode?: 'query' | 'form_post';
  /** Clock in ms, recorded as the transaction's `createdAt`. */
  now?: () => number;
}

/** OIDC Core §3.1.2.1 prompt values. */
const PROMPT_VALUES = new Set(['none', 'login', 'consent', 'select_account']);
const MAX_LOGIN_HINT_LENGTH = 256;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

function invalidRequest(field: string, message: string): OidcError {
  // The message names the option, never its value (it may be user input).
  return new OidcError('ERR_OIDC_INVALID_REQUEST', `${field} ${message}`, { details: { field } });
}

function checkPrompt(prompt: string): string {
  const values = prompt.split(' ');
  if (values.some((value) => !PROMPT_VALUES.has(value)) || new Set(values).size !== values.length) {
    throw invalidRequest('prompt', 'must be space-separated values from: none, login, consent, select_account');
  }
  // OIDC Core §3.1.2.1: "If this parameter contains none with any other value, an error is returned."
  if (values.includes('none') && values.length > 1) throw invalidRequest('prompt', 'must not combine none with other values');
  return prompt;
}

/**
 * Build the authorization URL and the transaction for `tenant`.
 *
 * Always `response_type=code`, PKCE S256, fresh `state` and `nonce` (≥ 128 bits, CSPRNG), the
 * tenant's scopes, and a redirect URI the tenant registered (exact match, never derived from
 * request headers: catalogue AR-05). Throws `ERR_OIDC_REDIRECT_URI_NOT_REGISTERED` or
 * `ERR_OIDC_INVALID_REQUEST`.
 *
 * @example
 * ```ts
 * const { url, transaction } = await buildAuthorizationRequest(tenant, { returnTo: '/orders' });
 * // seal `transaction` into a cookie, then redirect the browser to `url`
 * ```
 */
export async function buildAuthorizationRequest(
  tenant: Tenant,
  options: AuthorizationRequestOptions = {},
): Promise<{ url: URL; transaction: Transaction }> {
  const redirectUri = options.redirectUri ?? tenant.redirectUris[0];
  if (redirectUri === undefined || !tenant.redirectUris.includes(redirectUri)) {
    throw new OidcError('ERR_OIDC_REDIRECT_URI_NOT_REGISTERED', `The redirect URI is not registered for tenant "${tenant.id}"`);
  }
  if (options.maxAge !== undefined && (!Number.isSafeInteger(options.maxAge) || options.maxAge < 0)) {
    throw invalidRequest('maxAge', 'must be a non-negative integer');
  }
  if (
    options.loginHint !== undefined &&
    (typeof options.loginHint !== 'string' || options.loginHint.length === 0 || options.loginHint.length > MAX_LOGIN_HINT_LENGTH || CONTROL.test(options.loginHint))
  ) {
    throw invalidRequest('loginHint', `must be 1-${MAX_LOGIN_HINT_LENGTH} characters without control characters`);
  }
  const prompt = options.prompt === undefined ? undefined : checkPrompt(String(options.prompt));
  if (options.responseMode !== undefined && options.responseMode !== 'query' && options.responseMode !== 'form_post') {
    throw invalidRequest('responseMode', 'must be query or form_post');
  }

  const state = randomState();
  const nonce = randomNonce();
  const codeVerifier = randomCodeVerifier();
  const url = new URL(tenant.endpoints.authorization);
  const params = url.searchParams;
  params.set('response_type', 'code');
  params.set('client_id', tenant.clientId);
  params.set('redirect_uri', redirectUri);
  params.set('scope', tenant.scopes.join(' '));
  params.set('state', state);
  params.set('nonce', nonce);
  params.set('code_challenge', await computeCodeChallenge(codeVerifier));
  params.set('code_challenge_method', CODE_CHALLENGE_METHOD);
  if (options.responseMode !== undefined) params.set('response_mode', options.responseMode);
  if (prompt !== undefined) params.set('prompt', prompt);
  if (options.loginHint !== undefined) params.set('login_hint', options.loginHint);
  if (options.maxAge !== undefined) params.set('max_age', String(options.maxAge));

  const transaction: Transaction = {
    state,
    nonce,
    codeVerifier,
    tenantId: tenant.id,
    redirectUri,
    returnTo: sanitizeReturnTo(options.returnTo),
    createdAt: (options.now ?? Date.now)(),
  };
  if (options.maxAge !== undefined) transaction.maxAge = options.maxAge;
  if (options.responseMode !== undefined) transaction.responseMode = options.responseMode;
  return { url, transaction };
}
