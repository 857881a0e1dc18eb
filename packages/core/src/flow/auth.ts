/**
 * `createOidcAuth`: the framework-neutral flow layer. It routes the auth endpoints, keeps the login
 * transaction and the session in sealed cookies, and turns every outcome into a plain
 * {@link OidcResponse}. Adapters only translate requests and responses. Each route lives in its own
 * module over the shared {@link FlowContext} (`login.ts`, `callback.ts`, `initiate.ts`, `logout.ts`,
 * `logout-receivers.ts`); the guards in `guards.ts`.
 */
import { randomToken } from '../internal/random';
import { callback } from './callback';
import { createFlowContext } from './context';
import { requireAccessToken, requireSession } from './guards';
import { initiate } from './initiate';
import { login } from './login';
import { logout } from './logout';
import { errorResponse, methodNotAllowed, NO_STORE } from './responses';
import { createRequestSteps } from './request-step';
import { ALLOWED_METHODS, createRouteMatcher, type RouteMatch } from './routes';
import { createSessionReads } from './session-read';
import { type SignInAttempt, signInOutcome } from './sign-in-event';
import type { OidcAuth, OidcAuthOptions, OidcRequest, OidcResponse } from './types';

/**
 * Create the sign-in flow. Validates the options once (ERR_OIDC_INVALID_OPTIONS naming the field),
 * builds the {@link OidcClient}, and starts deriving the cookie keys, so requests do no setup work.
 *
 * @example
 * ```ts
 * const auth = createOidcAuth({
 *   store: tenants,                                   // TenantRecord[] or a CredentialStore
 *   session: { secret: process.env.SESSION_SECRET!.split(',') },
 * });
 * const response = await auth.handle(fromWebRequest(request));   // null → not an auth route
 * ```
 */
export function createOidcAuth(options: OidcAuthOptions): OidcAuth {
  const ctx = createFlowContext(options);
  const match = createRouteMatcher(ctx.routes, ctx.tenantMode);
  const reads = createSessionReads(ctx);

  async function handle(req: OidcRequest): Promise<OidcResponse | null> {
    let matched: RouteMatch | null;
    try {
      matched = match(req);
    } catch {
      return null;
    }
    if (matched === null) return null;
    const { route, pathTenant } = matched;
    const correlationId = randomToken(9);
    if (!ALLOWED_METHODS[route].includes(req.method)) return methodNotAllowed(req, ALLOWED_METHODS[route], correlationId);
    const pending: string[] = [];
    // The sign-in routes report their outcome, only to a listener.
    const attempt: SignInAttempt | undefined =
      ctx.onEvent !== undefined && (route === 'callback' || route === 'initiate') ? { flow: route === 'initiate' ? 'initiate' : 'code' } : undefined;
    try {
      switch (route) {
        case 'login':
          return await login(ctx, req, pathTenant);
        case 'callback':
          return await callback(ctx, req, pending, attempt);
        case 'initiate':
          return await initiate(ctx, req, attempt);
        case 'logout':
          return await logout(ctx, req, pending);
        case 'universalLogout':
          return await ctx.receivers.universalLogout(req);
        case 'backchannelLogout':
          return await ctx.receivers.backchannelLogout(req);
      }
    } catch (error) {
      ctx.report(error, route, correlationId);
      signInOutcome(ctx, attempt, attempt?.tenantId, error);
      try {
        return errorResponse(req, error, correlationId, pending);
      } catch {
        return { status: 500, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': NO_STORE }, setCookies: pending, body: 'Internal error\n' };
      }
    }
  }

  /** What the session middleware answers when `getSession` threw (a session store that failed): reported to `onError`. */
  function errorResponseFor(req: OidcRequest, error: unknown): OidcResponse {
    const correlationId = randomToken(9);
    ctx.report(error, 'session', correlationId);
    return errorResponse(req, error, correlationId);
  }

  const core = {
    client: ctx.client,
    handle,
    getSession: (req: OidcRequest) => reads.memoOf(req).read,
    requireSession: requireSession(ctx, reads),
    requireAccessToken: requireAccessToken(ctx),
    errorResponse: errorResponseFor,
  };
  return Object.freeze({ ...core, ...createRequestSteps(core) });
}
