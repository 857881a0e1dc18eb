/**
 * `checkTenant`: a live, side-effect-free check of one tenant record against its Okta org
 * (docs/doctor.md), for onboarding screens and `oin-oidc doctor`.
 *
 * Side-effect free: no user signs in and nothing is issued. The calls, each with its own deadline
 * (`timeoutMs`), are: discovery and `/keys` (GET), one `/introspect` of a random token (plus one per
 * extra secret or method tried), one `/token` request for a made-up code without a DPoP proof, and
 * one `prompt=none` `/authorize` request per redirect URI (at most {@link MAX_REDIRECT_PROBES}). All
 * go to the tenant's issuer, after the issuer policy allowed it (no request for a refused issuer).
 * Check ids and their fixes: docs/doctor.md.
 */
import { discoveryUrl } from '../discovery/discover';
import { type ProviderMetadata, validateProviderMetadata } from '../discovery/metadata';
import { OidcError, toOidcError } from '../errors';
import { defaultHttpClient } from '../http/http-client';
import { createTransport } from '../http/transport';
import type { Transport, TransportResponse } from '../http/types';
import { checkIssuerPolicy } from '../tenant/issuer-policy';
import { OIN_SCOPES, parseTenant, type Tenant, type TenantRecord, tenantEndpoints } from '../tenant/tenant';
import { probeClient, probeDpopRequired } from './client-probes';
import { checkKeysCacheControl, checkKeysUsable } from './keys';
import { type Observation, observingHttpClient } from './observe';
import { probeRedirectUri } from './redirect-probe';
import { type CheckTenantOptions, TENANT_CHECK_IDS, type TenantCheck, type TenantCheckId, type TenantReport } from './types';

/** Redirect URIs probed per run; the others are reported as skipped (a bound on calls to Okta). */
export const MAX_REDIRECT_PROBES = 10;
/** `clock.skew` thresholds: the SDK's default clock tolerance (30 s), and a clock surely wrong. */
const SKEW_WARN_MS = 30_000;
const SKEW_FAIL_MS = 300_000;
/** `rate-limit.headroom` warns below this share of the window left. */
const HEADROOM_WARN = 0.2;
const DEFAULT_TIMEOUT_MS = 5000;

const USE_ORG_SERVER = 'use https://{yourOktaDomain} (the org authorization server) as the issuer';

type Checks = Map<TenantCheckId, TenantCheck[]>;

function set(checks: Checks, check: TenantCheck): void {
  checks.set(check.id, [check]);
}

function skip(id: TenantCheckId, why: string, details?: Record<string, unknown>): TenantCheck {
  return details === undefined ? { id, status: 'skip', message: `Not checked: ${why}` } : { id, status: 'skip', message: `Not checked: ${why}`, details };
}

/** A parsed Tenant (not a record): parseTenant's frozen objects carry `auth` and `endpoints`. */
function isTenant(value: unknown): value is Tenant {
  return typeof value === 'object' && value !== null && typeof (value as { auth?: unknown }).auth === 'object' && 'endpoints' in value;
}

function stringField(value: unknown, name: string): string {
  const field = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
  return typeof field === 'string' && field.length <= 2048 ? field : '';
}

/** Which check a parse error belongs to. Errors no check owns (the id, unknown members) go to the first check. */
function checkForParseError(error: OidcError): TenantCheckId {
  const field = typeof error.details?.field === 'string' ? error.details.field : '';
  if (error.code === 'ERR_OIDC_SCOPE_NOT_ALLOWED' || field.startsWith('scopes')) return 'scopes.oin';
  if (error.code === 'ERR_OIDC_CUSTOM_AUTHORIZATION_SERVER' || error.code === 'ERR_OIDC_INSECURE_ISSUER') return 'issuer.org-server';
  if (field.startsWith('redirectUris')) return 'redirect-uri.registered';
  if (/^(clientId|clientSecret|clientSecrets|privateJwk|tokenEndpointAuthMethod)/.test(field)) return 'client.credentials';
  if (field.startsWith('dpop')) return 'dpop.required';
  return 'issuer.org-server';
}

