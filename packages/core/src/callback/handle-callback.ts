/**
 * The callback of the authorization code flow: checks in the order the specs and the catalogue
 * require, then the code exchange and ID token validation.
 *
 * Order (each failure stops everything; no call to Okta follows a failed check, catalogue CB-*):
 * 1. transaction ↔ tenant binding (RFC 9700 §4.4.2, TK-07);
 * 2. `state` (RFC 6749 §10.12, RFC 9700 §2.1), before anything else, so a forged error response
 *    is a state failure (CB-06a);
 * 3. RFC 9207 `iss` (CB-07);
 * 4. `error` → ERR_OIDC_AUTHORIZATION_DENIED (RFC 6749 §4.1.2.1);
 * 5. no implicit/hybrid/JARM artefacts (CB-10), a `code`;
 * 6. the token request (RFC 6749 §4.1.3 with PKCE, RFC 7636 §4.5), validated with zod (TK-04..06);
 * 7. the ID token (OIDC Core §3.1.3.7) with nonce, at_hash and max_age.
 */
import { z } from 'zod';
import type { Transaction } from '../authorize/transaction';
import { authenticatedPost } from '../client-auth/authenticated-post';
import type { DpopKeyPair } from '../dpop/dpop';
import { OidcError } from '../errors';
import type { Transport, TransportResponse } from '../http/types';
import { isTenantIssuer, type Tenant } from '../tenant/tenant';
import type { IdTokenClaims, IdTokenExpectations } from '../tokens/validate-id-token';
import { timingSafeEqual } from './constant-time';
import type { CallbackParams } from './parse-callback';

/** The outcome of a successful sign-in. */
export interface SignInResult {
  tenant: Tenant;
  claims: IdTokenClaims;
  idToken: string;
  accessToken?: string;
  scope?: string;
  /** Access token expiry, ms since the epoch. */
  expiresAt?: number;
  /** Custom (non-OIN) profile only: the OIN profile never keeps refresh tokens. */
  refreshToken?: string;
  /** Index in `tenant.auth.secrets` of the client secret that worked (secret methods only). */
  secretIndex?: number;
  /** `Bearer` or `DPoP` (the latter when the tenant uses DPoP). */
  tokenType?: 'Bearer' | 'DPoP';
}

export interface HandleCallbackDeps {
  transport: Transport;
  now: () => number;
  dpop?: DpopKeyPair;
  /** Validates the ID token (OIDC Core §3.1.3.7), e.g. `validateIdToken` bound to a JWKS registry. */
  validateIdToken: (tenant: Tenant, idToken: string, expected: IdTokenExpectations) => Promise<IdTokenClaims>;
  /**
   * Whether an absent RFC 9207 `iss` parameter must be refused: true when the provider advertises
   * `authorization_response_iss_parameter_supported`. Consulted only when `iss` is absent (a present
   * `iss` is always compared). Default false: the ID token `iss` check remains the defence (CB-07).
   */
  requireIssParameter?: boolean | ((tenant: Tenant) => Promise<boolean>);
}

/** RFC 6749 Appendix A.7: error = 1*NQSCHAR (%x20-21 / %x23-5B / %x5D-7E). We keep a tighter, printable form. */
const OAUTH_ERROR_CODE = /^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/;

/** Response parameters of the implicit / hybrid / JARM flows that must never appear in a code-flow callback. */
const FOREIGN_ARTEFACTS = ['id_token', 'access_token', 'token', 'response'];

/** RFC 6749 §5.1 token response; unknown members allowed (Okta adds `scope`, etc.). */
const tokenResponseSchema = z.looseObject({
  access_token: z.string().min(1).max(16 * 1024),
  token_type: z.string().min(1).max(32),
  id_token: z.string().min(1),
  // RECOMMENDED, not required (TK-05).
  expires_in: z.number().int().nonnegative().max(10 * 365 * 86400).optional(),
  scope: z.string().max(4096).optional(),
  refresh_token: z.string().min(1).max(16 * 1024).optional(),
});

function safeErrorCode(value: unknown): string | undefined {
  return typeof value === 'string' && OAUTH_ERROR_CODE.test(value) ? value : undefined;
}

function tokenEndpointError(response: TransportResponse): OidcError {
  const json = response.json;
  const error = typeof json === 'object' && json !== null ? safeErrorCode((json as { error?: unknown }).error) : undefined;
  if (error === undefined) {
    return new OidcError('ERR_OIDC_TOKEN_RESPONSE_INVALID', `The token endpoint answered ${response.status} without an OAuth error.`, {
      details: { status: response.status },
    });
  }
  // invalid_client is our configuration (wrong or inactive secret at Okta): not the user's fault,
  // so a 503 for operators to see (catalogue CA-03). Other errors (invalid_grant: replayed or
  // expired code, PKCE mismatch) mean "sign in again" (TK-01).
  return new OidcError('ERR_OIDC_TOKEN_ENDPOINT_ERROR', `The token endpoint refused the code exchange (${error}).`, {
    details: { error, status: response.status },
    ...(error === 'invalid_client' ? { status: 503 } : {}),
  });
}

async function issRequired(deps: HandleCallbackDeps, tenant: Tenant): Promise<boolean> {
  const setting = deps.requireIssParameter;
  if (typeof setting === 'function') return setting(tenant);
  return setting === true;
}

