/**
 * The flow context: what every auth route and guard shares, built once per `createOidcAuth` call
 * (the resolved options, the client, the cookie jars, the revocation and tenant checks, and the
 * warn / report helpers). The routes are plain functions of it (`login.ts`, `callback.ts`, …).
 */
import { createOidcClient, type OidcClient } from '../client';
import { createSealer } from '../crypto/seal';
import { type OidcEventListener, safeEventListener } from '../events';
import { DEFAULT_ABSOLUTE_SEC, SessionManager } from '../session/session-manager';
import { TransactionCookies } from '../session/transaction-cookie';
import type { CookieContext } from '../session/types';
import { MemoryCredentialStore } from '../tenant/credential-store';
import { emitWarning } from '../warnings';
import { configuredCookieSecurity, cookieSecurity } from './cookie-security';
import { createLogoutReceivers } from './logout-receivers';
import { type ResolvedAuthOptions, type ResolvedRoutes, resolveAuthOptions } from './options';
import { headerOf } from './responses';
import { basePathOf, type RouteName } from './routes';
import { createSessionRevocations, type SessionRevocations } from './session-revocations';
import { SessionSwitch } from './session-switch';
import { createTenantBinding, type TenantBinding } from './tenant-binding';
import type { OidcAuthOptions, OidcRequest, TenantResolution } from './types';

export interface FlowContext {
  readonly resolved: ResolvedAuthOptions;
  readonly client: OidcClient;
  readonly now: () => number;
  readonly onEvent: OidcEventListener | undefined;
  readonly routes: ResolvedRoutes;
  readonly tenantMode: TenantResolution;
  readonly afterLogoutPath: string;
  readonly responseMode: 'query' | 'form_post';
  readonly sessions: SessionManager;
  readonly transactions: TransactionCookies;
  readonly switches: SessionSwitch;
  readonly binding: TenantBinding;
  readonly revocations: SessionRevocations;
  readonly receivers: ReturnType<typeof createLogoutReceivers>;
  /** How long a revocation must be kept: the longest a session can live. */
  readonly absoluteMs: number;
  /** Tenants already warned about insecure development cookies (bounded). */
  readonly warnedInsecure: Set<string>;
  warn(code: string, message: string, tenantId?: string): void;
  /** Hand an error to `onError`; a throwing logger never changes the response. */
  report(error: unknown, route: RouteName | 'bearer' | 'session', correlationId: string): void;
  cookieContext(req: OidcRequest, cookieHeader?: string | null): CookieContext;
  /** The app's external origin: the configured `baseUrl`'s, else the request's. */
  appOrigin(req: OidcRequest): string;
}

/** Validate the options once (ERR_OIDC_INVALID_OPTIONS naming the field) and build the shared parts. */
export function createFlowContext(options: OidcAuthOptions): FlowContext {
  const resolved = resolveAuthOptions(options);
  const store = Array.isArray(resolved.store) ? new MemoryCredentialStore(resolved.store) : resolved.store;
  const client = createOidcClient({ ...(resolved.client ?? {}), store });
  const now = resolved.client?.now ?? Date.now;
  const onWarning = resolved.client?.onWarning;
  const warn = (code: string, message: string, tenantId?: string) => emitWarning(onWarning, { code, message, ...(tenantId === undefined ? {} : { tenantId }) });
  const sealer = createSealer(resolved.secrets, { now });
  const absoluteMs = (resolved.session.absoluteSec ?? DEFAULT_ABSOLUTE_SEC) * 1000;
  const revocations = createSessionRevocations({
    ...(resolved.session.revocationStore ? { store: resolved.session.revocationStore } : {}),
    ...(resolved.session.revocations ? { list: resolved.session.revocations } : {}),
    now,
    onLoadFailure: () =>
      warn(
        'WARN_OIDC_REVOCATIONS_NOT_LOADED',
        'The shared revocation list could not be loaded; sessions revoked elsewhere are refused once it reconnects (docs/deployment.md).',
      ),
  });
  const binding = createTenantBinding(store, now);
  const { routes, onError } = resolved;
  const appOrigin = (req: OidcRequest) => resolved.baseUrl?.origin ?? req.origin ?? req.url.origin;
  const receivers = createLogoutReceivers({
    client,
    revocations,
    sessionStore: resolved.session.store,
    absoluteMs,
    now,
    // The exact URL Okta signs as `aud`: the configured origin (never a Host a proxy rewrote), the mount point, the route.
    endpointUrl: (req) => `${appOrigin(req)}${basePathOf(req)}${routes.universalLogout}`,
    onLogoutRequest: resolved.onLogoutRequest,
  });
  const sessions = new SessionManager({
    sealer,
    cookieName: resolved.session.cookieName,
    rollingSec: resolved.session.rollingSec,
    absoluteSec: resolved.session.absoluteSec,
    store: resolved.session.store,
    claims: resolved.session.claims,
    now,
    // Every read, the warm one included: not logged out, and still the tenant it was signed in with.
    accept: (session) => {
      const revoked = revocations.isRevoked(session);
      if (revoked === true) return false;
      if (revoked === false) return binding.holds(session);
      return revoked.then((yes) => (yes ? false : binding.holds(session)));
    },
  });
  const isSecure = cookieSecurity(configuredCookieSecurity(resolved.baseUrl, Array.isArray(resolved.store) ? resolved.store : undefined));
  // Derive the purposes' keys now rather than on the first request (HKDF through Web Crypto is async).
  sessions.warm();
  sealer.seal({}, 'transaction', 1).catch(() => {});
  return {
    resolved,
    client,
    now,
    onEvent: safeEventListener(resolved.client?.onEvent),
    routes,
    tenantMode: resolved.tenant,
    afterLogoutPath: resolved.afterLogoutPath,
    responseMode: resolved.responseMode,
    sessions,
    transactions: new TransactionCookies(sealer, { cookieName: resolved.session.cookieName }),
    switches: new SessionSwitch(sealer, resolved.session.cookieName),
    binding,
    revocations,
    receivers,
    absoluteMs,
    warnedInsecure: new Set(),
    warn,
    report(error, route, correlationId) {
      if (!onError) return;
      try {
        onError(error, { route, correlationId });
      } catch {
        // A failing logger must not change the response.
      }
    },
    // From configuration when it says (baseUrl, or records that are all https or all loopback
    // http); else secure everywhere except plain http on a loopback host (development).
    cookieContext: (req, cookieHeader = headerOf(req, 'cookie')) => ({ cookieHeader, secure: isSecure(req) }),
    appOrigin,
  };
}
