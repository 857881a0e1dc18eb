/**
 * Server CPU per request, side by side (a development tool for the §2.2/§2.3 misses): for one
 * framework, starts the bare, session and bearer sides, signs in, loads each side with autocannon
 * in rounds (order rotated) and prints the server process's own CPU time per request (user+system,
 * µs) next to requests/s. CPU per request is steadier than requests/s on a shared 2-core machine,
 * because it does not depend on how much CPU the load generator got.
 *
 *   node bench/src/tools/cost.mjs fastify [rounds=5] [seconds=2]
 *
 * VARIANTS=bare,oin picks the sides (default bare,oin,oin-bearer; the bearer side is sent no cookie).
 * PIN=1 pins the load generator to CPU 0 and the servers to CPU 1 (taskset), which steadies the
 * numbers on a 2-core machine. With BENCH_PROFILE_DIR set, each server writes a CPU profile; the
 * pid and request count printed per side turn its sample times into µs per request.
 */
import { loadTesting } from '../lib/emulator.mjs';
import { load } from '../lib/load.mjs';
import { median } from '../lib/measure.mjs';
import { credentials, requestHeaders, startGroup } from '../suites/http.mjs';

const [framework = 'fastify', roundsArg = '5', secondsArg = '2'] = process.argv.slice(2);
const variants = (process.env.VARIANTS ?? 'bare,oin,oin-bearer').split(',');
const testing = await loadTesting();
// The same start-up, configuration and sign-in as the http suites (a side that fails is left out).
const group = await startGroup({ note: (text) => console.warn(text) }, framework, variants, testing);
const { sides, org } = group;
// PIN=1: every thread of this process on one core, the servers on another (lib/pin.mjs, as the http suites do).
if (process.env.PIN) {
  const { pinForLoad } = await import('../lib/pin.mjs');
  pinForLoad(sides.map((s) => s.child.pid));
}
try {
  const creds = new Map();
  for (const side of sides) creds.set(side.variant, await credentials(side, org, testing));
  // Bare is sent the session cookie when there is a session side, else the bearer token.
  const headersFor = requestHeaders(creds, creds.has('oin') ? 'oin' : 'oin-bearer');
  const warm = new Map();
  for (const side of sides) warm.set(side.variant, (await load(`${side.baseUrl}/api/me`, { headers: headersFor(side), connections: 50, durationSec: 1 })).total);
  const samples = new Map(sides.map((s) => [s.variant, { rps: [], us: [], total: warm.get(s.variant) }]));
  for (let r = 0; r < Number(roundsArg); r++) {
    for (let k = 0; k < sides.length; k++) {
      const side = sides[(r + k) % sides.length];
      const before = await side.cpu();
      const m = await load(`${side.baseUrl}/api/me`, { headers: headersFor(side), connections: 50, durationSec: Number(secondsArg) });
      const used = (await side.cpu()) - before;
      samples.get(side.variant).rps.push(m.rps);
      samples.get(side.variant).total = (samples.get(side.variant).total ?? 0) + m.total;
      samples.get(side.variant).us.push(used / m.total);
    }
  }
  const bare = samples.get('bare');
  for (const [variant, s] of samples) {
    const us = median(s.us);
    const extra = bare ? ` (+${(us - median(bare.us)).toFixed(2)} µs vs bare, rps ratio ${(median(s.rps) / median(bare.rps)).toFixed(3)})` : '';
    const pid = sides.find((x) => x.variant === variant).child.pid;
    console.log(`${framework} ${variant.padEnd(10)} ${Math.round(median(s.rps)).toString().padStart(6)} req/s  ${us.toFixed(2)} µs CPU/req${extra}  [pid ${pid}, ${s.total} requests]`);
  }
} finally {
  await group.close();
}
