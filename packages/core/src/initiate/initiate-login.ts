/**
 * Third-party-initiated login (OIDC Core §4): Okta sends the browser to the app's registered
 * Initiate login URI with `iss` (and optionally `login_hint`, `target_link_uri`); the app then
 * starts a normal authorization request at that issuer. Okta also appends no `tenant` parameter:
 * `tenant` is this SDK's own hint, useful when the registered Initiate login URI carries it
 * (`https://app.example.com/auth/initiate?tenant=acme-hr`) for an org with several instances.
 */
import { sanitizeReturnTo } from '../authorize/return-to';
import { isOidcError, OidcError } from '../errors';
import { codedTypeError } from '../internal/misuse';
import type { CredentialStore } from '../tenant/credential-store';
import { compileIssuerPolicy, type IssuerPolicy, type IssuerPolicyCheck } from '../tenant/issuer-policy';
import { isLoopbackHost, type Tenant } from '../tenant/tenant';

export interface InitiateLoginResult {
  tenant: Tenant;
  /** Passed through to the authorization request (OIDC Core §3.1.2.1), never used to pick a local account. */
  loginHint?: string;
  /** A same-origin path taken from `target_link_uri`. */
  returnTo?: string;
}

/** Longest `login_hint` passed on (an e-mail address is at most 254 characters, RFC 5321 §4.5.3.1). */
export const MAX_LOGIN_HINT_LENGTH = 256;
const MAX_ISSUER_LENGTH = 2048;
const MAX_TARGET_LINK_URI_LENGTH = 4096;
const MAX_TENANT_ID_LENGTH = 128;
const SINGLE_VALUED = ['iss', 'login_hint', 'target_link_uri', 'tenant'] as const;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

function badRequest(message: string, field: string): OidcError {
  return new OidcError('ERR_OIDC_INVALID_REQUEST', message, { details: { field } });
}

/** Options of {@link resolveInitiateLogin}. */
export interface InitiateLoginOptions {
  /**
   * The issuer policy the `iss` parameter must pass before the store is asked (the client passes its
   * own, compiled). Default: no loopback issuers, no IP literals, any other host (docs/tenants.md#issuer-policy).
   */
  issuerPolicy?: IssuerPolicy | IssuerPolicyCheck;
}

/** Why an initiate request matched no tenant; only in `details.reason`, for logs. */
export type InitiateUnknownReason = 'unknown-issuer' | 'unknown-instance' | 'ambiguous' | 'issuer-not-allowed';

/**
 * The one answer for every way an `iss` fails to pick a tenant (SA-18, docs/security.md "What is
 * public"): an unknown issuer, a `tenant` hint naming no instance of it, an org with several
 * instances and no hint, an issuer the policy refuses. Same status, code and message, so the route
 * cannot be used to learn which Okta orgs are customers or how many instances they hold; the reason
 * is for logs.
 */
export const INITIATE_UNKNOWN_MESSAGE = 'This sign-in link does not match an organisation configured for this application.';

function unknown(reason: InitiateUnknownReason): OidcError {
  return new OidcError('ERR_OIDC_TENANT_UNKNOWN', INITIATE_UNKNOWN_MESSAGE, { details: { parameter: 'iss', reason } });
}

const defaultPolicy = compileIssuerPolicy();

/**
 * Resolve an initiate-login request (its query, or its auto-submitted form body) to a tenant.
 *
 * - `iss` is required and matched **exactly** (byte for byte) against the configured issuers through
 *   `store.findByIssuer`: no trailing-slash, case or default-port normalisation, as for every issuer
 *   comparison in OIDC (Core §3.1.3.7 step 2; RFC 9207 §2.4). Okta sends its issuer without a trailing
 *   slash, which is the form tenant records are normalised to. An unknown `iss` fails before any
 *   network call, so the endpoint cannot be used for SSRF or discovery of arbitrary hosts (catalogue
 *   TP-01); a non-https `iss` (other than loopback) is refused (Core §4, TP-02), and so is one the
 *   issuer policy refuses (loopback without `allowLoopbackIssuers`, IP literals, hosts outside
 *   `allowedIssuerHosts`).
 * - Several instances of one org: the `tenant` parameter must name one of them. When present,
 *   `tenant` must always be an instance of that issuer.
 * - Every one of those failures answers the same 404 `ERR_OIDC_TENANT_UNKNOWN` with
 *   {@link INITIATE_UNKNOWN_MESSAGE}; `details.reason` (`unknown-issuer`, `unknown-instance`,
 *   `ambiguous`, `issuer-not-allowed`) says which, for logs only (SA-18).
 * - `login_hint` is passed through when at most {@link MAX_LOGIN_HINT_LENGTH} characters without
 *   control characters; otherwise it is dropped (it is only a hint; catalogue TP-06).
 * - `target_link_uri` is followed only when it is an absolute URL with the same origin as
 *   `appOrigin`, then reduced to a path by `sanitizeReturnTo`; anything else is ignored, never
 *   followed (Core §4: "RPs MUST verify the value of the target_link_uri to prevent being used as an
 *   open redirector to external sites"; catalogue TP-04/TP-05).
 * - A parameter given twice is refused (`ERR_OIDC_DUPLICATE_PARAMETER`).
 *
 * @param appOrigin The app's external origin (`https://app.example.com`).
 * @throws OidcError `ERR_OIDC_INVALID_REQUEST`, `ERR_OIDC_DUPLICATE_PARAMETER`, `ERR_OIDC_TENANT_UNKNOWN`.
 */
