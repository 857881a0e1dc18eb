/**
 * Optional discovery (OpenID Connect Discovery 1.0 §4), cached per issuer.
 *
 * Failures are never cached: discovery is retried lazily on the next call, so an app boots while
 * Okta is unreachable and recovers by itself (catalogue HF-07). A cached document that expired keeps
 * serving while a refresh fails (it describes endpoints that rarely change).
 */
import { OidcError } from '../errors';
import type { Transport } from '../http/types';
import { type ProviderMetadata, validateProviderMetadata } from './metadata';

/** Options of {@link createDiscoveryCache}. */
export interface DiscoveryOptions {
  /** How long a validated document is reused. Default 3600 s. */
  ttlSec?: number;
  /** Issuers kept (LRU). Default 1000. */
  maxIssuers?: number;
  /** Clock in epoch ms. Default `Date.now`. */
  now?: () => number;
}

/** Discovery documents, fetched once per issuer and validated. */
export interface DiscoveryCache {
  /** The validated metadata of `issuer` (normalised, no trailing slash). */
  get(issuer: string, tenantId?: string): Promise<ProviderMetadata>;
}

/** The discovery URL of an issuer: `{issuer}/.well-known/openid-configuration` (Discovery §4). */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

/**
 * Fetch and validate one discovery document, uncached. Transport failures keep their codes
 * (ERR_OIDC_UNAVAILABLE, ERR_OIDC_HTTP_TIMEOUT, …); a non-200 answer or an invalid document is
 * ERR_OIDC_DISCOVERY_FAILED.
 */
export async function discover(transport: Transport, issuer: string, tenantId?: string): Promise<ProviderMetadata> {
  const target = tenantId === undefined ? { issuer } : { issuer, tenantId };
  const response = await transport.request('discovery', target, discoveryUrl(issuer), { method: 'GET' });
  if (response.status !== 200) {
    throw new OidcError('ERR_OIDC_DISCOVERY_FAILED', `The discovery endpoint answered HTTP ${response.status}`, {
      details: { status: response.status },
    });
  }
  return validateProviderMetadata(issuer, response.json);
}

/** Create a per-issuer discovery cache with single-flight fetches. */
export function createDiscoveryCache(transport: Transport, options: DiscoveryOptions = {}): DiscoveryCache {
  for (const [name, value] of [['ttlSec', options.ttlSec], ['maxIssuers', options.maxIssuers]] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
      throw new OidcError('ERR_OIDC_INVALID_OPTIONS', `${name} must be a positive integer`, { details: { field: name } });
    }
  }
  const ttlMs = (options.ttlSec ?? 3600) * 1000;
  const maxIssuers = options.maxIssuers ?? 1000;
  const now = options.now ?? Date.now;
  const documents = new Map<string, { metadata: ProviderMetadata; expiresAt: number }>();
  const inflight = new Map<string, Promise<ProviderMetadata>>();

  function load(issuer: string, tenantId: string | undefined): Promise<ProviderMetadata> {
    const pending = inflight.get(issuer);
    if (pending !== undefined) return pending;
    const loading = discover(transport, issuer, tenantId).then((metadata) => {
      documents.delete(issuer);
      documents.set(issuer, { metadata, expiresAt: now() + ttlMs });
      while (documents.size > maxIssuers) documents.delete(documents.keys().next().value as string);
      return metadata;
    });
    inflight.set(issuer, loading);
    const clear = () => inflight.delete(issuer);
    loading.then(clear, clear);
    return loading;
  }

  return {
    async get(issuer, tenantId) {
      const cached = documents.get(issuer);
      if (cached !== undefined) {
        documents.delete(issuer);
        documents.set(issuer, cached);
        if (now() < cached.expiresAt) return cached.metadata;
        try {
          return await load(issuer, tenantId);
        } catch (error) {
          // Only transient failures fall back to the previous document; a now-invalid document does not.
          if (error instanceof OidcError && error.code === 'ERR_OIDC_DISCOVERY_FAILED') throw error;
          return cached.metadata;
        }
      }
      return load(issuer, tenantId);
    },
  };
}
