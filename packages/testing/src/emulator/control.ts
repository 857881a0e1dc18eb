import { randomBytes } from 'node:crypto';
import { sendBackchannelLogout, sendUniversalLogout } from './logout-sender';
import type { OrgRuntime } from './runtime';
import { EMULATOR_ENDPOINTS, type EmulatorClient, type EmulatorEndpoint, type ResolvedUser } from './types';
import type { OrgControl } from './types-org';

/** The in-process control API of one org (the HTTP admin API calls the same functions). */
export function createControl(org: OrgRuntime): OrgControl {
  const client = (clientId: string): EmulatorClient => {
    const found = org.config.clients.find((c) => c.clientId === clientId);
    if (!found) throw new Error(`unknown client ${clientId}`);
    return found;
  };
  const user = (login: string | undefined): ResolvedUser => {
    const wanted = login ?? (org.config.autoLogin || org.config.users[0]?.login);
    const found = wanted ? org.userByLogin(wanted) : undefined;
    if (!found) throw new Error(login ? `unknown user ${login}` : 'the org has no users');
    return found;
  };

  const control: OrgControl = {
    async rotateSigningKey() {
      return org.keys.add(true);
    },
    async addSigningKey(options) {
      return org.keys.add(options?.activate ?? false);
    },
    async activateSigningKey(kid) {
      org.keys.activate(kid);
    },
    async removeSigningKey(kid) {
      org.keys.remove(kid);
    },
    async signingKeys() {
      return org.keys.list();
    },
    fault(endpoint, fault, options) {
      org.faults.set(endpoint, fault, options?.times);
    },
    clearFaults(endpoint) {
      if (endpoint !== undefined && !EMULATOR_ENDPOINTS.includes(endpoint)) throw new Error(`unknown endpoint ${endpoint}`);
      org.faults.clear(endpoint);
    },
    hostile(endpoint, artefact, options) {
      org.hostile.set(endpoint, artefact, options?.times);
      // "kid absent" is only ambiguous when the org publishes several keys (IT-15).
      if (artefact === 'id-token-kid-absent' && org.keys.list().length < 2) org.hostile.pending = org.keys.add(false);
    },
    clearHostile(endpoint) {
      if (endpoint !== undefined && !EMULATOR_ENDPOINTS.includes(endpoint)) throw new Error(`unknown endpoint ${endpoint}`);
      org.hostile.clear(endpoint);
    },
    counters() {
      return { ...org.counters };
    },
    resetCounters() {
      for (const endpoint of Object.keys(org.counters) as EmulatorEndpoint[]) org.counters[endpoint] = 0;
      org.limiter.reset();
    },
    async setClientSecrets(clientId, secrets) {
      const c = client(clientId);
      org.secrets.set(clientId, secrets);
      // keep org.config (and what the CLI/admin describe) in step with what is accepted
      c.clientSecrets = org.secrets.get(clientId);
      c.clientSecret = undefined;
    },
    async issueIdToken(clientId, options) {
      const c = client(clientId);
      const u = user(options?.login);
      const now = Math.floor(Date.now() / 1000);
      // The claims Okta's org AS puts in an ID token (no nonce: this is what the simplified flow
      // posts, and it has no request to echo one from).
      return org.keys.signIdToken({
        ...u.claims,
        sub: u.sub,
        ver: 1,
        iss: org.issuer,
        aud: c.clientId,
        iat: now,
        exp: now + 3600,
        jti: `ID.${randomBytes(32).toString('base64url')}`,
        amr: ['pwd'],
        idp: org.config.orgId,
        auth_time: now,
        ...options?.claims,
      });
    },
    async issueAccessToken(clientId, options) {
      client(clientId);
      const u = user(options?.login);
      const scope = options?.scope ?? 'openid profile email';
      const { provider } = org;
      const providerClient = await provider.Client.find(clientId);
      const grant = new provider.Grant({ accountId: u.sub, clientId });
      grant.addOIDCScope(scope);
      const grantId = await grant.save();
      const token = new provider.AccessToken({ accountId: u.sub, client: providerClient, grantId, scope, gty: 'authorization_code' });
      return (await token.save()) as string;
    },
    async simplifiedSignIn(clientId, options) {
      const c = client(clientId);
      const action = c.redirectUris[0];
      if (!action) throw new Error(`client ${clientId} has no redirect URI`);
      return { action, fields: { id_token: await control.issueIdToken(clientId, options) } };
    },
    initiateLoginUrl(clientId, options) {
      const c = client(clientId);
      if (!c.initiateLoginUri) throw new Error(`client ${clientId} has no initiateLoginUri`);
      // OIDC Core §4: iss is required; login_hint and target_link_uri are optional.
      const url = new URL(c.initiateLoginUri);
      url.searchParams.set('iss', org.issuer);
      if (options?.loginHint) url.searchParams.set('login_hint', options.loginHint);
      if (options?.targetLinkUri) url.searchParams.set('target_link_uri', options.targetLinkUri);
      return url.toString();
    },
    universalLogout: (options) => sendUniversalLogout(org, options),
    backchannelLogout: (options) => sendBackchannelLogout(org, options),
  };
  return control;
}
