/**
 * Third-party-initiated login (OIDC Core §4): Okta sends the browser to the app's registered
 * Initiate login URI with `iss` (and optionally `login_hint`, `target_link_uri`); the app then
 * starts a normal authorization request at that issuer. Okta also appends no `tenant` parameter:
 * `tenant` is this SDK's own hint, useful when the registered Initiate login URI carries it
 * (`https://app.example.com/auth/initiate?tenant=acme-hr`) for an org with several instances.
 */
import { sanitizeReturnTo } from '../authorize/return-to';
import { OidcError } from '../errors';
import type { CredentialStore } from '../tenant/credential-store';
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

/**
 * Resolve an initiate-login request (its query, or its auto-submitted form body) to a tenant.
 *
 * - `iss` is required and matched **exactly** (byte for byte) against the configured issuers through
 *   `store.findByIssuer`: no trailing-slash, case or default-port normalisation, as for every issuer
 *   comparison in OIDC (Core §3.1.3.7 step 2; RFC 9207 §2.4). Okta sends its issuer without a trailing
 *   slash, which is the form tenant records are normalised to. An unknown `iss` fails before any
 *   network call, so the endpoint cannot be used for SSRF or discovery of arbitrary hosts (catalogue
 *   TP-01); a non-https `iss` (other than loopback) is refused (Core §4, TP-02).
 * - Several instances of one org: the `tenant` parameter must name one of them
 *   (`ERR_OIDC_TENANT_AMBIGUOUS` when missing). When present, `tenant` must always be an instance of
 *   that issuer (`ERR_OIDC_TENANT_UNKNOWN` otherwise).
 * - `login_hint` is passed through when at most {@link MAX_LOGIN_HINT_LENGTH} characters without
 *   control characters; otherwise it is dropped (it is only a hint; catalogue TP-06).
 * - `target_link_uri` is followed only when it is an absolute URL with the same origin as
 *   `appOrigin`, then reduced to a path by `sanitizeReturnTo`; anything else is ignored, never
 *   followed (Core §4: "RPs MUST verify the value of the target_link_uri to prevent being used as an
 *   open redirector to external sites"; catalogue TP-04/TP-05).
 * - A parameter given twice is refused (`ERR_OIDC_DUPLICATE_PARAMETER`).
 *
 * @param appOrigin The app's external origin (`https://app.example.com`).
 * @throws OidcError `ERR_OIDC_INVALID_REQUEST`, `ERR_OIDC_DUPLICATE_PARAMETER`,
 *   `ERR_OIDC_TENANT_UNKNOWN`, `ERR_OIDC_TENANT_AMBIGUOUS`.
 */
export async function resolveInitiateLogin(store: CredentialStore, params: URLSearchParams, appOrigin: string): Promise<InitiateLoginResult> {
  const origin = URL.parse(appOrigin);
  if (origin === null || (origin.protocol !== 'https:' && origin.protocol !== 'http:')) {
    throw Object.assign(new TypeError('appOrigin must be an absolute http(s) URL'), { code: 'ERR_INVALID_ARG_VALUE' as const });
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
  if (issUrl === null || !(issUrl.protocol === 'https:' || (issUrl.protocol === 'http:' && isLoopbackHost(issUrl.hostname)))) {
    throw badRequest('The iss parameter must be an https URL (OIDC Core §4).', 'iss');
  }

  const candidates = await store.findByIssuer(iss);
  if (candidates.length === 0) {
    throw new OidcError('ERR_OIDC_TENANT_UNKNOWN', 'No tenant is configured for this issuer.', { details: { parameter: 'iss' } });
  }

  const hint = params.get('tenant');
  let tenant: Tenant | undefined;
  if (hint !== null) {
    tenant = hint.length <= MAX_TENANT_ID_LENGTH ? candidates.find((candidate) => candidate.id === hint) : undefined;
    if (!tenant) {
      throw new OidcError('ERR_OIDC_TENANT_UNKNOWN', 'The tenant parameter does not name an app instance of this issuer.', {
        details: { parameter: 'tenant' },
      });
    }
  } else if (candidates.length === 1) {
    tenant = candidates[0]!;
  } else {
    throw new OidcError('ERR_OIDC_TENANT_AMBIGUOUS', 'Several app instances use this issuer; the tenant parameter must choose one.', {
      details: { parameter: 'tenant', instances: candidates.length },
    });
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
