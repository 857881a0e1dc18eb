/** The framework-neutral flow layer adapters call (docs/adapters.md). Re-exported from the package index. */
export { createOidcAuth } from './auth';
export { fromWebRequest, toWebResponse } from './web';
export { MAX_BODY_BYTES } from './body-limit';
export { parsedBodyText } from './parsed-body';
export type { WebRequestOptions } from './web';
export { fromHeaderMap } from './header-map-request';
export type { HeaderMap, HeaderMapRequestInit } from './header-map-request';
export type { OidcAuth, OidcAuthOptions, OidcRequest, OidcRequestStep, OidcResponse, TenantResolution, LogoutRequestInfo, LogoutHookResult } from './types';
export { DEFAULT_ROUTES } from './options';
export type { Session, SessionStore } from '../session/types';
export { requestContext, withAccessToken } from './request-context';
export { cacheControlForCookies } from './cache-control';
export type { OidcRequestContext } from './request-context';
