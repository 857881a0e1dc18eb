#!/usr/bin/env node
/**
 * Side-by-side CPU profiles of one framework's servers (from `BENCH_PROFILE_DIR=<dir> PIN=1
 * node bench/src/tools/cost.mjs <framework>`): per package and per oin-oidc function, the server CPU
 * µs per request, counting only the samples of the load window (from the first response write plus
 * 1.2 s, past start-up, sign-in and warm-up, to the last write) and scaling each share of the busy
 * samples by the CPU µs per request cost.mjs measured for that side. Start-up work (zod option
 * parsing, module loading) therefore does not show up as per-request cost.
 *
 *   node bench/src/tools/profile-diff.mjs <dir> <pid>:<cpuUsPerReq> [<pid>:<cpuUsPerReq> ...]
 *
 * The first side is the baseline (bare); packages are sorted by how much more the others spend.
 */
import { readdirSync, readFileSync } from 'node:fs';
function load(file, cpu) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const ts = []; let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) { t += p.timeDeltas[i]; ts.push(t); }
  const isWrite = (id) => /^(writev|writeGeneric|writeBuffer)$/.test(byId.get(id).callFrame.functionName);
  let first = -1, last = -1;
  for (let i = 0; i < p.samples.length; i++) if (isWrite(p.samples[i])) { if (first < 0) first = ts[i]; last = ts[i]; }
  const from = first + 1.2e6;
  const pk = new Map(), fn = new Map(); let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    if (ts[i] < from || ts[i] > last) continue;
    const cf = byId.get(p.samples[i]).callFrame; const dt = p.timeDeltas[i] ?? 0;
    if (cf.functionName === '(idle)') continue; busy += dt;
    const u = cf.url; let k;
    if (!u) k = cf.functionName || '(native)'; else if (/\/packages\/([^/]+)\//.test(u)) k = '@oin-oidc/' + /\/packages\/([^/]+)\//.exec(u)[1];
    else { const m = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(u); k = m ? m[1] : u.startsWith('node:') ? 'node-internals' : 'other'; }
    pk.set(k, (pk.get(k) ?? 0) + dt);
    if (k.startsWith('@oin-oidc')) { const f = `${cf.functionName || '(anon)'} ${u.split('/packages/')[1]}:${cf.lineNumber + 1}`; fn.set(f, (fn.get(f) ?? 0) + dt); }
  }
  const us = (x) => (x / busy) * cpu;
  return { pk: new Map([...pk].map(([k, x]) => [k, us(x)])), fn: [...fn].map(([k, x]) => [k, us(x)]).sort((a, b) => b[1] - a[1]), windowSec: (last - from) / 1e6 };
}
const [fw, ...sides] = process.argv.slice(2);
if (!fw || sides.length === 0) {
  console.error('usage: profile-diff.mjs <dir> <pid>:<cpuUsPerReq> ...');
  process.exit(2);
}
const res = sides.map((s) => { const [pid, c] = s.split(':'); return load(`${fw}/${readdirSync(fw).find((f) => f.includes(`.${pid}.`))}`, +c); });
const keys = [...new Set(res.flatMap((r) => [...r.pk.keys()]))].sort((a, b) => Math.max(...res.slice(1).map((r) => (r.pk.get(b) ?? 0))) - (res[0].pk.get(b) ?? 0) - (Math.max(...res.slice(1).map((r) => (r.pk.get(a) ?? 0))) - (res[0].pk.get(a) ?? 0)));
console.log(`${fw}: CPU µs/req by package in the load window (${res.map((r) => r.windowSec.toFixed(1) + ' s').join(', ')}), sides in argument order`);
for (const k of keys.slice(0, 8)) console.log(`  ${k.padEnd(24)} ${res.map((r) => (r.pk.get(k) ?? 0).toFixed(2).padStart(7)).join(' ')}`);
for (let i = 1; i < res.length; i++) { console.log(`  side ${i + 1} (${sides[i]}) top @oin-oidc frames (self):`); for (const [k, v] of res[i].fn.slice(0, 7)) console.log(`     ${v.toFixed(2).padStart(6)}  ${k}`); }
