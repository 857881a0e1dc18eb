/**
 * base64url without padding (RFC 4648 §5), as JOSE and RFC 7636 use it. Delegates to jose so no
 * encoding is hand-rolled. Internal: never exported from the package.
 */
import { base64url } from 'jose';
import { codedTypeError } from './misuse';

/** Encode octets (or the UTF-8 of a string) as unpadded base64url. */
export function encodeBase64url(input: Uint8Array | string): string {
  return base64url.encode(input);
}

/** Decode unpadded base64url to octets; throws on characters outside the base64url alphabet. */
export function decodeBase64url(input: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(input)) throw codedTypeError('invalid base64url', 'ERR_INVALID_ARG_VALUE');
  return base64url.decode(input);
}
