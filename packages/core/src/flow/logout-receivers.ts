/**
 * The identity provider's logout requests (docs/universal-logout.md), server to server, never from
 * a browser:
 *
 * - **Universal Logout** (`POST /auth/universal-logout`): Okta's receiver profile of Global Token
 *   Revocation ("Build Universal Logout for your app",
 *   developer.okta.com/docs/guides/oin-universal-logout-overview/). JSON body
 *   `{"sub_id": {"format": "email", "email"} | {"format": "iss_sub", "iss", "sub"}}` (older drafts:
 *   `subject`), `Authorization: Bearer <signed JWT>`. Answers: 204 done, 400 malformed, 401
 *   authentication failed, 404 unknown user, 422 cannot log out (Okta reads only the status).
 * - **Back-Channel Logout** (`POST /auth/backchannel-logout`, OpenID Connect Back-Channel Logout
 *   1.0): a form with `logout_token`. Answers 200, or 400 `{"error":"invalid_request"}` (§2.8).
 *
 * Only the tenant the JWT names is affected, never another org's. The effect is a revocation mark
 * (`session-revocations.ts`): every session of that user issued up to now ends on its next request,
 * on every process when the revocation list is shared; a server-side session store also deletes
 * them. The app's `onLogoutRequest` hook can end its own state and choose the answer.
 */
import { OidcError, isOidcError } from '../errors';
import type { OidcClient } from '../client';
import type { SessionStore } from '../session/types';
import { isTenantIssuer, type Tenant } from '../tenant/tenant';
import { peekLogoutJwt } from '../tokens/validate-logout-jwt';
import { NO_STORE, headerOf } from './responses';
import type { SessionRevocations } from './session-revocations';
import type { LogoutHookResult, LogoutRequestInfo, OidcRequest, OidcResponse } from './types';
import { audienceHolds } from '../internal/jwt-shape';

const MAX_EMAIL_LENGTH = 320;
const MAX_SUB_LENGTH = 255;

export interface LogoutReceiverDeps {
  client: OidcClient;
  revocations: SessionRevocations;
  sessionStore: SessionStore | undefined;
  /** How long a user-wide mark must live: the longest a session issued now could last. */
  absoluteMs: number;
  now: () => number;
  /** The exact URL of the Universal Logout endpoint this request reached (configured origin + base path + route), for `aud`. */
  endpointUrl: (req: OidcRequest) => string;
  onLogoutRequest: ((request: LogoutRequestInfo) => LogoutHookResult | Promise<LogoutHookResult>) | undefined;
}

function refuse(code: 'ERR_OIDC_LOGOUT_TOKEN_INVALID' | 'ERR_OIDC_LOGOUT_REQUEST_INVALID', check: string, message: string): OidcError {
  return new OidcError(code, message, { details: { check } });
}

/** The tenant whose app instance a logout JWT names: `iss` (or an alias) and the client id. Unknown → refused, no network call. */
async function tenantNamed(deps: LogoutReceiverDeps, issuer: unknown, names: (tenant: Tenant) => boolean, code: 'ERR_OIDC_LOGOUT_TOKEN_INVALID' | 'ERR_OIDC_LOGOUT_REQUEST_INVALID'): Promise<Tenant> {
  if (typeof issuer !== 'string' || issuer.length === 0 || issuer.length > 2048) throw refuse(code, 'iss', 'The logout token names no issuer.');
  let candidates: readonly Tenant[];
  try {
    candidates = await deps.client.store.findByIssuer(issuer);
  } catch (cause) {
    throw new OidcError('ERR_OIDC_STORE_FAILURE', 'The credential store failed to load a tenant.', { cause });
  }
  const named = candidates.filter(names);
  // One (issuer, client id) pair per record (SA-17), so at most one matches.
  if (named.length !== 1) throw refuse(code, 'tenant', 'The logout token names no app instance registered here.');
  // Through the client: the issuer policy applies as on every other route.
  return deps.client.getTenant(named[0]!.id);
}

/** Mark the user's sessions revoked (and delete stored ones); the hook first, so it can refuse. */
async function endSessions(deps: LogoutReceiverDeps, info: LogoutRequestInfo): Promise<void> {
  const outcome = deps.onLogoutRequest === undefined ? undefined : await deps.onLogoutRequest(info);
  if (outcome === 'unknown-user') throw new OidcError('ERR_OIDC_LOGOUT_USER_UNKNOWN', 'The user is not known to this app.');
  if (outcome === 'failed') throw new OidcError('ERR_OIDC_LOGOUT_FAILED', 'The app could not log the user out.');
  const revokedAt = deps.now();
  const until = revokedAt + deps.absoluteMs;
  const { tenant } = info;
  const subjects = new Set([...(info.sub === undefined ? [] : [info.sub]), ...(typeof outcome === 'object' && outcome !== null ? outcome.subjects : [])]);
  for (const sub of subjects) await deps.revocations.revokeSubject(tenant.id, sub, revokedAt, until);
  if (info.email !== undefined) await deps.revocations.revokeEmail(tenant.id, info.email, revokedAt, until);
  if (info.sid !== undefined) await deps.revocations.revokeSid(tenant.id, info.sid, revokedAt, until);
  const store = deps.sessionStore;
  if (store?.deleteBySubject !== undefined) {
    for (const sub of subjects) {
      try {
        await store.deleteBySubject(tenant.id, sub);
      } catch (cause) {
        throw new OidcError('ERR_OIDC_STORE_FAILURE', 'The session store failed to delete the user\'s sessions.', { cause });
      }
    }
  }
}

