/**
 * The initiate route: third-party-initiated login (OIDC Core §4). The initiator names an issuer
 * and where to go; the tenant comes from the store, `target_link_uri` must stay on this app.
 */
import { sanitizeReturnTo } from '../authorize/return-to';
import type { FlowContext } from './context';
import { startLogin } from './login';
import { toParams } from './params';
import { checkPostOrigin } from './post-origin';
import { type SignInAttempt, signInOutcome } from './sign-in-event';
import type { OidcRequest, OidcResponse } from './types';

/** `GET` or `POST <initiate>?iss=…&login_hint=…&target_link_uri=…`. */
export async function initiate(ctx: FlowContext, req: OidcRequest, attempt: SignInAttempt | undefined): Promise<OidcResponse> {
  const params = req.method === 'POST' ? new URLSearchParams(await req.readBody()) : req.url.searchParams;
  toParams(params); // refuses duplicated parameters
  const { tenant, loginHint, returnTo } = await ctx.client.resolveInitiateLogin(params, ctx.appOrigin(req));
  if (attempt !== undefined) attempt.tenantId = tenant.id;
  checkPostOrigin(req, tenant);
  const response = await startLogin(ctx, req, tenant, sanitizeReturnTo(returnTo, '/'), loginHint);
  signInOutcome(ctx, attempt, tenant.id);
  return response;
}
