/**
 * The JWKS registry's event and channel types, in a leaf module: `events.ts` (the `onEvent` hook)
 * and `jwks-registry.ts` both use them, and neither may import the other's module for them (the
 * import-cycle check in `pnpm lint`).
 */
import type { OidcErrorCode } from '../errors';

/** Where the token being verified came from; each channel has its own unknown-`kid` refetch budget. */
export type JwksChannel = 'front' | 'back';

/** Why a JWKS fetch happened. */
export type JwksFetchReason = 'cold' | 'expired' | 'unknown-kid';

/**
 * Reported through `onJwks`. Carries no key material (only counts), and never the `kid` a token
 * asked for (it is attacker-controlled input).
 */
export type JwksEvent =
  | { type: 'fetch'; issuer: string; jwksUri: string; reason: JwksFetchReason; keys: number; ignored: number; maxAgeSec: number }
  | { type: 'fetch-failed'; issuer: string; jwksUri: string; reason: JwksFetchReason; code: OidcErrorCode; servingStale: boolean }
  | { type: 'refetch-refused'; issuer: string; jwksUri: string; channel: JwksChannel }
  | { type: 'evicted'; issuer: string; jwksUri: string };

