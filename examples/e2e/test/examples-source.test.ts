/**
 * The examples are what users copy, so their shared files must not drift apart, and the home page
 * must escape what it shows (claims and tenant fields come from customers' orgs).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { escapeHtml, renderHomePage } from '../../express/src/page';
import { EXAMPLES_DIR } from './support/example';

/** Only the fields the page reads; the type comes from the page so this package needs no core dependency. */
type Tenant = Parameters<typeof renderHomePage>[0]['tenants'][number];

const FRAMEWORKS = ['express', 'fastify', 'hono', 'koa'] as const;

describe('example sources', () => {
  for (const file of ['config.ts', 'page.ts', 'stores.ts']) {
    it(`keeps src/${file} identical in every example`, () => {
      const [first, ...rest] = FRAMEWORKS.map((fw) => readFileSync(`${EXAMPLES_DIR}${fw}/src/${file}`, 'utf8'));
      for (const other of rest) expect(other).toBe(first);
    });
  }

  it('escapes every value on the home page', () => {
    const hostile = '<img src=x onerror="alert(1)">\'&';
    const html = renderHomePage({
      framework: 'Express',
      user: { tenant: 'acme', sub: hostile, claims: { name: hostile, [hostile]: [hostile] } },
      tenants: [{ id: 'acme', issuer: 'https://acme.okta.example' } as Tenant],
    });
    expect(html).not.toContain('<img');
    expect(html).not.toContain('onerror="');
    expect(html).toContain(escapeHtml(hostile));
    expect(escapeHtml(hostile)).toBe('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;');
  });

  it('shows who is signed in and a sign-in link per tenant', () => {
    const tenants = [
      { id: 'acme-sales', issuer: 'https://acme.okta.example' },
      { id: 'globex', issuer: 'https://globex.okta.example' },
    ] as Tenant[];
    const signedOut = renderHomePage({ framework: 'Koa', user: null, tenants });
    expect(signedOut).toContain('data-signed-in="false"');
    expect(signedOut).toContain('href="/auth/login?tenant=acme-sales"');
    expect(signedOut).toContain('href="/auth/login?tenant=globex"');
    const signedIn = renderHomePage({ framework: 'Koa', user: { tenant: 'globex', sub: '00u1', claims: { name: 'Carol' } }, tenants });
    expect(signedIn).toContain('data-signed-in="true"');
    expect(signedIn).toContain('<strong>Carol</strong>');
    expect(signedIn).toContain('href="/auth/logout"');
  });
});
