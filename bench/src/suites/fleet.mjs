/**
 * Fleet benchmarks (docs/benchmarks.md, 'Fleet'): what the shared stores cost and save,
 * against what an app would use instead, in one run on real servers started here
 * (`@oin-oidc/testing/servers`: redis-server and PostgreSQL on 127.0.0.1, stopped by PID).
 *
 * 1. A Redis-backed session request: @oin-oidc/express with `session.store` (and
 *    `session.revocations`) from @oin-oidc/redis, vs express-session + connect-redis on the same
 *    redis-server, vs bare Express; autocannon, interleaved rounds (as the http suite).
 * 2. Tenant lookup through the Postgres store's in-process snapshot vs MemoryCredentialStore:
 *    `get(id)` and `findByIssuer(issuer)` over 13 tenants (10 orgs, 3 of them with two instances).
 * 3. Three processes of a fleet receive one new access token at once: `/introspect` calls counted
 *    by the emulator, with the introspection cache in Redis (`fleetSingleFlight`) vs per-process
 *    memory caches.
 * 4. The cost of a tenant record at rest: the decryption of its secret column (jose
 *    `compactDecrypt`, dir/A256GCM, as the store's field cipher does it) vs `parseTenant` of the
 *    plaintext record; and a full load through `createPostgresCredentialStore` per tenant vs
 *    `createMemoryCredentialStore` per tenant.
 * 5. The warm session path with revocation on (Universal Logout): `session.revocations` a
 *    MemoryRevocationList holding 10,000 session records and 1,000 subject marks of other users,
 *    vs the same adapter without it and vs the bare framework, all four adapters.
 *
 * Without redis-server or PostgreSQL the rows that need it are not measured (a note says why);
 * the run goes on.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { compactDecrypt, decodeProtectedHeader } from 'jose';
import { CookieJar, signInThrough } from '../lib/browser.mjs';
import { CLIENT_ID, CLIENT_SECRET, SESSION_SECRET, USER, loadTesting, startOrg, tenantRecord } from '../lib/emulator.mjs';
import { interleave, median } from '../lib/measure.mjs';
import { loadCore } from '../lib/oin.mjs';
import { preloadRevocations } from '../lib/revocations.mjs';
import { spawnServer } from '../lib/servers.mjs';
import { measureSides, requestHeaders, startGroup, timing as httpTiming } from './http.mjs';

const FRAMEWORKS = ['express', 'fastify', 'hono', 'koa'];
/** The revocation list is pre-loaded with 10,000 session records and 1,000 subject marks of other users. */
const REVOCATIONS = { sessions: 10_000, subjects: 1_000 };
const PROCESSES = 3;
/** Requests each process receives at once, all with the same new token. */
const PER_PROCESS = 10;

const firstLine = (error) => String(error?.message ?? error).split('\n')[0];

function microTiming(quick) {
  // The id-token suite's rounds: quick is a smoke run, not a number to quote.
  return quick ? { rounds: 2, roundMs: 100, warmupMs: 50 } : { rounds: 9, roundMs: 300, warmupMs: 300 };
}

export async function runFleet(results, { quick }) {
  // @oin-oidc/testing/servers unrefs its server processes (a forgotten one must not keep a test
  // run alive), so awaiting their start or stop alone would let the event loop run dry and end
  // the bench mid-suite (exit 13). This timer keeps it alive until the suite is done.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    await runParts(results, { quick });
  } finally {
    clearInterval(keepAlive);
  }
}

