/**
 * Onboarding a customer (docs/operations.md, 'Onboarding a customer'): an admin enters the
 * customer's Okta domain, client id and secret, `checkTenant` checks them live against the org, the
 * admin sees every finding with its fix, and the tenant is saved only when no check failed. The
 * hardest day of an OIN integration is the first sign-in of a new customer; this turns its opaque
 * failures into a list of fixes.
 *
 *   OIN_ADMIN_TOKEN  at least 32 characters; without it there is no admin page (404). The page
 *                    asks for it by HTTP Basic authentication, user "admin".
 *
 * The redirect URI is not asked for: it is this app's callback (BASE_URL + /auth/callback), which
 * the customer's admin must register in the Okta app, and the check tells whether they did.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { type CredentialStore, checkTenant, isOidcError, type TenantRecord, type TenantReport } from '@oin-oidc/core';
import express from 'express';
import { escapeHtml } from './page';

export interface OnboardingOptions {
  store: CredentialStore;
  /** The app's origin: redirect URIs are built from it, and admin form posts must come from it. */
  baseUrl: string;
  /** The example's rule (config.ts): loopback issuers (the emulator) only for an app on loopback. */
  allowLoopbackIssuers: boolean;
  env?: NodeJS.ProcessEnv;
}

const METHODS = ['client_secret_basic', 'client_secret_post'] as const;
type Fields = { id: string; issuer: string; clientId: string; method: string };

