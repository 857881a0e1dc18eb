/**
 * One suite every framework adapter runs unchanged (the model: h3's `describeMatrix`; tRPC and
 * Auth.js repeat bespoke tests per framework instead, and drift). Real parts only: the adapter's own
 * framework on a loopback port, the Okta org emulator as the provider, and `fetch` as the browser.
 *
 * The cases live in `cases/`, one file per section of the hostile-input catalogue (see
 * docs/security.md), over the shared fixtures and checks of `harness.ts`. Each case name starts
 * with the catalogue ids it covers, and a case fails when an unhandled error or rejection is raised
 * while it runs.
 *
 * @example
 * ```ts
 * import { describeAdapterConformance } from '@oin-oidc/testing/conformance';
 * describeAdapterConformance('express', async ({ authOptions, basePath = '', trustProxy }) => {
 *   const app = express();
 *   if (trustProxy) app.set('trust proxy', 'loopback');
 *   const auth = oidc(authOptions);
 *   // mount auth under basePath, plus GET {basePath}/, /me, /api/me, /whoami, /cached and /fresh (see MountedAdapter)
 *   const server = app.listen(0, '127.0.0.1');
 *   ...
 *   return { baseUrl: `http://127.0.0.1:${port}`, close: () => ... };
 * });
 * ```
 */
import { describe } from 'vitest';
import { describeAuditCases } from './cases/audit';
import { describeBearerCases } from './cases/bearer';
import { describeCallbackCases } from './cases/callback';
import { describeErrorPageCases } from './cases/error-pages';
import { describeFaultCases } from './cases/faults';
import { describeLogoutRequestCases } from './cases/idp-logout';
import { describeInitiateCases } from './cases/initiate';
import { describeLoginCases } from './cases/login';
import { describeLogoutCases } from './cases/logout';
import { describeMultiTenantCases } from './cases/multi-tenant';
import { describeRouteCases } from './cases/routes';
import { describeSessionCases } from './cases/session';
import { describeSimplifiedFlowCases } from './cases/simplified-flow';
import { type AdapterMount, createHarness } from './harness';

export type { AdapterMount, AdapterMountOptions, MountedAdapter } from './harness';

/** The sections in the order they run: the flow from login to logout, then the cross-cutting ones. */
const SECTIONS = [
  describeLoginCases,
  describeCallbackCases,
  describeSimplifiedFlowCases,
  describeInitiateCases,
  describeLogoutCases,
  describeSessionCases,
  describeBearerCases,
  describeRouteCases,
  describeErrorPageCases,
  describeMultiTenantCases,
  describeFaultCases,
  describeAuditCases,
  describeLogoutRequestCases,
];

/**
 * Runs the adapter conformance cases. Case names end with ` (${name})`.
 * `mount` is called once per app the suite needs: plain, under `/app`, behind a trusted proxy, with
 * `responseMode: 'form_post'`, and a few more with their own options (a verifier, a session store).
 */
export function describeAdapterConformance(name: string, mount: AdapterMount): void {
  describe(`adapter conformance (${name})`, () => {
    const harness = createHarness(name, mount);
    for (const section of SECTIONS) section(harness);
  });
}
