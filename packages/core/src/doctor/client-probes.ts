/**
 * `client.credentials`, `client.auth-method` and the token-endpoint half of `dpop.required`:
 * probes that authenticate the client without a user and without a token being issued.
 *
 * - Credentials: introspect a random, well-formed token (RFC 7662 §2.1) with the tenant's client
 *   authentication. A client Okta accepts gets `{"active": false}` (RFC 7662 §2.2: an unknown token
 *   is inactive); a wrong secret, a key Okta does not hold, or a client id of another org gets 401
 *   `invalid_client` (RFC 6749 §5.2; Okta support, "Invalid_Client Error Returned When Requesting
 *   OAuth Token(s)").
 * - Method: when the record's secret method is refused, the other secret method is tried with the
 *   same secrets, because Okta authenticates "depending on the authentication method that the
 *   application is configured with" (developer.okta.com/docs/api/openapi/okta-oauth/guides/client-auth).
 * - DPoP: a token request for a made-up authorization code without a DPoP proof. An app with
 *   "Require DPoP header in token requests" answers 400 `invalid_dpop_proof` ("The DPoP proof JWT
 *   header is missing.", Okta support article of that name); any other app `invalid_grant` (RFC 6749
 *   §5.2). The code does not exist, so nothing is issued.
 */
import { authenticatedPost } from '../client-auth/authenticated-post';
import { isOidcError, type OidcError, toOidcError } from '../errors';
import type { Transport, TransportResponse } from '../http/types';
import { randomToken } from '../internal/random';
import { parseTenant, type Tenant, type TokenEndpointAuthMethod } from '../tenant/tenant';
import type { TenantCheck } from './types';

/** An OAuth error code we may repeat (remote input): RFC 6749 §5.2 syntax, bounded. */
const SAFE_ERROR = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$/;

type Probe =
  | { kind: 'accepted'; secretIndex: number | undefined; active: boolean }
  | { kind: 'refused' }
  | { kind: 'unexpected'; status: number; error: string | undefined }
  | { kind: 'error'; error: OidcError };

/** What the client probes found. */
export interface ClientProbeResult {
  credentials: TenantCheck;
  authMethod: TenantCheck;
  /** The tenant as Okta accepts it (the record's method, or the other secret method), for further probes. */
  working: Tenant | undefined;
}

function oauthError(response: TransportResponse): string | undefined {
  const json = response.json;
  const error = typeof json === 'object' && json !== null ? (json as { error?: unknown }).error : undefined;
  return typeof error === 'string' && SAFE_ERROR.test(error) ? error : undefined;
}

/** The same tenant with other client authentication (and no DPoP), validated like any record. */
function variant(tenant: Tenant, method: TokenEndpointAuthMethod): Tenant {
  const base = { id: tenant.id, issuer: tenant.issuer, clientId: tenant.clientId, redirectUris: [...tenant.redirectUris], profile: tenant.profile };
  const auth = tenant.auth;
  return auth.method === 'private_key_jwt'
    ? parseTenant({ ...base, tokenEndpointAuthMethod: method, privateJwk: { ...auth.privateJwk } })
    : parseTenant({ ...base, tokenEndpointAuthMethod: method, clientSecrets: auth.secrets.map((s) => ({ value: s.value, active: s.active })) });
}

async function introspectRandom(deps: { transport: Transport; now: () => number }, tenant: Tenant): Promise<Probe> {
  try {
    const response = await authenticatedPost(deps, tenant, 'introspection', tenant.endpoints.introspection, {
      // 256 random bits: a well-formed opaque token no org ever issued.
      token: randomToken(32),
      token_type_hint: 'access_token',
    });
    const error = oauthError(response);
    if ((response.status === 400 || response.status === 401) && error === 'invalid_client') return { kind: 'refused' };
    const json = response.json as { active?: unknown } | undefined;
    if (response.status === 200 && typeof json === 'object' && json !== null && typeof json.active === 'boolean') {
      return { kind: 'accepted', secretIndex: response.secretIndex, active: json.active };
    }
    return { kind: 'unexpected', status: response.status, error };
  } catch (error) {
    return { kind: 'error', error: toOidcError(error, 'ERR_OIDC_HTTP_ERROR') };
  }
}

