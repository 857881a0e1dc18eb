/**
 * Public types of a running emulated org: its control API and handle. Apart from types.ts so that
 * types.ts stays a leaf that hostile.ts, logout-sender.ts and the rest can import without a circle.
 */
import type { HostileArtefact } from './hostile';
import type { BackchannelLogoutOptions, LogoutAnswer, UniversalLogoutOptions } from './logout-types';
import type { EmulatorEndpoint, Fault, ResolvedOrgConfig, SigningKeyInfo } from './types';

export interface OrgControl {
  /** New active key; the old one stays published until removed. */
  rotateSigningKey(): Promise<{ kid: string }>;
  addSigningKey(options?: { activate?: boolean }): Promise<{ kid: string }>;
  activateSigningKey(kid: string): Promise<void>;
  removeSigningKey(kid: string): Promise<void>;
  signingKeys(): Promise<SigningKeyInfo[]>;
  /** Without `times`, the fault stays until cleared. */
  fault(endpoint: EmulatorEndpoint, fault: Fault, options?: { times?: number }): void;
  clearFaults(endpoint?: EmulatorEndpoint): void;
  /**
   * Hostile mode: the endpoint's next answers (all until cleared, or `times`) carry a forged or
   * broken artefact, built from the real answer (see README "Hostile mode"). Provider-made answers
   * are rewritten only when successful; a fault armed on the same endpoint wins.
   */
  hostile(endpoint: EmulatorEndpoint, artefact: HostileArtefact, options?: { times?: number }): void;
  clearHostile(endpoint?: EmulatorEndpoint): void;
  counters(): Record<EmulatorEndpoint, number>;
  resetCounters(): void;
  setClientSecrets(clientId: string, secrets: { value: string; active: boolean }[]): Promise<void>;
  issueIdToken(clientId: string, options?: { login?: string; claims?: Record<string, unknown> }): Promise<string>;
  issueAccessToken(clientId: string, options?: { login?: string; scope?: string }): Promise<string>;
  simplifiedSignIn(
    clientId: string,
    options?: { login?: string },
  ): Promise<{ action: string; fields: { id_token: string } }>;
  initiateLoginUrl(clientId: string, options?: { loginHint?: string; targetLinkUri?: string }): string;
  /**
   * Sends a Universal Logout request to an app, as Okta does for "Clear User Sessions" with "Also
   * include logout enabled apps": a JSON `sub_id` and a bearer JWT signed with the org's ID token key
   * (see logout-sender.ts). Resolves with the app's status and headers; `variant` breaks it for tests.
   */
  universalLogout(options: UniversalLogoutOptions): Promise<Omit<LogoutAnswer, 'body'>>;
  /** Sends an OIDC Back-Channel Logout 1.0 logout token to an app; resolves with its status, headers and body. */
  backchannelLogout(options: BackchannelLogoutOptions): Promise<LogoutAnswer>;
}

export interface OktaOrg {
  /** http://127.0.0.1:PORT (no path, no trailing slash). */
  readonly issuer: string;
  /** `${issuer}/__admin`: the HTTP control API (same operations as `control`). */
  readonly adminUrl: string;
  readonly control: OrgControl;
  /** The config after defaults (client secrets, users with their ids). */
  readonly config: ResolvedOrgConfig;
  close(): Promise<void>;
}
