/**
 * Runs in its own process with --expose-gc (forked by tenants.mjs), so heap deltas are not
 * polluted by the rest of the bench. Prints one JSON object on IPC.
 * Memory = (heapUsed + external) after a full GC, minus the same before; the objects measured are
 * built inside the window (strings included) and only the structure under test keeps them.
 */
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, exportJWK, generateKeyPair } from 'jose';
import { interleave } from '../lib/measure.mjs';

const quick = process.argv.includes('--quick');
const TENANTS = quick ? 2_000 : 100_000;
const ORGS = quick ? 200 : 10_000;

function settle() {
  for (let i = 0; i < 4; i++) global.gc();
}
function used() {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}
async function measure(build) {
  settle();
  const before = used();
  const rssBefore = process.memoryUsage().rss;
  const kept = await build();
  settle();
  const bytes = used() - before;
  const rss = process.memoryUsage().rss - rssBefore;
  return { kept, bytes, rss };
}

function record(i) {
  return {
    id: `tenant-${i}`,
    issuer: `https://org${i}.okta.com`,
    clientId: `0oa${randomBytes(8).toString('hex')}`,
    clientSecret: randomBytes(30).toString('base64url'),
    redirectUris: [`https://app.example.com/auth/callback`],
  };
}

// The JWKS registry and the transport moved to the protocol subpath; `--compare` may load an older
// build that has them on the root entry only, so take both and let the subpath win.
const core = { ...(await import('@oin-oidc/core')), ...(await import('@oin-oidc/core/protocol').catch(() => ({}))) };
const out = { tenants: TENANTS, orgs: ORGS };

// Tenants: MemoryCredentialStore vs a plain Map of the same records.
const store = await measure(() => {
  const s = core.createMemoryCredentialStore(Array.from({ length: TENANTS }, (_, i) => record(i)));
  return s;
});
const map = await measure(() => new Map(Array.from({ length: TENANTS }, (_, i) => [`tenant-${i}`, record(i)])));
out.storeBytes = store.bytes;
out.storeRss = store.rss;
out.mapBytes = map.bytes;
out.mapRss = map.rss;
{
  let i = 0;
  let j = 0;
  const ids = Array.from({ length: 4096 }, () => `tenant-${Math.floor(Math.random() * TENANTS)}`);
  const s = store.kept;
  const m = map.kept;
  const r = await interleave(
    [
      { name: 'store', fn: async () => { if (!(await s.get(ids[i++ & 4095]))) throw new Error('miss'); } },
      { name: 'map', fn: async () => { if (!m.get(ids[j++ & 4095])) throw new Error('miss'); } },
    ],
    quick ? { rounds: 3, roundMs: 100, warmupMs: 50 } : { rounds: 5, roundMs: 400, warmupMs: 200 },
  );
  out.storeLookups = r.get('store').median;
  out.mapLookups = r.get('map').median;
}
store.kept = null;
map.kept = null;

// JWKS caches for ORGS orgs, two RS256 keys each (Okta publishes one or two), served locally.
const material = [];
for (let k = 0; k < 8; k++) {
  const { publicKey } = await generateKeyPair('RS256', { extractable: true });
  material.push(await exportJWK(publicKey));
}
const server = createServer((req, res) => {
  const org = /\/org(\d+)\//.exec(req.url)?.[1] ?? '0';
  const keys = [0, 1].map((k) => ({ ...material[(Number(org) * 2 + k) % 8], kid: `org${org}-k${k}`, alg: 'RS256', use: 'sig' }));
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' });
  res.end(JSON.stringify({ keys }));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

async function fill(getKey) {
  const batch = 50;
  for (let i = 0; i < ORGS; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, ORGS - i) }, (_, k) => getKey(i + k)));
  }
}

const registry = await measure(async () => {
  const reg = core.createJwksRegistry(core.createTransport(), { maxIssuers: ORGS });
  await fill((i) => reg.getKey(`${base}/org${i}`, `${base}/org${i}/oauth2/v1/keys`, { alg: 'RS256', kid: `org${i}-k0` }));
  return reg;
});
out.registryBytes = registry.bytes;
out.registryRss = registry.rss;
registry.kept = null;
const jose = await measure(async () => {
  const sets = [];
  await fill(async (i) => {
    const set = createRemoteJWKSet(new URL(`${base}/org${i}/oauth2/v1/keys`));
    sets.push(set);
    await set({ alg: 'RS256', kid: `org${i}-k0` });
  });
  return sets;
});
out.joseBytes = jose.bytes;
out.joseRss = jose.rss;
server.close();
process.send(out, () => process.exit(0));