function errorCheck(id: 'client.credentials', error: OidcError): TenantCheck {
  const details: Record<string, unknown> = { code: error.code };
  if (error.code === 'ERR_OIDC_RATE_LIMITED') {
    if (error.retryAfter !== undefined) details.retryAfter = error.retryAfter;
    return { id, status: 'skip', message: `Not checked: Okta rate-limited the introspection probe (${error.message}). Run the check again later.`, details };
  }
  if (error.code === 'ERR_OIDC_INVALID_TENANT') {
    return { id, status: 'fail', message: `${error.message}. Fix the tenant record's privateJwk: a private RSA or EC key in JWK form.`, details };
  }
  return { id, status: 'fail', message: `The introspection probe failed: ${error.message}. Check that the issuer is the org's URL and that nothing between this app and Okta alters its answers.`, details };
}

const SKIP_METHOD = (why: string): TenantCheck => ({ id: 'client.auth-method', status: 'skip', message: `Not checked: ${why}` });

/** Run the credential and authentication-method probes. */
export async function probeClient(deps: { transport: Transport; now: () => number }, tenant: Tenant): Promise<ClientProbeResult> {
  const method = tenant.auth.method;
  const first = await introspectRandom(deps, tenant);
  const methodDetails = { method };

  if (first.kind === 'accepted') {
    const credentials = await acceptedCredentials(deps, tenant, first);
    return {
      credentials,
      authMethod: { id: 'client.auth-method', status: 'ok', message: `Okta accepted ${method}, the method the tenant record uses.`, details: { ...methodDetails, accepted: method } },
      working: tenant,
    };
  }
  if (first.kind === 'error') {
    return { credentials: errorCheck('client.credentials', first.error), authMethod: SKIP_METHOD('the introspection probe did not complete.'), working: undefined };
  }
  if (first.kind === 'unexpected') {
    const details: Record<string, unknown> = { status: first.status };
    if (first.error !== undefined) details.error = first.error;
    return {
      credentials: {
        id: 'client.credentials',
        status: 'fail',
        message: `Okta answered the introspection probe with HTTP ${first.status}${first.error ? ` (${first.error})` : ''} instead of {"active": false} or invalid_client. Check the app's settings in Okta (an OIDC Web Application) and the Okta System Log.`,
        details,
      },
      authMethod: SKIP_METHOD('the introspection probe gave no clear answer.'),
      working: undefined,
    };
  }

  // Refused. With a secret, try the other secret method: a record that names the wrong one fails every sign-in.
  if (method !== 'private_key_jwt') {
    const other: TokenEndpointAuthMethod = method === 'client_secret_basic' ? 'client_secret_post' : 'client_secret_basic';
    const alternative = variant(tenant, other);
    const retry = await introspectRandom(deps, alternative);
    if (retry.kind === 'accepted') {
      return {
        credentials: {
          id: 'client.credentials',
          status: 'ok',
          message: `The client id and secret are valid: Okta accepted them with ${other}.`,
          details: { method: other },
        },
        authMethod: {
          id: 'client.auth-method',
          status: 'fail',
          message: `Okta refused ${method} but accepted ${other}: set tokenEndpointAuthMethod: '${other}' in the tenant record (or change the app's Client authentication in Okta to match the record).`,
          details: { method, accepted: other },
        },
        working: alternative,
      };
    }
  }
  return {
    credentials: {
      id: 'client.credentials',
      status: 'fail',
      message:
        method === 'private_key_jwt'
          ? "Okta refused the client (invalid_client): the private key is wrong (its public key is not registered in the Okta app), or the client id is not this org's, or the app uses a client secret."
          : "Okta refused the client (invalid_client): the client secret (or private key) is wrong, or the client id is not this org's. Copy the Client ID and Client secret from the app's General tab in Okta.",
      details: { method, error: 'invalid_client' },
    },
    authMethod: SKIP_METHOD(`Okta refused the credentials with ${method === 'private_key_jwt' ? 'private_key_jwt' : 'both client_secret_basic and client_secret_post'}, so the method it expects is unknown.`),
    working: undefined,
  };
}

