import { describe, expect, it } from 'vitest';
import { createSealer } from '../src/crypto/seal';
import { SessionManager } from '../src/session/session-manager';
import { MAX_CONCURRENT_TRANSACTIONS, TransactionCookies } from '../src/session/transaction-cookie';
import type { Session, SessionStore } from '../src/session/types';

const OLD = 'old-secret-0123456789-0123456789-abcdef';
const NEW = 'new-secret-0123456789-0123456789-abcdef';
const OTHER = 'foreign-secret-0123456789-0123456789-xyz';
const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** A minimal browser cookie jar: applies Set-Cookie values (Max-Age=0 deletes) and renders a Cookie header. */
class Jar {
  readonly cookies = new Map<string, string>();
  apply(setCookies: string[]): void {
    for (const header of setCookies) {
      const [pair = ''] = header.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      if (/;\s*Max-Age=0(;|$)/.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
  }
  header(): string | null {
    return this.cookies.size === 0 ? null : [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }
}

function clock(start = Date.UTC(2026, 0, 1)) {
  const c = { t: start, now: () => c.t };
  return c;
}

function setup(options: { secrets?: string[]; store?: SessionStore; claims?: string[]; rollingSec?: number; absoluteSec?: number } = {}) {
  const c = clock();
  const sealer = createSealer(options.secrets ?? [NEW], { now: c.now });
  const manager = new SessionManager({
    sealer,
    now: c.now,
    ...(options.store ? { store: options.store } : {}),
    ...(options.claims ? { claims: options.claims } : {}),
    ...(options.rollingSec ? { rollingSec: options.rollingSec } : {}),
    ...(options.absoluteSec ? { absoluteSec: options.absoluteSec } : {}),
  });
  return { c, sealer, manager, jar: new Jar() };
}

/** Like {@link setup}, counting the unseals that reach the sealer. */
function countingSetup(options: { store?: SessionStore; claims?: string[]; rollingSec?: number; absoluteSec?: number } = {}) {
  const c = clock();
  const sealer = createSealer([NEW], { now: c.now });
  const unseals = { count: 0 };
  const manager = new SessionManager({
    sealer: {
      seal: (...args) => sealer.seal(...args),
      unseal: (...args) => {
        unseals.count++;
        return sealer.unseal(...args);
      },
    },
    now: c.now,
    ...(options.store ? { store: options.store } : {}),
    ...(options.claims ? { claims: options.claims } : {}),
    ...(options.rollingSec ? { rollingSec: options.rollingSec } : {}),
    ...(options.absoluteSec ? { absoluteSec: options.absoluteSec } : {}),
  });
  return { c, manager, jar: new Jar(), unseals };
}

const SIGN_IN = {
  tenant: 'acme',
  issuer: 'https://acme.okta.com',
  clientId: '0oa-acme',
  sub: '00u1',
  claims: { sub: '00u1', name: 'Alice', email: 'alice@example.com', groups: ['a'], nonce: 'n', iss: 'https://acme.okta.com' },
  idToken: 'eyJ.header.sig',
};

describe('SessionManager', () => {
  it('creates a sealed session with the default claims subset and reads it back', async () => {
    const { manager, jar, c } = setup();
    const created = await manager.create({ cookieHeader: null, secure: false }, SIGN_IN);
    expect(created.session.claims).toEqual({ name: 'Alice', email: 'alice@example.com' });
    expect(created.session.expiresAt - created.session.issuedAt).toBe(DAY);
    expect(created.setCookies).toHaveLength(1);
    expect(created.setCookies[0]).toMatch(/^oin_session=[A-Za-z0-9_.-]+; Path=\/; Max-Age=86400; HttpOnly; SameSite=Lax$/);
    expect(created.setCookies[0]).not.toContain('Alice');
    jar.apply(created.setCookies);
    c.t += HOUR;
    const read = await manager.read({ cookieHeader: jar.header(), secure: false });
    expect(read.session).toEqual(created.session);
    expect(read.setCookies).toEqual([]); // not re-issued on every request
  });

  it('on https uses Secure and the __Host- prefix', async () => {
    const { manager, jar } = setup();
    const created = await manager.create({ cookieHeader: null, secure: true }, SIGN_IN);
    expect(created.setCookies[0]).toMatch(/^__Host-oin_session=.*; Path=\/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax$/);
    jar.apply(created.setCookies);
    expect((await manager.read({ cookieHeader: jar.header(), secure: true })).session?.sub).toBe('00u1');
  });

  it('issues a new session id on every sign-in (no fixation) (CK-01)', async () => {
    const { manager, jar } = setup();
    const first = await manager.create({ cookieHeader: null, secure: false }, SIGN_IN);
    jar.apply(first.setCookies);
    const second = await manager.create({ cookieHeader: jar.header(), secure: false }, { ...SIGN_IN, sub: '00u2' });
    expect(second.session.id).not.toBe(first.session.id);
    jar.apply(second.setCookies);
    expect((await manager.read({ cookieHeader: jar.header(), secure: false })).session?.sub).toBe('00u2');
  });

  it('treats a tampered, truncated or duplicated cookie as no session and deletes it (CK-04)', async () => {
    const { manager } = setup();
    const created = await manager.create({ cookieHeader: null, secure: false }, SIGN_IN);
    const value = created.setCookies[0]!.split(';')[0]!.slice('oin_session='.length);
    const flipped = value.slice(0, 60) + (value[60] === 'A' ? 'B' : 'A') + value.slice(61);
    for (const header of [`oin_session=${flipped}`, `oin_session=${value.slice(0, -5)}`, `oin_session=${value}; oin_session=${value}`, 'oin_session=garbage']) {
      const read = await manager.read({ cookieHeader: header, secure: false });
      expect(read.session).toBeNull();
      expect(read.setCookies).toEqual([expect.stringMatching(/^oin_session=; Path=\/; Max-Age=0;/)]);
    }
  });

  it('refuses a transaction cookie value presented as the session (purpose separation) (CK-03)', async () => {
    const { manager, sealer } = setup();
    const transactions = new TransactionCookies(sealer);
    const txCookie = await transactions.create(
      { state: 's'.repeat(43), nonce: 'n'.repeat(43), codeVerifier: 'v'.repeat(43), tenantId: 'acme', redirectUri: 'https://app/cb', returnTo: '/', createdAt: 1 },
      false,
    );
    const value = txCookie.split(';')[0]!.split('=')[1]!;
    const read = await manager.read({ cookieHeader: `oin_session=${value}`, secure: false });
    expect(read.session).toBeNull();
  });

  it('rotates secrets: a cookie sealed with the old secret is read and re-issued under the new one; a foreign one is refused (CK-07)', async () => {
    const c = clock();
    const oldManager = new SessionManager({ sealer: createSealer([OLD], { now: c.now }), now: c.now });
    const rotated = new SessionManager({ sealer: createSealer([NEW, OLD], { now: c.now }), now: c.now });
    const newOnly = new SessionManager({ sealer: createSealer([NEW], { now: c.now }), now: c.now });
    const foreign = new SessionManager({ sealer: createSealer([OTHER], { now: c.now }), now: c.now });

    const jar = new Jar();
    jar.apply((await oldManager.create({ cookieHeader: null, secure: false }, SIGN_IN)).setCookies);
    expect((await newOnly.read({ cookieHeader: jar.header(), secure: false })).session).toBeNull();
    const read = await rotated.read({ cookieHeader: jar.header(), secure: false });
    expect(read.session?.sub).toBe('00u1');
    expect(read.setCookies).toHaveLength(1); // re-issued under NEW
    jar.apply(read.setCookies);
    expect((await newOnly.read({ cookieHeader: jar.header(), secure: false })).session?.sub).toBe('00u1');
    expect((await rotated.read({ cookieHeader: jar.header(), secure: false })).setCookies).toEqual([]);
    expect((await foreign.read({ cookieHeader: jar.header(), secure: false })).session).toBeNull();
  });

  it('rolls: re-issues only after half the rolling window, and expires after an idle window (CK-08)', async () => {
    const { manager, jar, c } = setup();
    const created = await manager.create({ cookieHeader: null, secure: false }, SIGN_IN);
    jar.apply(created.setCookies);

    c.t += 11 * HOUR;
    expect((await manager.read({ cookieHeader: jar.header(), secure: false })).setCookies).toEqual([]);

    c.t += 2 * HOUR; // 13 h: less than half of the day is left
    const rolled = await manager.read({ cookieHeader: jar.header(), secure: false });
    expect(rolled.session?.expiresAt).toBe(c.t + DAY);
    expect(rolled.session?.id).toBe(created.session.id);
    expect(rolled.setCookies).toHaveLength(1);
    jar.apply(rolled.setCookies);

    c.t += DAY + 1; // idle longer than the rolling window
    const idle = await manager.read({ cookieHeader: jar.header(), secure: false });
    expect(idle.session).toBeNull();
    expect(idle.setCookies[0]).toMatch(/Max-Age=0/);
  });

  it('never extends past the absolute lifetime, even with constant activity (CK-08)', async () => {
    const { manager, jar, c } = setup({ rollingSec: 24 * 3600, absoluteSec: 3 * 24 * 3600 });
    const created = await manager.create({ cookieHeader: null, secure: false }, SIGN_IN);
    jar.apply(created.setCookies);
    const absoluteEnd = created.session.issuedAt + 3 * DAY;
    let last: Session | null = created.session;
    while (c.t < absoluteEnd - 13 * HOUR) {
      c.t += 13 * HOUR;
      const read = await manager.read({ cookieHeader: jar.header(), secure: false });
      expect(read.session).not.toBeNull();
      expect(read.session!.expiresAt).toBeLessThanOrEqual(absoluteEnd);
      jar.apply(read.setCookies);
      last = read.session;
    }
    expect(last?.expiresAt).toBe(absoluteEnd);
    c.t = absoluteEnd;
    expect((await manager.read({ cookieHeader: jar.header(), secure: false })).session).toBeNull();
  });

  it('refuses a cookie whose embedded issuedAt is older than the absolute lifetime (CK-08)', async () => {
    // A session minted by a manager with a longer absolute lifetime, read by one with a shorter one.
    const c = clock();
    const sealer = createSealer([NEW], { now: c.now });
    const lenient = new SessionManager({ sealer, now: c.now, rollingSec: 10 * 24 * 3600, absoluteSec: 30 * 24 * 3600 });
    const strict = new SessionManager({ sealer, now: c.now, absoluteSec: 7 * 24 * 3600 });
    const jar = new Jar();
    jar.apply((await lenient.create({ cookieHeader: null, secure: false }, SIGN_IN)).setCookies);
    c.t += 8 * DAY;
    expect((await lenient.read({ cookieHeader: jar.header(), secure: false })).session).not.toBeNull();
    expect((await strict.read({ cookieHeader: jar.header(), secure: false })).session).toBeNull();
  });

  it('chunks a large session into cookies of at most 3,800 bytes, deletes stale chunks, and refuses missing or swapped chunks (CK-04)', async () => {
    const { manager, jar } = setup({ claims: ['name', 'big'] });
    const big = Array.from({ length: 300 }, (_, i) => `${i}-${Math.random().toString(36).slice(2)}`).join(',');
    const large = await manager.create({ cookieHeader: null, secure: false }, { ...SIGN_IN, claims: { ...SIGN_IN.claims, big } });
    expect(large.setCookies.length).toBeGreaterThan(1);
    for (const header of large.setCookies) expect(header.split(';')[0]!.length).toBeLessThanOrEqual(3800);
    expect(large.setCookies.map((h) => h.split('=')[0])).toEqual(['oin_session', 'oin_session.1', ...(large.setCookies.length > 2 ? ['oin_session.2'] : [])].slice(0, large.setCookies.length));
    jar.apply(large.setCookies);
    expect((await manager.read({ cookieHeader: jar.header(), secure: false })).session?.claims['big']).toBe(big);

    // Swapped and missing chunks.
    const parts = [...jar.cookies];
    const swapped = `oin_session=${parts[1]![1]}; oin_session.1=${parts[0]![1]}`;
    expect((await manager.read({ cookieHeader: swapped, secure: false })).session).toBeNull();
    const missingFirst = parts.slice(1).map(([n, v]) => `${n}=${v}`).join('; ');
    const noFirst = await manager.read({ cookieHeader: missingFirst, secure: false });
    expect(noFirst.session).toBeNull();
    expect(noFirst.setCookies.every((h) => /Max-Age=0/.test(h))).toBe(true);
    const missingLast = parts.slice(0, -1).map(([n, v]) => `${n}=${v}`).join('; ');
    expect((await manager.read({ cookieHeader: missingLast, secure: false })).session).toBeNull();

    // A smaller session over the large one deletes the stale chunks.
    const small = await manager.create({ cookieHeader: jar.header(), secure: false }, SIGN_IN);
    expect(small.setCookies[0]).toMatch(/^oin_session=[^;]+; Path=\/; Max-Age=86400/);
    expect(small.setCookies.slice(1).every((h) => /^oin_session\.\d=; .*Max-Age=0/.test(h))).toBe(true);
    jar.apply(small.setCookies);
    expect([...jar.cookies.keys()]).toEqual(['oin_session']);
    expect((await manager.read({ cookieHeader: jar.header(), secure: false })).session?.sub).toBe('00u1');
  });

  it('accepts a value only in the chunk layout it was written in: empty or short leading chunks are refused (CK-04)', async () => {
    const { manager } = setup();
    const created = await manager.create({ cookieHeader: null, secure: false }, SIGN_IN);
    const value = created.setCookies[0]!.split(';')[0]!.slice('oin_session='.length);
    expect((await manager.read({ cookieHeader: `oin_session=${value}`, secure: false })).session).not.toBeNull();
    for (const header of [`oin_session=; oin_session.1=${value}`, `oin_session=; oin_session.1=; oin_session.2=${value}`, `oin_session=${value.slice(0, 10)}; oin_session.1=${value.slice(10)}`]) {
      const read = await manager.read({ cookieHeader: header, secure: false });
      expect(read.session).toBeNull();
      expect(read.setCookies.every((cookie) => /Max-Age=0/.test(cookie))).toBe(true);
    }
  });

  it('drops the ID token rather than fail when the session would not fit, and fails only if still too big', async () => {
    const { manager, jar } = setup({ claims: ['big'] });
    const idToken = 'x'.repeat(7000);
    const created = await manager.create({ cookieHeader: null, secure: false }, { ...SIGN_IN, idToken, claims: { big: 'y'.repeat(1000) } });
    jar.apply(created.setCookies);
    const read = await manager.read({ cookieHeader: jar.header(), secure: false });
    expect(read.session?.idToken).toBeUndefined();
    expect(read.session?.claims['big']).toBe('y'.repeat(1000));
    await expect(manager.create({ cookieHeader: null, secure: false }, { ...SIGN_IN, claims: { big: 'z'.repeat(20_000) } })).rejects.toMatchObject({
      code: 'ERR_OIDC_PAYLOAD_TOO_LARGE',
    });
  });

  it('with a server-side store keeps only the sealed id in the cookie, and deletes entries on logout and re-login', async () => {
    const entries = new Map<string, { session: Session; ttlSec: number }>();
    const store: SessionStore = {
      async get(id) {
        return entries.get(id)?.session;
      },
      async set(id, session, ttlSec) {
        entries.set(id, { session, ttlSec });
      },
      async delete(id) {
        entries.delete(id);
      },
    };
    const { manager, jar, c } = setup({ store });
    const first = await manager.create({ cookieHeader: null, secure: false }, SIGN_IN);
    expect(entries.get(first.session.id)?.ttlSec).toBe(24 * 3600);
    jar.apply(first.setCookies);
    expect(jar.header()!.length).toBeLessThan(400); // the id only: no claims, no ID token
    expect((await manager.read({ cookieHeader: jar.header(), secure: false })).session).toEqual(first.session);

    // Rolling updates the store entry too.
    c.t += 13 * HOUR;
    const rolled = await manager.read({ cookieHeader: jar.header(), secure: false });
    expect(entries.get(first.session.id)?.session.expiresAt).toBe(rolled.session!.expiresAt);
    jar.apply(rolled.setCookies);

    // A new sign-in replaces the entry (no fixation) and deletes the old one.
    const second = await manager.create({ cookieHeader: jar.header(), secure: false }, SIGN_IN);
    expect(entries.has(first.session.id)).toBe(false);
    expect(entries.has(second.session.id)).toBe(true);
    jar.apply(second.setCookies);

    // Deleting the entry server-side ends the session even though the cookie still unseals.
    const stolen = jar.header();
    const destroyed = await manager.destroy({ cookieHeader: jar.header(), secure: false });
    expect(destroyed.session?.id).toBe(second.session.id);
    expect(entries.size).toBe(0);
    expect((await manager.read({ cookieHeader: stolen, secure: false })).session).toBeNull();
  });

  it('serves repeated reads of one cookie value from the opened-session cache, and still never a session past its rolling or absolute end', async () => {
    const { manager, jar, c, unseals } = countingSetup({ rollingSec: 3600, absoluteSec: 5400 });
    const created = await manager.create({ cookieHeader: null, secure: false }, SIGN_IN);
    jar.apply(created.setCookies);
    const header = jar.header();
    expect((await manager.read({ cookieHeader: header, secure: false })).session).toEqual(created.session);
    expect((await manager.read({ cookieHeader: header, secure: false })).session).toEqual(created.session);
    expect(unseals.count).toBe(1); // the second read of the same value cost no decryption
    // Past the idle (rolling) end, the same value yields no session and deletions, cached or not (CK-08).
    c.t += 3600_000;
    const expired = await manager.read({ cookieHeader: header, secure: false });
    expect(expired.session).toBeNull();
    expect(expired.setCookies.some((cookie) => /Max-Age=0/.test(cookie))).toBe(true);

    // Absolute end: a value that keeps being re-issued is cached too, and still ends at issuedAt + absolute.
    const again = countingSetup({ rollingSec: 3600, absoluteSec: 5400 });
    again.jar.apply((await again.manager.create({ cookieHeader: null, secure: false }, SIGN_IN)).setCookies);
    again.c.t += 40 * 60_000; // less than half the rolling window left: re-issued, capped at the absolute end
    const rolled = await again.manager.read({ cookieHeader: again.jar.header(), secure: false });
    again.jar.apply(rolled.setCookies);
    expect(rolled.session!.expiresAt).toBe(rolled.session!.issuedAt + 5400_000);
    const rolledHeader = again.jar.header();
    expect((await again.manager.read({ cookieHeader: rolledHeader, secure: false })).session).not.toBeNull();
    expect((await again.manager.read({ cookieHeader: rolledHeader, secure: false })).session).not.toBeNull();
    again.c.t = rolled.session!.issuedAt + 5400_000;
    expect((await again.manager.read({ cookieHeader: rolledHeader, secure: false })).session).toBeNull();
  });

  it('caches opened sessions frozen, so a handler cannot change what the next request reads', async () => {
    const { manager, jar } = setup({ claims: ['name', 'groups'] });
    jar.apply((await manager.create({ cookieHeader: null, secure: false }, SIGN_IN)).setCookies);
    const read = await manager.read({ cookieHeader: jar.header(), secure: false });
    expect(() => {
      (read.session!.claims as { name: string }).name = 'Mallory';
    }).toThrow(TypeError);
    expect(() => (read.session!.claims['groups'] as string[]).push('admin')).toThrow(TypeError);
    expect((await manager.read({ cookieHeader: jar.header(), secure: false })).session!.claims).toEqual({ name: 'Alice', groups: ['a'] });
  });

  it('after logout, a read of the signed-out value goes through the sealer again (not the cache); a store deletion ends the session at once', async () => {
    const entries = new Map<string, Session>();
    const store: SessionStore = {
      get: async (id) => entries.get(id),
      set: async (id, session) => void entries.set(id, session),
      delete: async (id) => void entries.delete(id),
    };
    const { manager, jar, unseals } = countingSetup({ store });
    jar.apply((await manager.create({ cookieHeader: null, secure: false }, SIGN_IN)).setCookies);
    const header = jar.header();
    expect((await manager.read({ cookieHeader: header, secure: false })).session).not.toBeNull();
    expect((await manager.read({ cookieHeader: header, secure: false })).session).not.toBeNull();
    expect(unseals.count).toBe(1); // the id came from the cache; the store was still asked
    await manager.destroy({ cookieHeader: header, secure: false });
    expect(entries.size).toBe(0);
    expect((await manager.read({ cookieHeader: header, secure: false })).session).toBeNull();
    expect(unseals.count).toBe(3); // destroy's own open, then this read: the value left the cache

    // A second value of a live session deleted in the store (logout elsewhere) ends on the next read, cached or not.
    jar.apply((await manager.create({ cookieHeader: null, secure: false }, SIGN_IN)).setCookies);
    const live = jar.header();
    expect((await manager.read({ cookieHeader: live, secure: false })).session).not.toBeNull();
    entries.clear();
    expect((await manager.read({ cookieHeader: live, secure: false })).session).toBeNull();
  });

  it('reports a failing store as ERR_OIDC_STORE_FAILURE', async () => {
    const store: SessionStore = {
      get: () => Promise.reject(new Error('down')),
      set: () => Promise.reject(new Error('down')),
      delete: () => Promise.reject(new Error('down')),
    };
    const { manager } = setup({ store });
    await expect(manager.create({ cookieHeader: null, secure: false }, SIGN_IN)).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_FAILURE' });
  });
});

describe('SessionManager.readWarm (the synchronous warm path)', () => {
  const http = (cookieHeader: string | null) => ({ cookieHeader, secure: false });

  it('answers a warm value exactly as read does, without an unseal or a promise, and no cookie as no session', async () => {
    const { manager, jar, unseals } = countingSetup();
    const created = await manager.create(http(null), SIGN_IN);
    jar.apply(created.setCookies);
    const header = jar.header();
    expect(manager.readWarm(http('theme=dark'))).toEqual({ session: null, setCookies: [] });
    // Never opened in this process: the async read has to unseal it first.
    expect(manager.readWarm(http(header))).toBeUndefined();
    const read = await manager.read(http(header));
    const warm = manager.readWarm(http(header));
    expect(warm).toEqual({ session: read.session, setCookies: [] });
    expect(warm!.session).toBe(read.session); // the cached frozen object itself
    expect(unseals.count).toBe(1);
    // Other cookies around it change nothing.
    expect(manager.readWarm(http(`a=1; ${header}; b=2`))!.session).toBe(read.session);
  });

  it('leaves to read every case that writes or decides: rolling extension, expiry, an old secret, a server-side store, logout', async () => {
    const rolling = countingSetup({ rollingSec: 3600, absoluteSec: 86400 });
    rolling.jar.apply((await rolling.manager.create(http(null), SIGN_IN)).setCookies);
    const header = rolling.jar.header();
    await rolling.manager.read(http(header));
    expect(rolling.manager.readWarm(http(header))).toBeDefined();
    rolling.c.t += 31 * 60_000; // less than half of the rolling window left: read re-issues
    expect(rolling.manager.readWarm(http(header))).toBeUndefined();
    expect((await rolling.manager.read(http(header))).setCookies).toHaveLength(1);
    rolling.c.t += 3600_000; // past the idle end
    expect(rolling.manager.readWarm(http(header))).toBeUndefined();
    expect((await rolling.manager.read(http(header))).session).toBeNull();

    // Sealed under a secret that is no longer the first: read re-seals it, readWarm never answers it.
    const old = setup({ secrets: [OLD] });
    old.jar.apply((await old.manager.create(http(null), SIGN_IN)).setCookies);
    const rotated = new SessionManager({ sealer: createSealer([NEW, OLD], { now: old.c.now }), now: old.c.now });
    const oldHeader = old.jar.header();
    expect((await rotated.read(http(oldHeader))).setCookies).toHaveLength(1);
    expect(rotated.readWarm(http(oldHeader))).toBeUndefined();
    expect((await rotated.read(http(oldHeader))).setCookies).toHaveLength(1);

    // With a server-side store the store is asked on every request.
    const entries = new Map<string, Session>();
    const stored = setup({ store: { get: async (id) => entries.get(id), set: async (id, v) => void entries.set(id, v), delete: async (id) => void entries.delete(id) } });
    stored.jar.apply((await stored.manager.create(http(null), SIGN_IN)).setCookies);
    await stored.manager.read(http(stored.jar.header()));
    expect(stored.manager.readWarm(http(stored.jar.header()))).toBeUndefined();

    // Signed out: the value left the cache.
    const out = setup();
    out.jar.apply((await out.manager.create(http(null), SIGN_IN)).setCookies);
    const outHeader = out.jar.header();
    await out.manager.read(http(outHeader));
    await out.manager.destroy(http(outHeader));
    expect(out.manager.readWarm(http(outHeader))).toBeUndefined();
  });

  it('never answers an altered, duplicated or re-chunked spelling of a warm value (CK-04)', async () => {
    const { manager, jar } = setup();
    jar.apply((await manager.create(http(null), SIGN_IN)).setCookies);
    const header = jar.header()!;
    await manager.read(http(header));
    const value = header.slice('oin_session='.length);
    const middle = value.length >> 1;
    const altered = `${value.slice(0, middle)}${value[middle] === 'A' ? 'B' : 'A'}${value.slice(middle + 1)}`;
    expect(manager.readWarm(http(`oin_session=${altered}`))).toBeUndefined();
    expect(manager.readWarm(http(`${header}; ${header}`))).toBeUndefined();
    expect((await manager.read(http(`${header}; ${header}`))).session).toBeNull();
    expect(manager.readWarm(http(`oin_session=; oin_session.1=${value}`))).toBeUndefined();
    expect(manager.readWarm(http(`${header}; oin_session.1=x`))).toBeUndefined();
    expect(manager.readWarm(http(`oin_session="${value}"`))!.session).not.toBeNull(); // RFC 6265 DQUOTE form, same value
  });

  it('keeps a session in use warm while 10,000 others pass through the cache; one read once is evicted', async () => {
    const { manager } = setup();
    const sign = async () => {
      const created = await manager.create(http(null), SIGN_IN);
      const header = created.setCookies[0]!.split(';')[0]!;
      await manager.read(http(header));
      return header;
    };
    const hot = await sign();
    const once = await sign();
    for (let i = 0; i < 10_000; i++) {
      await sign();
      if (i % 1000 === 0) expect(manager.readWarm(http(hot)), `hot at ${i}`).toBeDefined();
    }
    expect(manager.readWarm(http(hot))).toBeDefined();
    expect(manager.readWarm(http(once))).toBeUndefined();
    // Evicted is not refused: the async read opens it again.
    expect((await manager.read(http(once))).session).not.toBeNull();
  }, 60_000);
});

describe('TransactionCookies', () => {
  const tx = (state: string) => ({
    state,
    nonce: 'n'.repeat(43),
    codeVerifier: 'v'.repeat(43),
    tenantId: 'acme',
    redirectUri: 'https://app.example.com/auth/callback',
    returnTo: '/orders',
    responseMode: 'form_post' as const,
    createdAt: Date.UTC(2026, 0, 1),
  });

  it('uses one cookie per state: SameSite=None; Secure on https for form_post, Lax on loopback http; 10 minutes (FP-01, CK-09)', async () => {
    const c = clock();
    const transactions = new TransactionCookies(createSealer([NEW], { now: c.now }));
    const secure = await transactions.create(tx('a'.repeat(43)), true);
    expect(secure).toMatch(/^__Host-oin_tx_[A-Za-z0-9_-]{8}=[^;]+; Path=\/; Max-Age=600; HttpOnly; Secure; SameSite=None$/);
    const loopback = await transactions.create(tx('b'.repeat(43)), false);
    expect(loopback).toMatch(/^oin_tx_[A-Za-z0-9_-]{8}=[^;]+; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax$/);
  });

  it('makes a query-mode transaction SameSite=Lax on https: only form_post needs None (SA-08)', async () => {
    const c = clock();
    const transactions = new TransactionCookies(createSealer([NEW], { now: c.now }));
    const { responseMode: _mode, ...query } = tx('a'.repeat(43));
    expect(await transactions.create(query, true)).toMatch(/^__Host-oin_tx_[A-Za-z0-9_-]{8}=[^;]+; Path=\/; Max-Age=600; HttpOnly; Secure; SameSite=Lax$/);
    expect(await transactions.create({ ...query, responseMode: 'query' }, true)).toMatch(/SameSite=Lax$/);
  });

  it('derives the cookie prefix from the session cookie name, so two apps on one host keep their logins apart (SA-08)', async () => {
    const c = clock();
    const first = new TransactionCookies(createSealer([NEW], { now: c.now }));
    const second = new TransactionCookies(createSealer([OLD], { now: c.now }), { cookieName: 'billing' });
    expect(second.prefix(false)).toBe('billing_tx_');
    expect(second.prefix(true)).toBe('__Host-billing_tx_');
    expect(new TransactionCookies(createSealer([NEW]), { cookieName: 'oin_session' }).prefix(false)).toBe('oin_tx_');
    const jar = new Jar();
    const [a, b] = ['a'.repeat(43), 'b'.repeat(43)];
    jar.apply([await first.create(tx(a), false), await second.create(tx(b), false)]);
    // Each app sees only its own cookie: a callback of one never touches the other's.
    expect(await first.take({ cookieHeader: jar.header(), secure: false }, b)).toMatchObject({ status: 'missing', others: true, setCookies: [] });
    const taken = await second.take({ cookieHeader: jar.header(), secure: false }, b);
    expect(taken.status).toBe('ok');
    jar.apply(taken.setCookies);
    expect((await first.take({ cookieHeader: jar.header(), secure: false }, a)).status).toBe('ok');
  });

  it("never prunes a cookie it cannot open (another app's under the same prefix), and deletes only its own expired ones (SA-08)", async () => {
    const c = clock();
    const ours = new TransactionCookies(createSealer([NEW], { now: c.now }));
    const theirs = new TransactionCookies(createSealer([OLD], { now: c.now }));
    const jar = new Jar();
    const states = Array.from({ length: MAX_CONCURRENT_TRANSACTIONS }, (_, i) => String.fromCharCode(97 + i).repeat(43));
    // Another app with the same (default) prefix but another secret has five logins in flight.
    for (const state of states) jar.apply([await theirs.create(tx(state), false)]);
    expect(await ours.prune({ cookieHeader: jar.header(), secure: false })).toEqual([]);
    const mine = 'z'.repeat(43);
    jar.apply([await ours.create(tx(mine), false)]);
    c.t += 601_000;
    const pruned = await ours.prune({ cookieHeader: jar.header(), secure: false });
    // Only our own expired cookie goes; theirs (expired or not, we cannot tell) stay for their app.
    expect(pruned).toEqual([expect.stringMatching(new RegExp(`^${await ours.name(mine, false)}=;`))]);
  });

  it('makes room with logins started cross-site first, so cross-site navigations cannot push the own login out (SA-08)', async () => {
    const c = clock();
    const transactions = new TransactionCookies(createSealer([NEW], { now: c.now }));
    const jar = new Jar();
    const own = 'o'.repeat(43);
    jar.apply([await transactions.create({ ...tx(own), createdAt: c.t }, false)]);
    for (let i = 0; i < 12; i++) {
      const state = `${i}`.padStart(43, 'x');
      jar.apply(await transactions.prune({ cookieHeader: jar.header(), secure: false }));
      jar.apply([await transactions.create({ ...tx(state), createdAt: c.t + 1 + i }, false, { crossSite: true })]);
      expect(jar.cookies.size).toBeLessThanOrEqual(MAX_CONCURRENT_TRANSACTIONS);
    }
    expect(jar.cookies.has(await transactions.name(own, false))).toBe(true);
    expect((await transactions.take({ cookieHeader: jar.header(), secure: false }, own)).status).toBe('ok');
  });

  it('keeps concurrent logins apart, consumes only the matching one, and reports others/missing/expired (AR-09, CB-03)', async () => {
    const c = clock();
    const transactions = new TransactionCookies(createSealer([NEW], { now: c.now }));
    const jar = new Jar();
    const [a, b] = ['a'.repeat(43), 'b'.repeat(43)];
    jar.apply([await transactions.create(tx(a), false), await transactions.create(tx(b), false)]);
    expect(jar.cookies.size).toBe(2);

    const taken = await transactions.take({ cookieHeader: jar.header(), secure: false }, b);
    expect(taken.status).toBe('ok');
    if (taken.status === 'ok') expect(taken.transaction).toEqual(tx(b));
    expect(taken.setCookies).toEqual([expect.stringMatching(/^oin_tx_[^=]+=; Path=\/; Max-Age=0;/)]);
    jar.apply(taken.setCookies);
    expect(jar.cookies.size).toBe(1);

    const unknown = await transactions.take({ cookieHeader: jar.header(), secure: false }, 'c'.repeat(43));
    expect(unknown).toMatchObject({ status: 'missing', others: true });
    // A callback whose state names no cookie deletes nothing: the other login stays (SA-08).
    expect(unknown.setCookies).toEqual([]);
    expect(await transactions.take({ cookieHeader: null, secure: false }, a)).toMatchObject({ status: 'missing', others: false });

    c.t += 601_000;
    expect(await transactions.take({ cookieHeader: jar.header(), secure: false }, a)).toMatchObject({ status: 'invalid', code: 'ERR_OIDC_TRANSACTION_EXPIRED' });
  });

  it('bounds logins in flight: the oldest transaction cookies are deleted to make room (DS-04)', async () => {
    const c = clock();
    const transactions = new TransactionCookies(createSealer([NEW], { now: c.now }));
    const jar = new Jar();
    const states = Array.from({ length: 7 }, (_, i) => String.fromCharCode(97 + i).repeat(43));
    for (const [i, state] of states.entries()) {
      jar.apply(await transactions.prune({ cookieHeader: jar.header(), secure: false }));
      jar.apply([await transactions.create({ ...tx(state), createdAt: c.t + i }, false)]);
      expect(jar.cookies.size).toBeLessThanOrEqual(MAX_CONCURRENT_TRANSACTIONS);
    }
    expect(jar.cookies.size).toBe(MAX_CONCURRENT_TRANSACTIONS);
    const newest = await Promise.all(states.slice(-MAX_CONCURRENT_TRANSACTIONS).map((s) => transactions.name(s, false)));
    expect([...jar.cookies.keys()].sort()).toEqual(newest.sort());
  });

  it('refuses a session value presented as a transaction (CK-03)', async () => {
    const c = clock();
    const sealer = createSealer([NEW], { now: c.now });
    const manager = new SessionManager({ sealer, now: c.now });
    const transactions = new TransactionCookies(sealer);
    const sessionValue = (await manager.create({ cookieHeader: null, secure: false }, SIGN_IN)).setCookies[0]!.split(';')[0]!.split('=')[1]!;
    const state = 'a'.repeat(43);
    const name = await transactions.name(state, false);
    expect(await transactions.take({ cookieHeader: `${name}=${sessionValue}`, secure: false }, state)).toMatchObject({
      status: 'invalid',
      code: 'ERR_OIDC_TRANSACTION_INVALID',
    });
  });
});
