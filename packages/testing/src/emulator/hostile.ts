/**
 * Hostile mode: the org answers with forged or broken artefacts on demand (the hostile-provider
 * cases of docs/catalogue.md).
 *
 * Provider-made answers (token, introspection, userinfo, discovery) are produced for real and then
 * rewritten just before they are sent, so everything else about the flow stays genuine: the code
 * is redeemed, the nonce and the access token are the real ones, and only the one property under
 * test is wrong. `/keys` is served by the emulator itself, so its artefacts replace the set.
 *
 * Each artefact is named after what it breaks; the test that uses it names the catalogue entry
 * (docs/catalogue.md, the hostile-input catalogue) it exercises.
 */
import {
  constants,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign as rsaSign,
} from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KeyRing } from './keys';
import type { EmulatorEndpoint } from './types';

/** Forged or broken ID tokens in an otherwise real token response (`token`). */
export const ID_TOKEN_ARTEFACTS = [
  'id-token-alg-none', // {"alg":"none"} with an empty signature (IT-02)
  'id-token-alg-none-mixed-case', // {"alg":"nOnE"} (IT-02)
  'id-token-hs256-pubkey-pem', // HS256 keyed with the org's RSA public key as SPKI PEM (IT-03)
  'id-token-hs256-pubkey-pem-whitespace', // … the PEM with a leading newline and space (IT-03, CVE-2026-34950)
  'id-token-hs256-pubkey-der', // … as DER (IT-03)
  'id-token-hs256-pubkey-jwk-n', // … as the JWK "n" string (IT-03)
  'id-token-hs256-jwks-oct', // HS256 keyed with the oct key that 'jwks-symmetric-key' publishes
  'id-token-alg-rs512', // valid RS512 signature with the published key (IT-04)
  'id-token-alg-ps256', // valid PS256 signature with the published key (IT-04)
  'id-token-bad-signature', // one signature byte flipped (IT-01)
  'id-token-tampered-payload', // a claim changed after signing (IT-01)
  'id-token-unknown-kid', // signed by a key the org never published, with its own kid
  'id-token-kid-absent', // no kid while several keys are published (IT-15)
  'id-token-embedded-jwk', // attacker key in jwk/jku/x5u headers, signed with it (JK-08)
  'id-token-iss-trailing-slash', // `${issuer}/` (IT-05)
  'id-token-iss-scheme', // the issuer with the other scheme (http ↔ https) (IT-05)
  'id-token-iss-other-org', // https://evil.okta.com (IT-05)
  'id-token-iss-custom-as', // `${issuer}/oauth2/default`, a custom AS instead of the org AS (IT-05)
  'id-token-iss-missing', // (IT-06)
  'id-token-aud-wrong', // (IT-07)
  'id-token-aud-missing', // (IT-07)
  'id-token-aud-extra', // [client, other] without azp (IT-08)
  'id-token-aud-array', // [client]: must be ACCEPTED (IT-08)
  'id-token-azp-mismatch', // azp = another client (IT-09)
  'id-token-nonce-wrong', // (IT-13)
  'id-token-nonce-missing', // (IT-13)
  'id-token-expired', // exp an hour ago (IT-10)
  'id-token-exp-missing', // (IT-10)
  'id-token-exp-string', // "exp": "9999999999" (IT-10)
  'id-token-iat-future', // iat an hour ahead (IT-11)
  'id-token-iat-missing', // (IT-11)
  'id-token-iat-week-old', // iat seven days ago, exp still ahead (IT-11)
  'id-token-sub-missing', // (IT-12)
  'id-token-sub-empty', // (IT-12)
  'id-token-at-hash-wrong', // the untruncated SHA-256 of the access token (IT-14, catalogue §2.2)
  'id-token-auth-time-missing', // for max_age requests (IT-21)
  'id-token-crit', // a `crit` header naming an unknown extension (RFC 7515 §4.1.11)
  'id-token-typ-at-jwt', // typ "at+jwt": a foreign explicitly-typed JWT (IT-19)
  'id-token-duplicate-iss', // raw JSON with two "iss" members: the real one, then a foreign one (RFC 7519 §4)
  'id-token-oversized', // a validly signed ID token of about 1 MiB (DS-01)
  'id-token-malformed', // two segments (IT-16)
  'id-token-jwe', // five segments with a PBES2 p2c bomb header (DS-03)
  'id-token-missing', // no id_token member (TK-06)
] as const;

