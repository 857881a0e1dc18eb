/**
 * Catalogue §L (MT) with two real emulated orgs: a response from one org is never redeemed or
 * accepted for a login started at another (RFC 9700 §4.4 mix-up; RFC 9207 §2.4).
 */
import { driveAuthorization, type OktaOrg, startOktaOrg } from '@oin-oidc/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOidcAuth } from '../src/flow/auth';
import type { OidcAuth } from '../src/flow/types';
import type { TenantRecord } from '../src/tenant/tenant';
import { APP, Browser, errorCode, sessionCookies } from './catalogue-harness';

let orgA: OktaOrg;
let orgB: OktaOrg;
let auth: OidcAuth;
const CALLBACK = `${APP}/auth/callback`;

beforeAll(async () => {
  const client = { clientId: '0oaSameIdInBothOrgs01', clientSecret: 'same-secret', tokenEndpointAuthMethod: 'client_secret_basic' as const, redirectUris: [CALLBACK] };
  orgA = await startOktaOrg({ clients: [client], users: [{ login: 'eve@a.example', password: 'pw' }] });
  orgB = await startOktaOrg({ clients: [client], users: [{ login: 'mallory@b.example', password: 'pw' }] });
  const tenants: TenantRecord[] = [
    { id: 'a', issuer: orgA.issuer, clientId: client.clientId, clientSecret: client.clientSecret, redirectUris: [CALLBACK] },
    { id: 'b', issuer: orgB.issuer, clientId: client.clientId, clientSecret: client.clientSecret, redirectUris: [CALLBACK] },
  ];
  auth = createOidcAuth({ store: tenants, session: { secret: 'catalogue-mt-secret-0123456789-0123456789' }, client: { httpTimeoutMs: 2_000, allowLoopbackIssuers: true } });
});
afterAll(async () => {
  await orgA?.close();
  await orgB?.close();
});
beforeEach(() => {
  orgA.control.resetCounters();
  orgB.control.resetCounters();
});

/** The victim starts a login at tenant A; the attacker (a tenant-B org user) brings org B's code. */
async function mixUp() {
  const victim = new Browser(auth);
  const login = await victim.send('GET', `${APP}/auth/login?tenant=a`);
  const stateA = new URL(login.headers.Location ?? '').searchParams.get('state') ?? '';
  const attacker = new Browser(auth);
  const attackerLogin = await attacker.send('GET', `${APP}/auth/login?tenant=b`);
  const fromB = await driveAuthorization(attackerLogin.headers.Location ?? '');
  orgA.control.resetCounters();
  orgB.control.resetCounters();
  return { victim, stateA, codeB: fromB.url.searchParams.get('code') ?? '' };
}

describe('catalogue: mix-up between two tenants (MT-02, MT-03, CB-07)', () => {
  it("MT-03: org B's code with the victim's state and iss=B is refused before any token request at either org", async () => {
    const { victim, stateA, codeB } = await mixUp();
    const query = new URLSearchParams({ code: codeB, state: stateA, iss: orgB.issuer });
    const response = await victim.send('GET', `${CALLBACK}?${query}`);
    expect(response.status).toBe(400);
    expect(errorCode(response)).toBe('ERR_OIDC_ISSUER_MISMATCH');
    expect(sessionCookies(response)).toEqual([]);
    expect(orgA.control.counters().token + orgB.control.counters().token).toBe(0);
  });

  it("MT-02: with a forged iss=A the code is redeemed only at A (the transaction's issuer), which refuses it; org B is never called", async () => {
    const { victim, stateA, codeB } = await mixUp();
    const query = new URLSearchParams({ code: codeB, state: stateA, iss: orgA.issuer });
    const response = await victim.send('GET', `${CALLBACK}?${query}`);
    expect(response.status).toBe(400);
    expect(errorCode(response)).toBe('ERR_OIDC_TOKEN_ENDPOINT_ERROR');
    expect(sessionCookies(response)).toEqual([]);
    expect(orgA.control.counters().token).toBe(1);
    expect(orgB.control.counters().token).toBe(0);
  });

  it('MT-01: an ID token of org A (same client id) is refused for tenant B: issuer and keys are per tenant', async () => {
    const idTokenA = await orgA.control.issueIdToken('0oaSameIdInBothOrgs01');
    const tenantB = await auth.client.getTenant('b');
    const error = await auth.client.validateIdToken(tenantB, idTokenA, { nonce: undefined, allowNoNonce: true }).catch((e: unknown) => e as { code?: string });
    // The unverified iss names org A, not B's issuer: refused before any key lookup (SA-09).
    expect(error).toMatchObject({ code: 'ERR_OIDC_ID_TOKEN_INVALID', details: { check: 'iss' } });
    expect(orgA.control.counters().keys).toBe(0); // never asks org A for keys on B's behalf
  });
});
