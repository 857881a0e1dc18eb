import type { IncomingMessage, ServerResponse } from 'node:http';
import { autoSubmitForm, escapeHtml, page } from './html';
import { readBody, redirect, sendHtml, sendJson } from './http-util';
import type { HostileArtefact } from './hostile';
import type { BackchannelLogoutVariant, UniversalLogoutVariant } from './logout-types';
import type { OrgRuntime } from './runtime';
import type { EmulatorEndpoint, Fault } from './types';

class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBody(req);
  if (!text) return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AdminError(400, 'body must be a JSON object');
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);

/**
 * `${issuer}/__admin/*`: the HTTP control API (JSON; POST for actions) and the HTML index page.
 * Same operations as `org.control`. Never counted, faulted or rate-limited.
 */
export async function handleAdmin(org: OrgRuntime, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  try {
    await route(org, req, res, url);
  } catch (error) {
    const status = error instanceof AdminError ? error.status : 400;
    sendJson(res, status, { error: error instanceof Error ? error.message : String(error) });
  }
}

async function route(org: OrgRuntime, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const { control } = org;
  const method = req.method ?? 'GET';
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const sub = path.slice('/__admin'.length);
  const q = url.searchParams;
  const ok = (body: unknown = { ok: true }) => sendJson(res, 200, body);

  if (sub === '' && method === 'GET') return sendHtml(res, 200, indexPage(org));
  if (sub === '/config' && method === 'GET') {
    return ok({ issuer: org.issuer, ...org.config });
  }

  if (sub === '/keys' && method === 'GET') return ok(await control.signingKeys());
  if (sub === '/keys' && method === 'POST') return ok(await control.addSigningKey({ activate: (await jsonBody(req)).activate === true }));
  if (sub === '/keys/rotate' && method === 'POST') return ok(await control.rotateSigningKey());
  const keyAction = /^\/keys\/([^/]+)(\/activate)?$/.exec(sub);
  if (keyAction?.[1]) {
    const kid = decodeURIComponent(keyAction[1]);
    if (keyAction[2] && method === 'POST') return ok(await control.activateSigningKey(kid).then(() => ({ ok: true })));
    if (!keyAction[2] && method === 'DELETE') return ok(await control.removeSigningKey(kid).then(() => ({ ok: true })));
  }

  if (sub === '/faults' && method === 'POST') {
    const body = await jsonBody(req);
    const times = body.times === undefined || body.times === null ? undefined : Number(body.times);
    control.fault(body.endpoint as EmulatorEndpoint, body.fault as Fault, { times });
    return ok();
  }
  if (sub === '/faults' && method === 'DELETE') {
    control.clearFaults((q.get('endpoint') as EmulatorEndpoint | null) ?? undefined);
    return ok();
  }

  if (sub === '/hostile' && method === 'POST') {
    const body = await jsonBody(req);
    const times = body.times === undefined || body.times === null ? undefined : Number(body.times);
    control.hostile(body.endpoint as EmulatorEndpoint, body.artefact as HostileArtefact, { times });
    return ok();
  }
  if (sub === '/hostile' && method === 'DELETE') {
    control.clearHostile((q.get('endpoint') as EmulatorEndpoint | null) ?? undefined);
    return ok();
  }

  if (sub === '/counters' && method === 'GET') return ok(control.counters());
  if ((sub === '/counters' && method === 'DELETE') || (sub === '/counters/reset' && method === 'POST')) {
    control.resetCounters();
    return ok();
  }

  const secretsPath = /^\/clients\/([^/]+)\/secrets$/.exec(sub);
  if (secretsPath?.[1] && (method === 'POST' || method === 'PUT')) {
    const body = await jsonBody(req);
    await control.setClientSecrets(decodeURIComponent(secretsPath[1]), body.secrets as { value: string; active: boolean }[]);
    return ok();
  }

  if (sub === '/tokens/id' && method === 'POST') {
    const body = await jsonBody(req);
    const claims = body.claims && typeof body.claims === 'object' ? (body.claims as Record<string, unknown>) : undefined;
    return ok({ id_token: await control.issueIdToken(need(body.clientId, 'clientId'), { login: str(body.login), claims }) });
  }
  if (sub === '/tokens/access' && method === 'POST') {
    const body = await jsonBody(req);
    return ok({ access_token: await control.issueAccessToken(need(body.clientId, 'clientId'), { login: str(body.login), scope: str(body.scope) }) });
  }

  if (sub === '/simplified' && method === 'GET') {
    const { action, fields } = await control.simplifiedSignIn(need(q.get('client_id'), 'client_id'), { login: str(q.get('login')) });
    return sendHtml(res, 200, autoSubmitForm('Signing in', action, fields));
  }
  if (sub === '/simplified' && method === 'POST') {
    const body = await jsonBody(req);
    return ok(await control.simplifiedSignIn(need(body.clientId, 'clientId'), { login: str(body.login) }));
  }
  if (sub === '/initiate' && method === 'GET') {
    const location = control.initiateLoginUrl(need(q.get('client_id'), 'client_id'), {
      loginHint: str(q.get('login_hint')),
      targetLinkUri: str(q.get('target_link_uri')),
    });
    return redirect(res, location);
  }

  // Okta's "Clear User Sessions" (with "Also include logout enabled apps") and a back-channel logout token.
  if (sub === '/universal-logout' && method === 'POST') {
    const body = await jsonBody(req);
    const format = body.format === 'iss_sub' || body.format === 'email' ? body.format : undefined;
    const answer = await control.universalLogout({
      clientId: need(body.clientId, 'clientId'), endpoint: need(body.endpoint, 'endpoint'), login: str(body.login), format,
      variant: str(body.variant) as UniversalLogoutVariant | undefined,
    });
    return ok({ status: answer.status });
  }
  if (sub === '/backchannel-logout' && method === 'POST') {
    const body = await jsonBody(req);
    const answer = await control.backchannelLogout({
      clientId: need(body.clientId, 'clientId'), endpoint: need(body.endpoint, 'endpoint'), login: str(body.login), sid: str(body.sid),
      variant: str(body.variant) as BackchannelLogoutVariant | undefined,
    });
    return ok({ status: answer.status, body: answer.body });
  }

  throw new AdminError(404, `no admin route ${method} ${url.pathname}`);
}

