/**
 * §2.2 authenticated request (session cookie) and §2.3 bearer request with a warm introspection
 * cache, through each adapter vs the same route on the bare framework, plus the peers
 * express-openid-connect (Express) and @hono/oidc-auth (Hono). Each side is its own server
 * process, pinned to one core while autocannon loads it from this process pinned to the other
 * (lib/pin.mjs). A round loads every side once for a short time (order rotated each round), so
 * each round gives one paired ratio per pair of sides; rounds are added until the 95 % interval
 * of every gating ratio (ours vs bare, and REF vs HEAD in --compare) is narrower than ±0.05, or a
 * cap is reached (lib/stats.mjs). Every side receives the same request headers (the bare
 * framework gets the oin-oidc session cookie too), so the request bytes are identical.
 */
import { sign } from 'hono/jwt';
import * as oauth from 'openid-client';
import { signInThrough } from '../lib/browser.mjs';
import { CLIENT_ID, CLIENT_SECRET, SESSION_SECRET, loadTesting, startOrg, tenantRecord } from '../lib/emulator.mjs';
import { load } from '../lib/load.mjs';
import { median } from '../lib/measure.mjs';
import { pinForLoad } from '../lib/pin.mjs';
import { spawnServer } from '../lib/servers.mjs';
import { interval, ratioInterval } from '../lib/stats.mjs';

const FRAMEWORKS = ['express', 'fastify', 'hono', 'koa'];
const PEERS = { express: 'eoc', hono: 'hono-oidc' };
const LABEL = {
  bare: (fw) => `bare ${fw}`,
  oin: (fw) => `@oin-oidc/${fw} session`,
  'oin-bearer': (fw) => `@oin-oidc/${fw} bearer (warm cache)`,
  eoc: () => 'express-openid-connect requiresAuth()',
  'hono-oidc': () => '@hono/oidc-auth',
};

/**
 * The HTTP method. Rounds are short (0.5 s per side: lib/load.mjs samples autocannon every 100 ms so
 * it can stop between whole seconds) and many, rather than few and long: the interval narrows with
 * the number of paired rounds, and a burst from another process spoils one short round instead of
 * a whole median. `overrides` (from run.mjs flags): roundSec, minRounds, maxRounds, halfWidth, ci.
 * quick = two 0.4 s rounds per side after a 0.2 s warm-up (1 s per side, as the single 1 s round
 * before): an interval is printed, but it is a smoke
 * test, not a measurement to quote.
 */
export function timing(quick, overrides = {}) {
  const base = quick
    ? { warmupSec: 0.2, roundSec: 0.4, minRounds: 2, maxRounds: 2, halfWidth: 0.05, ci: 't', connections: 32 }
    : { warmupSec: 1, roundSec: 0.5, minRounds: 8, maxRounds: 40, halfWidth: 0.05, ci: 't', connections: 50 };
  base.pairing = 'sequential';
  const t = { ...base, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) };
  if (t.maxRounds < t.minRounds) t.maxRounds = t.minRounds;
  return t;
}

/** The key a side's samples and credentials are filed under: its variant, or e.g. `oin@ref` in --compare. */
const idOf = (side) => side.id ?? side.variant;

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
    // A variant is a name, or { variant, id, app, label } for a side served by another tree (--compare).
    const specs = variants.map((v) => (typeof v === 'string' ? { variant: v } : v));
    const spawned = await Promise.allSettled(specs.map((v) => spawnServer(framework, v.variant, v)));
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
        results.note(`${framework}:${idOf(side)} could not start (${String(error.message).split('\n')[0]}); left out`);
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
    const c = side.variant === 'bare' ? shared : (creds.get(idOf(side)) ?? {});
    return { ...(c.cookie ? { cookie: c.cookie } : {}), ...(c.authorization ? { authorization: c.authorization } : {}), accept: 'application/json' };
  };
}

