/**
 * The introspection flood (audit finding SA-01, docs/security.md). Junk bearer tokens at full speed
 * (autocannon) against a real adapter's bearer route in front of the Okta org emulator, while a
 * second client sends requests with several distinct real tokens at a moderate rate. Three kinds of
 * junk, in turn:
 *   - random b64token strings, each from a random client address;
 *   - JWT-shaped tokens with the tenant's iss, cid and a live exp, an unknown kid and a bad
 *     signature ("plausible": only Okta could judge them), each from a random client address;
 *   - the same JWT-shaped tokens, all from one client address.
 * Client addresses travel in X-Forwarded-For, with the framework's trust-proxy setting on, so the
 * adapter reports them as the client address (the per-caller introspection bucket's key).
 *
 * Each scenario runs on fresh server processes, once with today's defaults (triage, per-caller
 * bucket, cache on) and once on the code path before the fix, expressed through options
 * (introspectionTriage false, perCaller false, introspectionCache false):
 *   - together: the real client and the flood start at once (the issue's scenario);
 *   - late: the flood has run for LATE_START_MS when the real client arrives with new tokens, so
 *     the tenant's bucket is already empty and no key of the org is cached yet (an API that signs
 *     nobody in): the residual the docs describe.
 * Reported: real requests that got 200, junk refused (any non-200; a junk 200 would be a failure),
 * junk requests/s, and the /introspect calls the emulator counted.
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { CLIENT_ID, CLIENT_SECRET, SESSION_SECRET, loadTesting, startOrg, tenantRecord } from '../lib/emulator.mjs';
import { spawnServer } from '../lib/servers.mjs';

const FRAMEWORKS = ['express', 'fastify', 'hono', 'koa'];
const REAL_TOKENS = 5;
/** Each real client waits this long between its requests: 5 tokens ≈ 100 requests/s in all. */
const REAL_PAUSE_MS = 40;
const REAL_ADDRESS = '192.0.2.10';
const ONE_ADDRESS = '203.0.113.66';
const LATE_START_MS = 1000;
export const SCENARIOS = ['together', 'late'];

export const MODES = {
  // What an app gets today without configuring anything about introspection.
  fixed: { label: 'defaults (triage, per-caller bucket, cache)', client: { introspectionCache: {} } },
  // The code path before the SA-01 fix, through options only.
  old: {
    label: 'before the fix (no triage, no per-caller bucket, no cache)',
    client: { introspectionTriage: false, introspectionThrottle: { perCaller: false }, introspectionCache: false },
  },
};

function timing(quick) {
  // Quick (CI smoke): Express only, 3 s per mode. Full: every adapter, 10 s per mode.
  return quick ? { frameworks: ['express'], durationSec: 3, connections: 32, warmupSec: 0 } : { frameworks: FRAMEWORKS, durationSec: 10, connections: 50, warmupSec: 1 };
}

const b64json = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const randomAddress = () => `10.${(Math.random() * 256) | 0}.${(Math.random() * 256) | 0}.${1 + ((Math.random() * 254) | 0)}`;

/** The junk generator: one of the three kinds per request, in turn; every token distinct. */
export function junkFactory(issuer) {
  const header = b64json({ alg: 'RS256', kid: 'flood-kid-nobody-publishes', typ: 'application/okta-internal-at+jwt' });
  const plausible = () => {
    const now = Math.floor(Date.now() / 1000);
    const payload = { ver: 1, jti: `AT.${randomBytes(12).toString('base64url')}`, iss: issuer, aud: issuer, cid: CLIENT_ID, iat: now, exp: now + 3600, uid: '00u1flood', scp: ['openid'], sub: 'flood@example.com' };
    return `${header}.${b64json(payload)}.${randomBytes(256).toString('base64url')}`;
  };
  const kinds = [
    { name: 'random', token: () => randomBytes(32).toString('base64url'), address: randomAddress },
    { name: 'jwt-many-addresses', token: plausible, address: randomAddress },
    { name: 'jwt-one-address', token: plausible, address: () => ONE_ADDRESS },
  ];
  let n = 0;
  return () => {
    const kind = kinds[n++ % kinds.length];
    return { kind: kind.name, token: kind.token(), address: kind.address() };
  };
}

/** Junk at full speed for `durationSec`; counts answers by status. */
async function flood(url, issuer, { durationSec, connections }) {
  const next = junkFactory(issuer);
  const byStatus = new Map();
  const started = Date.now();
  const result = await autocannon({
    url,
    connections,
    duration: durationSec,
    requests: [
      {
        method: 'GET',
        setupRequest(request) {
          const junk = next();
          return { ...request, headers: { ...request.headers, accept: 'application/json', authorization: `Bearer ${junk.token}`, 'x-forwarded-for': junk.address } };
        },
        onResponse(status) {
          byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
        },
      },
    ],
  });
  const total = [...byStatus.values()].reduce((a, b) => a + b, 0);
  return { total, accepted: byStatus.get(200) ?? 0, byStatus: Object.fromEntries(byStatus), errors: result.errors + result.timeouts, rps: total / ((Date.now() - started) / 1000) };
}