/** GET and POST /admin/tenants/new, behind HTTP Basic and a same-origin check; no routes without OIN_ADMIN_TOKEN. */
export function onboarding(options: OnboardingOptions): express.Router {
  const router = express.Router();
  const token = (options.env ?? process.env)['OIN_ADMIN_TOKEN']?.trim();
  if (!token) return router;
  if (token.length < 32) throw new Error('OIN_ADMIN_TOKEN must have at least 32 characters');
  const expected = createHash('sha256').update(`admin:${token}`).digest();

  router.use('/admin', (req, res, next) => {
    // Hashes of equal length, compared in constant time: the check leaks neither the token nor its length.
    const header = req.get('authorization') ?? '';
    const given = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : '';
    if (!timingSafeEqual(createHash('sha256').update(given).digest(), expected)) {
      res.status(401).set('WWW-Authenticate', 'Basic realm="oin-oidc admin", charset="UTF-8"').type('text').send('Admin sign-in required.');
      return;
    }
    // The browser resends Basic credentials on any request to this origin, cross-site form posts
    // included: a write must come from a page of this app (Fetch Metadata / Origin, RFC 6454 §7).
    if (req.method !== 'GET' && req.get('origin') !== options.baseUrl) {
      res.status(403).type('text').send('Cross-origin request refused.');
      return;
    }
    res.set({ 'Cache-Control': 'no-store', 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'" });
    next();
  });

  router.get('/admin/tenants/new', (_req, res) => {
    res.type('html').send(page(form({ id: '', issuer: 'https://', clientId: '', method: METHODS[0] }, options.baseUrl)));
  });

  router.post('/admin/tenants/new', express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const text = (name: string) => (typeof body[name] === 'string' ? (body[name] as string).trim() : '');
    const fields: Fields = { id: text('id'), issuer: text('issuer').replace(/\/+$/, ''), clientId: text('clientId'), method: text('method') };
    const secret = typeof body['clientSecret'] === 'string' ? body['clientSecret'] : '';
    const again = form(fields, options.baseUrl); // the secret is never written back into a page
    if (!METHODS.includes(fields.method as (typeof METHODS)[number])) {
      res.status(400).type('html').send(page(`<p id="error">Choose a client authentication method.</p>${again}`));
      return;
    }
    if (fields.id !== '' && (await options.store.get(fields.id)) !== undefined) {
      res.status(409).type('html').send(page(`<p id="error">A tenant with the id <code>${escapeHtml(fields.id)}</code> exists already.</p>${again}`));
      return;
    }
    const record: TenantRecord = {
      id: fields.id,
      issuer: fields.issuer,
      clientId: fields.clientId,
      clientSecret: secret,
      tokenEndpointAuthMethod: fields.method as (typeof METHODS)[number],
      redirectUris: [`${options.baseUrl}/auth/callback`],
      postLogoutRedirectUris: [`${options.baseUrl}/`],
    };
    const report = await checkTenant(record, { allowLoopbackIssuers: options.allowLoopbackIssuers });
    if (!report.ok || typeof options.store.put !== 'function') {
      const why = report.ok ? 'this store is read-only' : 'fix the failing checks below (in the Okta Admin Console or in the form), then check again';
      res.status(422).type('html').send(page(`<p id="verdict" data-ok="false">Not saved: ${why}.</p>${renderReport(report)}${again}`));
      return;
    }
    try {
      await options.store.put(record);
    } catch (error) {
      // E.g. another tenant already holds this org's client id. OidcError messages hold no secret.
      const message = isOidcError(error) ? `${error.code}: ${error.message}` : 'the store refused the tenant';
      res.status(409).type('html').send(page(`<p id="verdict" data-ok="false">Not saved: ${escapeHtml(message)}</p>${renderReport(report)}${again}`));
      return;
    }
    const login = `/auth/login?tenant=${encodeURIComponent(fields.id)}`;
    res
      .status(201)
      .type('html')
      .send(page(`<p id="verdict" data-ok="true">Saved tenant <code>${escapeHtml(fields.id)}</code>. <a id="sign-in" href="${escapeHtml(login)}">Sign in with it</a></p>${renderReport(report)}`));
  });
  return router;
}

const MARKS: Record<TenantReport['checks'][number]['status'], string> = { ok: '✔', warn: '▲', fail: '✖', skip: '○' };

/** The report as a table: one row per check, each with what to do. Every value escaped. */
function renderReport(report: TenantReport): string {
  const rows = report.checks
    .map((c) => `<tr class="${c.status}" data-check-id="${escapeHtml(c.id)}" data-status="${c.status}"><td>${MARKS[c.status]}</td><th>${escapeHtml(c.id)}</th><td>${escapeHtml(c.message)}</td></tr>`)
    .join('');
  return `<table id="report" data-ok="${report.ok}">${rows}</table>`;
}

function form(fields: Fields, baseUrl: string): string {
  const options = METHODS.map((m) => `<option${m === fields.method ? ' selected' : ''}>${m}</option>`).join('');
  return `<form id="onboard" method="post" action="/admin/tenants/new">
  <label>Tenant id <input name="id" value="${escapeHtml(fields.id)}" required pattern="[A-Za-z0-9._~\\-]{1,128}"></label>
  <label>Okta org URL <input name="issuer" value="${escapeHtml(fields.issuer)}" required placeholder="https://acme.okta.com"></label>
  <label>Client id <input name="clientId" value="${escapeHtml(fields.clientId)}" required></label>
  <label>Client secret <input name="clientSecret" type="password" autocomplete="off" required></label>
  <label>Client authentication <select name="method">${options}</select></label>
  <p>Sign-in redirect URI to register in the Okta app: <code>${escapeHtml(baseUrl)}/auth/callback</code></p>
  <button id="check" type="submit">Check and save</button>
</form>`;
}

function page(content: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Onboard a customer · oin-oidc Express example</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
  label { display: block; margin: .5rem 0; } input, select { display: block; width: 100%; padding: .3rem; font: inherit; }
  table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; } th, td { text-align: left; padding: .25rem .6rem; border-bottom: 1px solid #e5e5ea; vertical-align: top; }
  tr.fail { background: #fdecea; } tr.warn { background: #fff6e0; } tr.skip { color: #777; }
</style>
</head>
<body>
<h1>Onboard a customer's Okta org</h1>
${content}
</body>
</html>
`;
}