async function runParts(results, { quick }) {
  const testing = await loadTesting();
  const core = await loadCore();
  let servers;
  try {
    servers = await import('@oin-oidc/testing/servers');
  } catch (error) {
    results.note(`fleet: @oin-oidc/testing/servers could not be loaded (${firstLine(error)}); Redis and Postgres rows not measured`);
  }

  // In-process micro measurements first, while this process's heap holds nothing of the HTTP parts.
  const pg = servers && (await start(results, 'PostgreSQL', () => servers.startPostgres()));
  if (pg) {
    try {
      await postgresTenants(results, { quick, core, url: pg.url });
    } finally {
      await pg.stop();
    }
  }

  if (!testing) {
    results.note('fleet: @oin-oidc/testing exports no startOktaOrg; HTTP rows not measured');
    return;
  }
  await revocationCheck(results, { quick, testing, core });
  await revocationsOn(results, { quick, testing });

  const redis = servers && (await start(results, 'redis-server', () => servers.startRedisServer()));
  if (redis) {
    try {
      await redisSession(results, { quick, testing, redisUrl: redis.url });
      await threeProcesses(results, { quick, testing, redisUrl: redis.url });
    } finally {
      await redis.stop();
    }
  }
}

async function start(results, name, fn) {
  try {
    return await fn();
  } catch (error) {
    results.note(`fleet: ${name} could not be started (${firstLine(error)}); its rows are not measured`);
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP sides

/** What a client of `side` sends once signed in. */
async function credentialsFor(side, testing) {
  switch (side.variant) {
    case 'oin':
    case 'oin-revocations':
    case 'oin-redis':
      return { cookie: await signInThrough(`${side.baseUrl}/auth/login?tenant=bench`, testing.driveAuthorization) };
    case 'express-session': {
      const jar = new CookieJar();
      const res = await fetch(`${side.baseUrl}/bench/sign-in`, { method: 'POST' });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`express-session sign-in: ${res.status}`);
      jar.store(res);
      return { cookie: jar.header() };
    }
    default:
      return {};
  }
}

async function check(url, headers) {
  const res = await fetch(url, { headers, redirect: 'manual' });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${text.slice(0, 200)}`);
}

/**
 * Start `variants` of one framework, sign each in, check each serves /api/me, then load them in
 * interleaved rounds. The bare side is sent the subject's cookie. Returns Map variant -> medians.
 */
async function loadGroup(results, { framework, variants, subject, testing, extra, t }) {
  const group = await startGroup(results, framework, variants, testing, extra);
  try {
    const creds = new Map();
    for (const side of group.sides) {
      try {
        creds.set(side.variant, await credentialsFor(side, testing));
      } catch (error) {
        results.note(`fleet ${framework}:${side.variant}: sign-in failed (${firstLine(error)}); left out`);
      }
    }
    const headersFor = requestHeaders(creds, subject);
    const sides = [];
    for (const side of group.sides) {
      if (side.variant !== 'bare' && !creds.has(side.variant)) continue;
      try {
        await check(`${side.baseUrl}/api/me`, headersFor(side));
        sides.push(side);
      } catch (error) {
        results.note(`fleet ${framework}:${side.variant}: authenticated request failed (${firstLine(error)}); left out`);
      }
    }
    if (sides.length < 2) return new Map();
    const m = await measureSides(sides, headersFor, t);
    for (const [v, x] of m) console.log(`    ${framework} ${v}: ${Math.round(x.rps)} req/s (rounds ${Math.round(x.min)}-${Math.round(x.max)}), p99 ${x.p99} ms`);
    return m;
  } finally {
    await group.close();
  }
}

function addPair(results, id, m, subject, baseline, labels) {
  const s = m.get(subject);
  const b = m.get(baseline);
  if (!s || !b) return;
  results.add({ id: `${id}.rps`, subject: labels[subject], baseline: labels[baseline], subjectValue: s.rps, baselineValue: b.rps, unit: 'req/s' });
  results.add({ id: `${id}.p99`, subject: labels[subject], baseline: labels[baseline], subjectValue: s.p99, baselineValue: b.p99, unit: 'ms' });
}

// ---------------------------------------------------------------------------------------------
// 5. Warm session path with revocation on

async function revocationsOn(results, { quick, testing }) {
  const t = httpTiming(quick);
  // Quick: Express only (a smoke run); full: all four adapters.
  for (const framework of quick ? ['express'] : FRAMEWORKS) {
    const labels = {
      bare: `bare ${framework}`,
      oin: `@oin-oidc/${framework} session`,
      'oin-revocations': `@oin-oidc/${framework} session, revocations on (${REVOCATIONS.sessions.toLocaleString('en-US')} sessions + ${REVOCATIONS.subjects.toLocaleString('en-US')} users revoked)`,
    };
    const m = await loadGroup(results, {
      framework,
      variants: ['bare', 'oin', 'oin-revocations'],
      subject: 'oin-revocations',
      testing,
      extra: { revocations: REVOCATIONS },
      t,
    });
    addPair(results, `session.${framework}.revocations-vs-bare`, m, 'oin-revocations', 'bare', labels);
    addPair(results, `session.${framework}.revocations-vs-oin`, m, 'oin-revocations', 'oin', labels);
    // Today's ratio, measured in the same rounds, for "still >= 0.9x bare where it is today".
    addPair(results, `session.${framework}.revocations-off-vs-bare`, m, 'oin', 'bare', labels);
  }
}

/**
 * The same warm read without the HTTP server around it, so the check's own cost is not lost in
 * the rounds' spread: `createOidcAuth(...).getSession(req)` on a fresh `fromHeaderMap` request
 * (what the Express, Fastify and Koa adapters build per request) carrying a signed-in session
 * cookie, with and without the pre-loaded list. Afterwards the user is revoked in the list, and
 * the read must then refuse the session: proof that the measured path consulted it.
 */
async function revocationCheck(results, { quick, testing, core }) {
  if (typeof core?.createOidcAuth !== 'function' || typeof core.MemoryRevocationList !== 'function' || typeof core.fromHeaderMap !== 'function') {
    results.note('fleet: @oin-oidc/core lacks createOidcAuth, fromHeaderMap or MemoryRevocationList; revocation check cost not measured');
    return;
  }
  const host = '127.0.0.1:3000';
  const redirectUri = `http://${host}/auth/callback`;
  const org = await startOrg(testing, [redirectUri]);
  try {
    const record = tenantRecord(org.issuer, [redirectUri]);
    const list = await preloadRevocations(new core.MemoryRevocationList(), { ...REVOCATIONS, tenant: record.id });
    const options = { store: [record], tenant: 'query', client: { allowLoopbackIssuers: true } };
    const off = core.createOidcAuth({ ...options, session: { secret: SESSION_SECRET } });
    const on = core.createOidcAuth({ ...options, session: { secret: SESSION_SECRET, revocations: list } });
    const request = (target, cookie) =>
      core.fromHeaderMap({ method: 'GET', basePath: '', protocol: 'http', host, target, headers: cookie ? { host, cookie } : { host }, readBody: async () => '' });
    const cookie = await signInInProcess(off, request, testing);

    const read = async (auth) => {
      const { session } = await auth.getSession(request('/api/me', cookie));
      if (session === null) throw new Error('the warm session read found no session');
      return session;
    };
    const { sub } = await read(on);
    const m = await interleave(
      [
        { name: 'off', fn: () => read(off) },
        { name: 'on', fn: () => read(on) },
      ],
      microTiming(quick),
    );
    const us = (name) => 1e6 / m.get(name).median;
    console.log(`    warm getSession: revocations off ${us('off').toFixed(2)} µs, on ${us('on').toFixed(2)} µs (+${(us('on') - us('off')).toFixed(2)} µs)`);

    await list.add({ key: `subject:${record.id}\n${sub}`, revokedAt: Date.now(), until: Date.now() + 86_400_000 });
    const after = await on.getSession(request('/api/me', cookie));
    if (after.session !== null) throw new Error('a revoked user\'s session was still accepted: the list was not consulted');
    results.add({
      id: 'session.core.revocations-vs-off',
      subject: `createOidcAuth().getSession, warm, revocations on (${REVOCATIONS.sessions.toLocaleString('en-US')} sessions + ${REVOCATIONS.subjects.toLocaleString('en-US')} users)`,
      baseline: 'the same without session.revocations',
      subjectValue: m.get('on').median,
      baselineValue: m.get('off').median,
      unit: 'ops/s',
    });
  } finally {
    await org.close();
  }
}

/** Sign in through `auth.handle` (login → emulator → callback) without a server; returns the Cookie header. */
async function signInInProcess(auth, request, testing) {
  const jar = new Map();
  const keep = (setCookies) => {
    for (const line of setCookies) {
      const pair = line.split(';')[0];
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1);
      if (value === '' || /max-age=0/i.test(line)) jar.delete(pair.slice(0, eq));
      else jar.set(pair.slice(0, eq), value);
    }
  };
  const header = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const login = await auth.handle(request('/auth/login?tenant=bench'));
  if (login?.status !== 302) throw new Error(`in-process login: ${login?.status}`);
  keep(login.setCookies);
  const callback = await testing.driveAuthorization(new URL(login.headers.location ?? login.headers.Location));
  const url = new URL(callback.url);
  if (callback.method !== 'GET') throw new Error(`in-process sign-in: a ${callback.method} callback`);
  const done = await auth.handle(request(`${url.pathname}${url.search}`, header()));
  if (!done || done.status >= 400) throw new Error(`in-process callback: ${done?.status} ${done?.body?.slice(0, 200)}`);
  keep(done.setCookies);
  return header();
}

