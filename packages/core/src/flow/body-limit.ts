/**
 * The one body limit of the auth routes, for every way a body is read (Web `Request` in core,
 * Node `IncomingMessage` in `@oin-oidc/core/node`): a larger body is refused with 413 (DS-02).
 */
import { OidcError } from '../errors';

/** The largest body an auth route reads: a form_post callback is a few KiB (an ID token and state). */
export const MAX_BODY_BYTES = 64 * 1024;

export function payloadTooLarge(): OidcError {
  return new OidcError('ERR_OIDC_PAYLOAD_TOO_LARGE', `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
}
