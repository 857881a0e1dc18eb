/**
 * The issuer policy: which hosts a tenant's issuer may name before oin-oidc sends it anything.
 *
 * Tenant records can come from an admin API or self-service onboarding. Every back-channel call
 * (discovery, `/keys`, `/token`, `/introspect`, …) goes to the record's issuer, so a record naming
 * `http://127.0.0.1:6379` or `https://10.0.0.5` turns the app into a blind SSRF probe of its own
 * network (OWASP "Server-Side Request Forgery Prevention": allow-list the destinations). Okta orgs
 * are DNS names under Okta's org domains or a customer's custom domain, never IP literals and never
 * loopback, so the policy refuses, with no network call:
 *
 * - a loopback host (`localhost`, `*.localhost`, `127.0.0.0/8`, `[::1]`), http or https, unless
 *   `allowLoopbackIssuers` (the emulator, tests and demos);
 * - any other IP-literal host (`10.0.0.5`, `[fd00::1]`, `0.0.0.0`; the URL parser has already turned
 *   `2130706433` and `0x7f.1` into dotted quads);
 * - when `allowedIssuerHosts` is set, every host it does not list.
 *
 * Residual: without `allowedIssuerHosts`, any public DNS name is accepted, including one that
 * resolves to an internal address; core has no DNS API (Web APIs only), so that check belongs to
 * the allow-list (or to an egress proxy). See docs/tenants.md#issuer-policy.
 */
import { OidcError } from '../errors';
import { isLoopbackHost } from './tenant';

/**
 * Okta's org domains: an org's URL is `https://{subdomain}.okta.com`, `.okta-emea.com` or
 * `.oktapreview.com` (developer.okta.com/docs/concepts/okta-organizations, "Org URLs"). Use it to
 * build an allow-list: `[...OKTA_DOMAINS.map((d) => '.' + d), 'login.acme.com']`.
 */
export const OKTA_DOMAINS = Object.freeze(['okta.com', 'okta-emea.com', 'oktapreview.com'] as const);

/** What {@link checkIssuerPolicy} enforces (the client options of the same names). */
export interface IssuerPolicy {
  /** Accept loopback issuers (`localhost`, `127.0.0.0/8`, `[::1]`). Default false: development and tests only. */
  allowLoopbackIssuers?: boolean;
  /**
   * When set, the only issuer hosts accepted: `acme.okta.com` matches that host exactly;
   * `.okta.com` (a leading dot) matches any subdomain of okta.com, not okta.com itself. Entries
   * are DNS names of at least two labels (letters, digits, hyphens; case-insensitive); IP literals,
   * wildcards (`*`), ports and trailing dots are refused.
   */
  allowedIssuerHosts?: readonly string[];
}

/** A validated, compiled policy: one call per issuer, no allocation. */
export type IssuerPolicyCheck = (issuer: string) => void;

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

function invalidEntry(index: number, message: string): OidcError {
  // Entries are configuration, not request input, but keep them out of the message anyway: only the index.
  return new OidcError('ERR_OIDC_INVALID_OPTIONS', `allowedIssuerHosts.${index}: ${message}`, { details: { field: `allowedIssuerHosts.${index}` } });
}

/** Parse one allow-list entry into an exact host or a `.suffix`; throws ERR_OIDC_INVALID_OPTIONS. */
function parseEntry(entry: unknown, index: number): { exact: string } | { suffix: string } {
  if (typeof entry !== 'string' || entry.length === 0 || entry.length > 254) throw invalidEntry(index, 'must be a host name');
  const lower = entry.toLowerCase();
  const wildcard = lower.startsWith('.');
  const name = wildcard ? lower.slice(1) : lower;
  const labels = name.split('.');
  if (!labels.every((label) => LABEL.test(label))) {
    throw invalidEntry(index, 'must be a DNS host name such as "acme.okta.com" or ".okta.com" (letters, digits, hyphens; no "*", port or trailing dot)');
  }
  if (labels.length < 2) throw invalidEntry(index, 'must have at least two labels (a bare top-level domain would allow every host under it)');
  // WHATWG URL: a host whose last label is numeric is an IPv4 address. Okta orgs are DNS names.
  if (/^\d+$/.test(labels[labels.length - 1]!)) throw invalidEntry(index, 'must be a DNS name, not an IP address');
  return wildcard ? { suffix: `.${name}` } : { exact: name };
}

