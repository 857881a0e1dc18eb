/**
 * Public types of the Okta org emulator. This file is their source: docs/architecture.md
 * ("Emulator") links here and gives only the reasons behind them. Other packages rely on them, so a
 * change here is a contract change. This module imports nothing; `OrgControl` and `OktaOrg`, which
 * name the hostile and logout types, are in types-org.ts.
 */

/** The Okta endpoints the emulator counts, faults and rate-limits. */
export type EmulatorEndpoint =
  | 'discovery'
  | 'authorize'
  | 'token'
  | 'keys'
  | 'userinfo'
  | 'introspect'
  | 'revoke'
  | 'logout';

export const EMULATOR_ENDPOINTS: readonly EmulatorEndpoint[] = [
  'discovery',
  'authorize',
  'token',
  'keys',
  'userinfo',
  'introspect',
  'revoke',
  'logout',
];

/** A scripted failure served instead of (or, for `delay`, before) the normal response. */
export type Fault =
  | { type: 'status'; status: number; body?: string } // e.g. 500, 503
  | { type: 'hang' }
  | { type: 'delay'; ms: number }
  | { type: 'rate-limit'; resetInSec?: number } // 429 + X-Rate-Limit-Limit/Remaining=0/Reset
  | { type: 'html'; status?: number } // text/html page; default status 200 (proxy/captive-portal page)
  | { type: 'malformed-json'; status?: number } // application/json that does not parse; default 200
  | { type: 'redirect'; location?: string; status?: number } // a 3xx on a back channel; default 302 to /moved
  | { type: 'oversized'; bytes?: number }; // 200 with a valid JSON body of `bytes` (default 2 MiB)

export interface EmulatorClient {
  clientId: string;
  /** Shorthand for one active secret. */
  clientSecret?: string;
  /** Up to two active secrets (rotation); inactive ones are refused with 401 invalid_client. */
  clientSecrets?: { value: string; active: boolean }[];
  tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
  /** Public keys for private_key_jwt. */
  jwks?: { keys: JsonWebKey[] };
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  /** Third-party-initiated login URI (OIDC Core §4); kept by the emulator, matched exactly. */
  initiateLoginUri?: string;
  dpopBoundAccessTokens?: boolean;
  /** Display name shown on the login form; default: the client id. */
  name?: string;
}

export interface EmulatorUser {
  /** Okta user id; default: a stable "00u…" id derived from the login. */
  sub?: string;
  login: string;
  password: string;
  /** Standard claims (name, email, given_name, …); `preferred_username` defaults to the login. */
  claims?: Record<string, unknown>;
}

export interface OrgConfig {
  name?: string;
  /** 0 or absent: a random free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  clients: EmulatorClient[];
  users?: EmulatorUser[];
  /** Login of the auto-signed-in user; default: the first user; false shows the login form. */
  autoLogin?: string | false;
  /** Headers are always sent; `enforce` turns the window limit into 429s. Default limit 600/60 s. */
  rateLimit?: { limit: number; windowSec?: number; enforce?: boolean };
  /** Okta org id used as the `idp` claim; default: a random "00o…" id. */
  orgId?: string;
  /**
   * Which key signs access tokens. `'published'` (default): the org's active signing key, the one
   * `/keys` publishes, as Okta does since its March 2024 release (Okta support article "Validation
   * Failed on Access Token Issued by the Org Authorization Server"). `'private'`: a key that is
   * never published, so only `/introspect` can tell a real token (Okta before that release).
   */
  accessTokenSigning?: 'published' | 'private';
  /**
   * Refuse a client secret sent with the other secret method (Basic for a `client_secret_post`
   * app, or the reverse) with 401 `invalid_client`, as Okta documents ("depending on the
   * authentication method that the application is configured with"). Default false: either
   * secret method is accepted (oidc-provider's behaviour). See okta-client-checks.ts.
   */
  strictClientAuthMethod?: boolean;
}

export interface SigningKeyInfo {
  kid: string;
  active: boolean;
}

export interface ResolvedUser {
  sub: string;
  login: string;
  password: string;
  claims: Record<string, unknown>;
}

export interface ResolvedOrgConfig {
  name: string;
  orgId: string;
  clients: EmulatorClient[];
  users: ResolvedUser[];
  autoLogin: string | false;
  rateLimit: { limit: number; windowSec: number; enforce: boolean };
  accessTokenSigning: 'published' | 'private';
  strictClientAuthMethod: boolean;
}