function need(value: unknown, name: string): string {
  const s = str(value);
  if (!s) throw new AdminError(400, `${name} is required`);
  return s;
}

/** The page the demo links to: clients, users, and buttons for IdP-initiated sign-ins. */
function indexPage(org: OrgRuntime): string {
  const { config, issuer } = org;
  const users = config.users
    .map((u) => `<tr><td><code>${escapeHtml(u.login)}</code></td><td><code>${escapeHtml(u.password)}</code></td><td><code>${escapeHtml(u.sub)}</code></td><td>${escapeHtml(u.claims.name ?? '')}</td></tr>`)
    .join('\n');
  const clients = config.clients
    .map((c) => {
      const links: string[] = [];
      for (const u of config.users) {
        if (c.initiateLoginUri) {
          const href = `/__admin/initiate?${new URLSearchParams({ client_id: c.clientId, login_hint: u.login })}`;
          links.push(`<a class="initiate" href="${escapeHtml(href)}">Okta-initiated sign-in as ${escapeHtml(u.login)}</a>`);
        }
        const simplified = `/__admin/simplified?${new URLSearchParams({ client_id: c.clientId, login: u.login })}`;
        links.push(`<a class="simplified" href="${escapeHtml(simplified)}">Simplified sign-in as ${escapeHtml(u.login)}</a>`);
      }
      return `<tr><td><code>${escapeHtml(c.clientId)}</code><br>${escapeHtml(c.name ?? '')}</td><td>${escapeHtml(c.tokenEndpointAuthMethod)}</td>
<td>${c.redirectUris.map((r) => `<code>${escapeHtml(r)}</code>`).join('<br>')}</td><td>${links.join('<br>')}</td></tr>`;
    })
    .join('\n');
  return page(
    `Okta org emulator: ${config.name}`,
    `<h1>Okta org emulator: ${escapeHtml(config.name)}</h1>
<p>Issuer <code>${escapeHtml(issuer)}</code> · org id <code>${escapeHtml(config.orgId)}</code> ·
<a href="/.well-known/openid-configuration">discovery</a> · <a href="/oauth2/v1/keys">keys</a> · auto-login: ${escapeHtml(config.autoLogin === false ? 'off (login form)' : config.autoLogin)}</p>
<h2>Apps (clients)</h2>
<table><tr><th>client_id</th><th>auth</th><th>redirect URIs</th><th>start a sign-in</th></tr>
${clients}
</table>
<h2>Clear User Sessions (Universal Logout)</h2>
<p>To end a user's sessions in an app, as an admin's "Clear User Sessions" with "Also include logout enabled apps" does:
<code>POST /__admin/universal-logout</code> with JSON <code>{"clientId", "endpoint", "login", "format": "email" | "iss_sub"}</code>
(a signed <code>global-token-revocation+jwt</code> bearer and a <code>sub_id</code>), or
<code>POST /__admin/backchannel-logout</code> with <code>{"clientId", "endpoint", "login", "sid"}</code> (an OIDC back-channel logout token).
Both answer <code>{"status"}</code>, the app's status.</p>
<h2>Users</h2>
<table><tr><th>login</th><th>password</th><th>id</th><th>name</th></tr>
${users}
</table>`,
  );
}
