#!/usr/bin/env node
/**
 * Summarise a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by package, so a
 * missed target can be traced to where the time goes.
 * Usage: node profile-summary.mjs file.cpuprofile [top] [function name: print the call paths into it]
 * REQUESTS=<n> (the request count tools/cost.mjs prints for that server) adds µs per request beside
 * each share, so two sides' profiles can be subtracted.
 */
import { readFileSync } from 'node:fs';

const [file, topArg, callersOf] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);

function pkgOf(url) {
  if (!url) return '(native/idle)';
  const m = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.includes('/packages/')) return '@oin-oidc/' + /\/packages\/([^/]+)/.exec(url)[1];
  if (url.startsWith('node:')) return 'node-internals';
  return url.split('/').slice(-2).join('/');
}

const fnTotals = new Map();
const pkgTotals = new Map();
for (const [id, t] of self) {
  const n = byId.get(id);
  const cf = n.callFrame;
  const key = `${cf.functionName || '(anonymous)'} ${pkgOf(cf.url)}:${cf.lineNumber + 1}`;
  fnTotals.set(key, (fnTotals.get(key) ?? 0) + t);
  const pkg = cf.url ? pkgOf(cf.url) : cf.functionName;
  pkgTotals.set(pkg, (pkgTotals.get(pkg) ?? 0) + t);
}
const requests = Number(process.env.REQUESTS ?? 0);
// Sample deltas are in µs; busy = every sample but the idle bucket.
const pct = (t) => `${((100 * t) / total).toFixed(1).padStart(5)}%${requests > 0 ? ` ${(t / requests).toFixed(2).padStart(7)} µs/req` : ''}`;
if (requests > 0) console.log(`${(total / 1000).toFixed(0)} ms sampled, ${requests} requests: ${(total / requests).toFixed(1)} µs/req in all (idle included)`);
console.log('self time by package / native bucket:');
for (const [k, t] of [...pkgTotals].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(t)}  ${k}`);
console.log('\nself time by function:');
for (const [k, t] of [...fnTotals].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(t)}  ${k}`);

if (callersOf) {
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map();
  for (const [id, t] of self) {
    // Attribute each sample under a matching frame to that frame's call path (4 callers up).
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      if (byId.get(cur).callFrame.functionName === callersOf) {
        const path = [];
        for (let p = cur, i = 0; p !== undefined && i < 6; p = parent.get(p), i++) {
          const cf = byId.get(p).callFrame;
          path.push(`${cf.functionName || '(anon)'}@${pkgOf(cf.url)}:${cf.lineNumber + 1}`);
        }
        const key = path.join(' < ');
        inclusive.set(key, (inclusive.get(key) ?? 0) + t);
        break;
      }
    }
  }
  console.log(`\ncall paths into ${callersOf} (inclusive):`);
  for (const [k, t] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${pct(t)}  ${k}`);
}
