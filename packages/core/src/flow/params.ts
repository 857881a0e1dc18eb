/**
 * Request parameters, one value per name. A duplicated parameter is refused (RFC 6749 §3.1:
 * "Request and response parameters MUST NOT be included more than once").
 */
import type { CallbackParams } from '../client';
import { OidcError } from '../errors';

/** Every parameter of `source`, refusing any repeated name. */
export function toParams(source: URLSearchParams): CallbackParams {
  // No prototype: a parameter named __proto__ or constructor is just a name.
  const params = Object.create(null) as CallbackParams;
  for (const [name, value] of source) {
    if (Object.hasOwn(params, name)) {
      throw new OidcError('ERR_OIDC_DUPLICATE_PARAMETER', 'A parameter appears more than once.', { details: { parameter: name.slice(0, 64) } });
    }
    params[name] = value;
  }
  return params;
}

/** Refuse a repeat of any of `names` (other parameters may repeat). */
export function refuseDuplicates(params: URLSearchParams, names: readonly string[]): void {
  for (const name of names) {
    if (params.getAll(name).length > 1) throw new OidcError('ERR_OIDC_DUPLICATE_PARAMETER', `The ${name} parameter appears more than once.`, { details: { parameter: name } });
  }
}
