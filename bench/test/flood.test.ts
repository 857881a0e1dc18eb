// The flood suite's junk generator (audit finding SA-01): the three kinds in turn, every token
// distinct, the JWT-shaped ones built to pass triage as "plausible" (the tenant's iss and cid, a
// live exp, an unknown kid), and the client addresses as the scenario says. Checked without running
// the flood.
import { describe, expect, it } from 'vitest';
import { CLIENT_ID } from '../src/lib/emulator.mjs';
import { junkFactory, MODES } from '../src/suites/flood.mjs';

const ISSUER = 'http://127.0.0.1:4321';
const decode = (segment: string) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));

describe('flood junk', () => {
  it('sends the three kinds in turn, every token distinct and a valid RFC 6750 b64token', () => {
    const next = junkFactory(ISSUER);
    const junk = Array.from({ length: 300 }, () => next());
    expect(junk.slice(0, 6).map((j) => j.kind)).toEqual(['random', 'jwt-many-addresses', 'jwt-one-address', 'random', 'jwt-many-addresses', 'jwt-one-address']);
    expect(new Set(junk.map((j) => j.token)).size).toBe(300);
    for (const j of junk) expect(j.token).toMatch(/^[A-Za-z0-9\-._~+/]+=*$/);
  });

  it('builds JWT-shaped junk with the tenant’s iss, cid and a live exp under an unknown kid', () => {
    const next = junkFactory(ISSUER);
    const jwts = Array.from({ length: 30 }, () => next()).filter((j) => j.kind !== 'random');
    expect(jwts).toHaveLength(20);
    for (const j of jwts) {
      const [header, payload, signature] = j.token.split('.');
      expect(decode(header!)).toEqual({ alg: 'RS256', kid: 'flood-kid-nobody-publishes', typ: 'application/okta-internal-at+jwt' });
      const claims = decode(payload!);
      expect(claims).toMatchObject({ iss: ISSUER, aud: ISSUER, cid: CLIENT_ID });
      expect(claims.exp).toBeGreaterThan(Date.now() / 1000);
      expect(signature!.length).toBeGreaterThan(300);
    }
  });

  it('sends random and many-address JWT junk from varied addresses, the one-address kind from one', () => {
    const next = junkFactory(ISSUER);
    const junk = Array.from({ length: 300 }, () => next());
    const addresses = (kind: string) => new Set(junk.filter((j) => j.kind === kind).map((j) => j.address));
    expect(addresses('jwt-one-address').size).toBe(1);
    expect(addresses('jwt-many-addresses').size).toBeGreaterThan(90);
    expect(addresses('random').size).toBeGreaterThan(90);
  });

  it('compares today’s defaults with the old path expressed through options', () => {
    expect(MODES.fixed.client).toEqual({ introspectionCache: {} });
    expect(MODES.old.client).toEqual({ introspectionTriage: false, introspectionThrottle: { perCaller: false }, introspectionCache: false });
  });
});
