import { createHash, randomBytes } from 'node:crypto';
import type { EmulatorUser, OrgConfig, ResolvedOrgConfig, ResolvedUser } from './types';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Okta-style id: a 3-character type prefix ("00u" users, "00o" orgs) and 17 alphanumerics. */
function oktaId(prefix: string, seed: Buffer): string {
  let out = prefix;
  for (let i = 0; out.length < 20; i++) out += ALNUM[(seed[i % seed.length] ?? 0) % ALNUM.length];
  return out;
}

function resolveUser(user: EmulatorUser): ResolvedUser {
  if (!user.login || typeof user.password !== 'string') throw new Error('each user needs a login and a password');
  const claims: Record<string, unknown> = { name: user.login, preferred_username: user.login, ...user.claims };
  if (user.login.includes('@') && claims.email === undefined) {
    claims.email = user.login;
    claims.email_verified = true;
  }
  return {
    // Stable across restarts so demo sessions and printed ids stay meaningful.
    sub: user.sub ?? oktaId('00u', createHash('sha256').update(user.login).digest()),
    login: user.login,
    password: user.password,
    claims,
  };
}

/** Validates an org config and fills in defaults. */
export function resolveConfig(config: OrgConfig): ResolvedOrgConfig {
  if (!config || !Array.isArray(config.clients) || config.clients.length === 0) throw new Error('an org needs at least one client');
  const ids = new Set<string>();
  for (const client of config.clients) {
    if (!client.clientId) throw new Error('each client needs a clientId');
    if (ids.has(client.clientId)) throw new Error(`duplicate clientId ${client.clientId}`);
    ids.add(client.clientId);
    if (!Array.isArray(client.redirectUris) || client.redirectUris.length === 0) {
      throw new Error(`client ${client.clientId} needs at least one redirect URI`);
    }
    if (client.tokenEndpointAuthMethod === 'private_key_jwt' && !client.jwks?.keys?.length) {
      throw new Error(`client ${client.clientId} uses private_key_jwt and needs jwks`);
    }
  }
  const users = (config.users ?? []).map(resolveUser);
  const logins = new Set(users.map((u) => u.login.toLowerCase()));
  if (logins.size !== users.length) throw new Error('duplicate user login');
  const autoLogin = config.autoLogin === undefined ? (users[0]?.login ?? false) : config.autoLogin;
  if (autoLogin !== false && !logins.has(autoLogin.toLowerCase())) throw new Error(`autoLogin user ${autoLogin} is not in users`);
  const rateLimit = {
    limit: config.rateLimit?.limit ?? 600,
    windowSec: config.rateLimit?.windowSec ?? 60,
    enforce: config.rateLimit?.enforce ?? false,
  };
  const accessTokenSigning = config.accessTokenSigning ?? 'published';
  if (accessTokenSigning !== 'published' && accessTokenSigning !== 'private') throw new Error("accessTokenSigning must be 'published' or 'private'");
  return {
    name: config.name ?? 'okta-org',
    orgId: config.orgId ?? oktaId('00o', randomBytes(17)),
    clients: config.clients.map((c) => ({ ...c })),
    users,
    autoLogin,
    rateLimit,
    accessTokenSigning,
    strictClientAuthMethod: config.strictClientAuthMethod === true,
  };
}