/** One client per real token, each sending its token in a loop with a pause, until `stop()`. */
function realTraffic(url, tokens) {
  let running = true;
  const statuses = new Map();
  const loops = tokens.map(async (token) => {
    while (running) {
      let status = 'error';
      try {
        const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'x-forwarded-for': REAL_ADDRESS } });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        // counted as a failure
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, REAL_PAUSE_MS));
    }
  });
  return async () => {
    running = false;
    await Promise.all(loops);
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    return { total, ok: statuses.get(200) ?? 0, byStatus: Object.fromEntries(statuses) };
  };
}

/** One mode and scenario on one server: real traffic beside the flood, counted at the emulator. */
export async function runScenario({ side, org, tokens, t, scenario }) {
  const url = `${side.baseUrl}/api/me`;
  // Warms the bench process's load generator and the server's JIT without touching any budget.
  if (t.warmupSec > 0) await autocannon({ url: `${side.baseUrl}/warm-up`, connections: t.connections, duration: t.warmupSec });
  org.control.resetCounters();
  const started = flood(url, org.issuer, t);
  if (scenario === 'late') await new Promise((resolve) => setTimeout(resolve, LATE_START_MS));
  const stopReal = realTraffic(url, tokens);
  const junk = await started;
  const real = await stopReal();
  return { real, junk, introspect: org.control.counters().introspect };
}

const pct = (part, total) => (total === 0 ? 0 : (100 * part) / total);

export async function runFlood(results, { quick }) {
  const testing = await loadTesting();
  if (!testing) {
    results.note('flood: @oin-oidc/testing exports no startOktaOrg; nothing measured');
    return;
  }
  const t = timing(quick);
  for (const framework of t.frameworks) {
    const runs = SCENARIOS.flatMap((scenario) => Object.keys(MODES).map((mode) => ({ scenario, mode })));
    const sides = [];
    let org;
    try {
      // One fresh server process per mode and scenario: buckets, caches and learned keys never carry over.
      sides.push(...(await Promise.all(runs.map(() => spawnServer(framework, 'oin-bearer')))));
      org = await startOrg(testing, sides.map((s) => `${s.baseUrl}/auth/callback`));
      for (const [i, side] of sides.entries()) {
        await side.configure({
          issuer: org.issuer,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          sessionSecret: SESSION_SECRET,
          tenants: [tenantRecord(org.issuer, [`${side.baseUrl}/auth/callback`])],
          trustProxy: true,
          client: MODES[runs[i].mode].client,
        });
      }
      const measured = {};
      for (const [i, { scenario, mode }] of runs.entries()) {
        // Fresh real tokens per run: none is cached anywhere when it starts.
        const tokens = await Promise.all(Array.from({ length: REAL_TOKENS }, () => org.control.issueAccessToken(CLIENT_ID, { scope: 'openid profile email' })));
        const m = await runScenario({ side: sides[i], org, tokens, t, scenario });
        measured[`${scenario}.${mode}`] = m;
        console.log(
          `    ${framework} ${scenario} ${mode}: real ${m.real.ok}/${m.real.total} ok (${pct(m.real.ok, m.real.total).toFixed(1)} %, ${JSON.stringify(m.real.byStatus)}); ` +
            `junk ${m.junk.total - m.junk.accepted}/${m.junk.total} refused at ${Math.round(m.junk.rps)} req/s (${JSON.stringify(m.junk.byStatus)}); /introspect ${m.introspect}`,
        );
        if (m.junk.accepted > 0) results.note(`flood.${framework}.${scenario}.${mode}: ${m.junk.accepted} junk requests got 200`);
        if (m.junk.errors > 0) results.note(`flood.${framework}.${scenario}.${mode}: ${m.junk.errors} junk socket errors or timeouts`);
      }
      const subject = `@oin-oidc/${framework} ${MODES.fixed.label}`;
      const baseline = `@oin-oidc/${framework} ${MODES.old.label}`;
      for (const scenario of SCENARIOS) {
        const fixed = measured[`${scenario}.fixed`];
        const old = measured[`${scenario}.old`];
        const id = scenario === 'together' ? `flood.${framework}` : `flood.${framework}.late`;
        results.add({ id: `${id}.real-ok`, subject, baseline, subjectValue: pct(fixed.real.ok, fixed.real.total), baselineValue: pct(old.real.ok, old.real.total), unit: '%' });
        if (scenario === 'together') {
          results.add({
            id: `${id}.junk-refused`,
            subject,
            baseline,
            subjectValue: pct(fixed.junk.total - fixed.junk.accepted, fixed.junk.total),
            baselineValue: pct(old.junk.total - old.junk.accepted, old.junk.total),
            unit: '%',
          });
          results.add({ id: `${id}.junk-rps`, subject, baseline, subjectValue: fixed.junk.rps, baselineValue: old.junk.rps, unit: 'req/s' });
        }
        results.add({ id: `${id}.introspect-calls`, subject, baseline, subjectValue: fixed.introspect, baselineValue: old.introspect, unit: 'calls' });
        results.note(
          `flood.${framework} ${scenario}: real ${fixed.real.ok}/${fixed.real.total} vs ${old.real.ok}/${old.real.total}; junk ${fixed.junk.total} vs ${old.junk.total} requests in ${t.durationSec} s; ` +
            `junk answers ${JSON.stringify(fixed.junk.byStatus)} vs ${JSON.stringify(old.junk.byStatus)}`,
        );
      }
    } finally {
      await Promise.all([...sides.map((s) => s.close()), org?.close()]);
    }
  }
}
