/**
 * The types of the emulator's logout sender (logout-sender.ts), in a module that imports nothing so
 * `types.ts`, `types-org.ts` and the sender can all use them without an import circle.
 */

/**
 * How a Universal Logout request is built.
 * - `valid` (default): exactly what Okta sends.
 * - `unsigned`: the JWT with `alg: none` and an empty signature.
 * - `wrong-key`: signed with a fresh key that is not in the org's JWKS, under the active key's `kid`.
 * - `wrong-aud`: `aud` is another URL than the endpoint (the endpoint with `-other` appended to its path).
 * - `expired`: `iat` 10 minutes ago, `exp` 5 minutes ago.
 * - `not-yet-valid`: `iat` 10 minutes ahead, `exp` 15 minutes ahead (and `nbf` = `iat`).
 * - `replayed`: the same JWT sent twice; the answer returned is the second one.
 * - `other-org-issuer`: `iss` is a random `https://` issuer that is not this org (signed with this org's key).
 * - `wrong-typ`: header `typ: JWT`.
 * - `malformed-body`: a valid JWT, a body that is not JSON (`{"sub_id":` cut short).
 * - `oversized-body`: a valid JWT and a JSON body of more than 64 KiB (the `sub_id` plus padding).
 * - `missing-auth`: no `Authorization` header at all.
 */
export type UniversalLogoutVariant =
  | 'valid'
  | 'unsigned'
  | 'wrong-key'
  | 'wrong-aud'
  | 'expired'
  | 'not-yet-valid'
  | 'replayed'
  | 'other-org-issuer'
  | 'wrong-typ'
  | 'malformed-body'
  | 'oversized-body'
  | 'missing-auth';

/**
 * How a back-channel logout request is built: the Universal Logout variants, applied to the logout
 * token (`wrong-aud`: `aud` is another client id; `wrong-typ`: `typ: JWT`; `missing-auth`: a form
 * without `logout_token`; `malformed-body`: a `logout_token` that is not a JWT; `oversized-body`:
 * a valid token plus a padding parameter, over 64 KiB), and:
 * - `nonce-present`: the token carries a `nonce` (forbidden, §2.4);
 * - `no-events`: the token has no `events` claim;
 * - `no-sub-or-sid`: the token has neither `sub` nor `sid`.
 */
export type BackchannelLogoutVariant = UniversalLogoutVariant | 'nonce-present' | 'no-events' | 'no-sub-or-sid';

export interface UniversalLogoutOptions {
  /** The app instance's client id: the JWT's `sub`. Sent as given (a test may name another org's client). */
  clientId: string;
  /** The app's Universal Logout endpoint, e.g. `http://127.0.0.1:PORT/auth/universal-logout`; the JWT's `aud` (without query or fragment). */
  endpoint: string;
  /** The user to log out; default: the org's auto-login user, else its first user. */
  login?: string;
  /** `email` (default, Okta's default): the user's `email` claim (else the login); `iss_sub`: the org's issuer and the user's id (the ID token `sub`). */
  format?: 'email' | 'iss_sub';
  variant?: UniversalLogoutVariant;
  /** Send this object as `sub_id` verbatim instead of one built from `login`/`format` (for malformed-subject tests). */
  subId?: unknown;
  /** The body member that carries the subject; default `sub_id`. Older drafts call it `subject`. */
  member?: 'sub_id' | 'subject';
  /** `replayed` only: called after the first answer and before the second request (e.g. to sign a fresh session in). */
  beforeReplay?: (first: Omit<LogoutAnswer, 'body'>) => Promise<void> | void;
}

export interface BackchannelLogoutOptions {
  /** The client id: the logout token's `aud`. Sent as given. */
  clientId: string;
  /** The app's back-channel logout endpoint, e.g. `http://127.0.0.1:PORT/auth/backchannel-logout`. */
  endpoint: string;
  /** The user whose id goes in `sub`; default: the org's auto-login user, else its first user. */
  login?: string;
  /** A session id to put in `sid` (Okta's ID tokens carry none, so by default there is no `sid`). */
  sid?: string;
  /** Leave `sub` out (then `sid` alone names the session); default false. */
  omitSub?: boolean;
  variant?: BackchannelLogoutVariant;
  /** `replayed` only: called after the first answer and before the second request. */
  beforeReplay?: (first: LogoutAnswer) => Promise<void> | void;
}

/** The app's answer to a logout request: its status, headers (lower-case names) and body. */
export interface LogoutAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}
