/**
 * The state of one running org, shared by the request handler (org.ts), the control API
 * (control.ts), the admin pages (admin.ts) and the logout sender. Apart from org.ts, which builds
 * it, so those modules need not import org.ts back (an import circle).
 */
import type { FaultTable } from './faults';
import type { HostileTable } from './hostile';
import type { KeyRing } from './keys';
import type { OidcProvider } from './oidc-provider';
import type { RateLimiter } from './rate-limit';
import type { ClientSecrets } from './secrets';
import type { OrgControl } from './types-org';
import type { EmulatorEndpoint, ResolvedOrgConfig, ResolvedUser } from './types';

/** Everything one running org holds; shared by the request handler, the control API and admin. */
export interface OrgRuntime {
  issuer: string;
  config: ResolvedOrgConfig;
  provider: OidcProvider;
  keys: KeyRing;
  secrets: ClientSecrets;
  faults: FaultTable;
  hostile: HostileTable;
  limiter: RateLimiter;
  counters: Record<EmulatorEndpoint, number>;
  control: OrgControl;
  userByLogin(login: string): ResolvedUser | undefined;
}
