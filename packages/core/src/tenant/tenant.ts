/**
 * Tenant records: one record = one app instance in one customer's Okta org.
 *
 * Okta's OIN credentials are multi-tenant: every instance of the app in every customer org has its
 * own client id and secret (10 orgs, 3 with two instances = 13 credential sets). Records are
 * validated once, when they enter the SDK (store `put`, file load, `createMemoryCredentialStore`),
 * never per request.
 */
import { z } from 'zod';
import { OidcError } from '../errors';

/** The scopes an OIN integration may request (Okta: "Scopes"; no `offline_access`, no custom scopes). */
export const OIN_SCOPES = ['openid', 'profile', 'email', 'address', 'phone'] as const;

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** One client secret; Okta lets an app hold two, of which one or both may be active. */
export interface ClientSecret {
  value: string;
  active: boolean;
}

/** A private JWK (RSA or EC) for `private_key_jwt`. */
export interface PrivateJwk {
  kty: string;
  kid?: string;
  alg?: string;
  [member: string]: unknown;
}

/**
 * A tenant record as users write it (JSON file, database row, admin API).
 * See `docs/tenants.md`.
 */
export interface TenantRecord {
  /** Your id for this app instance (used in URLs such as `/auth/login?tenant=ID`). */
  id: string;
  /** The org authorization server: `https://{oktaDomain}`. `http` only for loopback hosts. */
  issuer: string;
  clientId: string;
  /** Shorthand for one active secret. */
  clientSecret?: string;
  /** Up to two secrets for rotation; at least one must be active. */
  clientSecrets?: ClientSecret[];
  /** Default `client_secret_basic`. */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** Required for `private_key_jwt`. */
  privateJwk?: PrivateJwk;
  /** Registered sign-in redirect URIs, matched exactly. The first is the default. */
  redirectUris: string[];
  /** Registered sign-out redirect URIs, matched exactly. */
  postLogoutRedirectUris?: string[];
  /** The registered Initiate login URI (third-party-initiated login, OIDC Core §4). */
  initiateLoginUri?: string;
  /** Default `openid profile email`. In the OIN profile only `openid profile email address phone`. */
  scopes?: string[];
  /** Accept the "Okta simplified" flow (ID token form_posted without state). Default false. */
  allowSimplifiedFlow?: boolean;
  /** Send DPoP proofs (RFC 9449) on token requests. Default false. */
  dpop?: boolean;
  /**
   * `oin` (default): org authorization server only, OIN scopes only, no refresh tokens.
   * `custom`: an explicit opt-out for apps outside the OIN (custom authorization servers,
   * `offline_access`, custom scopes).
   */
  profile?: 'oin' | 'custom';
  /**
   * Origins Okta may post from for this tenant besides the issuer's own origin: an Okta custom
   * domain (`https://login.acme.com`) when the issuer is the okta.com domain, or the reverse.
   * Each is an origin (`https://host[:port]`, no path, query or fragment; `http` only for loopback
   * hosts). The simplified flow's `Origin` check accepts these beside the issuer's origin.
   */
  oktaOrigins?: string[];
  /**
   * Other issuers this app instance's tokens may carry: an org with a custom URL domain,
   * or the OIN "dynamic" issuer mode (the app's "Set Issuer" option), signs with the same keys
   * under a second issuer. Accepted wherever a token's issuer is checked (ID tokens, the callback's
   * RFC 9207 `iss`, introspection answers, Universal Logout and back-channel logout JWTs); keys
   * always come from `issuer`'s JWKS, and the flows keep using `issuer`. Validated like `issuer`.
   * At most 4.
   */
  issuerAliases?: string[];
}

/** The endpoints of a tenant's authorization server. */
export interface TenantEndpoints {
  authorization: string;
  token: string;
  jwks: string;
  userinfo: string;
  introspection: string;
  revocation: string;
  endSession: string;
}

export type ClientAuthentication =
  | { method: 'client_secret_basic' | 'client_secret_post'; secrets: readonly ClientSecret[] }
  | { method: 'private_key_jwt'; privateJwk: PrivateJwk };