/** `sub_id` (or the older `subject`) of a Universal Logout body, checked. */
function parseSubject(tenant: Tenant, text: string): { sub?: string; email?: string; unknownIssuer?: true } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw refuse('ERR_OIDC_LOGOUT_REQUEST_INVALID', 'body', 'The body is not JSON.');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw refuse('ERR_OIDC_LOGOUT_REQUEST_INVALID', 'body', 'The body is not a JSON object.');
  const record = body as Record<string, unknown>;
  const subject = record['sub_id'] ?? record['subject'];
  if (subject === null || typeof subject !== 'object' || Array.isArray(subject)) throw refuse('ERR_OIDC_LOGOUT_REQUEST_INVALID', 'sub_id', 'The body has no sub_id object.');
  const id = subject as Record<string, unknown>;
  if (id['format'] === 'email') {
    const email = id['email'];
    if (typeof email !== 'string' || email.length > MAX_EMAIL_LENGTH || !/^[^\s@]+@[^\s@]+$/.test(email)) {
      throw refuse('ERR_OIDC_LOGOUT_REQUEST_INVALID', 'email', 'sub_id.email is not an e-mail address.');
    }
    return { email };
  }
  if (id['format'] === 'iss_sub') {
    const { iss, sub } = id;
    if (typeof iss !== 'string' || typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUB_LENGTH) {
      throw refuse('ERR_OIDC_LOGOUT_REQUEST_INVALID', 'iss_sub', 'sub_id needs string iss and sub members.');
    }
    // The default meaning: Okta's issuer and the user's id there (the ID token's sub). A user of
    // another issuer is none of this tenant's sessions; the hook may map it (`subjects`).
    return isTenantIssuer(tenant, iss) ? { sub } : { unknownIssuer: true };
  }
  throw refuse('ERR_OIDC_LOGOUT_REQUEST_INVALID', 'format', 'sub_id.format must be "email" or "iss_sub".');
}

function bearerOf(req: OidcRequest): string {
  const value = headerOf(req, 'authorization');
  const match = value === null ? null : /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(value);
  if (match === null) throw refuse('ERR_OIDC_LOGOUT_TOKEN_INVALID', 'authorization', 'Universal Logout requests must carry Authorization: Bearer <JWT>.');
  return match[1]!;
}

function isJson(req: OidcRequest): boolean {
  const type = (headerOf(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json';
}

/** Okta reads only the status: the body is a small JSON error for people reading logs. */
function answer(status: number, body?: Record<string, string>, extra: Record<string, string> = {}): OidcResponse {
  return {
    status,
    headers: { 'Cache-Control': NO_STORE, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...extra },
    setCookies: [],
    body: body === undefined ? null : JSON.stringify(body),
  };
}

function failure(error: unknown, backchannel: boolean): OidcResponse {
  const known = isOidcError(error) ? error : undefined;
  const retry: Record<string, string> = known?.retryAfter !== undefined ? { 'Retry-After': String(Math.max(1, Math.ceil(known.retryAfter))) } : {};
  // Outages stay outages (retryable 503/504), never "done" and never "bad request".
  if (known !== undefined && known.status >= 500) return answer(known.status, { error: known.code, message: known.message }, retry);
  if (backchannel) return answer(400, { error: 'invalid_request', ...(known ? { error_description: known.message } : {}) });
  if (known === undefined) return answer(500, { error: 'server_error' });
  return answer(known.status, { error: known.code, message: known.message }, retry);
}

export function createLogoutReceivers(deps: LogoutReceiverDeps) {
  return {
    async universalLogout(req: OidcRequest): Promise<OidcResponse> {
      try {
        // Authentication first: without a valid JWT nothing about the body is said (401).
        const jwt = bearerOf(req);
        const peeked = peekLogoutJwt(jwt);
        const tenant = await tenantNamed(deps, peeked.iss, (t) => t.clientId === peeked.sub, 'ERR_OIDC_LOGOUT_TOKEN_INVALID');
        await deps.client.validateLogoutToken('universal-logout', tenant, jwt, { audience: deps.endpointUrl(req) });
        if (!isJson(req)) throw refuse('ERR_OIDC_LOGOUT_REQUEST_INVALID', 'content-type', 'The body must be application/json.');
        const subject = parseSubject(tenant, await req.readBody());
        if (subject.unknownIssuer && deps.onLogoutRequest === undefined) throw new OidcError('ERR_OIDC_LOGOUT_USER_UNKNOWN', 'The user is not known to this app.');
        await endSessions(deps, {
          tenant,
          format: subject.email === undefined ? 'iss_sub' : 'email',
          ...(subject.sub === undefined ? {} : { sub: subject.sub }),
          ...(subject.email === undefined ? {} : { email: subject.email }),
        });
        return answer(204);
      } catch (error) {
        return failure(error, false);
      }
    },

    async backchannelLogout(req: OidcRequest): Promise<OidcResponse> {
      try {
        const form = new URLSearchParams(await req.readBody());
        const tokens = form.getAll('logout_token');
        if (tokens.length !== 1) throw refuse('ERR_OIDC_LOGOUT_REQUEST_INVALID', 'logout_token', 'The request must carry exactly one logout_token.');
        const jwt = tokens[0]!;
        const peeked = peekLogoutJwt(jwt);
        const aud = peeked.aud;
        const tenant = await tenantNamed(deps, peeked.iss, (t) => audienceHolds(aud, t.clientId), 'ERR_OIDC_LOGOUT_REQUEST_INVALID');
        const claims = await deps.client.validateLogoutToken('backchannel-logout', tenant, jwt, { audience: tenant.clientId });
        await endSessions(deps, {
          tenant,
          format: 'backchannel',
          ...(claims.sub === undefined ? {} : { sub: claims.sub }),
          ...(claims.sid === undefined ? {} : { sid: claims.sid }),
        });
        return answer(200);
      } catch (error) {
        return failure(error, true);
      }
    },
  };
}
