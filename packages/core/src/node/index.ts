/**
 * `@oin-oidc/core/node`: optional helpers for Node (and runtimes with `node:` built-ins). This
 * entry is the only part of the package that imports a Node built-in; the protocol engine
 * (`@oin-oidc/core`) never loads it, so core stays runnable on Workers, Deno and browsers.
 */
export { nodeSignatureVerifier, withNodeSignatureVerifier } from './signature-verifier';
export { readNodeRequestBody } from './read-body';
