import { startOktaOrg } from './org';
import type { OrgConfig } from './types';
import type { OktaOrg } from './types-org';

/** Starts several orgs; if one fails to start, the ones already running are closed. */
export async function startOktaOrgs(configs: OrgConfig[]): Promise<OktaOrg[]> {
  const orgs: OktaOrg[] = [];
  try {
    for (const config of configs) orgs.push(await startOktaOrg(config));
  } catch (error) {
    await Promise.all(orgs.map((o) => o.close()));
    throw error;
  }
  return orgs;
}

/** Accepts `[org, …]` or `{ "orgs": [org, …] }` (the CLI's config file). */
export function parseOrgsConfig(json: unknown): OrgConfig[] {
  const list = Array.isArray(json) ? json : (json as { orgs?: unknown } | null)?.orgs;
  if (!Array.isArray(list) || list.length === 0) throw new Error('the config must be a non-empty array of org configs (or { "orgs": [...] })');
  return list as OrgConfig[];
}
