import { describe, expect, it } from 'vitest';
import { isOidcError } from '../src/errors';
import { resolveOptions } from '../src/options';
import { createMemoryCredentialStore } from '../src/tenant/credential-store';

const store = createMemoryCredentialStore([]);

function failure(options: unknown): { code: string; message: string; field: unknown } {
  try {
    resolveOptions(options);
  } catch (error) {
    if (isOidcError(error)) return { code: error.code, message: error.message, field: error.details?.field };
    throw error;
  }
  throw new Error('expected a failure');
}

describe('resolveOptions', () => {
  it('applies defaults and freezes', () => {
    const resolved = resolveOptions({ store });
    expect(resolved).toMatchObject({
      store,
      httpTimeoutMs: 5000,
      clockToleranceSec: 30,
      maxRateLimitWaitMs: 0,
      maxConcurrentPerOrg: 10,
      // On by default since the SA-01 fix, with triage.
      introspectionCache: {},
      introspectionTriage: true,
      requireIssParameter: 'discovery',
    });
    expect(typeof resolved.now()).toBe('number');
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it('defaults the issuer policy to no loopback and no allow-list, and the replay quota to 1,000 per tenant (SA-07, SA-12)', () => {
    const resolved = resolveOptions({ store });
    expect(resolved).toMatchObject({ allowLoopbackIssuers: false, allowedIssuerHosts: undefined, replayQuotaPerTenant: 1000, onWarning: undefined });
    const set = resolveOptions({ store, allowLoopbackIssuers: true, allowedIssuerHosts: ['.okta.com'], replayQuotaPerTenant: 5 });
    expect(set).toMatchObject({ allowLoopbackIssuers: true, allowedIssuerHosts: ['.okta.com'], replayQuotaPerTenant: 5 });
    expect(Object.isFrozen(set.allowedIssuerHosts)).toBe(true);
    expect(failure({ store, allowedIssuerHosts: '.okta.com' }).field).toBe('allowedIssuerHosts');
  });

  it('refuses unknown keys, naming them', () => {
    const result = failure({ store, clockTolerance: 5 });
    expect(result).toMatchObject({ code: 'ERR_OIDC_INVALID_OPTIONS', field: 'clockTolerance' });
    expect(result.message).toContain('clockTolerance');
  });

  it('names the bad field', () => {
    expect(failure({ store, httpTimeoutMs: -1 })).toMatchObject({ code: 'ERR_OIDC_INVALID_OPTIONS', field: 'httpTimeoutMs' });
    expect(failure({ store, clockToleranceSec: 301 })).toMatchObject({ field: 'clockToleranceSec' });
    expect(failure({ store: {} })).toMatchObject({ field: 'store' });
    expect(failure({})).toMatchObject({ field: 'store' });
    expect(failure({ store, http: 'fetch' })).toMatchObject({ field: 'http' });
    expect(failure({ store, introspectionCache: { maxTtlSec: 0 } })).toMatchObject({ field: 'introspectionCache.maxTtlSec' });
    expect(failure({ store, introspectionCache: true })).toMatchObject({ field: 'introspectionCache' });
    expect(failure({ store, replayStore: new Map() })).toMatchObject({ field: 'replayStore' });
    expect(failure({ store, requireIssParameter: 'yes' })).toMatchObject({ field: 'requireIssParameter' });
    expect(failure(null)).toMatchObject({ code: 'ERR_OIDC_INVALID_OPTIONS', field: 'options' });
  });

  it('does not echo an unprintable or oversized unknown key', () => {
    const result = failure({ store, [`x${'y'.repeat(100)}`]: 1 });
    expect(result.message).not.toContain('yyyy');
  });
});