/** The credentials were accepted; with two active secrets, say which one Okta holds. */
async function acceptedCredentials(
  deps: { transport: Transport; now: () => number },
  tenant: Tenant,
  probe: Extract<Probe, { kind: 'accepted' }>,
): Promise<TenantCheck> {
  const id = 'client.credentials' as const;
  const auth = tenant.auth;
  const base = probe.active
    ? { status: 'warn' as const, message: 'Okta accepted the client, but called a random token active: the org does not behave like Okta. Check the issuer.' }
    : { status: 'ok' as const, message: `Okta accepted the client credentials (${auth.method}).` };
  if (auth.method === 'private_key_jwt') return { id, ...base, details: { method: auth.method } };
  const active = auth.secrets.flatMap((secret, index) => (secret.active ? [index] : []));
  if (active.length < 2) return { id, ...base, details: { method: auth.method, secretIndex: probe.secretIndex } };
  if (probe.secretIndex !== active[0]) {
    // authenticatedPost fell back to the second secret: every sign-in pays one refused call first.
    return {
      id,
      status: 'warn',
      message: `Okta refused the first active client secret and accepted the second: remove the first from the tenant record (or mark it inactive) once the rotation in Okta is complete.`,
      details: { method: auth.method, secretIndex: probe.secretIndex, refusedSecretIndex: active[0] },
    };
  }
  // The first one works; check the second on its own, so a rotation does not fail later.
  const second = auth.secrets[active[1]!]!;
  const alone = parseTenant({
    id: tenant.id,
    issuer: tenant.issuer,
    clientId: tenant.clientId,
    redirectUris: [...tenant.redirectUris],
    profile: tenant.profile,
    tokenEndpointAuthMethod: auth.method,
    clientSecret: second.value,
  });
  const result = await introspectRandom(deps, alone);
  if (result.kind === 'refused') {
    return {
      id,
      status: 'warn',
      message: 'Okta accepted the first active client secret but refused the second: remove the second from the tenant record, or correct it, before Okta drops the first.',
      details: { method: auth.method, secretIndex: active[0], refusedSecretIndex: active[1] },
    };
  }
  return { id, ...base, details: { method: auth.method, secretIndex: probe.secretIndex, secondSecret: result.kind === 'accepted' ? 'accepted' : 'unknown' } };
}

/**
 * Whether the Okta app requires DPoP on token requests: true, false, or undefined when the probe
 * gave no clear answer. Sends no proof, a made-up code, and the tenant's working authentication.
 */
export async function probeDpopRequired(
  deps: { transport: Transport; now: () => number },
  working: Tenant,
): Promise<{ required: boolean | undefined; error?: string; code?: string }> {
  try {
    // A DPoP tenant would make authenticatedPost attach a proof; this probe must send none.
    const tenant = working.dpop ? variant(working, working.auth.method) : working;
    const response = await authenticatedPost(deps, tenant, 'token', tenant.endpoints.token, {
      grant_type: 'authorization_code',
      code: randomToken(32),
      redirect_uri: tenant.redirectUris[0]!,
      code_verifier: randomToken(32),
    });
    const error = oauthError(response);
    if (response.status === 400 && error === 'invalid_dpop_proof') return { required: true, error };
    if ((response.status === 400 || response.status === 401) && error !== undefined && error !== 'invalid_client') return { required: false, error };
    return error === undefined ? { required: undefined } : { required: undefined, error };
  } catch (error) {
    return { required: undefined, code: isOidcError(error) ? error.code : 'ERR_OIDC_HTTP_ERROR' };
  }
}