/** Broken token responses (`token`). */
export const TOKEN_RESPONSE_ARTEFACTS = [
  'token-type-mac', // token_type "mac" (TK-04)
  'token-type-lowercase', // token_type "bearer": must be ACCEPTED (TK-04)
  'token-response-malformed-json', // application/json that does not parse
  'token-response-not-object', // a JSON array
  'token-response-oversized', // the real answer padded to 2 MiB of valid JSON
] as const;

/** Broken introspection answers (`introspect`), built from the real answer. */
export const INTROSPECTION_ARTEFACTS = [
  'introspection-active-string', // "active": "true" (a string, RFC 7662 §2.2 requires a boolean)
  'introspection-active-missing', // no active member
  'introspection-other-client', // active, but client_id is another app of the org (IN-05)
  'introspection-other-issuer', // active, but iss is another org (IN-05)
  'introspection-refresh-token-shape', // active, without iss/aud/jti/uid, as Okta answers for refresh tokens (IN-04)
  'introspection-malformed-json',
] as const;

/** Broken JWKS answers (`keys`). */
export const JWKS_ARTEFACTS = [
  'jwks-keys-not-array', // {"keys": {…}}
  'jwks-empty', // {"keys": []}
  'jwks-symmetric-key', // the real keys plus an oct (HMAC) key
  'jwks-huge', // the real keys plus thousands of others (about 2 MiB)
  'jwks-duplicate-kids', // a foreign RSA key with the active kid, listed first
  'jwks-duplicate-kids-genuine-first', // the real keys, then a foreign RSA key with the active kid
  'jwks-private-key', // the real keys with the active key's private members (d, p, q, …) left in
  'jwks-non-object-member', // the real keys plus a string member in "keys"
  'jwks-malformed-json',
] as const;

/** Broken discovery documents (`discovery`). */
export const DISCOVERY_ARTEFACTS = [
  'discovery-issuer-mismatch', // issuer with a trailing slash (AR-06)
  'discovery-foreign-endpoints', // endpoints on another host (AR-10)
] as const;

/** Broken UserInfo answers (`userinfo`). */
export const USERINFO_ARTEFACTS = [
  'userinfo-sub-mismatch', // another sub than the ID token's (UI-01)
] as const;

/** Any back-channel endpoint. */
export const GENERIC_ARTEFACTS = [
  'html-error-page', // a 500 text/html error page, like an Okta or proxy error page
  'redirect', // 302 to an attacker's host: a back-channel client must not follow it
] as const;

export type IdTokenArtefact = (typeof ID_TOKEN_ARTEFACTS)[number];
export type HostileArtefact =
  | IdTokenArtefact
  | (typeof TOKEN_RESPONSE_ARTEFACTS)[number]
  | (typeof INTROSPECTION_ARTEFACTS)[number]
  | (typeof JWKS_ARTEFACTS)[number]
  | (typeof DISCOVERY_ARTEFACTS)[number]
  | (typeof USERINFO_ARTEFACTS)[number]
  | (typeof GENERIC_ARTEFACTS)[number];

/** Where each artefact can be armed. */
const ALLOWED: ReadonlyMap<EmulatorEndpoint, ReadonlySet<string>> = new Map<EmulatorEndpoint, ReadonlySet<string>>([
  ['token', new Set<string>([...ID_TOKEN_ARTEFACTS, ...TOKEN_RESPONSE_ARTEFACTS, ...GENERIC_ARTEFACTS])],
  ['introspect', new Set<string>([...INTROSPECTION_ARTEFACTS, ...GENERIC_ARTEFACTS])],
  ['keys', new Set<string>([...JWKS_ARTEFACTS, ...GENERIC_ARTEFACTS])],
  ['discovery', new Set<string>([...DISCOVERY_ARTEFACTS, ...GENERIC_ARTEFACTS])],
  ['userinfo', new Set<string>([...USERINFO_ARTEFACTS, ...GENERIC_ARTEFACTS])],
  ['revoke', new Set<string>(GENERIC_ARTEFACTS)],
]);

/** A foreign issuer used by the "other org" artefacts. */
export const FOREIGN_ISSUER = 'https://evil.okta.com';
/** Where 'redirect' points. */
export const FOREIGN_LOCATION = 'https://attacker.example/steal';
/** The kid of the oct key 'jwks-symmetric-key' publishes and 'id-token-hs256-jwks-oct' uses. */
export const OCT_KID = 'hmac-key-1';

