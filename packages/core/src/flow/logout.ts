/** The logout route: local sign-out first, then RP-Initiated Logout 1.0 at Okta when the app's own page asked. */
import { randomToken } from '../internal/random';
import type { Tenant } from '../tenant/tenant';
import type { FlowContext } from './context';
import { isSameOriginRequest } from './fetch-metadata';
import { redirect } from './responses';
import type { OidcRequest, OidcResponse } from './types';

/** `GET` or `POST <logout>`. `pending` collects the cookie deletions, sent whatever happens next. */
export async function logout(ctx: FlowContext, req: OidcRequest, pending: string[]): Promise<OidcResponse> {
  const { afterLogoutPath } = ctx;
  const context = ctx.cookieContext(req);
  // Local state goes first (catalogue LO-01): the deletions are sent even if the store fails.
  pending.push(...ctx.sessions.deletions(context));
  const { session } = await ctx.sessions.destroy(context);
  if (!session) return redirect(afterLogoutPath, pending);
  // A copy of the cookie taken before logout no longer opens a session.
  await ctx.revocations.revoke(session.id, session.issuedAt + ctx.absoluteMs);
  // Without an ID token Okta's /logout shows an error page (catalogue LO-02): stay local.
  if (session.idToken === undefined) return redirect(afterLogoutPath, pending);
  // Ending the user's Okta session ends it for every app of that customer: only when the app's
  // own page asked. A cross-site link or form logs out of this app only.
  if (!isSameOriginRequest(req, ctx.appOrigin(req))) return redirect(afterLogoutPath, pending);
  let tenant: Tenant;
  try {
    tenant = await ctx.client.getTenant(session.tenant);
  } catch {
    return redirect(afterLogoutPath, pending); // the tenant was removed since sign-in
  }
  // Only a registered URI, never one from the request (catalogue LO-03).
  const own = new URL(afterLogoutPath, ctx.appOrigin(req)).href;
  const postLogoutRedirectUri = tenant.postLogoutRedirectUris.find((uri) => uri === own) ?? tenant.postLogoutRedirectUris[0];
  const url = ctx.client.buildLogoutUrl(tenant, {
    idTokenHint: session.idToken,
    ...(postLogoutRedirectUri === undefined ? {} : { postLogoutRedirectUri }),
    // Never checked on return: a post-logout redirect is not an authentication event (LO-05).
    state: randomToken(16),
  });
  return redirect(url.href, pending);
}