// ---------------------------------------------------------------------------------------------
// 1. Redis-backed session request vs express-session + connect-redis

async function redisSession(results, { quick, testing, redisUrl }) {
  const labels = {
    bare: 'bare express',
    'oin-redis': '@oin-oidc/express session in Redis (@oin-oidc/redis sessionStore + revocationList)',
    'express-session': 'express-session 1.19.0 + connect-redis 9.0.0',
  };
  const m = await loadGroup(results, {
    framework: 'express',
    variants: ['bare', 'oin-redis', 'express-session'],
    subject: 'oin-redis',
    testing,
    extra: { redisUrl, redisPrefix: 'sessions', user: { sub: '00u1benchuser', ...USER.claims, preferred_username: USER.login } },
    t: httpTiming(quick),
  });
  addPair(results, 'fleet.session-redis.express.vs-express-session', m, 'oin-redis', 'express-session', labels);
  addPair(results, 'fleet.session-redis.express.vs-bare', m, 'oin-redis', 'bare', labels);
}

// ---------------------------------------------------------------------------------------------
// 3. Three processes x one new token -> /introspect calls

async function threeProcesses(results, { quick, testing, redisUrl }) {
  const trials = quick ? 2 : 5;
  const procs = [];
  let org;
  try {
    const spawned = await Promise.allSettled(Array.from({ length: PROCESSES * 2 }, () => spawnServer('express', 'oin-bearer')));
    for (const s of spawned) if (s.status === 'fulfilled') procs.push(s.value);
    const failed = spawned.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    org = await startOrg(testing, procs.map((p) => `${p.baseUrl}/auth/callback`));
    // One key for the shared cache's HMAC'd keys, the same in every process of the fleet.
    const cacheKeySecret = randomBytes(32).toString('base64url');
    const fleets = { redis: procs.slice(0, PROCESSES), memory: procs.slice(PROCESSES) };
    for (const [mode, members] of Object.entries(fleets)) {
      for (const p of members) {
        await p.configure({
          issuer: org.issuer,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          sessionSecret: SESSION_SECRET,
          tenants: [tenantRecord(org.issuer, [`${p.baseUrl}/auth/callback`])],
          ...(mode === 'redis' ? { redisUrl, redisPrefix: 'introspect', cacheKeySecret } : {}),
        });
      }
    }
    const issue = () => org.control.issueAccessToken(CLIENT_ID, { scope: 'openid profile email' });
    const send = async (members, token) => {
      const statuses = await Promise.all(
        members.flatMap((p) =>
          Array.from({ length: PER_PROCESS }, () =>
            fetch(`${p.baseUrl}/api/me`, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } }).then(async (r) => {
              await r.arrayBuffer();
              return r.status;
            }),
          ),
        ),
      );
      return statuses.filter((s) => s !== 200).length;
    };
    // Warm each process (discovery, keys, connections) with a token of its own, one at a time.
    for (const p of procs) await send([p], await issue());

    const counts = { redis: [], memory: [] };
    for (let trial = 0; trial < trials; trial++) {
      // Alternate which fleet goes first, as the other suites rotate their contenders.
      const order = trial % 2 === 0 ? ['redis', 'memory'] : ['memory', 'redis'];
      for (const mode of order) {
        const token = await issue();
        org.control.resetCounters();
        const bad = await send(fleets[mode], token);
        if (bad > 0) results.note(`fleet.introspect (${mode}): ${bad} of ${PROCESSES * PER_PROCESS} requests did not get 200`);
        counts[mode].push(org.control.counters().introspect);
      }
    }
    console.log(`    /introspect calls per new token, ${trials} trials: Redis ${counts.redis.join(', ')}; memory ${counts.memory.join(', ')}`);
    results.add({
      id: 'fleet.introspect.three-processes',
      subject: `${PROCESSES} processes x ${PER_PROCESS} concurrent requests, 1 new token, cache in Redis (fleetSingleFlight), worst of ${trials}`,
      baseline: `the same ${PROCESSES} processes with per-process memory caches, worst of ${trials}`,
      subjectValue: Math.max(...counts.redis),
      baselineValue: Math.max(...counts.memory),
      unit: 'calls',
    });
  } finally {
    await Promise.all([...procs.map((p) => p.close()), org?.close()]);
  }
}

