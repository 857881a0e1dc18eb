/**
 * The report of {@link checkTenant}. Its JSON form is what `oin-oidc doctor
 * --json` prints, so these shapes are a contract: ids are never renamed (docs/doctor.md).
 */
import type { HttpClient } from '../http/http-client';

/** Every check `checkTenant` runs, in report order. One page section per id in docs/doctor.md#check-ids. */
export type TenantCheckId =
  | 'issuer.org-server'
  | 'discovery.reachable'
  | 'discovery.issuer-match'
  | 'keys.reachable'
  | 'keys.usable'
  | 'keys.cache-control'
  | 'clock.skew'
  | 'client.credentials'
  | 'client.auth-method'
  | 'redirect-uri.registered'
  | 'pkce.required'
  | 'scopes.oin'
  | 'dpop.required'
  | 'rate-limit.headroom';

/** The check ids in report order. */
export const TENANT_CHECK_IDS: readonly TenantCheckId[] = Object.freeze([
  'issuer.org-server',
  'discovery.reachable',
  'discovery.issuer-match',
  'keys.reachable',
  'keys.usable',
  'keys.cache-control',
  'clock.skew',
  'client.credentials',
  'client.auth-method',
  'redirect-uri.registered',
  'pkce.required',
  'scopes.oin',
  'dpop.required',
  'rate-limit.headroom',
] as const);

/** The outcome of one check. */
export interface TenantCheck {
  id: TenantCheckId;
  /**
   * `ok`: nothing to do. `warn`: sign-in works, but something deserves attention. `fail`: sign-in
   * (or token validation) will fail until it is fixed. `skip`: not checked; the message says why
   * (an unreachable org, a record that does not parse, a profile the check does not apply to).
   */
  status: 'ok' | 'warn' | 'fail' | 'skip';
  /** For a human; says how to fix what is wrong. Never a secret, a token or text Okta sent. */
  message: string;
  /**
   * Structured, non-secret facts (an `OidcError` code as `code`, HTTP `status`, the `redirectUri`
   * of a `redirect-uri.registered` entry, …). Documented per check in docs/doctor.md.
   */
  details?: Record<string, unknown>;
}

/** What {@link checkTenant} found for one tenant. */
export interface TenantReport {
  tenantId: string;
  issuer: string;
  /** True when no check failed (`warn` and `skip` do not make a report fail). */
  ok: boolean;
  /**
   * One entry per {@link TENANT_CHECK_IDS} id, in that order, except `redirect-uri.registered`,
   * which has one entry per redirect URI of the record. When the record does not parse, the check
   * the parse error belongs to comes first (status `fail`, the parse error's message).
   */
  checks: TenantCheck[];
  /** When the check started (ISO 8601, from `options.now`). */
  checkedAt: string;
  durationMs: number;
}

/** Options of {@link checkTenant}. */
export interface CheckTenantOptions {
  /** The HTTP client for every probe; default the global `fetch`. */
  http?: HttpClient;
  /** Clock in epoch ms (compared with Okta's `Date` header). Default `Date.now`. */
  now?: () => number;
  /** Deadline per call, headers and body included. Default 5000 ms. */
  timeoutMs?: number;
  /** Accept loopback issuers (the emulator, tests, demos). Default false. */
  allowLoopbackIssuers?: boolean;
}