interface Armed {
  artefact: HostileArtefact;
  remaining: number | undefined;
}

/** Per-endpoint hostile artefacts, each for the next N answers or until cleared. */
export class HostileTable {
  #armed = new Map<EmulatorEndpoint, Armed>();
  /** Preparation an artefact needs (e.g. a second published key) before it is served. */
  pending: Promise<unknown> = Promise.resolve();

  set(endpoint: EmulatorEndpoint, artefact: HostileArtefact, times?: number): void {
    const allowed = ALLOWED.get(endpoint);
    if (!allowed) throw new Error(`no hostile artefacts for endpoint ${String(endpoint)}`);
    if (!allowed.has(artefact)) throw new Error(`hostile artefact ${String(artefact)} does not apply to ${endpoint}`);
    if (times !== undefined && (!Number.isInteger(times) || times < 1)) throw new Error('times must be a positive integer');
    this.#armed.set(endpoint, { artefact, remaining: times });
  }

  clear(endpoint?: EmulatorEndpoint): void {
    if (endpoint) this.#armed.delete(endpoint);
    else this.#armed.clear();
  }

  peek(endpoint: EmulatorEndpoint): HostileArtefact | undefined {
    return this.#armed.get(endpoint)?.artefact;
  }

  /** Uses up one application of the endpoint's artefact. */
  consume(endpoint: EmulatorEndpoint): void {
    const armed = this.#armed.get(endpoint);
    if (!armed || armed.remaining === undefined) return;
    armed.remaining -= 1;
    if (armed.remaining <= 0) this.#armed.delete(endpoint);
  }
}

export interface HostileContext {
  issuer: string;
  keys: KeyRing;
}

type Json = Record<string, unknown>;

const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

function decodeSegment(segment: string | undefined): Json {
  return JSON.parse(Buffer.from(segment ?? '', 'base64url').toString('utf8')) as Json;
}

/** The public key of the active signing key in the forms key-confusion attacks use. */
function publicKeyForms(keys: KeyRing): { pem: string; der: Buffer; n: string } {
  const jwk = keys.activeKey.publicJwk;
  const key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  return {
    pem: key.export({ type: 'spki', format: 'pem' }).toString(),
    der: key.export({ type: 'spki', format: 'der' }),
    n: String(jwk.n),
  };
}

function activePrivateKey(keys: KeyRing) {
  return createPrivateKey({ key: keys.activeKey.privateJwk as import('node:crypto').JsonWebKey, format: 'jwk' });
}

type Signer =
  | { kind: 'rsa'; hash: 'sha256' | 'sha512'; pss?: boolean; key?: ReturnType<typeof createPrivateKey> }
  | { kind: 'hmac'; secret: Buffer | string }
  | { kind: 'none' };

/** Builds a compact JWS by hand so header, raw payload text and signature can all be hostile. */
function compact(header: Json, payloadText: string, signer: Signer, keys: KeyRing): string {
  const input = `${b64(JSON.stringify(header))}.${b64(payloadText)}`;
  let signature = '';
  if (signer.kind === 'rsa') {
    const key = signer.key ?? activePrivateKey(keys);
    const sig = signer.pss
      ? rsaSign(signer.hash, Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
      : rsaSign(signer.hash, Buffer.from(input), key);
    signature = b64(sig);
  } else if (signer.kind === 'hmac') {
    signature = b64(createHmac('sha256', signer.secret).update(input).digest());
  }
  return `${input}.${signature}`;
}

let foreignKey: { privateKey: ReturnType<typeof createPrivateKey>; publicJwk: Json; kid: string } | undefined;
/** One RSA key the org never publishes (generated once per process: key generation is slow). */
function foreign() {
  if (!foreignKey) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const kid = `foreign-${randomBytes(8).toString('hex')}`;
    foreignKey = { privateKey, publicJwk: { ...(publicKey.export({ format: 'jwk' }) as Json), kid, alg: 'RS256', use: 'sig' }, kid };
  }
  return foreignKey;
}

/** The oct key 'jwks-symmetric-key' publishes: its secret is the org's public key PEM. */
export function octKey(keys: KeyRing): { jwk: Json; secret: Buffer } {
  const secret = Buffer.from(publicKeyForms(keys).pem);
  return { jwk: { kty: 'oct', kid: OCT_KID, alg: 'HS256', use: 'sig', k: b64(secret) }, secret };
}

