export { OidcError, isOidcError, toOidcError, OIDC_ERROR_STATUS } from './errors';
export type { OidcErrorCode, OidcErrorOptions } from './errors';
export { parseTenant, tenantEndpoints, isLoopbackHost, OIN_SCOPES } from './tenant/tenant';
export type { Tenant, TenantRecord, TenantEndpoints, ClientSecret, PrivateJwk, ClientAuthentication, TokenEndpointAuthMethod } from './tenant/tenant';
export { MemoryCredentialStore, createMemoryCredentialStore, parseTenantsJson, isCredentialStore } from './tenant/credential-store';
export type { CredentialStore } from './tenant/credential-store';
