/**
 * Whether the flow layer's cookies are `Secure` (with the `__Host-` prefix), decided from
 * configuration rather than from each request's `Host` (audit finding SA-19, docs/security.md): a
 * reverse proxy that forwards `Host: 127.0.0.1:3000` without trust-proxy would otherwise make a
 * public https site use development cookies (no `Secure`, no `__Host-`).
 *
 * 1. `baseUrl` (the app's external origin) https → always secure.
 * 2. Else, for tenant records given as an array whose registered redirect URIs are all https →
 *    always secure.
 * 3. Otherwise each request's external origin decides as before: secure everywhere except plain
 *    http on a loopback host. Configuration only ever makes cookies stricter: a request that
 *    arrives over https (through a trusted proxy) never gets development cookies.
 */
import { OidcError } from '../errors';
import { isLoopbackHost, type TenantRecord } from '../tenant/tenant';
import { isSecureRequest } from './request-origin';
import type { OidcRequest } from './types';

/** Validate `baseUrl` once: an absolute http(s) origin; http only on a loopback host. Returns its origin. */
export function parseBaseUrl(value: string): URL {
  const url = URL.parse(value);
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new OidcError('ERR_OIDC_INVALID_OPTIONS', 'createOidcAuth: baseUrl must be an absolute https URL such as https://app.example.com', { details: { field: 'baseUrl' } });
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new OidcError('ERR_OIDC_INVALID_OPTIONS', 'createOidcAuth: baseUrl must use https (http only on a loopback host, for development)', { details: { field: 'baseUrl' } });
  }
  return url;
}

/** `true` when the configuration says the app is served over https, else `undefined` ("ask each request"). */
export function configuredCookieSecurity(baseUrl: URL | undefined, records: readonly TenantRecord[] | undefined): true | undefined {
  if (baseUrl !== undefined) return baseUrl.protocol === 'https:' ? true : undefined;
  if (records === undefined || records.length === 0) return undefined;
  const uris = records.flatMap((record) => (Array.isArray(record.redirectUris) ? record.redirectUris : []));
  return uris.length > 0 && uris.every((uri) => URL.parse(uri)?.protocol === 'https:') ? true : undefined;
}

/** The per-request decision with a configured answer taking precedence. */
export function cookieSecurity(configured: true | undefined): (req: OidcRequest) => boolean {
  return configured === undefined ? isSecureRequest : () => configured;
}
