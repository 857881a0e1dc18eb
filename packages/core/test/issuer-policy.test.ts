/**
 * The issuer policy (audit finding SA-12, docs/security.md): which hosts a tenant's issuer may name
 * before any call reaches it. Pure checks; the client-level behaviour (getTenant, simplified flow,
 * initiate, no network call) is in client.test.ts and initiate.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { isOidcError } from '../src/errors';
import { checkIssuerPolicy, compileIssuerPolicy, OKTA_DOMAINS } from '../src/tenant/issuer-policy';

function reasonOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(isOidcError(error)).toBe(true);
    if (!isOidcError(error)) throw error;
    expect(error.code).toBe('ERR_OIDC_ISSUER_NOT_ALLOWED');
    return error.details?.reason as string;
  }
  return undefined;
}

describe('checkIssuerPolicy (SA-12)', () => {
  it.each([
    ['http://127.0.0.1:4101', 'loopback'],
    ['http://localhost:4101', 'loopback'],
    ['https://localhost', 'loopback'],
    ['https://LOCALHOST', 'loopback'],
    ['https://dev.localhost', 'loopback'],
    ['http://[::1]:4101', 'loopback'],
    ['https://127.8.9.10', 'loopback'],
    ['https://2130706433', 'loopback'], // 127.0.0.1 spelled as one number
    ['https://0x7f.1', 'loopback'],
    ['https://10.0.0.5', 'ip-literal'],
    ['https://169.254.169.254', 'ip-literal'], // cloud metadata
    ['https://0.0.0.0', 'ip-literal'],
    ['https://[fd00::1]', 'ip-literal'],
    ['https://[::ffff:127.0.0.1]', 'ip-literal'],
    ['https://[::]', 'ip-literal'],
    ['not a url', 'not-a-url'],
  ])('refuses %s by default (%s)', (issuer, reason) => {
    expect(reasonOf(() => checkIssuerPolicy(issuer))).toBe(reason);
  });

  it('accepts loopback only with allowLoopbackIssuers, and never other IP literals', () => {
    for (const issuer of ['http://127.0.0.1:4101', 'http://localhost:4101', 'http://[::1]:4101', 'https://dev.localhost']) {
      expect(reasonOf(() => checkIssuerPolicy(issuer, { allowLoopbackIssuers: true }))).toBeUndefined();
    }
    expect(reasonOf(() => checkIssuerPolicy('https://10.0.0.5', { allowLoopbackIssuers: true }))).toBe('ip-literal');
  });

  it('accepts any DNS host without an allow-list', () => {
    for (const issuer of ['https://acme.okta.com', 'https://login.acme.com', 'https://acme.oktapreview.com:8443']) {
      expect(reasonOf(() => checkIssuerPolicy(issuer))).toBeUndefined();
    }
  });

  it('matches allowedIssuerHosts exactly or by leading-dot suffix, case-insensitively', () => {
    const check = compileIssuerPolicy({ allowedIssuerHosts: [...OKTA_DOMAINS.map((d) => `.${d}`), 'Login.Acme.com'] });
    for (const issuer of ['https://acme.okta.com', 'https://ACME.okta-emea.com', 'https://a.b.oktapreview.com', 'https://login.acme.com']) {
      expect(reasonOf(() => check(issuer)), issuer).toBeUndefined();
    }
    for (const issuer of ['https://okta.com', 'https://evilokta.com', 'https://acme.okta.com.evil.com', 'https://sso.acme.com', 'https://acme.okta.com.']) {
      expect(reasonOf(() => check(issuer)), issuer).toBe('not-listed');
    }
    // The allow-list never lets loopback or IP literals in.
    expect(reasonOf(() => compileIssuerPolicy({ allowedIssuerHosts: ['localhost.example'] })('http://127.0.0.1:1'))).toBe('loopback');
  });

  it('lists the Okta org domains of developer.okta.com "Org URLs", frozen', () => {
    expect([...OKTA_DOMAINS]).toEqual(['okta.com', 'okta-emea.com', 'oktapreview.com']);
    expect(Object.isFrozen(OKTA_DOMAINS)).toBe(true);
  });

  it.each(['*.okta.com', 'okta', '.com', '10.0.0.5', 'acme.okta.com.', 'acme.okta.com:443', '', 'https://acme.okta.com', '-a.okta.com', 'a..okta.com', 'acme_1.okta.com'])(
    'refuses the allow-list entry %j (ERR_OIDC_INVALID_OPTIONS, naming the index only)',
    (entry) => {
      try {
        compileIssuerPolicy({ allowedIssuerHosts: ['acme.okta.com', entry] });
        throw new Error('accepted');
      } catch (error) {
        expect(isOidcError(error) && error.code).toBe('ERR_OIDC_INVALID_OPTIONS');
        expect((error as Error).message).toMatch(/^allowedIssuerHosts\.1: /);
        if (entry.length > 3) expect((error as Error).message).not.toContain(entry);
      }
    },
  );

  it('never puts more than a bounded issuer in the error', () => {
    try {
      checkIssuerPolicy(`https://${'a'.repeat(300)}.example`, { allowedIssuerHosts: ['.okta.com'] });
      throw new Error('accepted');
    } catch (error) {
      expect(isOidcError(error) && error.details?.issuer).toBe('(long)');
    }
  });
});