export async function resolveInitiateLogin(
  store: CredentialStore,
  params: URLSearchParams,
  appOrigin: string,
  options: InitiateLoginOptions = {},
): Promise<InitiateLoginResult> {
  const policy = options.issuerPolicy;
  const checkIssuer = policy === undefined ? defaultPolicy : typeof policy === 'function' ? policy : compileIssuerPolicy(policy);
  const origin = URL.parse(appOrigin);
  if (origin === null || (origin.protocol !== 'https:' && origin.protocol !== 'http:')) {
    throw codedTypeError('appOrigin must be an absolute http(s) URL', 'ERR_INVALID_ARG_VALUE');
  }

  for (const name of SINGLE_VALUED) {
    if (params.getAll(name).length > 1) {
      throw new OidcError('ERR_OIDC_DUPLICATE_PARAMETER', `The ${name} parameter is given more than once.`, { details: { parameter: name } });
    }
  }

  const iss = params.get('iss');
  if (iss === null || iss === '') throw badRequest('The iss parameter is required (OIDC Core §4).', 'iss');
  if (iss.length > MAX_ISSUER_LENGTH) throw badRequest('The iss parameter is too long.', 'iss');
  const issUrl = URL.parse(iss);
  // http only where the policy may allow it (loopback); everything else http is refused outright (TP-02).
  if (issUrl === null || !(issUrl.protocol === 'https:' || (issUrl.protocol === 'http:' && isLoopbackHost(issUrl.hostname)))) {
    throw badRequest('The iss parameter must be an https URL (OIDC Core §4).', 'iss');
  }
  try {
    checkIssuer(iss);
  } catch (error) {
    if (isOidcError(error) && error.code === 'ERR_OIDC_ISSUER_NOT_ALLOWED') throw unknown('issuer-not-allowed');
    throw error;
  }

  const candidates = await store.findByIssuer(iss);
  if (candidates.length === 0) throw unknown('unknown-issuer');

  const hint = params.get('tenant');
  let tenant: Tenant | undefined;
  if (hint !== null) {
    tenant = hint.length <= MAX_TENANT_ID_LENGTH ? candidates.find((candidate) => candidate.id === hint) : undefined;
    if (!tenant) throw unknown('unknown-instance');
  } else if (candidates.length === 1) {
    tenant = candidates[0]!;
  } else {
    // Configure each instance's Initiate login URI with ?tenant=ID (docs/tenants.md).
    throw unknown('ambiguous');
  }

  const result: InitiateLoginResult = { tenant };
  const loginHint = params.get('login_hint');
  if (loginHint !== null && loginHint !== '' && loginHint.length <= MAX_LOGIN_HINT_LENGTH && !CONTROL.test(loginHint)) {
    result.loginHint = loginHint;
  }

  const target = params.get('target_link_uri');
  if (target !== null && target.length <= MAX_TARGET_LINK_URI_LENGTH) {
    // Absolute URLs only: a relative value such as `//evil.com` does not parse without a base and is
    // ignored. `https://app.example.com@evil.com` parses with host evil.com and fails the origin test.
    const targetUrl = URL.parse(target);
    if (targetUrl !== null && targetUrl.origin === origin.origin && targetUrl.username === '' && targetUrl.password === '') {
      const path = sanitizeReturnTo(`${targetUrl.pathname}${targetUrl.search}${targetUrl.hash}`);
      result.returnTo = path;
    }
  }
  return result;
}