function parseFailureMessage(error: OidcError, record: unknown): string {
  if (error.code === 'ERR_OIDC_CUSTOM_AUTHORIZATION_SERVER' || error.code === 'ERR_OIDC_INSECURE_ISSUER' || (error.details?.field === 'issuer' && error.code === 'ERR_OIDC_INVALID_TENANT')) {
    const origin = URL.parse(stringField(record, 'issuer'))?.origin;
    const example = origin !== undefined && origin !== 'null' ? ` (here ${origin})` : '';
    return `${error.message}. Fix: ${USE_ORG_SERVER}${example}.`;
  }
  if (error.code === 'ERR_OIDC_SCOPE_NOT_ALLOWED') return `${error.message}. Fix: request only ${OIN_SCOPES.join(' ')} (openid included), or set profile: 'custom' for an app outside the OIN.`;
  return `${error.message}. Fix the tenant record (docs/tenants.md).`;
}

/**
 * Check one tenant against its Okta org, live and without side effects (no user signs in, nothing
 * is issued), and say for each finding how to fix it. Never throws for a bad tenant: a record that
 * does not parse gives a report whose first check fails with the parse error's message. Throws
 * `ERR_OIDC_INVALID_OPTIONS` only for invalid `options`.
 *
 * @example
 * ```ts
 * const report = await checkTenant({ id: 'acme', issuer: 'https://acme.okta.com', clientId, clientSecret, redirectUris });
 * if (!report.ok) for (const c of report.checks) if (c.status === 'fail') console.log(c.id, c.message);
 * ```
 */
export async function checkTenant(record: TenantRecord | Tenant, options: CheckTenantOptions = {}): Promise<TenantReport> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(Number.isInteger(timeoutMs) && timeoutMs >= 1 && timeoutMs <= 600_000)) {
    throw new OidcError('ERR_OIDC_INVALID_OPTIONS', 'timeoutMs must be an integer between 1 and 600000', { details: { field: 'timeoutMs' } });
  }
  if (options.http !== undefined && typeof options.http !== 'function') {
    throw new OidcError('ERR_OIDC_INVALID_OPTIONS', 'http must be a fetch-shaped function', { details: { field: 'http' } });
  }
  const now = options.now ?? Date.now;
  const startedAt = now();
  const started = performance.now();
  const checks: Checks = new Map();
  let first: TenantCheck | undefined;

  let tenant: Tenant | undefined;
  if (isTenant(record)) {
    tenant = record;
  } else {
    try {
      tenant = parseTenant(record);
    } catch (cause) {
      const error = toOidcError(cause, 'ERR_OIDC_INVALID_TENANT', 'The tenant record is invalid.');
      const id = checkForParseError(error);
      first = { id, status: 'fail', message: parseFailureMessage(error, record), details: { code: error.code, ...(typeof error.details?.field === 'string' ? { field: error.details.field } : {}) } };
      // Scopes are the one record error the probes do not depend on: check the rest with the default scopes.
      if (id === 'scopes.oin' && typeof record === 'object' && record !== null) {
        try {
          tenant = parseTenant({ ...record, scopes: undefined });
        } catch {
          tenant = undefined;
        }
      }
    }
  }

  const tenantId = tenant?.id ?? stringField(record, 'id');
  const issuer = tenant?.issuer ?? stringField(record, 'issuer');
  if (tenant === undefined) {
    const why = 'the tenant record does not parse; fix it first (see the first check).';
    for (const id of TENANT_CHECK_IDS) if (id !== first?.id) set(checks, skip(id, why));
  } else {
    await runChecks(tenant, checks, { ...options, now, timeoutMs }, first?.id);
  }

  const ordered: TenantCheck[] = first === undefined ? [] : [first];
  for (const id of TENANT_CHECK_IDS) if (id !== first?.id) ordered.push(...(checks.get(id) ?? [skip(id, 'no result.')]));
  return {
    tenantId,
    issuer,
    ok: !ordered.some((check) => check.status === 'fail'),
    checks: ordered,
    checkedAt: new Date(startedAt).toISOString(),
    durationMs: Math.max(0, Math.round(performance.now() - started)),
  };
}

interface RunOptions {
  http?: CheckTenantOptions['http'];
  now: () => number;
  timeoutMs: number;
  allowLoopbackIssuers?: boolean;
}

