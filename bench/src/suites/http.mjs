/**
 * §2.2 authenticated request (session cookie) and §2.3 bearer request with a warm introspection
 * cache, through each adapter vs the same route on the bare framework, plus the peers
 * express-openid-connect (Express) and @hono/oidc-auth (Hono). Each side is its own server
 * process; autocannon loads one side at a time from this process, sides alternating per round
 * (order rotated), after a warm-up; medians of requests/s and p99 latency are reported.
 * Every side receives the same request headers (the bare framework gets the oin-oidc session
 * cookie too), so the request bytes are identical.
 */
import { sign } from 'hono/jwt';
import * as oauth from 'openid-client';
import { signInThrough } from '../lib/browser.mjs';
import { CLIENT_ID, CLIENT_SECRET, SESSION_SECRET, loadTesting, startOrg, tenantRecord } from '../lib/emulator.mjs';
import { load } from '../lib/load.mjs';
import { median } from '../lib/measure.mjs';
import { spawnServer } from '../lib/servers.mjs';

const FRAMEWORKS = ['express', 'fastify', 'hono', 'koa'];
const PEERS = { express: 'eoc', hono: 'hono-oidc' };
const LABEL = {
  bare: (fw) => `bare ${fw}`,
  oin: (fw) => `@oin-oidc/${fw} session`,
  'oin-bearer': (fw) => `@oin-oidc/${fw} bearer (warm cache)`,
  eoc: () => 'express-openid-connect requiresAuth()',
  'hono-oidc': () => '@hono/oidc-auth',
};

export function timing(quick) {
  // autocannon stops on whole seconds (a 0.4 s run takes 1 s), so rounds are whole seconds;
  // quick = one 1 s round per side, no warm-up (a smoke test, not a measurement to quote).
  return quick ? { warmupSec: 0, rounds: 1, roundSec: 1, connections: 32 } : { warmupSec: 1, rounds: 6, roundSec: 1, connections: 50 };
}

function callbackUri(side) {
  return side.variant === 'eoc' ? `${side.baseUrl}/callback` : `${side.baseUrl}/auth/callback`;
}

/**
 * Start the sides of one framework, one emulator org for them, configure and sign in.
 * `extra`: more configuration for every side (the fleet suite's Redis URL, revocation records).
 */
export async function startGroup(results, framework, variants, testing, extra = {}) {
  const sides = [];
  try {
    // Spawned together: node start-up dominates set-up time on a busy machine.
    const spawned = await Promise.allSettled(variants.map((variant) => spawnServer(framework, variant)));
    for (const s of spawned) if (s.status === 'fulfilled') sides.push(s.value);
    const failed = spawned.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const org = await startOrg(testing, sides.map(callbackUri));
    const ready = [];
    for (const side of sides) {
      try {
        await side.configure({
          issuer: org.issuer,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          sessionSecret: SESSION_SECRET,
          tenants: [tenantRecord(org.issuer, [callbackUri(side)])],
          ...extra,
        });
        ready.push(side);
      } catch (error) {
        results.note(`${framework}:${side.variant} could not start (${String(error.message).split('\n')[0]}); left out`);
        await side.close();
      }
    }
    return { sides: ready, org, close: async () => Promise.all([...sides.map((s) => s.close()), org.close()]) };
  } catch (error) {
    await Promise.all(sides.map((s) => s.close()));
    throw error;
  }
}

/** What a signed-in client of `side` sends: a session cookie or a bearer token (bare: nothing). */
export async function credentials(side, org, testing) {
  switch (side.variant) {
    case 'oin':
      return { cookie: await signInThrough(`${side.baseUrl}/auth/login?tenant=bench`, testing.driveAuthorization) };
    case 'eoc':
      return { cookie: await signInThrough(`${side.baseUrl}/login`, testing.driveAuthorization) };
    case 'hono-oidc': {
      // @hono/oidc-auth's own session encoding: an HS256 JWT (hono/jwt) with the claims its
      // callback writes (sub, email, rtk, rtkexp = now + refresh interval 900 s, ssnexp).
      const now = Math.floor(Date.now() / 1000);
      const jwt = await sign({ sub: '00u1benchuser', email: 'bench.user@example.com', rtk: '', rtkexp: now + 900, ssnexp: now + 86400 }, SESSION_SECRET, 'HS256');
      return { cookie: `oidc-auth=${jwt}` };
    }
    case 'oin-bearer':
      return { authorization: `Bearer ${await org.control.issueAccessToken(CLIENT_ID, { scope: 'openid profile email' })}` };
    default:
      return {};
  }
}

