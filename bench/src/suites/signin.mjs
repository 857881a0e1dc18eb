/**
 * §2.6 a full sign-in per adapter (GET /auth/login → emulator authorize with auto-login →
 * callback → session cookie) vs the same flow written by hand with openid-client 6 on Express.
 * The emulator runs in this process; each app runs in its own process, whose CPU time per
 * sign-in is read from the child (process.cpuUsage) — that is the app's own CPU share (framework
 * + SDK), against the wall time of the whole sign-in (which includes the emulator).
 * Sign-ins run one at a time, sides alternating in batches; the median wall time per sign-in is reported.
 */
import { performance } from 'node:perf_hooks';
import { signInThrough } from '../lib/browser.mjs';
import { CLIENT_ID, CLIENT_SECRET, SESSION_SECRET, loadTesting, startOrg, tenantRecord } from '../lib/emulator.mjs';
import { median } from '../lib/measure.mjs';
import { spawnServer } from '../lib/servers.mjs';

const SIDES = [
  ['express', 'oin'],
  ['fastify', 'oin'],
  ['hono', 'oin'],
  ['koa', 'oin'],
  ['express', 'openid-client'],
];

export async function runSignIn(results, { quick }) {
  const testing = await loadTesting();
  if (!testing) {
    results.note('signin: @oin-oidc/testing exports no startOktaOrg yet; not measured');
    return;
  }
  const rounds = quick ? 2 : 5;
  const batch = quick ? 4 : 15;
  const spawned = [];
  let org;
  try {
    const started = await Promise.allSettled(SIDES.map(([fw, variant]) => spawnServer(fw, variant)));
    for (const s of started) if (s.status === 'fulfilled') spawned.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    org = await startOrg(
      testing,
      spawned.map((s) => `${s.baseUrl}/auth/callback`),
    );
    const sides = [];
    for (const side of spawned) {
      const name = side.variant === 'oin' ? `@oin-oidc/${side.framework}` : 'openid-client 6 by hand (express)';
      try {
        await side.configure({
          issuer: org.issuer,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          sessionSecret: SESSION_SECRET,
          tenants: [tenantRecord(org.issuer, [`${side.baseUrl}/auth/callback`])],
        });
        const signIn = () => signInThrough(`${side.baseUrl}/auth/login?tenant=bench`, testing.driveAuthorization);
        const cookie = await signIn();
        const me = await fetch(`${side.baseUrl}/api/me`, { headers: { cookie, accept: 'application/json' } });
        if (me.status !== 200) throw new Error(`session not accepted after sign-in (${me.status})`);
        for (let i = 0; i < 2; i++) await signIn(); // warm-up
        sides.push({ side, name, signIn, wall: [], cpu: [] });
      } catch (error) {
        results.note(`signin ${side.framework}:${side.variant}: ${String(error.message).split('\n')[0]}; left out`);
      }
    }
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < sides.length; k++) {
        const s = sides[(r + k) % sides.length];
        const cpu0 = await s.side.cpu();
        for (let i = 0; i < batch; i++) {
          const t0 = performance.now();
          await s.signIn();
          s.wall.push(performance.now() - t0);
        }
        s.cpu.push((await s.side.cpu()) - cpu0);
      }
    }
    const baseline = sides.find((s) => s.side.variant === 'openid-client');
    for (const s of sides) {
      s.wallMs = median(s.wall);
      s.cpuMs = median(s.cpu) / batch / 1000;
      console.log(`    ${s.name}: ${s.wallMs.toFixed(1)} ms per sign-in (median), app process CPU ${s.cpuMs.toFixed(2)} ms per sign-in (${((100 * s.cpuMs) / s.wallMs).toFixed(0)}%)`);
    }
    if (!baseline) return;
    for (const s of sides) {
      if (s === baseline) continue;
      results.add({
        id: `signin.${s.side.framework}.vs-openid-client`,
        subject: `${s.name} full sign-in`,
        baseline: baseline.name,
        subjectValue: s.wallMs,
        baselineValue: baseline.wallMs,
        unit: 'ms',
      });
      results.add({
        id: `signin.${s.side.framework}.cpu.vs-openid-client`,
        subject: `${s.name} app CPU per sign-in`,
        baseline: `${baseline.name} app CPU`,
        subjectValue: s.cpuMs,
        baselineValue: baseline.cpuMs,
        unit: 'ms',
      });
    }
  } finally {
    await Promise.all(spawned.map((s) => s.close()));
    await org?.close();
  }
}