/** A validated, normalised, frozen tenant. Produced only by {@link parseTenant}. */
export interface Tenant {
  readonly id: string;
  /** Normalised issuer (no trailing slash), compared byte-for-byte with `iss` claims. */
  readonly issuer: string;
  readonly clientId: string;
  readonly auth: ClientAuthentication;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris: readonly string[];
  readonly initiateLoginUri: string | undefined;
  readonly scopes: readonly string[];
  readonly allowSimplifiedFlow: boolean;
  readonly dpop: boolean;
  readonly profile: 'oin' | 'custom';
  /** Normalised origins (`URL.origin`, deduplicated, frozen) Okta may post from besides the issuer's own; often empty. */
  readonly oktaOrigins: readonly string[];
  /** Normalised issuers besides `issuer` (custom URL domain, dynamic issuer mode); often empty. */
  readonly issuerAliases: readonly string[];
  readonly endpoints: TenantEndpoints;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True for loopback hosts (`localhost`, `127.0.0.0/8`, `[::1]`), where plain http is allowed for development. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

const absoluteUrl = z.string().refine(
  (value) => {
    const url = URL.parse(value);
    return url !== null && (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) && url.hash === '';
  },
  { message: 'must be an absolute https URL without a fragment (http only for loopback hosts)' },
);

/** At most this many extra Okta origins per tenant (a custom domain or two; a long list is a mistake). */
const MAX_OKTA_ORIGINS = 10;

/**
 * An origin as browsers send it in `Origin` (RFC 6454 §6.1): scheme://host[:port]. One trailing
 * `/` is tolerated (it is what copying a URL bar gives) and dropped by normalisation.
 */
const originSchema = z.string().max(2048).refine(
  (value) => {
    const url = URL.parse(value);
    if (url === null || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return false;
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) return false;
    // No path: the parsed path is '/' for both `https://h` and `https://h/`; anything else in the input is a path, `?` or `#`.
    return url.pathname === '/' && /^[a-z][a-z0-9+.-]*:\/\/[^/?#]+\/?$/i.test(value);
  },
  { message: 'must be an origin: https://host[:port] with no path, query or fragment (http only for loopback hosts)' },
);

const secretSchema = z.strictObject({ value: z.string().min(1), active: z.boolean() });

const recordSchema = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._~-]+$/, 'must use only A-Z a-z 0-9 . _ ~ -')
    // `.` and `..` are dot-segments (RFC 3986 §5.2.4): path mode builds `/auth/login/..`, which URL parsing collapses.
    .refine((id) => id !== '.' && id !== '..', { message: 'must not be "." or ".." (URL parsing removes these path segments)' }),
  issuer: z.string().min(1),
  clientId: z.string().min(1).max(256),
  clientSecret: z.string().min(1).optional(),
  clientSecrets: z.array(secretSchema).min(1).max(2).optional(),
  tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt']).optional(),
  privateJwk: z.looseObject({ kty: z.string(), d: z.string().min(1), kid: z.string().optional(), alg: z.string().optional() }).optional(),
  redirectUris: z.array(absoluteUrl).min(1),
  postLogoutRedirectUris: z.array(absoluteUrl).optional(),
  initiateLoginUri: absoluteUrl.optional(),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be a valid scope token')).min(1).optional(),
  allowSimplifiedFlow: z.boolean().optional(),
  dpop: z.boolean().optional(),
  profile: z.enum(['oin', 'custom']).optional(),
  oktaOrigins: z.array(originSchema).max(MAX_OKTA_ORIGINS).optional(),
  issuerAliases: z.array(z.string().min(1)).max(4).optional(),
});

function invalid(tenantId: unknown, field: string, message: string): OidcError {
  const name = typeof tenantId === 'string' && tenantId.length <= 128 ? ` "${tenantId}"` : '';
  return new OidcError('ERR_OIDC_INVALID_TENANT', `Tenant${name}: ${field} ${message}`, { details: { field } });
}

/**
 * Whether `iss` names this tenant's authorization server: its issuer, or one of its
 * `issuerAliases` (custom URL domain, dynamic issuer mode). Keys always come from `issuer`'s JWKS,
 * so an alias never lets another server's keys in. The common case (no alias) is one comparison.
 */
export function isTenantIssuer(tenant: Pick<Tenant, 'issuer' | 'issuerAliases'>, iss: unknown): boolean {
  return iss === tenant.issuer || (tenant.issuerAliases.length > 0 && typeof iss === 'string' && tenant.issuerAliases.includes(iss));
}

/** Okta custom authorization servers live under `/oauth2/{id}`; the org server is the bare origin. */
const CUSTOM_AUTHORIZATION_SERVER_PATH = /^\/oauth2\/[^/]+\/?$/;

