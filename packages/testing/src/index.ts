/**
 * @oin-oidc/testing: an Okta org emulator (oidc-provider 9) and test helpers.
 * The adapter and store conformance suites live at `@oin-oidc/testing/conformance`.
 */
export { startOktaOrg } from './emulator/org';
export { parseOrgsConfig, startOktaOrgs } from './emulator/orgs';
export { describeOrg, formatOrg, type OrgSummary } from './emulator/describe';
export { driveAuthorization, type CallbackRequest } from './emulator/drive';
export type {
  EmulatorClient,
  EmulatorEndpoint,
  EmulatorUser,
  Fault,
  OrgConfig,
  ResolvedOrgConfig,
  ResolvedUser,
  SigningKeyInfo,
} from './emulator/types';
export type { OktaOrg, OrgControl } from './emulator/types-org';
export { EMULATOR_ENDPOINTS } from './emulator/types';
export { OPEN_REDIRECT_PAYLOADS } from './open-redirect';
export {
  BACKCHANNEL_LOGOUT_EVENT,
  BACKCHANNEL_LOGOUT_VARIANTS,
  UNIVERSAL_LOGOUT_VARIANTS,
  type BackchannelLogoutOptions,
  type BackchannelLogoutVariant,
  type LogoutAnswer,
  type UniversalLogoutOptions,
  type UniversalLogoutVariant,
} from './emulator/logout-sender';
export {
  DISCOVERY_ARTEFACTS,
  FOREIGN_ISSUER,
  FOREIGN_LOCATION,
  GENERIC_ARTEFACTS,
  ID_TOKEN_ARTEFACTS,
  INTROSPECTION_ARTEFACTS,
  JWKS_ARTEFACTS,
  OCT_KID,
  TOKEN_RESPONSE_ARTEFACTS,
  USERINFO_ARTEFACTS,
  type HostileArtefact,
  type IdTokenArtefact,
} from './emulator/hostile';
