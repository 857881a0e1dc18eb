/** The `sign-in` event of the `onEvent` hook: one per sign-in attempt, only when a listener is installed. */
import { isOidcError } from '../errors';
import type { OidcSignInFlow } from '../events';
import type { FlowContext } from './context';

/** What a sign-in route reports. `flow` is cleared once reported (or when the route turns out not to be a sign-in). */
export interface SignInAttempt {
  flow: OidcSignInFlow | undefined;
  /** Set from the sealed transaction or the store, never from request input alone. */
  tenantId?: string;
}

/**
 * Report the attempt once: success once the provider's answer is validated (with the tenant it is
 * for), failure with the error's code when the route throws before that.
 */
export function signInOutcome(ctx: FlowContext, attempt: SignInAttempt | undefined, tenantId: string | undefined, error?: unknown): void {
  if (ctx.onEvent === undefined || attempt?.flow === undefined) return;
  const flow = attempt.flow;
  attempt.flow = undefined;
  ctx.onEvent({
    type: 'sign-in',
    flow,
    outcome: error === undefined ? 'success' : 'failure',
    ...(tenantId === undefined ? {} : { tenantId }),
    ...(isOidcError(error) ? { errorCode: error.code } : {}),
  });
}