function normaliseIssuer(record: { id: string; issuer: string; profile?: 'oin' | 'custom' }): URL {
  const url = URL.parse(record.issuer);
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw invalid(record.id, 'issuer', 'must be an absolute URL');
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new OidcError('ERR_OIDC_INSECURE_ISSUER', `Tenant "${record.id}": issuer must use https (http is allowed only for loopback hosts)`, {
      details: { field: 'issuer' },
    });
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw invalid(record.id, 'issuer', 'must not carry a query, fragment or credentials');
  }
  const path = url.pathname.replace(/\/+$/, '');
  if ((record.profile ?? 'oin') === 'oin' && path !== '') {
    if (CUSTOM_AUTHORIZATION_SERVER_PATH.test(url.pathname)) {
      throw new OidcError(
        'ERR_OIDC_CUSTOM_AUTHORIZATION_SERVER',
        `Tenant "${record.id}": OIN integrations must use the org authorization server (issuer https://{oktaDomain}); custom authorization servers such as /oauth2/default are not allowed`,
        { details: { field: 'issuer' } },
      );
    }
    throw invalid(record.id, 'issuer', 'must be the org authorization server origin (https://{oktaDomain}) with no path');
  }
  return url;
}

/** Endpoints per Okta's layout: org server `{origin}/oauth2/v1/*`, custom server `{issuer}/v1/*`. */
export function tenantEndpoints(issuer: string): TenantEndpoints {
  const isOrgServer = new URL(issuer).pathname.replace(/\/+$/, '') === '';
  return endpointsAt(isOrgServer ? `${issuer}/oauth2/v1` : `${issuer}/v1`);
}

function endpointsAt(base: string): TenantEndpoints {
  return {
    authorization: `${base}/authorize`,
    token: `${base}/token`,
    jwks: `${base}/keys`,
    userinfo: `${base}/userinfo`,
    introspection: `${base}/introspect`,
    revocation: `${base}/revoke`,
    endSession: `${base}/logout`,
  };
}

/*
 * Memory layout. A deployment can hold 100,000 tenants in memory (one per customer org and app
 * instance), so a Tenant keeps only what is its own: the seven endpoint URLs are derived from the
 * issuer on demand (a getter on the shared prototype, backed by a bounded cache of frozen
 * endpoint objects per issuer), and identical frozen string arrays (the default scopes, the app's
 * redirect URIs, which every instance of an OIN app shares) are one shared frozen array.
 */

/** Frozen endpoint objects of recently used issuers (insertion order; the oldest goes first). */
const endpointsByIssuer = new Map<string, TenantEndpoints>();
const MAX_CACHED_ENDPOINTS = 1024;

function endpointsFor(issuer: string): TenantEndpoints {
  let endpoints = endpointsByIssuer.get(issuer);
  if (endpoints === undefined) {
    // A normalised issuer is `origin` (org server) or `origin/path` (custom server, profile custom).
    const isOrgServer = issuer.indexOf('/', issuer.indexOf('//') + 2) === -1;
    endpoints = Object.freeze(endpointsAt(isOrgServer ? `${issuer}/oauth2/v1` : `${issuer}/v1`));
    if (endpointsByIssuer.size >= MAX_CACHED_ENDPOINTS) endpointsByIssuer.delete(endpointsByIssuer.keys().next().value as string);
    endpointsByIssuer.set(issuer, endpoints);
  }
  return endpoints;
}

const EMPTY: readonly string[] = Object.freeze([]);
/** Shared frozen string arrays by content; bounded: past the bound a tenant gets its own copy. */
const sharedArrays = new Map<string, readonly string[]>();
const MAX_SHARED_ARRAYS = 1024;

function frozenStrings(values: readonly string[]): readonly string[] {
  if (values.length === 0) return EMPTY;
  const key = JSON.stringify(values);
  const shared = sharedArrays.get(key);
  if (shared !== undefined) return shared;
  const copy = Object.freeze([...values]);
  if (sharedArrays.size < MAX_SHARED_ARRAYS) sharedArrays.set(key, copy);
  return copy;
}

/** The one implementation of {@link Tenant}: own fields only for per-tenant data, frozen. */
class FrozenTenant implements Tenant {
  readonly id: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly auth: ClientAuthentication;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris: readonly string[];
  readonly initiateLoginUri: string | undefined;
  readonly scopes: readonly string[];
  readonly allowSimplifiedFlow: boolean;
  readonly dpop: boolean;
  readonly profile: 'oin' | 'custom';
  readonly oktaOrigins: readonly string[];
  readonly issuerAliases: readonly string[];

  constructor(fields: Omit<Tenant, 'endpoints'>) {
    this.id = fields.id;
    this.issuer = fields.issuer;
    this.clientId = fields.clientId;
    this.auth = fields.auth;
    this.redirectUris = fields.redirectUris;
    this.postLogoutRedirectUris = fields.postLogoutRedirectUris;
    this.initiateLoginUri = fields.initiateLoginUri;
    this.scopes = fields.scopes;
    this.allowSimplifiedFlow = fields.allowSimplifiedFlow;
    this.dpop = fields.dpop;
    this.profile = fields.profile;
    this.oktaOrigins = fields.oktaOrigins;
    this.issuerAliases = fields.issuerAliases;
    Object.freeze(this);
  }