async function runChecks(tenant: Tenant, checks: Checks, options: RunOptions, alreadyFailed: TenantCheckId | undefined): Promise<void> {
  // issuer.org-server: parseTenant's rules held (else we would not be here), then the issuer policy.
  const path = new URL(tenant.issuer).pathname.replace(/\/+$/, '');
  try {
    checkIssuerPolicy(tenant.issuer, { allowLoopbackIssuers: options.allowLoopbackIssuers === true });
  } catch (cause) {
    const error = toOidcError(cause, 'ERR_OIDC_ISSUER_NOT_ALLOWED');
    const fix =
      error.details?.reason === 'loopback'
        ? ' Fix: use the Okta org URL, https://{yourOktaDomain}; a loopback issuer (an emulator) needs allowLoopbackIssuers: true.'
        : ` Fix: ${USE_ORG_SERVER}.`;
    set(checks, { id: 'issuer.org-server', status: 'fail', message: `${error.message}${fix}`, details: { code: error.code, reason: error.details?.reason } });
    const why = 'the issuer is not allowed, so no request was sent (see issuer.org-server).';
    for (const id of TENANT_CHECK_IDS) if (!checks.has(id) && id !== alreadyFailed) set(checks, skip(id, why));
    return;
  }
  if (alreadyFailed !== 'issuer.org-server') {
    set(
      checks,
      path === ''
        ? { id: 'issuer.org-server', status: 'ok', message: `${tenant.issuer} is an org authorization server.` }
        : skip('issuer.org-server', `profile 'custom' allows a custom authorization server (${tenant.issuer}); OIN integrations must ${USE_ORG_SERVER}.`),
    );
  }
  if (alreadyFailed !== 'scopes.oin') set(checks, checkScopes(tenant, undefined));

  const observations: Observation[] = [];
  const http = observingHttpClient(options.http ?? defaultHttpClient, options.now, observations);
  // No retries and no waiting for a rate-limit reset: a check reports what it sees, now.
  const transport = createTransport({ http, timeoutMs: options.timeoutMs, retries: 0, now: options.now });
  const deps = { transport, now: options.now };
  const target = { issuer: tenant.issuer, tenantId: tenant.id };

  // Discovery first: when the org cannot be reached at all, every other probe is skipped.
  const discovery = await fetchDiscovery(transport, target);
  set(checks, discovery.reachable);
  if (discovery.unreachable) {
    const why = `the org could not be reached (${discovery.reachable.message.replace(/\.$/, '')}).`;
    for (const id of TENANT_CHECK_IDS) if (!checks.has(id) && id !== alreadyFailed) set(checks, skip(id, why));
    return;
  }
  set(checks, discovery.issuerMatch);
  const document = discovery.document;
  if (alreadyFailed !== 'scopes.oin') set(checks, checkScopes(tenant, document));
  set(checks, checkPkce(document));

  const [keys, client, redirects] = await Promise.all([
    checkKeys(transport, target, tenant),
    probeClient(deps, tenant).then(async (result) => ({ result, dpop: result.working === undefined ? undefined : await probeDpopRequired(deps, result.working) })),
    Promise.all(
      tenant.redirectUris.map((uri, index) =>
        index < MAX_REDIRECT_PROBES
          ? probeRedirectUri(http, tenant, uri, options.timeoutMs)
          : Promise.resolve(skip('redirect-uri.registered', `at most ${MAX_REDIRECT_PROBES} redirect URIs are probed per run.`, { redirectUri: uri })),
      ),
    ),
  ]);
  for (const check of keys) set(checks, check);
  if (alreadyFailed !== 'client.credentials') set(checks, client.result.credentials);
  set(checks, client.result.authMethod);
  if (alreadyFailed !== 'redirect-uri.registered') checks.set('redirect-uri.registered', redirects);
  if (alreadyFailed !== 'dpop.required') set(checks, checkDpop(tenant, document, client.dpop));
  set(checks, checkClockSkew(observations));
  set(checks, checkHeadroom(observations, tenant));
}

interface DiscoveryResult {
  reachable: TenantCheck;
  issuerMatch: TenantCheck;
  /** The document as received when it was a JSON object (validated or not), for the informational checks. */
  document: Record<string, unknown> | undefined;
  unreachable: boolean;
}