async function check(url, headers) {
  const res = await fetch(url, { headers, redirect: 'manual' });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${text.slice(0, 200)}`);
}

/**
 * Interleaved autocannon rounds over the sides. Returns Map id -> { rps, p99 (medians), min, max,
 * samples: { rps[], p99[], cpuUs[] } } with one sample per round, plus `rounds` and `capHit` on
 * the map. `gating`: [[a, b], ...] pairs whose per-round ratio a/b must reach the interval
 * half-width `t.halfWidth`; rounds are added (between t.minRounds and t.maxRounds) until it does.
 */
export async function measureSides(sides, headersFor, t, { gating = [] } = {}) {
  const minRounds = t.minRounds ?? t.rounds;
  const maxRounds = t.maxRounds ?? t.rounds;
  const restore = pinForLoad(sides.map((s) => s.child.pid));
  const samples = new Map(sides.map((s) => [idOf(s), { rps: [], p99: [], cpuUs: [], busy: [] }]));
  let rounds = 0;
  let discarded = 0;
  let capHit = false;
  let widest = [];
  try {
    if (t.warmupSec > 0) for (const side of sides) await load(`${side.baseUrl}/api/me`, { headers: headersFor(side), connections: t.connections, durationSec: t.warmupSec, warmup: true });
    // One side's share of a round, or null when it finished no request in the round (a server
    // that got almost no CPU on a saturated host): the round is then discarded for every side,
    // since a paired ratio needs both, and the run goes on.
    const loadOne = async (side) => {
      const before = await side.cpu();
      const m = await load(`${side.baseUrl}/api/me`, { headers: headersFor(side), connections: t.connections, durationSec: t.roundSec, warmup: true });
      const used = (await side.cpu()) - before;
      if (m.total === 0) return null;
      return { side, cpuUs: used / m.total, busy: used / (m.durationSec * 1e6), rps: m.rps, p99: m.p99 };
    };
    for (;;) {
      let round;
      if (t.pairing === 'concurrent') {
        // Every side at once on the shared server core: the kernel splits that core between the
        // server processes, and whatever else runs there takes from all of them alike, so the
        // ratio of their throughputs is the ratio of their costs per request.
        round = await Promise.all(sides.map(loadOne));
      } else {
        round = [];
        for (let k = 0; k < sides.length; k++) round.push(await loadOne(sides[(rounds + discarded + k) % sides.length]));
      }
      if (round.includes(null)) {
        discarded++;
        if (discarded > Math.max(5, maxRounds)) throw new Error(`${discarded} rounds in which a side finished no request: the servers get no CPU on this host`);
        continue;
      }
      for (const r of round) {
        const s = samples.get(idOf(r.side));
        s.cpuUs.push(r.cpuUs);
        s.busy.push(r.busy);
        s.rps.push(r.rps);
        s.p99.push(r.p99);
      }
      rounds++;
      if (rounds < minRounds) continue;
      widest = gating
        .filter(([a, b]) => samples.has(a) && samples.has(b))
        .map(([a, b]) => ({ pair: `${a}/${b}`, halfWidth: ratioInterval(perRound(samples.get(a).rps, samples.get(b).rps, (x, y) => x / y), t.ci).halfWidth }))
        .filter((w) => !(w.halfWidth < t.halfWidth));
      if (widest.length === 0) break;
      if (rounds >= maxRounds) {
        capHit = true;
        break;
      }
    }
  } finally {
    restore();
  }
  const out = new Map([...samples].map(([v, s]) => [v, { rps: median(s.rps), p99: median(s.p99), min: Math.min(...s.rps), max: Math.max(...s.rps), samples: s }]));
  out.rounds = rounds;
  out.capHit = capHit;
  // Concurrent sides each get 1/n of the server core, so a request's core time is share / (req/s).
  out.share = t.pairing === 'concurrent' ? 1 / sides.length : 1;
  const stop = minRounds === maxRounds
    ? `a fixed ${rounds} rounds (min = max rounds: no stopping rule; quick runs are smoke tests, their intervals are wide)`
    : capHit
    ? `cap of ${maxRounds} rounds hit before every gating interval was within ±${t.halfWidth} (still wider: ${widest.map((w) => `${w.pair} ±${w.halfWidth.toFixed(3)}`).join(', ')})`
    : gating.length > 0
      ? `every gating interval within ±${t.halfWidth} after ${rounds} rounds`
      : `${rounds} rounds`;
  out.stop = discarded > 0 ? `${stop}; ${discarded} round(s) discarded (a side finished no request)` : stop;
  // How busy the servers kept their core: far below 100 % (sequential) or below 100 % summed
  // (concurrent) means the load generator, not the server, limited the throughput.
  const busy = [...samples.values()].map((s) => median(s.busy));
  const busyText = t.pairing === 'concurrent' ? `server core busy ${Math.round(100 * busy.reduce((a, b) => a + b, 0))} % (all sides together)` : `server core busy ${busy.map((b) => `${Math.round(100 * b)} %`).join(' / ')}`;
  console.log(`    ${rounds} rounds of ${t.roundSec} s per side, ${t.pairing ?? 'sequential'} (${t.ci} interval), ${busyText}: ${out.stop}`);
  return out;
}

function perRound(a, b, f) {
  const n = Math.min(a.length, b.length);
  const out = [];
  for (let i = 0; i < n; i++) out.push(f(a[i], b[i]));
  return out;
}

/**
 * The paired statistics of a over b: the per-round requests/s ratio, and what a costs per request
 * more than b, in µs: from throughput (1e6/rps: with every connection busy the server's core is
 * the bottleneck, so this is the server's wall time per request) and from the server process's own
 * CPU time per request (user + system).
 */
export function pairStats(m, a, b, method = 't') {
  const sa = m.get(a)?.samples;
  const sb = m.get(b)?.samples;
  if (!sa || !sb) return undefined;
  return {
    ratio: ratioInterval(perRound(sa.rps, sb.rps, (x, y) => x / y), method),
    usThroughput: interval(perRound(sa.rps, sb.rps, (x, y) => (m.share ?? 1) * (1e6 / x - 1e6 / y)), method),
    usCpu: interval(perRound(sa.cpuUs, sb.cpuUs, (x, y) => x - y), method),
    rounds: Math.min(sa.rps.length, sb.rps.length),
  };
}

const us = (i) => `${i.mean >= 0 ? '+' : ''}${i.mean.toFixed(2)} µs/req (±${i.halfWidth.toFixed(2)})`;

/** One printed line per pair: ratio, its interval, and the cost per request beside it. */
export function printPair(id, st, target) {
  const r = st.ratio;
  const flag = target !== undefined && !(r.halfWidth < target) ? `  [wider than ±${target}]` : '';
  console.log(
    `    ${id}: ${r.mean.toFixed(3)}x, 95% CI ${r.lo.toFixed(3)}-${r.hi.toFixed(3)} (±${r.halfWidth.toFixed(3)}, ${r.method}, ${st.rounds} rounds)${flag}; cost ${us(st.usThroughput)} by 1/throughput, ${us(st.usCpu)} server CPU`,
  );
}

function addPair(results, id, framework, subject, baseline, m, t, labels = {}) {
  const s = m.get(subject);
  const b = m.get(baseline);
  if (!s || !b) return;
  const st = pairStats(m, subject, baseline, t.ci);
  const subjectLabel = labels[subject] ?? LABEL[subject](framework);
  const baselineLabel = labels[baseline] ?? LABEL[baseline](framework);
  printPair(id, st, t.halfWidth);
  results.add({
    id: `${id}.rps`,
    subject: subjectLabel,
    baseline: baselineLabel,
    subjectValue: s.rps,
    baselineValue: b.rps,
    unit: 'req/s',
    // The ratio is the geometric mean of the per-round ratios, so the interval brackets it.
    ratio: st.ratio.mean,
    interval: { lo: st.ratio.lo, hi: st.ratio.hi, halfWidth: st.ratio.halfWidth, rounds: st.rounds, method: st.ratio.method, capHit: m.capHit && !(st.ratio.halfWidth < t.halfWidth) },
    costUs: { throughput: st.usThroughput.mean, throughputHalfWidth: st.usThroughput.halfWidth, cpu: st.usCpu.mean, cpuHalfWidth: st.usCpu.halfWidth },
  });
  results.add({ id: `${id}.p99`, subject: subjectLabel, baseline: baselineLabel, subjectValue: s.p99, baselineValue: b.p99, unit: 'ms' });
}

async function runMode(results, { quick, method, compare, frameworks }, mode) {
  const testing = await loadTesting();
  if (!testing) {
    results.note(`${mode}: @oin-oidc/testing exports no startOktaOrg yet; nothing measured`);
    return;
  }
  const t = timing(quick, method);
  const subjectVariant = mode === 'session' ? 'oin' : 'oin-bearer';
  // --compare: the subject as served by two trees (base: this tree or a worktree; ref: a worktree), no peers.
  const refId = `${subjectVariant}@ref`;
  for (const framework of FRAMEWORKS) {
    if (frameworks && !frameworks.includes(framework)) continue;
    const variants = compare
      ? ['bare', { variant: subjectVariant, app: compare.base.app }, { variant: subjectVariant, id: refId, app: compare.ref.app }]
      : mode === 'session'
        ? ['bare', 'oin', ...(PEERS[framework] ? [PEERS[framework]] : [])]
        : ['bare', 'oin-bearer'];
    const t0 = Date.now();
    const group = await startGroup(results, framework, variants, testing);
    const tStarted = Date.now();
    try {
      const creds = new Map();
      for (const side of group.sides) {
        try {
          creds.set(idOf(side), await credentials(side, group.org, testing));
        } catch (error) {
          results.note(`${framework}:${idOf(side)}: sign-in failed (${error.message}); left out`);
        }
      }
      const headersFor = requestHeaders(creds, subjectVariant);
      const sides = [];
      for (const side of group.sides) {
        if (side.variant !== 'bare' && !creds.has(idOf(side))) continue;
        try {
          await check(`${side.baseUrl}/api/me`, headersFor(side));
          sides.push(side);
        } catch (error) {
          results.note(`${framework}:${idOf(side)}: authenticated request failed (${error.message}); left out`);
        }
      }
      if (sides.length < 2) continue;
      const tReady = Date.now();
      const gating = compare ? [[subjectVariant, 'bare'], [refId, subjectVariant]] : [[subjectVariant, 'bare']];
      console.log(`    [${framework}]`);
      const m = await measureSides(sides, headersFor, t, { gating });
      if (process.env.BENCH_DEBUG) console.log(`    [${framework}] start ${tStarted - t0} ms, sign-in ${tReady - tStarted} ms, load ${Date.now() - tReady} ms`);
      for (const [v, x] of m) {
        const cpu = median(x.samples.cpuUs);
        console.log(`    ${framework} ${v}: ${Math.round(x.rps)} req/s (rounds ${Math.round(x.min)}-${Math.round(x.max)}), ${((1e6 * m.share) / x.rps).toFixed(1)} µs/req by 1/throughput, ${cpu.toFixed(1)} µs server CPU/req, p99 ${x.p99} ms`);
      }
      if (compare) {
        const labels = {
          [subjectVariant]: `${LABEL[subjectVariant](framework)} @ ${compare.base.label}`,
          [refId]: `${LABEL[subjectVariant](framework)} @ ${compare.ref.label}`,
        };
        addPair(results, `${mode}.${framework}.vs-bare`, framework, subjectVariant, 'bare', m, t, labels);
        addPair(results, `compare.${mode}.${framework}.ref-vs-bare`, framework, refId, 'bare', m, t, labels);
        addPair(results, `compare.${mode}.${framework}.ref-vs-base`, framework, refId, subjectVariant, m, t, labels);
        continue;
      }
      addPair(results, `${mode}.${framework}.vs-bare`, framework, subjectVariant, 'bare', m, t);
      if (mode === 'session' && PEERS[framework]) addPair(results, `session.${framework}.vs-${PEERS[framework]}`, framework, 'oin', PEERS[framework], m, t);
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
