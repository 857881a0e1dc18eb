/** The login route: an authorization request (OIDC Core §3.1.2.1) with its transaction cookie. */
import { sanitizeReturnTo } from '../authorize/return-to';
import { OidcError } from '../errors';
import type { Tenant } from '../tenant/tenant';
import type { FlowContext } from './context';
import { isCrossSiteRequest } from './fetch-metadata';
import { refuseDuplicates } from './params';
import { redirect } from './responses';
import { basePathOf } from './routes';
import { resolveTenantId } from './tenant';
import type { OidcRequest, OidcResponse } from './types';

/** `login_hint` is only a hint (OIDC Core §3.1.2.1): an over-long or control-laden one is dropped (catalogue TP-06). */
const MAX_LOGIN_HINT_LENGTH = 256;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

/** `GET <login>?tenant=…&returnTo=…&login_hint=…` (or `<login>/:tenant` in `'path'` mode). */
export async function login(ctx: FlowContext, req: OidcRequest, pathTenant: string | undefined): Promise<OidcResponse> {
  const params = req.url.searchParams;
  refuseDuplicates(params, ['tenant', 'returnTo', 'login_hint']);
  const tenantId = await resolveTenantId(ctx.tenantMode, req, pathTenant);
  if (tenantId === undefined) {
    throw new OidcError('ERR_OIDC_INVALID_REQUEST', 'No tenant was given: choose an organisation to sign in with.', { details: { parameter: 'tenant' } });
  }
  const tenant = await ctx.client.getTenant(tenantId);
  return startLogin(ctx, req, tenant, sanitizeReturnTo(params.get('returnTo') ?? undefined, '/'), params.get('login_hint') ?? undefined);
}

/** The registered redirect URI that points at this callback route, else the tenant's first. */
function redirectUriFor(ctx: FlowContext, tenant: Tenant, req: OidcRequest): string | undefined {
  const own = `${ctx.appOrigin(req)}${basePathOf(req)}${ctx.routes.callback}`;
  return tenant.redirectUris.find((uri) => uri === own) ?? tenant.redirectUris[0];
}

/** Redirect to the tenant's authorization endpoint, sealing state, nonce and PKCE verifier in a cookie. */
export async function startLogin(ctx: FlowContext, req: OidcRequest, tenant: Tenant, returnTo: string, loginHint: string | undefined): Promise<OidcResponse> {
  const hint = loginHint !== undefined && loginHint !== '' && loginHint.length <= MAX_LOGIN_HINT_LENGTH && !CONTROL.test(loginHint) ? loginHint : undefined;
  const redirectUri = redirectUriFor(ctx, tenant, req);
  const { url, transaction } = await ctx.client.createAuthorizationRequest(tenant, {
    ...(redirectUri === undefined ? {} : { redirectUri }),
    returnTo,
    ...(hint === undefined ? {} : { loginHint: hint }),
    // query is the default response mode of the code flow: only form_post is sent explicitly.
    ...(ctx.responseMode === 'form_post' ? { responseMode: ctx.responseMode } : {}),
  });
  const context = ctx.cookieContext(req);
  // Development cookies for a tenant registered on https: cookie security followed the Host
  // header, which a proxy may have rewritten. Said once per tenant.
  if (!context.secure && redirectUri?.startsWith('https:') && !ctx.warnedInsecure.has(tenant.id) && ctx.warnedInsecure.size < 1000) {
    ctx.warnedInsecure.add(tenant.id);
    ctx.warn(
      'WARN_OIDC_COOKIES_NOT_SECURE',
      `Tenant "${tenant.id}" registers https redirect URIs, but this request arrived as plain http on a loopback host, so its cookies are not Secure. Set baseUrl to the app's https origin (or configure trust-proxy).`,
      tenant.id,
    );
  }
  const pruned = await ctx.transactions.prune(context);
  const cookie = await ctx.transactions.create(transaction, context.secure, { crossSite: isCrossSiteRequest(req) });
  return redirect(url.href, [...pruned, cookie]);
}