async function fetchDiscovery(transport: Transport, target: { issuer: string; tenantId: string }): Promise<DiscoveryResult> {
  const url = discoveryUrl(target.issuer);
  let response: TransportResponse;
  try {
    response = await transport.request('discovery', target, url, { method: 'GET' });
  } catch (cause) {
    const error = toOidcError(cause, 'ERR_OIDC_UNAVAILABLE');
    // No HTTP answer at all (network error, deadline). A 5xx is an answer: the other probes still run.
    const unreachable = (error.code === 'ERR_OIDC_UNAVAILABLE' && error.details?.status === undefined) || error.code === 'ERR_OIDC_HTTP_TIMEOUT';
    const fix = unreachable
      ? `check the issuer (https://{yourOktaDomain}), DNS, and any proxy or firewall between this server and Okta`
      : 'the issuer does not answer like an Okta org (a redirect, an HTML page or a broken document): check the issuer URL';
    return {
      reachable: { id: 'discovery.reachable', status: 'fail', message: `${error.message} (${url}); ${fix}.`, details: { code: error.code, url } },
      issuerMatch: skip('discovery.issuer-match', 'no discovery document was received.'),
      document: undefined,
      unreachable,
    };
  }
  if (response.status !== 200 || typeof response.json !== 'object' || response.json === null || Array.isArray(response.json)) {
    return {
      reachable: {
        id: 'discovery.reachable',
        status: 'fail',
        message: `${url} answered HTTP ${response.status} without a discovery document; the issuer is probably not the org's URL: ${USE_ORG_SERVER}.`,
        details: { status: response.status, url },
      },
      issuerMatch: skip('discovery.issuer-match', 'no discovery document was received.'),
      document: undefined,
      unreachable: false,
    };
  }
  const document = response.json as Record<string, unknown>;
  const reachable: TenantCheck = { id: 'discovery.reachable', status: 'ok', message: `${url} answered a discovery document.`, details: { url } };
  let metadata: ProviderMetadata;
  try {
    metadata = validateProviderMetadata(target.issuer, document);
  } catch (cause) {
    const error = toOidcError(cause, 'ERR_OIDC_DISCOVERY_FAILED');
    return {
      reachable,
      issuerMatch: {
        id: 'discovery.issuer-match',
        status: 'fail',
        message: `${error.message}. The document must name exactly this issuer (OIDC Discovery §4.3) and endpoints on its origin: set the record's issuer to the value Okta publishes, https://{yourOktaDomain} with no trailing slash, and check no proxy rewrites the document.`,
        details: { code: error.code, field: error.details?.field },
      },
      document,
      unreachable: false,
    };
  }
  // The SDK calls the endpoints of Okta's layout (tenantEndpoints), not the document's: they must agree.
  const expected = tenantEndpoints(target.issuer);
  const pairs = [
    ['authorization_endpoint', expected.authorization],
    ['token_endpoint', expected.token],
    ['jwks_uri', expected.jwks],
    ['introspection_endpoint', expected.introspection],
  ] as const;
  const differing = pairs.filter(([member, value]) => metadata[member] !== undefined && metadata[member] !== value).map(([member]) => member);
  const issuerMatch: TenantCheck =
    differing.length === 0
      ? { id: 'discovery.issuer-match', status: 'ok', message: 'The discovery document names this issuer and endpoints on its origin.' }
      : {
          id: 'discovery.issuer-match',
          status: 'warn',
          message: `The discovery document names other endpoints than Okta's layout the SDK uses (${differing.join(', ')}): the issuer is probably not an Okta org authorization server.`,
          details: { differing },
        };
  return { reachable, issuerMatch, document, unreachable: false };
}

async function checkKeys(transport: Transport, target: { issuer: string; tenantId: string }, tenant: Tenant): Promise<TenantCheck[]> {
  // The URL the SDK fetches (Okta's layout), whatever discovery says; discovery.issuer-match compares the two.
  const url = tenant.endpoints.jwks;
  let response: TransportResponse;
  try {
    response = await transport.request('jwks', target, url, { method: 'GET' });
  } catch (cause) {
    const error = toOidcError(cause, 'ERR_OIDC_JWKS_UNAVAILABLE');
    return [
      { id: 'keys.reachable', status: 'fail', message: `${error.message} (${url}); ID tokens cannot be verified without the org's keys: check the issuer and the network path to Okta.`, details: { code: error.code, url } },
      skip('keys.usable', 'the keys could not be fetched.'),
      skip('keys.cache-control', 'the keys could not be fetched.'),
    ];
  }
  if (response.status !== 200) {
    return [
      { id: 'keys.reachable', status: 'fail', message: `${url} answered HTTP ${response.status}; an Okta org publishes its keys there: check the issuer.`, details: { status: response.status, url } },
      skip('keys.usable', 'the keys could not be fetched.'),
      skip('keys.cache-control', 'the keys could not be fetched.'),
    ];
  }
  return [
    { id: 'keys.reachable', status: 'ok', message: `${url} answered.`, details: { url } },
    await checkKeysUsable(response.json),
    checkKeysCacheControl(response.headers.get('cache-control')),
  ];
}

