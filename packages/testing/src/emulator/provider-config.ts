import { randomBytes } from 'node:crypto';
import MemoryAdapterExport from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRUExport from 'oidc-provider/lib/helpers/lru.js';
import { escapeHtml, page } from './html';
import type { EmulatorClient, ResolvedOrgConfig, ResolvedUser } from './types';

/**
 * oidc-provider is ES modules only. In this package's CommonJS build, `require()` of it (Node ≥ 20.19
 * loads ES modules that way) hands the bundler's default-import shim the whole module namespace, so
 * the class is one `default` deeper there; the ES build gets the class itself.
 */
function defaultExport<T>(value: T | { default: T }): T {
  return typeof value === 'function' ? value : (value as { default: T }).default;
}
const MemoryAdapter = defaultExport(MemoryAdapterExport);
const LRU = defaultExport(LRUExport);

/** Okta org authorization server paths (https://{oktaDomain}/oauth2/v1/*). */
export const OKTA_ROUTES = {
  authorization: '/oauth2/v1/authorize',
  token: '/oauth2/v1/token',
  jwks: '/oauth2/v1/keys',
  userinfo: '/oauth2/v1/userinfo',
  introspection: '/oauth2/v1/introspect',
  revocation: '/oauth2/v1/revoke',
  end_session: '/oauth2/v1/logout',
  pushed_authorization_request: '/oauth2/v1/par',
} as const;

export const INTERACTION_PATH = '/login/';

/** Scope → claims, as Okta's org authorization server releases them. */
const CLAIMS = {
  openid: ['sub', 'ver', 'idp', 'jti', 'amr'],
  profile: [
    'name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username', 'profile',
    'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at',
  ],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
  groups: ['groups'],
};

export interface ProviderConfigInput {
  config: ResolvedOrgConfig;
  port: number;
  /** The secret registered inside oidc-provider for each secret client; never given out. */
  internalSecrets: Map<string, string>;
  userBySub(sub: string): ResolvedUser | undefined;
  /** Initial private signing keys; KeyRing keeps the provider's keystore current afterwards. */
  jwks: { keys: unknown[] };
}

function providerClient(client: EmulatorClient, internalSecret: string | undefined): Record<string, unknown> {
  return {
    client_id: client.clientId,
    client_name: client.name ?? client.clientId,
    ...(internalSecret ? { client_secret: internalSecret } : {}),
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    ...(client.jwks ? { jwks: client.jwks } : {}),
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris ?? [],
    response_types: ['code'],
    grant_types: ['authorization_code', 'refresh_token'],
    // Okta always puts auth_time in ID tokens.
    require_auth_time: true,
    id_token_signed_response_alg: 'RS256',
    ...(client.dpopBoundAccessTokens ? { dpop_bound_access_tokens: true } : {}),
    // initiate_login_uri stays with the emulator: oidc-provider only accepts https:// there.
  };
}

/** Entries of the emulator's per-org store (sessions, grants, codes, tokens): far beyond a test or load run. */
const MAX_STORED_ENTRIES = 200_000;

