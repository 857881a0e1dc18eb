/**
 * OpenID Provider metadata (OpenID Connect Discovery 1.0 §3) and its validation.
 *
 * The org authorization server's endpoints are known without discovery (`tenantEndpoints`);
 * discovery is optional. When used, the document is only trusted if its `issuer` is exactly the
 * configured issuer (Discovery §4.3: "MUST be identical") and every endpoint lives on the issuer's
 * origin, so a tampered or misrouted document cannot send codes, secrets or key lookups elsewhere.
 */
import { z } from 'zod';
import { OidcError } from '../errors';

/** The metadata fields oin-oidc reads; other members are kept as they are. */
export interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
  introspection_endpoint?: string;
  revocation_endpoint?: string;
  end_session_endpoint?: string;
  /** RFC 9207 §3: when true, the callback must carry `iss`. */
  authorization_response_iss_parameter_supported?: boolean;
  id_token_signing_alg_values_supported?: string[];
  [member: string]: unknown;
}

/** Endpoint members that must be absolute URLs on the issuer's origin when present. */
const ENDPOINTS = [
  'authorization_endpoint',
  'token_endpoint',
  'jwks_uri',
  'userinfo_endpoint',
  'introspection_endpoint',
  'revocation_endpoint',
  'end_session_endpoint',
  'registration_endpoint',
  'device_authorization_endpoint',
  'pushed_authorization_request_endpoint',
] as const;

const schema = z.looseObject({
  issuer: z.string(),
  authorization_endpoint: z.string(),
  token_endpoint: z.string(),
  jwks_uri: z.string(),
  userinfo_endpoint: z.string().optional(),
  introspection_endpoint: z.string().optional(),
  revocation_endpoint: z.string().optional(),
  end_session_endpoint: z.string().optional(),
  authorization_response_iss_parameter_supported: z.boolean().optional(),
  id_token_signing_alg_values_supported: z.array(z.string()).optional(),
});

function failed(field: string, message: string): OidcError {
  return new OidcError('ERR_OIDC_DISCOVERY_FAILED', `Discovery document rejected: ${field} ${message}`, { details: { field } });
}

/**
 * Validate a discovery document fetched for `issuer` (already normalised, no trailing slash).
 * Throws ERR_OIDC_DISCOVERY_FAILED naming the offending member.
 */
export function validateProviderMetadata(issuer: string, json: unknown): ProviderMetadata {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw failed(issue.path.map(String).join('.') || '(document)', issue.code === 'invalid_type' ? 'is missing or has the wrong type' : 'is invalid');
  }
  const metadata = parsed.data as ProviderMetadata;
  if (metadata.issuer !== issuer) throw failed('issuer', 'does not exactly match the configured issuer');
  const origin = new URL(issuer).origin;
  for (const field of ENDPOINTS) {
    const value = metadata[field];
    if (value === undefined) continue;
    const url = typeof value === 'string' ? URL.parse(value) : null;
    if (url === null || url.origin !== origin || url.hash !== '' || url.username !== '' || url.password !== '') {
      throw failed(field, "is not an absolute URL on the issuer's origin");
    }
  }
  if (metadata.id_token_signing_alg_values_supported !== undefined && !metadata.id_token_signing_alg_values_supported.includes('RS256')) {
    throw failed('id_token_signing_alg_values_supported', 'does not include RS256');
  }
  return Object.freeze(metadata);
}