function checkScopes(tenant: Tenant, document: Record<string, unknown> | undefined): TenantCheck {
  const id = 'scopes.oin' as const;
  if (tenant.profile === 'custom') return skip(id, "profile 'custom' is not limited to the OIN scopes.");
  const listed = document?.scopes_supported;
  const supported = Array.isArray(listed) ? (listed as unknown[]) : undefined;
  const unsupported = supported === undefined ? [] : tenant.scopes.filter((scope) => !supported.includes(scope));
  if (unsupported.length > 0) {
    return { id, status: 'warn', message: `The org does not list ${unsupported.join(', ')} in scopes_supported; remove them from the record's scopes.`, details: { scopes: [...tenant.scopes], unsupported } };
  }
  return { id, status: 'ok', message: `The scopes (${tenant.scopes.join(' ')}) are within the OIN allow-list.`, details: { scopes: [...tenant.scopes] } };
}

function checkPkce(document: Record<string, unknown> | undefined): TenantCheck {
  const id = 'pkce.required' as const;
  if (document === undefined) return skip(id, 'no discovery document was received.');
  const methods = document.code_challenge_methods_supported;
  if (Array.isArray(methods) && methods.includes('S256')) {
    return { id, status: 'ok', message: 'The org supports S256 PKCE, which the SDK sends on every sign-in.' };
  }
  if (Array.isArray(methods)) {
    return {
      id,
      status: 'fail',
      message: 'The org does not list S256 in code_challenge_methods_supported, but the SDK always sends S256 PKCE (RFC 9700 §2.1.1) and Okta orgs support it: check the issuer.',
      details: { methods: methods.filter((m): m is string => typeof m === 'string' && m.length <= 16) },
    };
  }
  return {
    id,
    status: 'warn',
    message: 'The discovery document does not advertise code_challenge_methods_supported; the SDK sends S256 PKCE anyway, and Okta orgs advertise it: check the issuer.',
  };
}

function checkDpop(
  tenant: Tenant,
  document: Record<string, unknown> | undefined,
  probe: { required: boolean | undefined; error?: string; code?: string } | undefined,
): TenantCheck {
  const id = 'dpop.required' as const;
  const algs = document?.dpop_signing_alg_values_supported;
  const advertised = Array.isArray(algs) && algs.length > 0;
  const details: Record<string, unknown> = { recordDpop: tenant.dpop, advertised: document === undefined ? null : advertised, appRequiresDpop: probe?.required ?? null };
  if (probe?.required === true && !tenant.dpop) {
    return {
      id,
      status: 'fail',
      message:
        "The Okta app requires DPoP on token requests (it answered invalid_dpop_proof), but the tenant record has dpop: false: set dpop: true, or turn off \"Require Demonstrating Proof of Possession (DPoP) header in token requests\" in the app's General settings.",
      details,
    };
  }
  if (tenant.dpop && document !== undefined && !advertised) {
    return {
      id,
      status: 'warn',
      message: 'The tenant record has dpop: true, but the org does not advertise DPoP (dpop_signing_alg_values_supported): enable the DPoP feature in Okta (Settings > Features), or set dpop: false.',
      details,
    };
  }
  const answered = probe !== undefined && probe.required !== undefined;
  if (tenant.dpop) {
    return { id, status: 'ok', message: `The tenant sends DPoP proofs and the org supports DPoP${answered ? '' : ' (the token-endpoint probe did not run or gave no answer)'}.`, details };
  }
  if (!answered) {
    return skip(
      id,
      'the token-endpoint probe did not run or gave no answer (see client.credentials), so whether the Okta app requires DPoP is unknown. The tenant sends no DPoP proofs: if the app has "Require Demonstrating Proof of Possession (DPoP) header in token requests" on, set dpop: true.',
      details,
    );
  }
  return { id, status: 'ok', message: 'The Okta app does not require DPoP, and the tenant sends no DPoP proofs.', details };
}

