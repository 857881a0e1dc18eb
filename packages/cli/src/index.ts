/**
 * `@oin-oidc/cli`: the `oin-oidc` command line (bin). The programmatic entry runs the same
 * commands against given streams, for wrappers and tests.
 *
 * @example
 * ```ts
 * import { runCli } from '@oin-oidc/cli';
 * process.exitCode = await runCli(['doctor', '--tenants', 'tenants.json', '--json']);
 * ```
 */
export { runCli } from './program';
export type { CliIo } from './io';
export { EXIT_OK, EXIT_FAILED, EXIT_USAGE } from './errors';
export type { TenantListing } from './tenants';
