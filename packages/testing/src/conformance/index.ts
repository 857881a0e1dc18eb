/**
 * `@oin-oidc/testing/conformance`: suites that third-party adapters and stores run unchanged.
 * vitest is a peer dependency: import this entry only from test files.
 */
export { describeAdapterConformance } from './adapter';
export type { AdapterMount, AdapterMountOptions, MountedAdapter } from './adapter';
export { describeCredentialStoreConformance } from './credential-store';
export type { StoreUnderTest } from './credential-store';
export { CookieJar, browser, form, parseSetCookie, rawRequest, setCookiesOf } from './http';
export type { Browser, SetCookie } from './http';
export type { CredentialStoreConformanceOptions } from './credential-store';
export type { StoreFactory, StoreFixture } from './store-fixture';
export { describeTtlStoreConformance } from './ttl-store';
export type { TtlStoreConformanceOptions, TtlStoreUnderTest } from './ttl-store';
export { describeSessionStoreConformance } from './session-store';
export type { SessionStoreConformanceOptions, SessionStoreUnderTest } from './session-store';
export { describeRateLimitStoreConformance } from './rate-limit-store';
export type { RateLimitStoreConformanceOptions, RateLimitStoreUnderTest } from './rate-limit-store';
export { describeRevocationListConformance } from './revocation-list';
export type { RevocationListConformanceOptions, RevocationListUnderTest } from './revocation-list';
