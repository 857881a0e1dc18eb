/**
 * §2.4 key rotation against the Okta org emulator.
 * (a) 1,000 concurrent validations of one token signed with a kid the validator has not seen →
 *     /keys fetches at the emulator (and how many of the 1,000 validated).
 * (b) Time from rotation until a token signed with the new key validates: each validator is
 *     warmed first (its JWKS fetched just before the rotation, the worst case for a cooldown),
 *     then it retries every 250 ms (1 s for openid-client, which needs a full sign-in per
 *     attempt) within a bounded window. Full run: 65 s window for the peers; --quick skips the
 *     long waits and measures oin-oidc only.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oauth from 'openid-client';
import { CLIENT_ID, CLIENT_SECRET, loadTesting, startOrg, tenantRecord } from '../lib/emulator.mjs';
import { loadCore } from '../lib/oin.mjs';

const require = createRequire(import.meta.url);
const BURST = 1000;
const OC_REDIRECT = 'http://127.0.0.1:9/openid-client/callback';

async function oinValidator(core, org) {
  const record = tenantRecord(org.issuer, ['http://127.0.0.1:9/auth/callback']);
  const client = core.createOidcClient({ store: core.createMemoryCredentialStore([record]), allowLoopbackIssuers: true });
  const tenant = await client.getTenant(record.id);
  return (token, nonce) => client.validateIdToken(tenant, token, { nonce });
}

function joseValidator(org, options) {
  const jwks = createRemoteJWKSet(new URL(`${org.issuer}/oauth2/v1/keys`), options);
  return async (token, nonce) => {
    const { payload } = await jwtVerify(token, jwks, { issuer: org.issuer, audience: CLIENT_ID, algorithms: ['RS256'] });
    if (payload.nonce !== nonce) throw new Error('nonce');
  };
}

function oktaValidator(org) {
  const OktaJwtVerifier = require('@okta/jwt-verifier');
  const warn = console.warn;
  console.warn = () => {};
  const v = new OktaJwtVerifier({ issuer: org.issuer, jwksUri: `${org.issuer}/oauth2/v1/keys`, testing: { disableHttpsCheck: true } });
  console.warn = warn;
  return (token, nonce) => v.verifyIdToken(token, CLIENT_ID, nonce);
}

async function issue(org) {
  const nonce = randomBytes(12).toString('base64url');
  return { token: await org.control.issueIdToken(CLIENT_ID, { claims: { nonce } }), nonce };
}

/** (a) one burst of unknown-kid validations; returns { fetches, ok }. */
async function burst(org, validate) {
  const warm = await issue(org);
  await validate(warm.token, warm.nonce); // the old key is cached now
  await org.control.rotateSigningKey();
  const fresh = await issue(org);
  org.control.resetCounters();
  const settled = await Promise.allSettled(Array.from({ length: BURST }, () => validate(fresh.token, fresh.nonce)));
  return { fetches: org.control.counters().keys, ok: settled.filter((s) => s.status === 'fulfilled').length };
}

/** openid-client validates ID tokens only inside a code exchange (with non-repudiation checks on). */
async function openidClientSignIn(testing, config) {
  const verifier = oauth.randomPKCECodeVerifier();
  const nonce = oauth.randomNonce();
  const state = oauth.randomState();
  const url = oauth.buildAuthorizationUrl(config, {
    redirect_uri: OC_REDIRECT,
    scope: 'openid profile email',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  });
  const callback = await testing.driveAuthorization(url);
  return oauth.authorizationCodeGrant(config, callback.url, { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state });
}

export async function openidClientConfig(org) {
  const config = await oauth.discovery(new URL(org.issuer), CLIENT_ID, undefined, oauth.ClientSecretBasic(CLIENT_SECRET), {
    execute: [oauth.allowInsecureRequests],
  });
  oauth.enableNonRepudiationChecks(config);
  return config;
}

