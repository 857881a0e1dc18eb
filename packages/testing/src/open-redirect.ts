/**
 * Open-redirect payloads from the hostile-input catalogue (§2.5: AR-07, TP-05, LO-04, SA-10): every
 * one, given as a `returnTo`, a `target_link_uri` or a post-logout target, must end on a same-origin
 * path (or be ignored), never an off-site redirect, a script URL or a header injection.
 *
 * Exported once so that the adapter conformance suite, the core tests and third-party adapters test
 * the same list.
 *
 * @example
 * ```ts
 * import { OPEN_REDIRECT_PAYLOADS } from '@oin-oidc/testing';
 * for (const payload of OPEN_REDIRECT_PAYLOADS) expect(sanitize(payload)).toBe('/');
 * ```
 */
export const OPEN_REDIRECT_PAYLOADS = [
  '//evil.com',
  '///evil.com',
  '/\\evil.com',
  '\\\\evil.com',
  '/\\/evil.com',
  'https://evil.com',
  'https:evil.com',
  '//evil.com/%2F..',
  '/%2F%2Fevil.com',
  '/%5Cevil.com',
  'https://app.example.com.evil.com',
  'https://app.example.com@evil.com',
  '//app.example.com@evil.com',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  'java%0ascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  '/%0d%0aSet-Cookie:x=y',
  '/%09/evil.com',
  'http://evil.com',
  'ftp://evil.com',
  '//evil.com:443',
  // SA-10: once normalised (dot-segments, %2e included, removed) these decode to //evil.com.
  '/%2e/%2fevil.com',
  '/x/../%2fevil.com',
  '/./%2f%2fevil.com',
  '/%2e/%252fevil.com',
] as const;