/**
 * The request headers per side. The bare side is sent the subject's credentials too, so both
 * sides parse the same bytes and only the checking differs.
 */
export function requestHeaders(creds, subjectVariant) {
  const shared = creds.get(subjectVariant) ?? {};
  return (side) => {
    const c = side.variant === 'bare' ? shared : (creds.get(side.variant) ?? {});
    return { ...(c.cookie ? { cookie: c.cookie } : {}), ...(c.authorization ? { authorization: c.authorization } : {}), accept: 'application/json' };
  };
}

async function check(url, headers) {
  const res = await fetch(url, { headers, redirect: 'manual' });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${text.slice(0, 200)}`);
}

/** Interleaved autocannon rounds over the sides; returns Map variant -> { rps, p99 } medians. */
export async function measureSides(sides, headersFor, t) {
  if (t.warmupSec > 0) for (const side of sides) await load(`${side.baseUrl}/api/me`, { headers: headersFor(side), connections: t.connections, durationSec: t.warmupSec });
  const samples = new Map(sides.map((s) => [s.variant, { rps: [], p99: [] }]));
  for (let r = 0; r < t.rounds; r++) {
    for (let k = 0; k < sides.length; k++) {
      const side = sides[(r + k) % sides.length];
      const m = await load(`${side.baseUrl}/api/me`, { headers: headersFor(side), connections: t.connections, durationSec: t.roundSec });
      samples.get(side.variant).rps.push(m.rps);
      samples.get(side.variant).p99.push(m.p99);
    }
  }
  return new Map([...samples].map(([v, s]) => [v, { rps: median(s.rps), p99: median(s.p99), min: Math.min(...s.rps), max: Math.max(...s.rps) }]));
}

function addPair(results, id, framework, subject, baseline, m) {
  const s = m.get(subject);
  const b = m.get(baseline);
  if (!s || !b) return;
  results.add({ id: `${id}.rps`, subject: LABEL[subject](framework), baseline: LABEL[baseline](framework), subjectValue: s.rps, baselineValue: b.rps, unit: 'req/s' });
  results.add({ id: `${id}.p99`, subject: LABEL[subject](framework), baseline: LABEL[baseline](framework), subjectValue: s.p99, baselineValue: b.p99, unit: 'ms' });
}

async function runMode(results, { quick }, mode) {
  const testing = await loadTesting();
  if (!testing) {
    results.note(`${mode}: @oin-oidc/testing exports no startOktaOrg yet; nothing measured`);
    return;
  }
  const t = timing(quick);
  for (const framework of FRAMEWORKS) {
    const variants = mode === 'session' ? ['bare', 'oin', ...(PEERS[framework] ? [PEERS[framework]] : [])] : ['bare', 'oin-bearer'];
    const t0 = Date.now();
    const group = await startGroup(results, framework, variants, testing);
    const tStarted = Date.now();
    try {
      const creds = new Map();
      for (const side of group.sides) {
        try {
          creds.set(side.variant, await credentials(side, group.org, testing));
        } catch (error) {
          results.note(`${framework}:${side.variant}: sign-in failed (${error.message}); left out`);
        }
      }
      const subjectVariant = mode === 'session' ? 'oin' : 'oin-bearer';
      const headersFor = requestHeaders(creds, subjectVariant);
      const sides = [];
      for (const side of group.sides) {
        if (side.variant !== 'bare' && !creds.has(side.variant)) continue;
        try {
          await check(`${side.baseUrl}/api/me`, headersFor(side));
          sides.push(side);
        } catch (error) {
          results.note(`${framework}:${side.variant}: authenticated request failed (${error.message}); left out`);
        }
      }
      if (sides.length < 2) continue;
      const tReady = Date.now();
      const m = await measureSides(sides, headersFor, t);
      if (process.env.BENCH_DEBUG) console.log(`    [${framework}] start ${tStarted - t0} ms, sign-in ${tReady - tStarted} ms, load ${Date.now() - tReady} ms`);
      for (const [v, x] of m) console.log(`    ${framework} ${v}: ${Math.round(x.rps)} req/s (rounds ${Math.round(x.min)}-${Math.round(x.max)}), p99 ${x.p99} ms`);
      addPair(results, `${mode}.${framework}.vs-bare`, framework, subjectVariant, 'bare', m);
      if (mode === 'session' && PEERS[framework]) addPair(results, `session.${framework}.vs-${PEERS[framework]}`, framework, 'oin', PEERS[framework], m);
      // --quick: the burst once (first adapter), to stay a short smoke run; the full run does all four.
      if (mode === 'bearer' && sides.some((s) => s.variant === 'oin-bearer') && (!quick || baselineBurst === undefined)) {
        await coalescing(results, framework, group, sides.find((s) => s.variant === 'oin-bearer'));
      }
    } finally {
      await group.close();
    }
  }
}

const BURST = 1000;
let baselineBurst;

/**
 * 1,000 concurrent requests carrying one token the adapter has never seen → /introspect calls
 * at the emulator. Baseline: openid-client's tokenIntrospection called once per request, as an
 * app hand-wiring introspection with the peer library would do (it has no cache or coalescing).
 */
async function coalescing(results, framework, group, side) {
  const { org } = group;
  const t0b = Date.now();
  const token = await org.control.issueAccessToken(CLIENT_ID, { scope: 'openid profile email' });
  org.control.resetCounters();
  const responses = await Promise.all(
    Array.from({ length: BURST }, () => fetch(`${side.baseUrl}/api/me`, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      }),
    ),
  );
  const ok = responses.filter((s) => s === 200).length;
  const subjectCalls = org.control.counters().introspect;
  if (ok !== BURST) results.note(`bearer.${framework}.burst: ${BURST - ok} of ${BURST} requests did not get 200`);

  // The peer's count does not depend on the framework: measured once per run, against this org.
  const tb = Date.now();
  baselineBurst ??= await openidClientBurst(org);
  if (process.env.BENCH_DEBUG) console.log(`    [${framework}] burst ${tb - t0b} ms, openid-client burst ${Date.now() - tb} ms`);
  const baselineCalls = baselineBurst;
  results.add({
    id: `bearer.${framework}.burst-introspect`,
    subject: `@oin-oidc/${framework}: ${BURST} concurrent, 1 new token`,
    baseline: `openid-client tokenIntrospection x${BURST}`,
    subjectValue: subjectCalls,
    baselineValue: baselineCalls,
    unit: 'calls',
  });
}

async function openidClientBurst(org) {
  const config = await oauth.discovery(new URL(org.issuer), CLIENT_ID, undefined, oauth.ClientSecretBasic(CLIENT_SECRET), {
    execute: [oauth.allowInsecureRequests],
  });
  const token = await org.control.issueAccessToken(CLIENT_ID, { scope: 'openid profile email' });
  org.control.resetCounters();
  const out = await Promise.allSettled(Array.from({ length: BURST }, () => oauth.tokenIntrospection(config, token)));
  const failed = out.filter((o) => o.status === 'rejected' || !o.value.active).length;
  if (failed > 0) console.log(`    openid-client burst: ${failed} of ${BURST} introspections failed or inactive`);
  return org.control.counters().introspect;
}

export const runSession = (results, options) => runMode(results, options, 'session');
export const runBearer = (results, options) => runMode(results, options, 'bearer');
