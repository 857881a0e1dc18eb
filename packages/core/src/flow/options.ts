/**
 * Validation of {@link OidcAuthOptions}, once, in `createOidcAuth` (never per request). Failures
 * throw `ERR_OIDC_INVALID_OPTIONS` naming the field; secret values never appear in messages.
 */
import { z } from 'zod';
import { sanitizeReturnTo } from '../authorize/return-to';
import { MIN_SECRET_LENGTH } from '../crypto/seal';
import { OidcError } from '../errors';
import { BOUNDS, zodNumber } from '../internal/bounds';
import { isSharedRevocationList, type SharedRevocationList } from '../session/revocation-list';
import { isSessionStore, type SessionStore } from '../session/types';
import { isCredentialStore, type CredentialStore } from '../tenant/credential-store';
import type { TenantRecord } from '../tenant/tenant';
import { isTtlStore, type TtlStore } from '../ttl-store';
import { parseBaseUrl } from './cookie-security';
import type { OidcAuthOptions, OidcRequest, TenantResolution } from './types';

const secret = z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`);

/** A route path: starts with one `/`, no trailing `/`, only unreserved path characters. */
const routePath = z
  .string()
  .regex(/^(\/[A-Za-z0-9._~!$&'()*+,=:@-]+)+$/, 'must be a path such as /auth/login (no trailing slash, query or fragment)');

/**
 * A same-origin absolute path for redirects (no `//host`, no `/\host`), judged by the same
 * open-redirect check as `returnTo`, so percent-encoded payloads (`/%2F%2Fevil.com`, `/%5Cevil.com`,
 * `/%09/evil.com`, `/%0d%0a…`) are refused too (catalogue §2.5: each "must become / or be rejected").
 */
const localPath = z
  .string()
  .max(2048)
  .regex(/^\/(?![/\\])[\x21-\x7E]*$/, 'must be a same-origin path starting with a single /')
  .refine((value) => !value.includes('\\'), 'must not contain a backslash')
  .refine((value) => sanitizeReturnTo(value, '') !== '', 'must not encode a slash, backslash or control character');

const schema = z.strictObject({
  store: z.union([
    z.custom<CredentialStore>(isCredentialStore, 'must be a CredentialStore'),
    z.array(z.looseObject({}), 'must be a CredentialStore or an array of tenant records'),
  ]),
  session: z.strictObject({
    secret: z.union([secret, z.array(secret).min(1).max(8)]),
    cookieName: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ -')
      .refine((name) => !/^__(host|secure)-/i.test(name), 'must not carry a __Host- or __Secure- prefix (added automatically on https)')
      .optional(),
    rollingSec: zodNumber(BOUNDS.sessionLifetimeSec).optional(),
    absoluteSec: zodNumber(BOUNDS.sessionLifetimeSec).optional(),
    store: z.custom<SessionStore>(isSessionStore, 'must be a SessionStore ({ get, set, delete })').optional(),
    claims: z
      .array(z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/))
      .max(64)
      .optional(),
    revocationStore: z.custom<TtlStore>(isTtlStore, 'must be a TtlStore (get, set, delete, setIfAbsent, take)').optional(),
    revocations: z.custom<SharedRevocationList>(isSharedRevocationList, 'must be a SharedRevocationList (add, load, subscribe)').optional(),
  }),
  baseUrl: z.string().max(2048).optional(),
  routes: z
    .strictObject({
      login: routePath.optional(),
      callback: routePath.optional(),
      initiate: routePath.optional(),
      logout: routePath.optional(),
      universalLogout: routePath.optional(),
      backchannelLogout: routePath.optional(),
    })
    .optional(),
  tenant: z
    .union([
      z.enum(['query', 'host', 'subdomain', 'path']),
      z.custom<(req: OidcRequest) => string | undefined>((value) => typeof value === 'function', 'must be a function'),
    ])
    .optional(),
  afterLogoutPath: localPath.optional(),
  responseMode: z.enum(['query', 'form_post']).optional(),
  onError: z.custom<NonNullable<OidcAuthOptions['onError']>>((value) => typeof value === 'function', 'must be a function').optional(),
  onLogoutRequest: z.custom<NonNullable<OidcAuthOptions['onLogoutRequest']>>((value) => typeof value === 'function', 'must be a function').optional(),
  // Validated by createOidcClient itself.
  client: z.looseObject({}).optional(),
});