/** Retry `attempt` until it resolves or the window closes; seconds until success, or null. */
async function timeUntil(attempt, { start, windowMs, everyMs }) {
  for (;;) {
    try {
      await attempt();
      return (performance.now() - start) / 1000;
    } catch {
      if (performance.now() - start >= windowMs) return null;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}

export async function runRotation(results, { quick }) {
  const testing = await loadTesting();
  const core = await loadCore();
  if (!testing || typeof core?.createOidcClient !== 'function') {
    results.note('rotation: needs @oin-oidc/testing startOktaOrg and @oin-oidc/core createOidcClient; not measured');
    return;
  }

  const org = await startOrg(testing, [OC_REDIRECT]);
  try {
    await measureRotation(results, { quick, testing, core, org });
  } finally {
    await org.close();
  }
}

async function measureRotation(results, { quick, testing, core, org }) {
  // (a) bursts, one after another; every validator has its own cache, and each burst rotates
  // the org's key again, so every burst meets a kid its validator has not seen.
  const bursts = {};
  for (const [name, make] of [
    ['oin', () => oinValidator(core, org)],
    ['jose-cooldown0', () => joseValidator(org, { cooldownDuration: 0 })],
    ['jose-default', () => joseValidator(org)],
    ['okta', () => oktaValidator(org)],
  ]) {
    bursts[name] = await burst(org, await make());
    console.log(`    burst ${name}: ${bursts[name].fetches} /keys fetches, ${bursts[name].ok}/${BURST} validated`);
  }
  const s = bursts.oin;
  if (s.ok !== BURST) results.note(`rotation.burst: oin-oidc validated only ${s.ok} of ${BURST}`);
  results.add({
    id: 'rotation.burst.vs-okta',
    subject: `oin-oidc: ${BURST} concurrent, new kid`,
    baseline: `@okta/jwt-verifier (jwks-rsa), ${bursts.okta.ok}/${BURST} ok`,
    subjectValue: s.fetches,
    baselineValue: bursts.okta.fetches,
    unit: 'fetches',
  });
  results.add({
    id: 'rotation.burst.vs-jose',
    subject: `oin-oidc: ${BURST} concurrent, new kid`,
    baseline: `jose createRemoteJWKSet cooldown 0, ${bursts['jose-cooldown0'].ok}/${BURST} ok`,
    subjectValue: s.fetches,
    baselineValue: bursts['jose-cooldown0'].fetches,
    unit: 'fetches',
  });
  results.note(
    `rotation.burst: jose with its default 30 s cooldown made ${bursts['jose-default'].fetches} fetches and validated ${bursts['jose-default'].ok}/${BURST} (the JWKS was fetched just before the rotation)`,
  );

  // (b) time from rotation until a new-key token validates; all contenders share one rotation.
  {
    const contenders = [{ name: 'oin', validate: await oinValidator(core, org), everyMs: 250 }];
    if (!quick) {
      contenders.push({ name: 'jose', validate: joseValidator(org), everyMs: 250 });
      const config = await openidClientConfig(org);
      contenders.push({ name: 'openid-client', signIn: () => openidClientSignIn(testing, config), everyMs: 1000 });
    } else {
      results.note('rotation.delay: --quick skips the 65 s waits for jose and openid-client; only oin-oidc is timed');
    }
    // Warm every cache with a token signed by the current key.
    for (const c of contenders) {
      if (c.signIn) await c.signIn();
      else {
        const t = await issue(org);
        await c.validate(t.token, t.nonce);
      }
    }
    await org.control.rotateSigningKey();
    const start = performance.now();
    const windowMs = quick ? 5_000 : 65_000;
    const times = await Promise.all(
      contenders.map((c) =>
        timeUntil(
          async () => {
            if (c.signIn) return c.signIn();
            const t = await issue(org);
            return c.validate(t.token, t.nonce);
          },
          { start, windowMs, everyMs: c.everyMs },
        ),
      ),
    );
    const byName = Object.fromEntries(contenders.map((c, i) => [c.name, times[i]]));
    for (const [name, t] of Object.entries(byName)) console.log(`    rotation ${name}: ${t === null ? `not within ${windowMs / 1000} s` : `${t.toFixed(3)} s`}`);
    const subject = byName.oin ?? windowMs / 1000;
    for (const [name, label] of [
      ['jose', 'jose createRemoteJWKSet (default cooldown)'],
      ['openid-client', 'openid-client 6 (non-repudiation checks)'],
    ]) {
      if (!(name in byName)) continue;
      const t = byName[name];
      if (t === null) results.note(`rotation.delay.vs-${name}: ${name} did not validate within ${windowMs / 1000} s; value is a lower bound`);
      results.add({
        id: `rotation.delay.vs-${name}`,
        subject: 'oin-oidc validateIdToken',
        baseline: label,
        subjectValue: subject,
        baselineValue: t ?? windowMs / 1000,
        unit: 's',
      });
    }
    if (quick) console.log(`    (quick) oin-oidc validated the new key after ${subject.toFixed(3)} s`);
  }
}
