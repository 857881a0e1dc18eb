/**
 * Turning a validated sign-in into a session cookie: a plain re-login, or, when this browser holds
 * another user's or another tenant's session, a confirmation page first (login CSRF, RFC 9700 §4.4).
 */
import { sanitizeReturnTo } from '../authorize/return-to';
import type { CallbackParams, SignInResult } from '../client';
import { OidcError } from '../errors';
import { randomToken } from '../internal/random';
import type { NewSession } from '../session/session-manager';
import type { CookieContext, Session } from '../session/types';
import type { FlowContext } from './context';
import { isSameOriginRequest } from './fetch-metadata';
import { apiError, prefersJson, redirect } from './responses';
import { basePathOf } from './routes';
import { DECISION_FIELD, SWITCH_FIELD } from './session-switch';
import type { OidcRequest, OidcResponse } from './types';

/** Start the session for `result`, or hold it behind the account-switch page. */
export async function signIn(ctx: FlowContext, req: OidcRequest, result: SignInResult, returnTo: string, pending: string[]): Promise<OidcResponse> {
  ctx.binding.remember(result.tenant);
  const context = ctx.cookieContext(req);
  const input: NewSession = {
    tenant: result.tenant.id,
    issuer: result.tenant.issuer,
    clientId: result.tenant.clientId,
    sub: result.claims.sub,
    claims: ctx.sessions.pickClaims(result.claims),
    idToken: result.idToken,
  };
  const current = await liveSession(ctx, context);
  // Another tenant's or another user's live session is not replaced silently: a malicious tenant
  // could otherwise sign the victim into the attacker's account. Same user, same tenant: a plain re-login.
  if (current !== null && (current.tenant !== input.tenant || current.sub !== input.sub)) {
    if (prefersJson(req)) {
      const error = new OidcError('ERR_OIDC_SESSION_CONFLICT', 'This browser is signed in as another user; sign out first.');
      return apiError(409, error, randomToken(9), pending);
    }
    const held = await ctx.switches.hold(input, returnTo, context.secure);
    return ctx.switches.page(`${basePathOf(req)}${ctx.routes.callback}`, current, input, held.value, [...pending, held.cookie]);
  }
  return startSession(ctx, context, input, returnTo, pending, current);
}

/** The confirmation page's POST: switch to the held sign-in, or keep the current session. */
export async function confirmSwitch(ctx: FlowContext, req: OidcRequest, params: CallbackParams, pending: string[]): Promise<OidcResponse> {
  // Only the app's own page may confirm (a cross-site form could otherwise press the button).
  if (!isSameOriginRequest(req, ctx.appOrigin(req))) {
    throw new OidcError('ERR_OIDC_ORIGIN_NOT_ALLOWED', 'Confirm the account switch from this application.');
  }
  const context = ctx.cookieContext(req);
  const taken = await ctx.switches.take(context, params[SWITCH_FIELD] ?? '');
  pending.push(...taken.setCookies);
  if (taken.pending === undefined) {
    throw new OidcError('ERR_OIDC_SESSION_CONFLICT', 'The account switch expired or was already answered; sign in again.');
  }
  if (params[DECISION_FIELD] !== 'continue') return redirect('/', pending);
  const { session: input, returnTo } = taken.pending;
  const tenant = await ctx.client.getTenant(input.tenant);
  // The record may have changed in the minutes the page was open.
  if (tenant.issuer !== input.issuer || tenant.clientId !== input.clientId) throw new OidcError('ERR_OIDC_SESSION_CONFLICT', 'The organisation changed since this sign-in; sign in again.');
  return startSession(ctx, context, input, returnTo, pending, await liveSession(ctx, context));
}

/** The live session this browser holds now, if any (any failure to read it counts as none). */
export async function liveSession(ctx: FlowContext, context: CookieContext): Promise<Session | null> {
  if (context.cookieHeader === null) return null;
  try {
    return (await ctx.sessions.read(context)).session;
  } catch {
    return null;
  }
}

/** Start the session, ending (and revoking) the one it replaces. */
async function startSession(ctx: FlowContext, context: CookieContext, input: NewSession, returnTo: string, pending: string[], replaced: Session | null): Promise<OidcResponse> {
  if (replaced !== null) await ctx.revocations.revoke(replaced.id, replaced.issuedAt + ctx.absoluteMs);
  const { setCookies } = await ctx.sessions.create(context, input);
  return redirect(sanitizeReturnTo(returnTo, '/'), [...pending, ...setCookies]);
}
