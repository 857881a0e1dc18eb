import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeHtml, page } from './html';
import { readBody, sendHtml } from './http-util';
import type { OidcProvider } from './oidc-provider';
import type { ResolvedOrgConfig, ResolvedUser } from './types';

export interface InteractionDeps {
  provider: OidcProvider;
  config: ResolvedOrgConfig;
  userByLogin(login: string): ResolvedUser | undefined;
}

interface Interaction {
  uid: string;
  prompt: { name: string; details: Record<string, unknown> };
  params: Record<string, string | undefined>;
  session?: { accountId?: string };
  grantId?: string;
}

/**
 * GET/POST /login/:uid — oidc-provider's interaction endpoint, playing Okta's sign-in widget.
 * Login: the auto-login user (or the `login_hint` user) is signed in without a page; with
 * autoLogin false a username/password form is shown. Consent: Okta does not prompt for OIN apps,
 * so the requested scopes are granted straight away.
 */
export async function handleInteraction(req: IncomingMessage, res: ServerResponse, deps: InteractionDeps): Promise<void> {
  const { provider, config } = deps;
  let interaction: Interaction;
  try {
    interaction = (await provider.interactionDetails(req, res)) as Interaction;
  } catch {
    sendHtml(res, 400, page('Sign-in expired', '<h1>This sign-in has expired or is unknown</h1><p>Start again from the application.</p>'));
    return;
  }
  const { prompt, params } = interaction;

  if (prompt.name === 'consent') {
    await grantConsent(req, res, provider, interaction);
    return;
  }

  const clientName = config.clients.find((c) => c.clientId === params.client_id)?.name ?? params.client_id ?? '';
  const hinted = params.login_hint ? deps.userByLogin(params.login_hint) : undefined;

  if (req.method === 'POST') {
    const form = new URLSearchParams(await readBody(req));
    const login = form.get('username') ?? '';
    const user = deps.userByLogin(login);
    if (!user || user.password !== (form.get('password') ?? '')) {
      sendHtml(res, 200, loginForm(clientName, login, 'Unable to sign in: wrong username or password.'));
      return;
    }
    await finishLogin(req, res, provider, user);
    return;
  }

  if (config.autoLogin !== false) {
    const user = hinted ?? deps.userByLogin(config.autoLogin);
    if (user) {
      await finishLogin(req, res, provider, user);
      return;
    }
  }
  sendHtml(res, 200, loginForm(clientName, params.login_hint ?? '', undefined));
}

async function finishLogin(req: IncomingMessage, res: ServerResponse, provider: OidcProvider, user: ResolvedUser) {
  // amr "pwd": the user signed in with a password (RFC 8176 §2), as Okta reports it.
  await provider.interactionFinished(req, res, { login: { accountId: user.sub, amr: ['pwd'] } }, { mergeWithLastSubmission: false });
}

async function grantConsent(req: IncomingMessage, res: ServerResponse, provider: OidcProvider, interaction: Interaction) {
  const { details } = interaction.prompt;
  const grant = interaction.grantId
    ? await provider.Grant.find(interaction.grantId)
    : new provider.Grant({ accountId: interaction.session?.accountId, clientId: interaction.params.client_id });
  const missingScope = details.missingOIDCScope as string[] | undefined;
  const missingClaims = details.missingOIDCClaims as string[] | undefined;
  const missingResource = details.missingResourceScopes as Record<string, string[]> | undefined;
  if (missingScope) grant.addOIDCScope(missingScope.join(' '));
  if (missingClaims) grant.addOIDCClaims(missingClaims);
  for (const [indicator, scopes] of Object.entries(missingResource ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  const grantId = await grant.save();
  const consent = interaction.grantId ? {} : { grantId };
  await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
}

/** Okta-style sign-in page. The form posts back to the same /login/:uid URL. */
export function loginForm(clientName: string, username: string, error: string | undefined): string {
  return page(
    'Sign In',
    `<h1>Sign in to ${escapeHtml(clientName)}</h1>
${error ? `<p class="error" role="alert" id="login-error">${escapeHtml(error)}</p>` : ''}
<form method="post" id="login-form">
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" value="${escapeHtml(username)}" autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password">
<button type="submit" id="sign-in">Sign In</button>
</form>
<p class="muted">Okta org emulator</p>`,
  );
}
