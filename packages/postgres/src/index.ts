/**
 * `@oin-oidc/postgres`: the tenant registry of oin-oidc on PostgreSQL (node-postgres 8).
 *
 * - {@link migrate}: versioned SQL migrations under an advisory lock.
 * - {@link createPostgresCredentialStore}: a `CredentialStore` whose secrets are encrypted at rest
 *   (JWE `dir` + `A256GCM`, key id, tenant and field in the authenticated header) and whose reads
 *   come from an in-process snapshot kept fresh by LISTEN/NOTIFY.
 * - {@link parseEncryptionKeys}, {@link upsertTenants}.
 */
export { migrate } from './migrate';
export type { MigrateOptions, MigrateResult } from './migrate';
export { createPostgresCredentialStore } from './credential-store';
export type { PostgresCredentialStore, PostgresCredentialStoreOptions, PostgresStoreStatus } from './credential-store';
export { parseEncryptionKeys } from './encryption-keys';
export type { EncryptionKey } from './encryption-keys';
export { upsertTenants } from './upsert-tenants';
export type { PostgresStoreEvent, PostgresStoreEventType } from './events';
export type { StoreFailureReason } from './errors';
export { createPostgresSessionStore } from './session-store';
export type { PostgresSessionStore, PostgresSessionStoreOptions } from './session-store';