function checkClockSkew(observations: Observation[]): TenantCheck {
  const id = 'clock.skew' as const;
  const offsets = observations.flatMap((o) => (o.date === undefined ? [] : [o.date - o.receivedAt])).sort((a, b) => a - b);
  if (offsets.length === 0) return skip(id, "no response from Okta carried a Date header.");
  // The median: one slow response (its Date is older than our reading) does not decide.
  const offsetMs = offsets[Math.floor(offsets.length / 2)]!;
  const seconds = Math.round(Math.abs(offsetMs) / 1000);
  // Okta's Date has whole seconds, and it was written before the response travelled: ±1 s is noise.
  const direction = offsetMs > 0 ? 'behind' : 'ahead of';
  const details = { offsetSec: Math.round(offsetMs / 1000), samples: offsets.length };
  const sync = 'Synchronise this server\'s clock with NTP; ID tokens are checked against the clock with a 30 s tolerance (clockToleranceSec).';
  if (Math.abs(offsetMs) > SKEW_FAIL_MS) return { id, status: 'fail', message: `This server's clock is about ${seconds} s ${direction} Okta's. ${sync}`, details };
  if (Math.abs(offsetMs) > SKEW_WARN_MS) return { id, status: 'warn', message: `This server's clock is about ${seconds} s ${direction} Okta's, beyond the 30 s tolerance. ${sync}`, details };
  return { id, status: 'ok', message: `This server's clock agrees with Okta's (within ${Math.max(1, seconds)} s).`, details };
}

/** Endpoint names for the rate-limit report, by URL (the transport's kinds plus authorize). */
function endpointName(url: string, tenant: Tenant): string | undefined {
  const path = url.split('?')[0];
  const endpoints = tenant.endpoints;
  const names: [string, string][] = [
    [endpoints.authorization, 'authorize'],
    [endpoints.token, 'token'],
    [endpoints.introspection, 'introspect'],
    [endpoints.userinfo, 'userinfo'],
    [endpoints.revocation, 'revoke'],
    [endpoints.jwks, 'keys'],
  ];
  return names.find(([endpoint]) => endpoint === path)?.[1] ?? (path === discoveryUrl(tenant.issuer) ? 'discovery' : undefined);
}

function checkHeadroom(observations: Observation[], tenant: Tenant): TenantCheck {
  const id = 'rate-limit.headroom' as const;
  const byEndpoint = new Map<string, { limit: number; remaining: number; reset?: number }>();
  for (const o of observations) {
    const { limit, remaining, reset } = o.rateLimit;
    // Limit 0 is Okta's concurrent-limit answer, not a window (HF-02).
    if (limit === undefined || remaining === undefined || limit === 0) continue;
    const name = endpointName(o.url, tenant) ?? 'other';
    const seen = byEndpoint.get(name);
    if (seen === undefined || remaining / limit < seen.remaining / seen.limit) byEndpoint.set(name, reset === undefined ? { limit, remaining } : { limit, remaining, reset });
  }
  if (byEndpoint.size === 0) return skip(id, 'no response carried X-Rate-Limit-Limit and X-Rate-Limit-Remaining.');
  const endpoints = Object.fromEntries(byEndpoint);
  const [name, tightest] = [...byEndpoint].sort(([, a], [, b]) => a.remaining / a.limit - b.remaining / b.limit)[0]!;
  const percent = Math.floor((tightest.remaining / tightest.limit) * 100);
  if (tightest.remaining / tightest.limit < HEADROOM_WARN) {
    return {
      id,
      status: 'warn',
      message: `Only ${tightest.remaining} of ${tightest.limit} calls (${percent} %) are left in this rate-limit window of the org's ${name} endpoint. Other apps of the org share it: spread the load, cache introspection answers, or ask the org's admin to raise the limit (Okta: Reports > Rate Limits).`,
      details: { endpoints },
    };
  }
  return { id, status: 'ok', message: `At least ${percent} % of every rate-limit window seen is left (tightest: ${name}, ${tightest.remaining} of ${tightest.limit}).`, details: { endpoints } };
}