/** oidc-provider 9 configuration for one Okta org. */
export function providerConfiguration(input: ProviderConfigInput): Record<string, unknown> {
  const { config, port, internalSecrets, userBySub, jwks } = input;
  // One store per org, large: oidc-provider's default in-memory store keeps 1,000 entries and drops
  // the oldest, so a load run of a few hundred sign-ins evicted access tokens issued minutes
  // earlier, which then introspected as inactive. Okta does not forget a live token.
  const store = new LRU({ maxSize: MAX_STORED_ENTRIES });
  return {
    adapter: (model: string) => new MemoryAdapter(model, store, 0),
    jwks,
    clients: config.clients.map((c) => providerClient(c, internalSecrets.get(c.clientId))),
    routes: OKTA_ROUTES,
    scopes: ['openid', 'profile', 'email', 'address', 'phone', 'groups', 'offline_access'],
    claims: CLAIMS,
    // Okta's org AS puts the granted profile/email claims in the ID token from the token endpoint.
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    pkce: { required: () => true },
    allowOmittingSingleRegisteredRedirectUri: false,
    // Browsers share cookies across ports of one host: name them per org so orgs stay apart.
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      names: { session: `okta_${port}_sid`, interaction: `okta_${port}_ia`, resume: `okta_${port}_ia_resume` },
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `${INTERACTION_PATH}${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      introspection: {
        enabled: true,
        // oidc-provider's default rule, stated explicitly: a public client may only introspect its
        // own tokens.
        allowedPolicy: async (_ctx: unknown, client: { clientAuthMethod: string; clientId: string }, token: { clientId?: string }) =>
          client.clientAuthMethod !== 'none' || token.clientId === client.clientId,
      },
      revocation: {
        enabled: true,
        // A client revokes only its own tokens; another client's token is left alone with the
        // usual 200 (RFC 7009 §2.2 answers 200 for tokens the server does not act on).
        allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) => token.clientId === client.clientId,
      },
      userinfo: { enabled: true },
      // Okta demands a server nonce on DPoP token requests (400 use_dpop_nonce + DPoP-Nonce,
      // RFC 9449 §8); resource requests (userinfo) do not need one.
      dPoP: {
        enabled: true,
        nonceSecret: randomBytes(32),
        requireNonce: (ctx: { oidc?: { route?: string } }) => ctx.oidc?.route === 'token',
      },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    },
    enabledJWA: { dPoPSigningAlgValues: ['RS256', 'ES256', 'PS256'] },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 300,
      IdToken: 3600,
      Interaction: 3600,
      Session: 86400,
      Grant: 86400,
      RefreshToken: 86400 * 30,
    },
    async findAccount(_ctx: unknown, sub: string) {
      const user = userBySub(sub);
      if (!user) return undefined;
      return {
        accountId: user.sub,
        async claims(use: string) {
          return {
            preferred_username: user.login,
            ...user.claims,
            sub: user.sub,
            // Okta ID token claims (ver, idp, jti); never in /userinfo.
            ...(use === 'id_token'
              ? { ver: 1, idp: config.orgId, jti: `ID.${randomBytes(32).toString('base64url')}` }
              : {}),
          };
        },
      };
    },
    // Okta's org AS access tokens (and their introspection) carry the login as `sub` and
    // `username`, and the user id as `uid`; the ID token's `sub` is the user id. oidc-provider
    // spreads these extra claims over its own introspection answer, so `sub` becomes the login.
    async extraTokenClaims(_ctx: unknown, token: { kind?: string; accountId?: string }) {
      if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
      const user = userBySub(token.accountId);
      return user ? { sub: user.login, username: user.login, uid: user.sub } : undefined;
    },
    async renderError(ctx: { type: string; body: string }, out: Record<string, string>) {
      ctx.type = 'html';
      const rows = Object.entries(out)
        .map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: <span class="${escapeHtml(k)}">${escapeHtml(v)}</span></p>`)
        .join('\n');
      ctx.body = page('Error', `<h1>Okta org emulator: error</h1><div class="error">${rows}</div>`);
    },
  };
}

/**
 * Okta signs the user out straight away on /oauth2/v1/logout; oidc-provider asks for a
 * confirmation, so the page confirms itself (a button remains for clients without JavaScript).
 */
async function logoutSource(ctx: { body: string }, form: string) {
  ctx.body = page(
    'Signing out',
    `${form}
<p>Signing out…</p>
<noscript><button type="submit" form="op.logoutForm" value="yes" name="logout">Sign out</button></noscript>
<script>var f=document.getElementById('op.logoutForm');var i=document.createElement('input');i.type='hidden';i.name='logout';i.value='yes';f.appendChild(i);f.submit();</script>`,
  );
}

async function postLogoutSuccessSource(ctx: { body: string }) {
  ctx.body = page('Signed out', '<h1>You have been signed out</h1>');
}
