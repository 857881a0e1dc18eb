/**
 * §2.5 many tenants: memory per tenant with 100,000 tenants in MemoryCredentialStore (baseline:
 * a plain Map of the same records, what a hand-rolled app would keep), lookup rate (same
 * baseline), and JWKS cache memory with 10,000 orgs (baseline: one jose createRemoteJWKSet per
 * org). Measured in a child process started with --expose-gc; --quick uses 2,000 tenants and 200 orgs.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadCore } from '../lib/oin.mjs';

const CHILD = fileURLToPath(new URL('./tenants-child.mjs', import.meta.url));

export async function runTenants(results, { quick }) {
  const core = await loadCore();
  if (typeof core?.createMemoryCredentialStore !== 'function' || typeof core?.createJwksRegistry !== 'function') {
    results.note('tenants: @oin-oidc/core lacks createMemoryCredentialStore or createJwksRegistry; not measured');
    return;
  }
  const child = fork(CHILD, quick ? ['--quick'] : [], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const out = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`tenants child exited with ${code}`)));
  });
  const perTenant = (b) => b / out.tenants;
  console.log(
    `    ${out.tenants} tenants: store ${(out.storeBytes / 2 ** 20).toFixed(1)} MB (rss +${(out.storeRss / 2 ** 20).toFixed(1)} MB), plain Map ${(out.mapBytes / 2 ** 20).toFixed(1)} MB`,
  );
  console.log(
    `    ${out.orgs} orgs: JwksRegistry ${(out.registryBytes / 2 ** 20).toFixed(1)} MB (rss +${(out.registryRss / 2 ** 20).toFixed(1)} MB), jose x${out.orgs} ${(out.joseBytes / 2 ** 20).toFixed(1)} MB (rss +${(out.joseRss / 2 ** 20).toFixed(1)} MB)`,
  );
  results.add({
    id: `tenants.memory.vs-map`,
    subject: `MemoryCredentialStore, ${out.tenants.toLocaleString('en-US')} tenants`,
    baseline: 'plain Map of the raw records',
    subjectValue: perTenant(out.storeBytes),
    baselineValue: perTenant(out.mapBytes),
    unit: 'B/tenant',
  });
  results.note(`tenants.memory: ${out.tenants.toLocaleString('en-US')} tenants take ${(out.storeBytes / 2 ** 20).toFixed(1)} MB of heap+external in MemoryCredentialStore (target <= 100 MB for 100,000)`);
  results.add({
    id: 'tenants.lookup.vs-map',
    subject: 'MemoryCredentialStore.get',
    baseline: 'plain Map.get (awaited)',
    subjectValue: out.storeLookups,
    baselineValue: out.mapLookups,
    unit: 'ops/s',
  });
  results.add({
    id: 'jwks.memory.vs-jose',
    subject: `JwksRegistry, ${out.orgs.toLocaleString('en-US')} orgs x 2 keys`,
    baseline: `jose createRemoteJWKSet x${out.orgs.toLocaleString('en-US')}`,
    subjectValue: out.registryBytes / 2 ** 20,
    baselineValue: out.joseBytes / 2 ** 20,
    unit: 'MB',
  });
}
