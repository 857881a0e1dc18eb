/**
 * The login transaction: everything the callback needs to finish one sign-in, bound to the
 * browser by being sealed into a short-lived cookie (RFC 9700 §2.1, §4.7.1).
 */
import { z } from 'zod';
import { OidcError } from '../errors';

/** What the callback needs; sealed by the flow layer (purpose {@link TRANSACTION_PURPOSE}). */
export interface Transaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  tenantId: string;
  /** The exact redirect_uri sent; the token request repeats it (RFC 6749 §4.1.3). */
  redirectUri: string;
  /** A same-origin path (see `sanitizeReturnTo`). */
  returnTo: string;
  maxAge?: number;
  /** The response mode requested, so the callback can refuse a mismatched method (catalogue CB-13). */
  responseMode?: 'query' | 'form_post';
  /** Creation time, ms since the epoch. */
  createdAt: number;
}

/** The seal purpose for transactions: a value sealed for it never opens as a session. */
export const TRANSACTION_PURPOSE = 'transaction';

/** Default transaction lifetime: long enough for a sign-in with MFA, short enough to limit replay. */
export const TRANSACTION_TTL_SEC = 600;

const token = z.string().regex(/^[A-Za-z0-9_-]{43,128}$/);
const transactionSchema = z.strictObject({
  state: token,
  nonce: token,
  codeVerifier: z.string().regex(/^[A-Za-z0-9._~-]{43,128}$/),
  tenantId: z.string().min(1).max(128),
  redirectUri: z.string().min(1).max(2048),
  returnTo: z.string().startsWith('/').max(2048),
  maxAge: z.number().int().nonnegative().optional(),
  responseMode: z.enum(['query', 'form_post']).optional(),
  createdAt: z.number().int().nonnegative(),
});

/**
 * Check the shape of an unsealed transaction (defence in depth: the seal authenticates it, but a
 * value from an older SDK version might lack fields). Throws ERR_OIDC_TRANSACTION_INVALID.
 */
export function parseTransaction(value: unknown): Transaction {
  const parsed = transactionSchema.safeParse(value);
  if (!parsed.success) throw new OidcError('ERR_OIDC_TRANSACTION_INVALID', 'The login transaction is invalid; start the sign-in again.');
  return parsed.data;
}
