/**
 * The guards: a session (`requireSession`) and a bearer access token (`requireAccessToken`,
 * RFC 6750). Each answers the value, or the response to send instead.
 */
import { isOidcError, OidcError } from '../errors';
import { randomToken } from '../internal/random';
import { isBearerTokenSyntax, SYNTAX_CHECKED } from '../introspection/token-syntax';
import type { SessionRead } from '../session/session-manager';
import type { FlowContext } from './context';
import { apiError, errorResponse, headerOf, prefersJson, redirect } from './responses';
import { basePathOf } from './routes';
import type { SessionReads } from './session-read';
import { type RouteTenant, resolveTenantId } from './tenant';
import type { OidcAuth, OidcRequest, OidcResponse } from './types';

/** RFC 6750 §3: the realm every `WWW-Authenticate: Bearer` challenge names. */
const REALM = 'oin-oidc';

/** Where an unauthenticated page request is sent: the login route, back to this page afterwards. */
function loginLocation(ctx: FlowContext, req: OidcRequest, tenantId: string | undefined): string {
  const returnTo = `${req.url.pathname}${req.url.search}`;
  let path = `${basePathOf(req)}${ctx.routes.login}`;
  const query = new URLSearchParams({ returnTo });
  if (tenantId !== undefined) {
    if (ctx.tenantMode === 'path') path += `/${encodeURIComponent(tenantId)}`;
    else if (ctx.tenantMode !== 'host' && ctx.tenantMode !== 'subdomain') query.set('tenant', tenantId);
  }
  return `${path}?${query}`;
}

/** API-style: the client prefers JSON, or the method is not one a browser navigates with. */
function isApiRequest(req: OidcRequest): boolean {
  return prefersJson(req) || (req.method !== 'GET' && req.method !== 'HEAD');
}

export function requireSession(ctx: FlowContext, reads: SessionReads): OidcAuth['requireSession'] {
  return async (req) => {
    let read: SessionRead;
    let route: RouteTenant;
    try {
      const memo = reads.memoOf(req);
      const routeTenant = reads.routeOf(req, memo);
      read = await memo.read;
      route = await routeTenant;
    } catch (error) {
      return { response: reported(ctx, req, error, []) };
    }
    // A route whose tenant cannot be resolved is refused, never treated as naming none.
    if (route.error !== undefined) return { response: reported(ctx, req, route.error, read.setCookies) };
    // The memo already dropped a session of another tenant than the route's (catalogue MT-08).
    if (read.session) return { session: read.session, setCookies: read.setCookies };
    if (isApiRequest(req)) {
      return { response: apiError(401, new OidcError('ERR_OIDC_SESSION_MISSING', 'Sign in first.'), randomToken(9), read.setCookies) };
    }
    return { response: redirect(loginLocation(ctx, req, route.id), read.setCookies) };
  };
}

/** The error answer of the session guard, handed to `onError` (route `'session'`) as the routes' errors are. */
function reported(ctx: FlowContext, req: OidcRequest, error: unknown, setCookies: string[]): OidcResponse {
  const correlationId = randomToken(9);
  ctx.report(error, 'session', correlationId);
  return errorResponse(req, error, correlationId, setCookies);
}

function bearerChallenge(error: OidcError, invalidToken: boolean, correlationId = randomToken(9)): OidcResponse {
  // RFC 6750 §3.1: no error attribute when the request carried no credentials at all.
  const challenge = invalidToken ? `Bearer realm="${REALM}", error="invalid_token"` : `Bearer realm="${REALM}"`;
  return apiError(401, error, correlationId, [], { 'WWW-Authenticate': challenge });
}

export function requireAccessToken(ctx: FlowContext): OidcAuth['requireAccessToken'] {
  const { client } = ctx;
  return async (req, options = {}) => {
    // RFC 6750 §2.1: `Authorization: Bearer <b64token>`, scheme case-insensitive, one space. Several
    // Authorization headers arrive comma-joined from Headers.get and so fail the token syntax.
    const header = headerOf(req, 'authorization');
    const space = header === null ? -1 : header.indexOf(' ');
    const scheme = header === null ? '' : space === -1 ? header : header.slice(0, space);
    if (header === null || header.trim() === '' || scheme.toLowerCase() !== 'bearer') {
      // No credentials, or another scheme we do not support: a bare challenge (RFC 6750 §3.1).
      return { response: bearerChallenge(new OidcError('ERR_OIDC_ACCESS_TOKEN_MISSING', 'A bearer access token is required.'), false) };
    }
    const token = space === -1 ? '' : header.slice(space + 1);
    // A token this process already found active passed the syntax check then: skip the regex.
    if (!client.isAccessTokenWarm(token) && !isBearerTokenSyntax(token)) {
      return { response: bearerChallenge(new OidcError('ERR_OIDC_ACCESS_TOKEN_INVALID', 'The bearer access token is malformed.'), true) };
    }
    try {
      const tenantId = options.tenantId ?? (await resolveTenantId(ctx.tenantMode, req));
      if (tenantId === undefined) {
        const error = new OidcError('ERR_OIDC_INVALID_REQUEST', 'No tenant was given for this access token.', { details: { parameter: 'tenant' } });
        return { response: apiError(400, error, randomToken(9), [], { 'WWW-Authenticate': `Bearer realm="${REALM}", error="invalid_request"` }) };
      }
      const tenant = await client.getTenant(tenantId);
      // The caller's address gets its own small budget for tokens only Okta can judge.
      // Checked above, or warm (it passed the check when it was cached): the introspector skips its
      // own copy of the check, so each token is checked once.
      const checked = { [SYNTAX_CHECKED]: true as const, ...(req.clientAddress === undefined ? {} : { caller: req.clientAddress }) };
      const active = await client.introspect(tenant, token, checked);
      return { token: active, tenant };
    } catch (error) {
      // Drawn only on failure: a CSPRNG call per successful request is wasted work.
      const correlationId = randomToken(9);
      ctx.report(error, 'bearer', correlationId);
      if (isOidcError(error) && error.code.startsWith('ERR_OIDC_ACCESS_TOKEN_')) return { response: bearerChallenge(error, true, correlationId) };
      // An API answers JSON whatever it accepts; Okta trouble keeps its 502/503/504 and Retry-After.
      const known = isOidcError(error) ? error : undefined;
      const headers: Record<string, string> = {};
      if (known?.retryAfter !== undefined && Number.isFinite(known.retryAfter)) headers['Retry-After'] = String(Math.max(0, Math.ceil(known.retryAfter)));
      return { response: apiError(known?.status ?? 500, error, correlationId, [], headers) };
    }
  };
}
