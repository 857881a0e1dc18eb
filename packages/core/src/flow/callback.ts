/**
 * The callback route: the authorization response (OIDC Core §3.1.2.5, RFC 6749 §4.1.2), the Okta
 * simplified flow's form-posted ID token, and the account-switch page's answer.
 */
import { decodeJwt } from 'jose';
import { TRANSACTION_TTL_SEC } from '../authorize/transaction';
import { parseCallbackParams } from '../callback/parse-callback';
import type { CallbackParams } from '../client';
import { OidcError } from '../errors';
import type { FlowContext } from './context';
import { originHeader } from './fetch-metadata';
import { carriesPostOrigin, checkPostOrigin, oktaOriginsOf } from './post-origin';
import { headerOf, redirect } from './responses';
import { SWITCH_FIELD } from './session-switch';
import { confirmSwitch, liveSession, signIn } from './sign-in';
import { type SignInAttempt, signInOutcome } from './sign-in-event';
import { routeTenantOf } from './tenant';
import type { OidcRequest, OidcResponse } from './types';

/** `GET` or `POST <callback>`. `pending` collects the cookies to send whatever the outcome. */
export async function callback(ctx: FlowContext, req: OidcRequest, pending: string[], attempt: SignInAttempt | undefined): Promise<OidcResponse> {
  const context = ctx.cookieContext(req);
  const contentType = headerOf(req, 'content-type');
  // A request that does not parse consumes nothing: the logins in flight stay.
  const params: CallbackParams = parseCallbackParams({
    method: req.method,
    url: req.url,
    ...(req.method === 'POST' ? { body: await req.readBody() } : {}),
    ...(contentType === null ? {} : { contentType }),
  });

  if (req.method === 'POST' && params[SWITCH_FIELD] !== undefined) {
    if (attempt !== undefined) attempt.flow = undefined; // the sign-in it confirms was reported when it was validated
    return confirmSwitch(ctx, req, params, pending);
  }

  // Okta simplified flow: an ID token form_posted with no state and no code (catalogue FP-03).
  // The client refuses it unless the tenant has allowSimplifiedFlow, validates it fully and
  // records it in the replay cache (FP-07). No transaction is involved, so none is touched.
  if (req.method === 'POST' && params['id_token'] !== undefined && params['state'] === undefined && params['code'] === undefined) {
    if (attempt !== undefined) attempt.flow = 'simplified';
    await checkSimplifiedOrigin(ctx, req, params['id_token']);
    const route = await routeTenantOf(ctx.tenantMode, req);
    if (route.error !== undefined) throw route.error;
    const result = await ctx.client.handleSimplifiedFlow(params['id_token'], route.id === undefined ? undefined : { tenantId: route.id });
    checkPostOrigin(req, result.tenant);
    signInOutcome(ctx, attempt, result.tenant.id);
    return signIn(ctx, req, result, '/', pending);
  }

  const state = params['state'];
  const taken = await ctx.transactions.take(context, state);
  pending.push(...taken.setCookies);
  if (taken.status !== 'ok') {
    // A stale (back button) or replayed callback while signed in: go home, reprocess nothing and
    // call Okta for nothing (catalogue CB-03, CB-08).
    if (state !== undefined && (await liveSession(ctx, context)) !== null) return redirect('/', pending);
    if (state === undefined) throw new OidcError('ERR_OIDC_STATE_MISSING', 'The sign-in response carries no state.');
    if (taken.status === 'invalid') {
      throw new OidcError(taken.code, taken.code === 'ERR_OIDC_TRANSACTION_EXPIRED' ? 'The sign-in took too long; start again.' : 'The sign-in transaction is invalid; start again.');
    }
    if (taken.others) throw new OidcError('ERR_OIDC_STATE_MISMATCH', 'The sign-in response does not match a sign-in started in this browser.');
    throw new OidcError('ERR_OIDC_TRANSACTION_INVALID', 'No sign-in is in progress in this browser (the transaction cookie is missing or expired); start again.');
  }
  const transaction = taken.transaction;
  if (attempt !== undefined) attempt.tenantId = transaction.tenantId;
  // The response must arrive the way it was requested (catalogue CB-13, Form Post Response Mode §2).
  const expected = transaction.responseMode === 'form_post' ? 'POST' : 'GET';
  if (req.method !== expected) {
    throw new OidcError('ERR_OIDC_CALLBACK_INVALID', `The sign-in response arrived by ${req.method}, but ${expected} was requested.`);
  }
  // The sealer enforces the TTL with the same clock; this also covers transactions from a longer-TTL sealer.
  if (ctx.now() - transaction.createdAt > TRANSACTION_TTL_SEC * 1000) throw new OidcError('ERR_OIDC_TRANSACTION_EXPIRED', 'The sign-in took too long; start again.');
  if (carriesPostOrigin(req)) checkPostOrigin(req, await ctx.client.getTenant(transaction.tenantId));
  const result = await ctx.client.handleCallback(params, transaction);
  signInOutcome(ctx, attempt, result.tenant.id);
  return signIn(ctx, req, result, transaction.returnTo, pending);
}

/**
 * The Okta simplified flow's form post must come from the org: browsers always send `Origin` on a
 * cross-origin POST, and Okta's auto-submitted page has the org's origin (or a custom domain the
 * tenant lists). Checked before any key fetch or validation. The allowed set is built from the
 * token's unverified `iss` alone (and the tenants of that issuer), so an unknown issuer is not
 * told apart from a known one here.
 */
async function checkSimplifiedOrigin(ctx: FlowContext, req: OidcRequest, idToken: string): Promise<void> {
  const origin = originHeader(req);
  const refuse = () => new OidcError('ERR_OIDC_ORIGIN_NOT_ALLOWED', "The ID token was not posted by the organisation's Okta sign-in page.");
  if (origin === undefined || origin === 'null') throw refuse();
  let issuer: unknown;
  try {
    issuer = decodeJwt(idToken).iss;
  } catch {
    return; // not a JWT: the simplified flow refuses it with its own error
  }
  const issuerOrigin = typeof issuer === 'string' ? URL.parse(issuer)?.origin : undefined;
  if (issuerOrigin === undefined) return;
  if (origin === issuerOrigin) return;
  const tenants = await ctx.client.store.findByIssuer(issuer as string).catch(() => []);
  if (!tenants.some((tenant) => oktaOriginsOf(tenant).has(origin))) throw refuse();
}
