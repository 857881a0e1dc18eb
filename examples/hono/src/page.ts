/**
 * The public home page of the examples: who is signed in, and a sign-in link per tenant.
 * Identical in every example. Every value is HTML-escaped: claims and tenant fields are data
 * from customers' orgs, never markup.
 */
import type { Tenant } from '@oin-oidc/core';

export interface SignedInUser {
  tenant: string;
  sub: string;
  claims: Record<string, unknown>;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export function renderHomePage(options: { framework: string; user: SignedInUser | null; tenants: readonly Tenant[] }): string {
  const { framework, user, tenants } = options;
  const name = user ? (user.claims['name'] ?? user.claims['email'] ?? user.sub) : undefined;
  const status = user
    ? `<p id="status" data-signed-in="true">Signed in as <strong>${escapeHtml(name)}</strong>
         (<code>${escapeHtml(user.sub)}</code>) with tenant <code>${escapeHtml(user.tenant)}</code>.</p>
       <p><a id="me" href="/me">Your session as JSON (/me)</a> · <a id="sign-out" href="/auth/logout">Sign out</a></p>
       <table>${Object.entries(user.claims)
         .map(([claim, value]) => `<tr><th>${escapeHtml(claim)}</th><td>${escapeHtml(typeof value === 'string' ? value : JSON.stringify(value))}</td></tr>`)
         .join('')}</table>`
    : `<p id="status" data-signed-in="false">Not signed in.</p>`;
  const links = tenants
    .map(
      (t) => `<li><a class="sign-in" data-tenant="${escapeHtml(t.id)}" href="/auth/login?tenant=${encodeURIComponent(t.id)}">Sign in with ${escapeHtml(t.id)}</a>
        <small>${escapeHtml(t.issuer)}</small></li>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>oin-oidc ${escapeHtml(framework)} example</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
  h1 { font-size: 1.4rem; } code { background: #f2f2f5; padding: 0 .25rem; border-radius: 3px; }
  ul { padding-left: 1.2rem; } li { margin: .4rem 0; } small { color: #666; margin-left: .5rem; }
  table { border-collapse: collapse; margin-top: 1rem; font-size: .9rem; }
  th, td { text-align: left; border-bottom: 1px solid #e5e5ea; padding: .25rem .75rem .25rem 0; vertical-align: top; }
</style>
</head>
<body>
<h1>oin-oidc · ${escapeHtml(framework)} example</h1>
${status}
<h2>Sign in</h2>
<ul id="tenants">${links}</ul>
</body>
</html>
`;
}