// ---------------------------------------------------------------------------------------------
// 2 and 4. Tenants in PostgreSQL

/** 13 tenants: 10 orgs, 3 of them with two app instances (two client ids under one issuer). */
export function fleetTenantRecords(count = 10, twice = 3, prefix = 'org') {
  const records = [];
  for (let i = 0; i < count; i++) {
    const issuer = `https://${prefix}${i}.okta.example.com`;
    for (let k = 0; k < (i < twice ? 2 : 1); k++) {
      records.push({
        id: `${prefix}${i}-${k === 0 ? 'a' : 'b'}`,
        issuer,
        clientId: `0oa${prefix}${i}${k}bench`,
        clientSecret: randomBytes(32).toString('base64url'),
        redirectUris: [`https://app.example.com/auth/callback`],
      });
    }
  }
  return records;
}

/**
 * The store's field cipher (packages/postgres/src/field-cipher.ts) is internal; this is its
 * decrypt step by step, with the same jose calls and checks: protected header decoded, key
 * chosen by kid, compactDecrypt (dir/A256GCM only), the tenant and column binding read from the
 * authenticated header, JSON.parse.
 */
async function fieldDecryptor(keys) {
  const byKid = new Map();
  for (const { kid, key } of keys) byKid.set(kid, await crypto.subtle.importKey('raw', key, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']));
  const options = { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] };
  const decoder = new TextDecoder();
  return async (jwe, tenantId, field) => {
    const header = decodeProtectedHeader(jwe);
    const key = byKid.get(header.kid);
    if (!key || header.alg !== 'dir' || header.enc !== 'A256GCM') throw new Error('unexpected ciphertext header');
    const { plaintext, protectedHeader } = await compactDecrypt(jwe, key, options);
    if (protectedHeader.oin_tid !== tenantId || protectedHeader.oin_fld !== field) throw new Error('ciphertext bound elsewhere');
    return JSON.parse(decoder.decode(plaintext));
  };
}

async function postgresTenants(results, { quick, core, url }) {
  let pgmod;
  let postgres;
  try {
    [pgmod, postgres] = await Promise.all([import('pg'), import('@oin-oidc/postgres')]);
  } catch (error) {
    results.note(`fleet: @oin-oidc/postgres or pg could not be loaded (${firstLine(error)}); Postgres rows not measured`);
    return;
  }
  const pool = new pgmod.default.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {});
  const stores = [];
  try {
    const encryptionKeys = [{ kid: 'bench-1', key: new Uint8Array(randomBytes(32)) }];
    await postgres.migrate(pool);
    const records = fleetTenantRecords();
    const pgStore = await postgres.createPostgresCredentialStore({ pool, encryptionKeys, onEvent: () => {} });
    stores.push(pgStore);
    await postgres.upsertTenants(pgStore, records);
    const memory = core.createMemoryCredentialStore(records);

    // Both must answer the same: a store that answered nothing would look fast.
    for (const r of records) {
      const [a, b] = [await pgStore.get(r.id), await memory.get(r.id)];
      if (!a || a.clientId !== b.clientId || a.auth.secrets[0].value !== r.clientSecret) throw new Error(`postgres store: tenant ${r.id} differs from the memory store's`);
    }
    const ids = records.map((r) => r.id);
    const issuers = [...new Set(records.map((r) => r.issuer))];
    // One function literal per contender (a shared wrapper would make its call site polymorphic
    // across contenders), each checking its answer as the tenants suite does.
    const c = [0, 0, 0, 0];
    const m = await interleave(
      [
        { name: 'pg.get', fn: async () => { if (!(await pgStore.get(ids[c[0]++ % ids.length]))) throw new Error('miss'); } },
        { name: 'memory.get', fn: async () => { if (!(await memory.get(ids[c[1]++ % ids.length]))) throw new Error('miss'); } },
        { name: 'pg.findByIssuer', fn: async () => { if ((await pgStore.findByIssuer(issuers[c[2]++ % issuers.length])).length === 0) throw new Error('miss'); } },
        { name: 'memory.findByIssuer', fn: async () => { if ((await memory.findByIssuer(issuers[c[3]++ % issuers.length])).length === 0) throw new Error('miss'); } },
      ],
      microTiming(quick),
    );
    for (const [name, x] of m) console.log(`    ${name}: ${Math.round(x.median)} ops/s (rounds ${Math.round(Math.min(...x.samples))}-${Math.round(Math.max(...x.samples))})`);
    const n = `${records.length} tenants, ${issuers.length} orgs`;
    results.add({
      id: 'fleet.tenants.get.vs-memory',
      subject: `PostgresCredentialStore.get (snapshot), ${n}`,
      baseline: 'MemoryCredentialStore.get',
      subjectValue: m.get('pg.get').median,
      baselineValue: m.get('memory.get').median,
      unit: 'ops/s',
    });
    results.add({
      id: 'fleet.tenants.find-by-issuer.vs-memory',
      subject: `PostgresCredentialStore.findByIssuer (snapshot), ${n}`,
      baseline: 'MemoryCredentialStore.findByIssuer',
      subjectValue: m.get('pg.findByIssuer').median,
      baselineValue: m.get('memory.findByIssuer').median,
      unit: 'ops/s',
    });

    // 4a. One record's secret column: decrypt (what the store adds per row) vs parseTenant.
    const { rows } = await pool.query('SELECT id, issuer, client_id, record, client_secrets FROM oin_oidc.tenants ORDER BY id');
    if (rows.length !== records.length || rows.some((row) => typeof row.client_secrets !== 'string' || row.client_secrets.includes(records.find((r) => r.id === row.id).clientSecret))) {
      throw new Error('postgres store: the client_secrets column does not hold ciphertext');
    }
    const decrypt = await fieldDecryptor(encryptionKeys);
    const byId = new Map(records.map((r) => [r.id, r]));
    const plain = rows.map((row) => byId.get(row.id));
    // The decryption measured must open what the store wrote.
    if (!JSON.stringify(await decrypt(rows[0].client_secrets, rows[0].id, 'clientSecrets')).includes(plain[0].clientSecret)) {
      throw new Error('decrypting the store\'s ciphertext did not give the record\'s secret');
    }
    const d = [0, 0];
    const micro = await interleave(
      [
        {
          name: 'decrypt',
          fn: async () => {
            const row = rows[d[0]++ % rows.length];
            await decrypt(row.client_secrets, row.id, 'clientSecrets');
          },
        },
        { name: 'parseTenant', fn: async () => core.parseTenant(plain[d[1]++ % plain.length]) },
      ],
      microTiming(quick),
    );
    const us = (name) => 1e6 / micro.get(name).median;
    console.log(`    decrypt ${us('decrypt').toFixed(1)} µs, parseTenant ${us('parseTenant').toFixed(1)} µs per record`);
    results.add({
      id: 'fleet.tenants.decrypt-vs-parse',
      subject: 'decrypt one record\'s client_secrets (jose compactDecrypt, dir/A256GCM, binding checked)',
      baseline: 'parseTenant of the plaintext record (what MemoryCredentialStore does per record)',
      subjectValue: us('decrypt'),
      baselineValue: us('parseTenant'),
      unit: 'µs',
    });

    // 4b. A full load per tenant: createPostgresCredentialStore (query, decrypt, parse, snapshot)
    // vs createMemoryCredentialStore, over more tenants in their own schema so the query's round
    // trip is not what is measured.
    const many = quick ? 100 : 1000;
    const manyRecords = fleetTenantRecords(many, 0, 'load');
    await postgres.migrate(pool, { schema: 'bench_load' });
    const seeder = await postgres.createPostgresCredentialStore({ pool, encryptionKeys, schema: 'bench_load', listen: false, onEvent: () => {} });
    stores.push(seeder);
    const t0 = performance.now();
    await postgres.upsertTenants(seeder, manyRecords);
    console.log(`    seeded ${many} tenants in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const loadPg = async () => {
      const s = await postgres.createPostgresCredentialStore({ pool, encryptionKeys, schema: 'bench_load', listen: false, onEvent: () => {} });
      if (s.size !== many) throw new Error(`postgres load: ${s.size} of ${many} tenants`);
      await s.close();
    };
    const loadMemory = async () => {
      const s = core.createMemoryCredentialStore(manyRecords);
      if ((await s.get(manyRecords[many - 1].id)) === undefined) throw new Error('memory load: tenant missing');
    };
    const loads = await interleaveSlow([{ name: 'pg', fn: loadPg }, { name: 'memory', fn: loadMemory }], quick ? { rounds: 2, perRound: 2 } : { rounds: 7, perRound: 3 });
    const perTenant = (name) => (loads.get(name) * 1000) / many;
    console.log(`    full load of ${many}: Postgres ${loads.get('pg').toFixed(1)} ms, memory ${loads.get('memory').toFixed(1)} ms`);
    results.add({
      id: 'fleet.tenants.load.vs-memory',
      subject: `createPostgresCredentialStore full load (query + decrypt + parseTenant), per tenant of ${many.toLocaleString('en-US')}`,
      baseline: `createMemoryCredentialStore(${many.toLocaleString('en-US')} records), per tenant`,
      subjectValue: perTenant('pg'),
      baselineValue: perTenant('memory'),
      unit: 'µs',
    });
  } finally {
    for (const s of stores) await s.close().catch(() => {});
    await pool.end().catch(() => {});
  }
}

/**
 * For operations of milliseconds (timeBox reads the clock every 16 calls): `perRound` calls of
 * each contender per round, the starting contender rotating, after one warm-up call each.
 * Returns Map name -> median ms per call.
 */
async function interleaveSlow(contenders, { rounds, perRound }) {
  for (const c of contenders) await c.fn();
  const samples = new Map(contenders.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(r + k) % contenders.length];
      const t0 = performance.now();
      for (let i = 0; i < perRound; i++) await c.fn();
      samples.get(c.name).push((performance.now() - t0) / perRound);
    }
  }
  return new Map([...samples].map(([name, s]) => [name, median(s)]));
}
