import type { OktaOrg } from './types-org';

/** A machine-readable summary of a running org (what the CLI prints with --json). */
export interface OrgSummary {
  name: string;
  issuer: string;
  adminUrl: string;
  orgId: string;
  autoLogin: string | false;
  clients: {
    clientId: string;
    name?: string;
    tokenEndpointAuthMethod: string;
    secrets: { value: string; active: boolean }[];
    redirectUris: string[];
    postLogoutRedirectUris: string[];
    initiateLoginUri?: string;
  }[];
  users: { login: string; password: string; sub: string; name?: string }[];
}

export function describeOrg(org: OktaOrg): OrgSummary {
  const { config } = org;
  return {
    name: config.name,
    issuer: org.issuer,
    adminUrl: org.adminUrl,
    orgId: config.orgId,
    autoLogin: config.autoLogin,
    clients: config.clients.map((c) => ({
      clientId: c.clientId,
      ...(c.name ? { name: c.name } : {}),
      tokenEndpointAuthMethod: c.tokenEndpointAuthMethod,
      secrets: c.clientSecrets ?? (c.clientSecret ? [{ value: c.clientSecret, active: true }] : []),
      redirectUris: c.redirectUris,
      postLogoutRedirectUris: c.postLogoutRedirectUris ?? [],
      ...(c.initiateLoginUri ? { initiateLoginUri: c.initiateLoginUri } : {}),
    })),
    users: config.users.map((u) => ({
      login: u.login,
      password: u.password,
      sub: u.sub,
      ...(typeof u.claims.name === 'string' ? { name: u.claims.name } : {}),
    })),
  };
}

/** Human-readable lines for a terminal. */
export function formatOrg(summary: OrgSummary): string {
  const lines = [`● ${summary.name}  ${summary.issuer}`, `    admin & sign-in links: ${summary.adminUrl}`, '    clients:'];
  for (const c of summary.clients) {
    const secrets = c.secrets.map((s) => `${s.value}${s.active ? '' : ' (inactive)'}`).join(', ');
    lines.push(`      ${c.clientId}  ${c.tokenEndpointAuthMethod}${secrets ? `  secret: ${secrets}` : ''}`);
    lines.push(`        redirect: ${c.redirectUris.join(' ')}`);
    if (c.initiateLoginUri) lines.push(`        initiate login: ${c.initiateLoginUri}`);
  }
  lines.push(`    users${summary.autoLogin === false ? '' : ` (auto-login: ${summary.autoLogin})`}:`);
  for (const u of summary.users) lines.push(`      ${u.login} / ${u.password}  (${u.sub})`);
  return lines.join('\n');
}