  /** Derived from the issuer (Okta's layout, {@link tenantEndpoints}); the same strings for every tenant of an org. */
  get endpoints(): TenantEndpoints {
    return endpointsFor(this.issuer);
  }
}
Object.freeze(FrozenTenant.prototype);

/**
 * Validate and normalise a tenant record. Throws an {@link OidcError} naming the field on failure
 * (`ERR_OIDC_INVALID_TENANT`, `ERR_OIDC_CUSTOM_AUTHORIZATION_SERVER`, `ERR_OIDC_INSECURE_ISSUER`,
 * `ERR_OIDC_SCOPE_NOT_ALLOWED`). Secret values never appear in the message.
 */
export function parseTenant(input: unknown): Tenant {
  const parsed = recordSchema.safeParse(input);
  const id = typeof input === 'object' && input !== null ? (input as { id?: unknown }).id : undefined;
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join('.') || '(record)';
    throw new OidcError('ERR_OIDC_INVALID_TENANT', `Tenant${typeof id === 'string' && id.length <= 128 ? ` "${id}"` : ''}: ${field} ${issue.message}`, {
      details: { field, issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), code: i.code })) },
    });
  }
  const record = parsed.data;
  const profile = record.profile ?? 'oin';
  const issuerUrl = normaliseIssuer(record);
  const issuer = `${issuerUrl.origin}${issuerUrl.pathname.replace(/\/+$/, '')}`;
  const issuerAliases = (record.issuerAliases ?? EMPTY).map((alias) => {
    const url = normaliseIssuer({ id: record.id, issuer: alias, profile });
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  });

  const method = record.tokenEndpointAuthMethod ?? 'client_secret_basic';
  let auth: ClientAuthentication;
  if (method === 'private_key_jwt') {
    if (!record.privateJwk) throw invalid(record.id, 'privateJwk', 'is required for private_key_jwt');
    if (record.clientSecret || record.clientSecrets) throw invalid(record.id, 'clientSecret', 'must not be set for private_key_jwt');
    auth = { method, privateJwk: Object.freeze({ ...record.privateJwk }) as PrivateJwk };
  } else {
    if (record.clientSecret && record.clientSecrets) throw invalid(record.id, 'clientSecrets', 'and clientSecret are mutually exclusive');
    const secrets = record.clientSecrets ?? (record.clientSecret ? [{ value: record.clientSecret, active: true }] : []);
    if (secrets.length === 0) throw invalid(record.id, 'clientSecret', `is required for ${method}`);
    if (!secrets.some((secret) => secret.active)) throw invalid(record.id, 'clientSecrets', 'must hold at least one active secret');
    if (record.privateJwk) throw invalid(record.id, 'privateJwk', `must not be set for ${method}`);
    // Active secrets first: the first active one is tried first (Okta: "one active").
    const ordered = [...secrets].sort((a, b) => Number(b.active) - Number(a.active));
    auth = { method, secrets: Object.freeze(ordered.map((s) => Object.freeze({ ...s }))) };
  }

  const scopes = record.scopes ?? ['openid', 'profile', 'email'];
  if (!scopes.includes('openid')) {
    throw new OidcError('ERR_OIDC_SCOPE_NOT_ALLOWED', `Tenant "${record.id}": scopes must include openid`, { details: { field: 'scopes' } });
  }
  if (profile === 'oin') {
    const refused = scopes.filter((scope) => !(OIN_SCOPES as readonly string[]).includes(scope));
    if (refused.length > 0) {
      throw new OidcError(
        'ERR_OIDC_SCOPE_NOT_ALLOWED',
        `Tenant "${record.id}": scopes ${refused.join(', ')} are not allowed for OIN integrations (only ${OIN_SCOPES.join(' ')})`,
        { details: { field: 'scopes', refused } },
      );
    }
  }

  return new FrozenTenant({
    id: record.id,
    issuer,
    clientId: record.clientId,
    auth: Object.freeze(auth),
    redirectUris: frozenStrings(record.redirectUris),
    postLogoutRedirectUris: frozenStrings(record.postLogoutRedirectUris ?? EMPTY),
    initiateLoginUri: record.initiateLoginUri,
    scopes: frozenStrings([...new Set(scopes)]),
    allowSimplifiedFlow: record.allowSimplifiedFlow ?? false,
    dpop: record.dpop ?? false,
    profile,
    // URL.origin lower-cases the host and drops a default port, so the values compare byte for byte with `Origin`.
    oktaOrigins: frozenStrings([...new Set((record.oktaOrigins ?? EMPTY).map((origin) => new URL(origin).origin))]),
    issuerAliases: frozenStrings([...new Set(issuerAliases)].filter((alias) => alias !== issuer)),
  });
}
