/**
 * The sending side of logout: the org tells an app to end a user's sessions, as Okta does.
 *
 * - **Universal Logout** (Okta "Build Universal Logout for your app"; draft-parecki-oauth-global-token-revocation):
 *   `POST <endpoint>` with `Content-Type: application/json`, a body `{"sub_id": {...}}` and
 *   `Authorization: Bearer <JWT>`, the JWT signed with the org's ID token key, header
 *   `typ: global-token-revocation+jwt`, claims `iss` (the org), `sub` (the app instance's client id),
 *   `aud` (the endpoint URL, no query or fragment), `iat`, `exp` (5 minutes), `jti`.
 *   This is what an admin's "Clear User Sessions" with "Also include logout enabled apps" sends.
 * - **OIDC Back-Channel Logout 1.0** (§2.4–2.5): `POST <endpoint>` urlencoded `logout_token=<JWT>`,
 *   header `typ: logout+jwt`, claims `iss`, `aud`, `iat`, `exp`, `jti`, `events`, `sub` and/or `sid`, no `nonce`.
 *
 * Each has hostile variants for tests (see {@link UniversalLogoutVariant}). The requests go out
 * through `node:http` rather than fetch, so an app that answers an oversized body before reading it
 * (413) still has its status read.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { base64url, exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';
import type {
  BackchannelLogoutOptions,
  BackchannelLogoutVariant,
  LogoutAnswer,
  UniversalLogoutOptions,
  UniversalLogoutVariant,
} from './logout-types';
import type { OrgRuntime } from './runtime';
import type { ResolvedUser } from './types';

export type {
  BackchannelLogoutOptions,
  BackchannelLogoutVariant,
  LogoutAnswer,
  UniversalLogoutOptions,
  UniversalLogoutVariant,
} from './logout-types';

export const UNIVERSAL_LOGOUT_VARIANTS: readonly UniversalLogoutVariant[] = [
  'valid',
  'unsigned',
  'wrong-key',
  'wrong-aud',
  'expired',
  'not-yet-valid',
  'replayed',
  'other-org-issuer',
  'wrong-typ',
  'malformed-body',
  'oversized-body',
  'missing-auth',
];

export const BACKCHANNEL_LOGOUT_VARIANTS: readonly BackchannelLogoutVariant[] = [
  ...UNIVERSAL_LOGOUT_VARIANTS,
  'nonce-present',
  'no-events',
  'no-sub-or-sid',
];

/** The back-channel logout event (OIDC Back-Channel Logout 1.0 §2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** Over the 64 KiB an app reads from an auth route. */
const OVERSIZED_BYTES = 64 * 1024 + 1024;
/** Okta's window for a Universal Logout JWT: 5 minutes. */
const LIFETIME_SEC = 300;

/** An RS256 key the org never published (one per org, made on first use); signs under the active key's `kid`. */
const wrongKeys = new WeakMap<OrgRuntime, Promise<JWK>>();
async function unpublishedKey(org: OrgRuntime) {
  let jwk = wrongKeys.get(org);
  if (!jwk) {
    jwk = generateKeyPair('RS256', { extractable: true }).then(({ privateKey }) => exportJWK(privateKey));
    wrongKeys.set(org, jwk);
  }
  return importJWK(await jwk, 'RS256');
}

function randomId(): string {
  return randomBytes(24).toString('base64url');
}

/** The endpoint without query or fragment: the `aud` Okta puts in a Universal Logout JWT. */
function audienceOf(endpoint: string): string {
  const url = new URL(endpoint);
  return `${url.origin}${url.pathname}`;
}

/** Times for the variant: `[iat, exp, nbf?]`. */
function timesFor(variant: BackchannelLogoutVariant): { iat: number; exp: number; nbf?: number } {
  const now = Math.floor(Date.now() / 1000);
  if (variant === 'expired') return { iat: now - 2 * LIFETIME_SEC, exp: now - LIFETIME_SEC };
  if (variant === 'not-yet-valid') return { iat: now + 2 * LIFETIME_SEC, exp: now + 3 * LIFETIME_SEC, nbf: now + 2 * LIFETIME_SEC };
  return { iat: now, exp: now + LIFETIME_SEC };
}

/** Signs `payload` with the org's active ID token key (or, per variant, with none, another key, another `typ`). */
async function sign(org: OrgRuntime, payload: JWTPayload, typ: string, variant: BackchannelLogoutVariant): Promise<string> {
  const key = org.keys.activeKey;
  const header = { alg: 'RS256', kid: key.kid, typ: variant === 'wrong-typ' ? 'JWT' : typ };
  if (variant === 'unsigned') {
    // RFC 7519 §6: an Unsecured JWT, `alg: none` and an empty signature (jose's UnsecuredJWT sets no `typ`).
    const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
    return `${encode({ alg: 'none', typ })}.${encode(payload)}.`;
  }
  const signingKey = variant === 'wrong-key' ? await unpublishedKey(org) : await importJWK(key.privateJwk, 'RS256');
  return new SignJWT(payload).setProtectedHeader(header).sign(signingKey);
}