function flipScheme(issuer: string): string {
  return issuer.startsWith('https://') ? `http://${issuer.slice(8)}` : `https://${issuer.slice(7)}`;
}

/**
 * Forges a replacement for a real ID token. `accessToken` is the real access token of the same
 * response (for `at_hash`). Returns undefined for 'id-token-missing' (the member is removed).
 */
export function forgeIdToken(artefact: IdTokenArtefact, realIdToken: string, accessToken: string | undefined, ctx: HostileContext): string | undefined {
  const { keys, issuer } = ctx;
  const [h, p] = realIdToken.split('.');
  const header = decodeSegment(h);
  const claims = decodeSegment(p);
  const now = Math.floor(Date.now() / 1000);
  const rs256: Signer = { kind: 'rsa', hash: 'sha256' };
  const resign = (c: Json, hdr: Json = header) => compact(hdr, JSON.stringify(c), rs256, keys);
  const without = (name: string) => {
    const c = { ...claims };
    delete c[name];
    return resign(c);
  };

  switch (artefact) {
    case 'id-token-alg-none':
      return compact({ ...header, alg: 'none' }, JSON.stringify(claims), { kind: 'none' }, keys);
    case 'id-token-alg-none-mixed-case':
      return compact({ ...header, alg: 'nOnE' }, JSON.stringify(claims), { kind: 'none' }, keys);
    case 'id-token-hs256-pubkey-pem':
      return compact({ ...header, alg: 'HS256' }, JSON.stringify(claims), { kind: 'hmac', secret: publicKeyForms(keys).pem }, keys);
    case 'id-token-hs256-pubkey-pem-whitespace':
      return compact({ ...header, alg: 'HS256' }, JSON.stringify(claims), { kind: 'hmac', secret: `\n ${publicKeyForms(keys).pem}` }, keys);
    case 'id-token-hs256-pubkey-der':
      return compact({ ...header, alg: 'HS256' }, JSON.stringify(claims), { kind: 'hmac', secret: publicKeyForms(keys).der }, keys);
    case 'id-token-hs256-pubkey-jwk-n':
      return compact({ ...header, alg: 'HS256' }, JSON.stringify(claims), { kind: 'hmac', secret: publicKeyForms(keys).n }, keys);
    case 'id-token-hs256-jwks-oct':
      return compact({ ...header, alg: 'HS256', kid: OCT_KID }, JSON.stringify(claims), { kind: 'hmac', secret: octKey(keys).secret }, keys);
    case 'id-token-alg-rs512':
      return compact({ ...header, alg: 'RS512' }, JSON.stringify(claims), { kind: 'rsa', hash: 'sha512' }, keys);
    case 'id-token-alg-ps256':
      return compact({ ...header, alg: 'PS256' }, JSON.stringify(claims), { kind: 'rsa', hash: 'sha256', pss: true }, keys);
    case 'id-token-bad-signature': {
      const token = resign(claims);
      const dot = token.lastIndexOf('.');
      const sig = Buffer.from(token.slice(dot + 1), 'base64url');
      sig[sig.length >> 1] = (sig[sig.length >> 1] ?? 0) ^ 0x01;
      return `${token.slice(0, dot)}.${b64(sig)}`;
    }
    case 'id-token-tampered-payload': {
      const [th, , ts] = resign(claims).split('.');
      return `${th}.${b64(JSON.stringify({ ...claims, sub: '00uattacker0000000000' }))}.${ts}`;
    }
    case 'id-token-unknown-kid': {
      const f = foreign();
      return compact({ ...header, kid: f.kid }, JSON.stringify(claims), { kind: 'rsa', hash: 'sha256', key: f.privateKey }, keys);
    }
    case 'id-token-kid-absent': {
      const { kid: _kid, ...rest } = header;
      return resign(claims, rest);
    }
    case 'id-token-embedded-jwk': {
      const f = foreign();
      const hdr = { ...header, kid: f.kid, jwk: f.publicJwk, jku: 'https://attacker.example/jwks', x5u: 'https://attacker.example/cert.pem' };
      return compact(hdr, JSON.stringify(claims), { kind: 'rsa', hash: 'sha256', key: f.privateKey }, keys);
    }
    case 'id-token-iss-trailing-slash':
      return resign({ ...claims, iss: `${issuer}/` });
    case 'id-token-iss-scheme':
      return resign({ ...claims, iss: flipScheme(issuer) });
    case 'id-token-iss-other-org':
      return resign({ ...claims, iss: FOREIGN_ISSUER });
    case 'id-token-iss-custom-as':
      return resign({ ...claims, iss: `${issuer}/oauth2/default` });
    case 'id-token-iss-missing':
      return without('iss');
    case 'id-token-aud-wrong':
      return resign({ ...claims, aud: '0oaSomeoneElse000000' });
    case 'id-token-aud-missing':
      return without('aud');
    case 'id-token-aud-extra':
      return resign({ ...claims, aud: [claims.aud, '0oaSomeoneElse000000'] });
    case 'id-token-aud-array':
      return resign({ ...claims, aud: [claims.aud] });
    case 'id-token-azp-mismatch':
      return resign({ ...claims, azp: '0oaSomeoneElse000000' });
    case 'id-token-nonce-wrong':
      return resign({ ...claims, nonce: b64(randomBytes(32)) });
    case 'id-token-nonce-missing':
      return without('nonce');
    case 'id-token-expired':
      return resign({ ...claims, iat: now - 7200, exp: now - 3600, auth_time: now - 7200 });
    case 'id-token-exp-missing':
      return without('exp');
    case 'id-token-exp-string':
      return resign({ ...claims, exp: '9999999999' });
    case 'id-token-iat-future':
      return resign({ ...claims, iat: now + 3600, exp: now + 7200 });
    case 'id-token-iat-missing':
      return without('iat');
    case 'id-token-iat-week-old':
      return resign({ ...claims, iat: now - 7 * 86_400, exp: now + 3600 });
    case 'id-token-sub-missing':
      return without('sub');
    case 'id-token-sub-empty':
      return resign({ ...claims, sub: '' });
    case 'id-token-at-hash-wrong': {
      // Catalogue §2.2: the whole SHA-256 instead of its left half.
      const full = createHash('sha256').update(accessToken ?? 'no-access-token').digest();
      return resign({ ...claims, at_hash: b64(full) });
    }
    case 'id-token-auth-time-missing':
      return without('auth_time');
    case 'id-token-crit':
      return resign(claims, { ...header, crit: ['urn:example:unknown'], 'urn:example:unknown': true });
    case 'id-token-typ-at-jwt':
      return resign(claims, { ...header, typ: 'at+jwt' });
    case 'id-token-duplicate-iss': {
      // RFC 7519 §4: a parser either rejects duplicates or takes the lexically last member.
      const text = JSON.stringify(claims);
      return compact(header, `${text.slice(0, -1)},"iss":${JSON.stringify(FOREIGN_ISSUER)}}`, rs256, keys);
    }
    case 'id-token-oversized':
      return resign({ ...claims, padding: 'x'.repeat(1024 * 1024) });
    case 'id-token-malformed':
      return realIdToken.split('.').slice(0, 2).join('.');
    case 'id-token-jwe': {
      const jweHeader = { alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', p2c: 2_147_483_647, p2s: b64(randomBytes(16)), zip: 'DEF' };
      return [b64(JSON.stringify(jweHeader)), b64(randomBytes(40)), b64(randomBytes(12)), b64(randomBytes(64)), b64(randomBytes(16))].join('.');
    }
    case 'id-token-missing':
      return undefined;
  }
}

export interface Rewritten {
  status: number;
  contentType: string;
  body: string;
}

const json = (status: number, body: unknown): Rewritten => ({ status, contentType: 'application/json', body: JSON.stringify(body) });

/** Rewrites a real token response. Only successful answers are rewritten (see {@link applies}). */
export function rewriteTokenResponse(artefact: HostileArtefact, body: Json, ctx: HostileContext): Rewritten {
  switch (artefact) {
    case 'token-type-mac':
      return json(200, { ...body, token_type: 'mac' });
    case 'token-type-lowercase':
      return json(200, { ...body, token_type: String(body.token_type ?? 'Bearer').toLowerCase() });
    case 'token-response-malformed-json':
      return { status: 200, contentType: 'application/json', body: JSON.stringify(body).slice(0, -7) };
    case 'token-response-not-object':
      return json(200, [body]);
    case 'token-response-oversized':
      return json(200, { ...body, padding: 'x'.repeat(2 * 1024 * 1024) });
    default: {
      if (!(ID_TOKEN_ARTEFACTS as readonly string[]).includes(artefact)) throw new Error(`not a token artefact: ${artefact}`);
      const real = typeof body.id_token === 'string' ? body.id_token : undefined;
      if (!real) throw new Error('the token response has no id_token to forge (request the openid scope)');
      const access = typeof body.access_token === 'string' ? body.access_token : undefined;
      const forged = forgeIdToken(artefact as IdTokenArtefact, real, access, ctx);
      const { id_token: _drop, ...rest } = body;
      return json(200, forged === undefined ? rest : { ...rest, id_token: forged });
    }
  }
}

export function rewriteIntrospection(artefact: HostileArtefact, body: Json): Rewritten {
  switch (artefact) {
    case 'introspection-active-string':
      return json(200, { ...body, active: 'true' });
    case 'introspection-active-missing': {
      const { active: _a, ...rest } = body;
      return json(200, rest);
    }
    case 'introspection-other-client':
      return json(200, { ...body, active: true, client_id: '0oaSomeoneElse000000' });
    case 'introspection-other-issuer':
      return json(200, { ...body, active: true, iss: FOREIGN_ISSUER });
    case 'introspection-refresh-token-shape': {
      const { iss: _i, aud: _a, jti: _j, uid: _u, ...rest } = body;
      return json(200, { ...rest, active: true, token_type: 'Bearer' });
    }
    case 'introspection-malformed-json':
      return { status: 200, contentType: 'application/json', body: '{"active": tru' };
    default:
      throw new Error(`not an introspection artefact: ${artefact}`);
  }
}

export function jwksAnswer(artefact: HostileArtefact, ctx: HostileContext): Rewritten {
  const real = ctx.keys.publicJwks();
  switch (artefact) {
    case 'jwks-keys-not-array':
      return json(200, { keys: Object.fromEntries(real.keys.map((k) => [String(k.kid), k])) });
    case 'jwks-empty':
      return json(200, { keys: [] });
    case 'jwks-symmetric-key':
      return json(200, { keys: [...real.keys, octKey(ctx.keys).jwk] });
    case 'jwks-huge': {
      const template = real.keys[0] ?? {};
      const extra = Array.from({ length: 5000 }, (_, i) => ({ ...template, kid: `filler-${i}` }));
      return json(200, { keys: [...real.keys, ...extra] });
    }
    case 'jwks-duplicate-kids': {
      const { kid: _k, ...foreignJwk } = foreign().publicJwk;
      return json(200, { keys: [{ ...foreignJwk, kid: ctx.keys.activeKey.kid }, ...real.keys] });
    }
    case 'jwks-duplicate-kids-genuine-first': {
      const { kid: _k, ...foreignJwk } = foreign().publicJwk;
      return json(200, { keys: [...real.keys, { ...foreignJwk, kid: ctx.keys.activeKey.kid }] });
    }
    case 'jwks-private-key':
      return json(200, { keys: real.keys.map((k) => (k.kid === ctx.keys.activeKey.kid ? { ...ctx.keys.activeKey.privateJwk, ...k } : k)) });
    case 'jwks-non-object-member':
      return json(200, { keys: [...real.keys, 'not a key'] });
    case 'jwks-malformed-json':
      return { status: 200, contentType: 'application/json', body: '{"keys": [{"kty": "RSA", ' };
    default:
      throw new Error(`not a JWKS artefact: ${artefact}`);
  }
}

export function rewriteDiscovery(artefact: HostileArtefact, body: Json, ctx: HostileContext): Rewritten {
  switch (artefact) {
    case 'discovery-issuer-mismatch':
      return json(200, { ...body, issuer: `${ctx.issuer}/` });
    case 'discovery-foreign-endpoints': {
      const moved: Json = { ...body };
      for (const [name, value] of Object.entries(body)) {
        if (name.endsWith('_endpoint') && typeof value === 'string') moved[name] = value.replace(ctx.issuer, 'https://attacker.example');
      }
      moved.jwks_uri = 'https://attacker.example/oauth2/v1/keys';
      return json(200, moved);
    }
    default:
      throw new Error(`not a discovery artefact: ${artefact}`);
  }
}

export function rewriteUserinfo(artefact: HostileArtefact, body: Json): Rewritten {
  if (artefact !== 'userinfo-sub-mismatch') throw new Error(`not a userinfo artefact: ${artefact}`);
  return json(200, { ...body, sub: '00uSomeoneElse000000' });
}

/** Generic artefacts that replace the answer without consulting the provider. */
export function genericAnswer(artefact: HostileArtefact): Rewritten | { redirect: string } | undefined {
  if (artefact === 'html-error-page') {
    return {
      status: 500,
      contentType: 'text/html; charset=utf-8',
      body: '<!DOCTYPE html><html><head><title>Okta - Error</title></head><body><h1>500 - Internal Server Error</h1><p>Something went wrong.</p></body></html>',
    };
  }
  if (artefact === 'redirect') return { redirect: FOREIGN_LOCATION };
  return undefined;
}

function send(res: ServerResponse, answer: Rewritten): void {
  res.writeHead(answer.status, { 'content-type': answer.contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(answer.body) });
  res.end(answer.body);
}

/**
 * Serves the armed artefact for `endpoint`, if any. Returns true when the request was answered
 * here; false when the request should go on normally (nothing armed). Provider-made answers are
 * produced by `next` and rewritten only when they are successful JSON (a 400 `use_dpop_nonce` or
 * `invalid_grant` passes through and does not use up the artefact).
 */
export async function serveHostile(
  table: HostileTable,
  endpoint: EmulatorEndpoint,
  ctx: HostileContext,
  req: IncomingMessage,
  res: ServerResponse,
  next: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<boolean> {
  const artefact = table.peek(endpoint);
  if (!artefact) return false;
  await table.pending;
  const generic = genericAnswer(artefact);
  if (generic) {
    table.consume(endpoint);
    if ('redirect' in generic) {
      res.writeHead(302, { location: generic.redirect, 'content-length': '0' });
      res.end();
    } else send(res, generic);
    return true;
  }
  if (endpoint === 'keys') {
    if (req.method !== 'GET') return false;
    table.consume(endpoint);
    send(res, jwksAnswer(artefact, ctx));
    return true;
  }

  // Capture the provider's answer (Koa sets headers with setHeader and finishes with one end()).
  const originalEnd = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
  const chunks: Buffer[] = [];
  const originalWrite = res.write.bind(res);
  res.write = ((chunk: unknown) => {
    if (chunk) chunks.push(Buffer.from(chunk as Buffer));
    return true;
  }) as typeof res.write;
  const done = new Promise<void>((resolve, reject) => {
    res.end = ((chunk?: unknown) => {
      if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk as Buffer));
      res.write = originalWrite;
      res.end = originalEnd as typeof res.end;
      try {
        finish();
        resolve();
      } catch (error) {
        reject(error);
      }
      return res;
    }) as typeof res.end;
  });

  const finish = () => {
    const text = Buffer.concat(chunks).toString('utf8');
    const type = String(res.getHeader('content-type') ?? '');
    let body: unknown;
    if (res.statusCode === 200 && type.includes('json')) {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
    }
    const usable = body !== null && typeof body === 'object' && !Array.isArray(body);
    const rewritable = usable && (endpoint !== 'token' || typeof (body as Json).access_token === 'string');
    if (!rewritable) {
      originalEnd(text);
      return;
    }
    const b = body as Json;
    let answer: Rewritten;
    if (endpoint === 'token') answer = rewriteTokenResponse(artefact, b, ctx);
    else if (endpoint === 'introspect') answer = rewriteIntrospection(artefact, b);
    else if (endpoint === 'discovery') answer = rewriteDiscovery(artefact, b, ctx);
    else if (endpoint === 'userinfo') answer = rewriteUserinfo(artefact, b);
    else {
      originalEnd(text);
      return;
    }
    table.consume(endpoint);
    res.removeHeader('content-length');
    res.removeHeader('etag');
    res.statusCode = answer.status;
    res.setHeader('content-type', answer.contentType);
    res.setHeader('content-length', Buffer.byteLength(answer.body));
    originalEnd(answer.body);
  };

  let ended = false;
  done.then(() => {
    ended = true;
  }, () => {
    ended = true;
  });
  await next(req, res);
  // Koa finishes with end() before its callback resolves; if it did not, give the response back.
  await Promise.resolve();
  if (!ended) {
    res.write = originalWrite;
    res.end = originalEnd as typeof res.end;
    return true;
  }
  await done;
  return true;
}