/**
 * Finish a sign-in: check the callback `params` against the sealed `transaction`, redeem the code
 * at `tenant`'s token endpoint and validate the ID token.
 *
 * `tenant` must be the tenant that started the transaction (`transaction.tenantId`), looked up from
 * the transaction, not from the callback request (catalogue TK-07, MT-*).
 *
 * Errors: ERR_OIDC_TRANSACTION_INVALID, ERR_OIDC_STATE_MISSING, ERR_OIDC_STATE_MISMATCH,
 * ERR_OIDC_ISSUER_MISMATCH, ERR_OIDC_AUTHORIZATION_DENIED (`details.error`), ERR_OIDC_CALLBACK_INVALID,
 * ERR_OIDC_TOKEN_ENDPOINT_ERROR (`details.error`), ERR_OIDC_TOKEN_RESPONSE_INVALID, the ID token
 * codes of `validateIdToken`, and transport errors.
 */
export async function handleCallback(
  deps: HandleCallbackDeps,
  params: CallbackParams,
  transaction: Transaction,
  tenant: Tenant,
): Promise<SignInResult> {
  if (transaction.tenantId !== tenant.id || !tenant.redirectUris.includes(transaction.redirectUri)) {
    throw new OidcError('ERR_OIDC_TRANSACTION_INVALID', 'The login transaction does not belong to this tenant; start the sign-in again.');
  }
  const get = (name: string): string | undefined => (Object.hasOwn(params, name) ? params[name] : undefined);

  // 2. state first (CB-01, CB-02, CB-06a; next-auth CVE-2023-27490).
  const state = get('state');
  if (state === undefined || state === '') throw new OidcError('ERR_OIDC_STATE_MISSING', 'The callback carries no state.');
  if (!timingSafeEqual(state, transaction.state)) throw new OidcError('ERR_OIDC_STATE_MISMATCH', 'The callback state does not match the login transaction.');

  // 3. RFC 9207 §2.4: simple string comparison, no normalisation (CB-07).
  const iss = get('iss');
  if (iss !== undefined) {
    if (!isTenantIssuer(tenant, iss)) throw new OidcError('ERR_OIDC_ISSUER_MISMATCH', 'The callback iss parameter does not match the tenant issuer (RFC 9207).');
  } else if (await issRequired(deps, tenant)) {
    throw new OidcError('ERR_OIDC_ISSUER_MISMATCH', 'The callback lacks the iss parameter the provider advertises (RFC 9207 §2.4).');
  }

  // 4. Error responses: the description is provider text relayed by the browser: never in the message.
  const error = get('error');
  if (error !== undefined) {
    const code = safeErrorCode(error);
    throw new OidcError('ERR_OIDC_AUTHORIZATION_DENIED', code ? `The authorization server refused the sign-in (${code}).` : 'The authorization server refused the sign-in.', {
      details: code ? { error: code } : {},
    });
  }

  // 5. Code flow only (CB-10).
  if (FOREIGN_ARTEFACTS.some((name) => get(name) !== undefined)) {
    throw new OidcError('ERR_OIDC_CALLBACK_INVALID', 'The callback carries implicit or hybrid flow parameters; only the code flow is accepted.');
  }
  const code = get('code');
  if (code === undefined || code === '') throw new OidcError('ERR_OIDC_CALLBACK_INVALID', 'The callback carries no authorization code.');

  // 6. Code exchange. No retry on failure: a code is single-use (TK-02).
  const response = await authenticatedPost(
    { transport: deps.transport, now: deps.now, ...(deps.dpop ? { dpop: deps.dpop } : {}) },
    tenant,
    'token',
    tenant.endpoints.token,
    { grant_type: 'authorization_code', code, redirect_uri: transaction.redirectUri, code_verifier: transaction.codeVerifier },
  );
  if (response.status !== 200) throw tokenEndpointError(response);
  const parsed = tokenResponseSchema.safeParse(response.json);
  if (!parsed.success) {
    throw new OidcError('ERR_OIDC_TOKEN_RESPONSE_INVALID', 'The token response is not a valid OpenID Connect token response.', {
      details: { fields: [...new Set(parsed.error.issues.map((issue) => issue.path.map(String).join('.')))] },
    });
  }
  const tokens = parsed.data;
  // RFC 6749 §5.1: token_type is case-insensitive (TK-04). With DPoP a Bearer answer is a downgrade
  // and is discarded (RFC 9449 §5, DP-05); without DPoP a DPoP-bound token is unusable.
  const tokenType = tokens.token_type.toLowerCase();
  const expectedType = tenant.dpop && deps.dpop ? 'dpop' : 'bearer';
  if (tokenType !== expectedType) {
    throw new OidcError('ERR_OIDC_TOKEN_RESPONSE_INVALID', `The token response has token_type other than ${expectedType === 'dpop' ? 'DPoP' : 'Bearer'}.`, {
      details: { fields: ['token_type'] },
    });
  }

  // 7. Nothing from the response is used before the ID token validates (RFC 9700 §4.5.3.2).
  const expected: IdTokenExpectations = { nonce: transaction.nonce, accessToken: tokens.access_token };
  if (transaction.maxAge !== undefined) expected.maxAge = transaction.maxAge;
  const claims = await deps.validateIdToken(tenant, tokens.id_token, expected);

  const result: SignInResult = {
    tenant,
    claims,
    idToken: tokens.id_token,
    accessToken: tokens.access_token,
    tokenType: expectedType === 'dpop' ? 'DPoP' : 'Bearer',
  };
  if (tokens.scope !== undefined) result.scope = tokens.scope;
  if (tokens.expires_in !== undefined) result.expiresAt = deps.now() + tokens.expires_in * 1000;
  // The OIN profile has no offline access: a refresh token is dropped, never stored.
  if (tokens.refresh_token !== undefined && tenant.profile === 'custom') result.refreshToken = tokens.refresh_token;
  if (response.secretIndex !== undefined) result.secretIndex = response.secretIndex;
  return result;
}
