/**
 * Authorization response parameters from a callback request: the query for GET
 * (RFC 6749 §4.1.2), the form body for POST (OAuth 2.0 Form Post Response Mode §2).
 */
import { OidcError } from '../errors';

/** One value per name (duplicates already refused). A null-prototype object. */
export type CallbackParams = Record<string, string>;

export interface CallbackRequest {
  /** HTTP method, any case; only GET and POST are callbacks. */
  method: string;
  /** The callback URL as received. */
  url: URL;
  /** The raw `application/x-www-form-urlencoded` body of a POST. */
  body?: string;
  /** The request's `Content-Type` header. */
  contentType?: string;
}

/** Total size of the query or body: a form_posted ID token stays well below this. */
export const MAX_CALLBACK_SIZE = 64 * 1024;
/** Longest accepted value (an ID token with many claims fits; nothing legitimate is larger). */
export const MAX_CALLBACK_VALUE_LENGTH = 16 * 1024;
const MAX_PARAMETERS = 64;
const MAX_NAME_LENGTH = 128;
/** Names safe to mention in error details (they are request input otherwise). */
const REPORTABLE_NAME = /^[a-z_]{1,32}$/;

function invalid(message: string, status?: number): OidcError {
  return new OidcError('ERR_OIDC_CALLBACK_INVALID', message, status === undefined ? {} : { status });
}

function collect(source: URLSearchParams, into: Map<string, string>): void {
  let count = 0;
  for (const [name, value] of source) {
    if (++count > MAX_PARAMETERS) throw invalid('The callback carries too many parameters.');
    if (name.length > MAX_NAME_LENGTH) throw invalid('The callback carries an oversized parameter name.');
    if (value.length > MAX_CALLBACK_VALUE_LENGTH) throw new OidcError('ERR_OIDC_PAYLOAD_TOO_LARGE', 'A callback parameter is too large.');
    // RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."
    if (into.has(name)) {
      throw new OidcError('ERR_OIDC_DUPLICATE_PARAMETER', 'A callback parameter appears more than once.', {
        details: REPORTABLE_NAME.test(name) ? { parameter: name } : {},
      });
    }
    into.set(name, value);
  }
}

/**
 * Parse and bound the callback parameters.
 *
 * - GET: the query. POST: requires `application/x-www-form-urlencoded` and reads the body; the
 *   query of a POST is not read (Form Post Response Mode §2 puts the response in the body), but a
 *   name present in both is refused as a duplicate, so nothing can shadow a response parameter.
 * - Every name at most once (ERR_OIDC_DUPLICATE_PARAMETER); size caps
 *   (ERR_OIDC_PAYLOAD_TOO_LARGE); other methods → ERR_OIDC_METHOD_NOT_ALLOWED.
 * - Parameters without a value are treated as omitted (RFC 6749 §3.1). Unknown names are kept
 *   and ignored by the callback handler.
 */
export function parseCallbackParams(request: CallbackRequest): CallbackParams {
  const method = String(request.method).toUpperCase();
  const params = new Map<string, string>();
  if (request.url.search.length > MAX_CALLBACK_SIZE) throw new OidcError('ERR_OIDC_PAYLOAD_TOO_LARGE', 'The callback query is too large.');
  if (method === 'GET') {
    collect(request.url.searchParams, params);
  } else if (method === 'POST') {
    const mediaType = (request.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (mediaType !== 'application/x-www-form-urlencoded') {
      throw invalid('A POST callback must be application/x-www-form-urlencoded.', 415);
    }
    const body = request.body ?? '';
    if (body.length > MAX_CALLBACK_SIZE) throw new OidcError('ERR_OIDC_PAYLOAD_TOO_LARGE', 'The callback body is too large.');
    collect(new URLSearchParams(body), params);
    const query = new Map<string, string>();
    collect(request.url.searchParams, query);
    for (const name of query.keys()) {
      if (params.has(name)) {
        throw new OidcError('ERR_OIDC_DUPLICATE_PARAMETER', 'A callback parameter appears in both the query and the body.', {
          details: REPORTABLE_NAME.test(name) ? { parameter: name } : {},
        });
      }
    }
  } else {
    throw new OidcError('ERR_OIDC_METHOD_NOT_ALLOWED', 'The callback accepts GET and POST only.');
  }
  const result: CallbackParams = Object.create(null);
  for (const [name, value] of params) if (value !== '') result[name] = value;
  return result;
}
