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