function notAllowed(issuer: string, reason: string, message: string): OidcError {
  // The issuer is configuration (a tenant record), not request input; it is safe to name it in details.
  return new OidcError('ERR_OIDC_ISSUER_NOT_ALLOWED', message, { details: { reason, issuer: issuer.length <= 256 ? issuer : '(long)' } });
}

/**
 * Validate `policy` once and return the check. Throws ERR_OIDC_INVALID_OPTIONS for a bad
 * `allowedIssuerHosts` entry. The check throws ERR_OIDC_ISSUER_NOT_ALLOWED (`details.reason`:
 * `not-a-url`, `loopback`, `ip-literal`, `not-listed`).
 */
export function compileIssuerPolicy(policy: IssuerPolicy = {}): IssuerPolicyCheck {
  const allowLoopback = policy.allowLoopbackIssuers === true;
  let exact: Set<string> | undefined;
  let suffixes: string[] | undefined;
  if (policy.allowedIssuerHosts !== undefined) {
    if (!Array.isArray(policy.allowedIssuerHosts)) {
      throw new OidcError('ERR_OIDC_INVALID_OPTIONS', 'allowedIssuerHosts: must be an array of host names', { details: { field: 'allowedIssuerHosts' } });
    }
    exact = new Set();
    suffixes = [];
    policy.allowedIssuerHosts.forEach((entry, index) => {
      const parsed = parseEntry(entry, index);
      if ('exact' in parsed) exact!.add(parsed.exact);
      else suffixes!.push(parsed.suffix);
    });
  }

  return (issuer: string) => {
    const url = typeof issuer === 'string' ? URL.parse(issuer) : null;
    if (url === null) throw notAllowed(String(issuer).slice(0, 256), 'not-a-url', 'The issuer is not an absolute URL.');
    // URL.hostname is lower-case, punycode for IDNs, a dotted quad for every IPv4 spelling and
    // bracketed for IPv6, so the tests below see one canonical form.
    const host = url.hostname;
    if (isLoopbackHost(host) || host === 'localhost.' || host.endsWith('.localhost')) {
      if (allowLoopback) return;
      throw notAllowed(
        issuer,
        'loopback',
        "The tenant's issuer is a loopback host; set allowLoopbackIssuers: true only for development and tests (docs/tenants.md#issuer-policy).",
      );
    }
    if (host.startsWith('[') || IPV4.test(host)) {
      throw notAllowed(issuer, 'ip-literal', "The tenant's issuer is an IP address; Okta orgs are DNS names (docs/tenants.md#issuer-policy).");
    }
    if (exact !== undefined && suffixes !== undefined && !exact.has(host) && !suffixes.some((suffix) => host.endsWith(suffix))) {
      throw notAllowed(issuer, 'not-listed', "The tenant's issuer host is not in allowedIssuerHosts (docs/tenants.md#issuer-policy).");
    }
  };
}

/**
 * Check one issuer against `policy`, e.g. in an admin tool before a tenant record is stored.
 * Throws ERR_OIDC_ISSUER_NOT_ALLOWED (or ERR_OIDC_INVALID_OPTIONS for a bad policy); makes no
 * network call. Clients apply the same check to every tenant they load from the store.
 *
 * @example
 * ```ts
 * checkIssuerPolicy(record.issuer, { allowedIssuerHosts: [...OKTA_DOMAINS.map((d) => `.${d}`), 'login.acme.com'] });
 * ```
 */
export function checkIssuerPolicy(issuer: string, policy: IssuerPolicy = {}): void {
  compileIssuerPolicy(policy)(issuer);
}