function pickUser(org: OrgRuntime, login: string | undefined): ResolvedUser {
  const wanted = login ?? (org.config.autoLogin || org.config.users[0]?.login);
  const found = wanted ? org.userByLogin(wanted) : undefined;
  if (!found) throw new Error(login ? `unknown user ${login}` : 'the org has no users');
  return found;
}

function subjectOf(org: OrgRuntime, user: ResolvedUser, format: 'email' | 'iss_sub'): Record<string, string> {
  if (format === 'iss_sub') return { format: 'iss_sub', iss: org.issuer, sub: user.sub };
  const email = typeof user.claims['email'] === 'string' ? user.claims['email'] : user.login;
  return { format: 'email', email };
}

/** Sends a Universal Logout request to `options.endpoint` as Okta does (or as the variant breaks it). */
export async function sendUniversalLogout(org: OrgRuntime, options: UniversalLogoutOptions): Promise<Omit<LogoutAnswer, 'body'>> {
  const variant = options.variant ?? 'valid';
  if (!UNIVERSAL_LOGOUT_VARIANTS.includes(variant)) throw new Error(`unknown Universal Logout variant ${String(variant)}`);
  const endpoint = new URL(options.endpoint);
  const subId = options.subId ?? subjectOf(org, pickUser(org, options.login), options.format ?? 'email');
  const { iat, exp, nbf } = timesFor(variant);
  const payload: JWTPayload = {
    iss: variant === 'other-org-issuer' ? `https://other-${randomBytes(4).toString('hex')}.okta.example` : org.issuer,
    sub: options.clientId,
    aud: variant === 'wrong-aud' ? `${audienceOf(endpoint.href)}-other` : audienceOf(endpoint.href),
    iat,
    exp,
    ...(nbf === undefined ? {} : { nbf }),
    jti: randomId(),
  };
  const jwt = await sign(org, payload, 'global-token-revocation+jwt', variant);
  const member = options.member ?? 'sub_id';
  let body = JSON.stringify({ [member]: subId });
  if (variant === 'malformed-body') body = `{"${member}":`;
  if (variant === 'oversized-body') body = JSON.stringify({ [member]: subId, padding: 'x'.repeat(OVERSIZED_BYTES) });
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (variant !== 'missing-auth') headers['authorization'] = `Bearer ${jwt}`;
  // Okta reads only the status (and the body is for logs): the answer leaves it out.
  const withoutBody = ({ status, headers }: LogoutAnswer) => ({ status, headers });
  const first = withoutBody(await post(endpoint, headers, body));
  if (variant !== 'replayed') return first;
  await options.beforeReplay?.(first);
  return withoutBody(await post(endpoint, headers, body));
}

/** Sends an OIDC Back-Channel Logout request (a logout token) to `options.endpoint`. */
export async function sendBackchannelLogout(org: OrgRuntime, options: BackchannelLogoutOptions): Promise<LogoutAnswer> {
  const variant = options.variant ?? 'valid';
  if (!BACKCHANNEL_LOGOUT_VARIANTS.includes(variant)) throw new Error(`unknown back-channel logout variant ${String(variant)}`);
  const endpoint = new URL(options.endpoint);
  const user = pickUser(org, options.login);
  const { iat, exp, nbf } = timesFor(variant);
  const payload: JWTPayload = {
    iss: variant === 'other-org-issuer' ? `https://other-${randomBytes(4).toString('hex')}.okta.example` : org.issuer,
    aud: variant === 'wrong-aud' ? `${options.clientId}-other` : options.clientId,
    iat,
    exp,
    ...(nbf === undefined ? {} : { nbf }),
    jti: randomId(),
  };
  // §2.4: sub and/or sid, events with the back-channel logout member (an empty object), never a nonce.
  if (variant !== 'no-sub-or-sid') {
    if (!options.omitSub) payload.sub = user.sub;
    if (options.sid !== undefined) payload['sid'] = options.sid;
  }
  if (variant !== 'no-events') payload['events'] = { [BACKCHANNEL_LOGOUT_EVENT]: {} };
  if (variant === 'nonce-present') payload['nonce'] = randomId();
  const token = await sign(org, payload, 'logout+jwt', variant);
  const form = new URLSearchParams();
  if (variant === 'malformed-body') form.set('logout_token', 'not-a-jwt');
  else if (variant !== 'missing-auth') form.set('logout_token', token);
  if (variant === 'oversized-body') form.set('padding', 'x'.repeat(OVERSIZED_BYTES));
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  const body = form.toString();
  const first = await post(endpoint, headers, body);
  if (variant !== 'replayed') return first;
  await options.beforeReplay?.(first);
  return post(endpoint, headers, body);
}

/**
 * One POST. The status counts even if the app closes the connection before reading the whole body
 * (an oversized request answered early): an error after the response arrived is ignored.
 */
function post(url: URL, headers: Record<string, string>, body: string): Promise<LogoutAnswer> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const payload = Buffer.from(body, 'utf8');
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = send(url, { method: 'POST', headers: { ...headers, 'content-length': String(payload.length) } }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      const flat: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
      const done = () => resolve({ status: res.statusCode ?? 0, headers: flat, body: Buffer.concat(chunks).toString('utf8') });
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', done);
      // The status line and headers arrived: a connection closed early still answered.
      res.on('error', done);
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    req.end(payload);
  });
}