export interface ResolvedRoutes {
  login: string;
  callback: string;
  initiate: string;
  logout: string;
  universalLogout: string;
  backchannelLogout: string;
}

/** Every auth route's default path, for adapters that must list routes (Fastify). */
export const DEFAULT_ROUTES: Readonly<ResolvedRoutes> = Object.freeze({
  login: '/auth/login',
  callback: '/auth/callback',
  initiate: '/auth/initiate',
  logout: '/auth/logout',
  universalLogout: '/auth/universal-logout',
  backchannelLogout: '/auth/backchannel-logout',
});

export interface ResolvedAuthOptions {
  store: CredentialStore | TenantRecord[];
  secrets: string[];
  session: {
    cookieName: string | undefined;
    rollingSec: number | undefined;
    absoluteSec: number | undefined;
    store: SessionStore | undefined;
    claims: string[] | undefined;
    revocationStore: TtlStore | undefined;
    revocations: SharedRevocationList | undefined;
  };
  baseUrl: URL | undefined;
  routes: ResolvedRoutes;
  tenant: TenantResolution;
  afterLogoutPath: string;
  responseMode: 'query' | 'form_post';
  onError: OidcAuthOptions['onError'];
  client: OidcAuthOptions['client'];
  onLogoutRequest: OidcAuthOptions['onLogoutRequest'];
}

/** Validate and resolve the options (defaults applied). */
export function resolveAuthOptions(options: OidcAuthOptions): ResolvedAuthOptions {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join('.') || '(options)';
    throw new OidcError('ERR_OIDC_INVALID_OPTIONS', `createOidcAuth: ${field} ${issue.message}`, {
      details: { field, issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), code: i.code })) },
    });
  }
  const routes: ResolvedRoutes = {
    login: options.routes?.login ?? '/auth/login',
    callback: options.routes?.callback ?? '/auth/callback',
    initiate: options.routes?.initiate ?? '/auth/initiate',
    logout: options.routes?.logout ?? '/auth/logout',
    universalLogout: options.routes?.universalLogout ?? DEFAULT_ROUTES.universalLogout,
    backchannelLogout: options.routes?.backchannelLogout ?? DEFAULT_ROUTES.backchannelLogout,
  };
  const paths = Object.values(routes);
  if (new Set(paths).size !== paths.length) {
    throw new OidcError('ERR_OIDC_INVALID_OPTIONS', 'createOidcAuth: routes must be different paths', { details: { field: 'routes' } });
  }
  const session = options.session;
  if (session.rollingSec !== undefined && session.absoluteSec !== undefined && session.rollingSec > session.absoluteSec) {
    throw new OidcError('ERR_OIDC_INVALID_OPTIONS', 'createOidcAuth: session.rollingSec must not exceed session.absoluteSec', {
      details: { field: 'session.rollingSec' },
    });
  }
  return {
    store: options.store,
    secrets: typeof session.secret === 'string' ? [session.secret] : [...session.secret],
    session: {
      cookieName: session.cookieName,
      rollingSec: session.rollingSec,
      absoluteSec: session.absoluteSec,
      store: session.store,
      claims: session.claims ? [...session.claims] : undefined,
      revocationStore: session.revocationStore,
      revocations: session.revocations,
    },
    baseUrl: options.baseUrl === undefined ? undefined : parseBaseUrl(options.baseUrl),
    routes,
    tenant: options.tenant ?? 'query',
    // The value redirected to is the one the check judged: the normalised path, not the raw input
    // (the audit's "check on input, not on output", SA-10).
    afterLogoutPath: options.afterLogoutPath === undefined ? '/' : sanitizeReturnTo(options.afterLogoutPath, '/'),
    responseMode: options.responseMode ?? 'query',
    onError: options.onError,
    onLogoutRequest: options.onLogoutRequest,
    client: options.client,
  };
}
