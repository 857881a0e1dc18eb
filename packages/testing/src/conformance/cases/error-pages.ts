/**
 * Error pages and JSON errors: catalogue §LG.
 */
import { describe, expect, it } from 'vitest';
import { driveAuthorization, startOktaOrg } from '../../index';
import { JSON_ACCEPT, urlencodedPost, type Harness } from '../harness';

/** Registers this section's cases in the suite's `describe` (see `describeAdapterConformance`). */
export function describeErrorPageCases(h: Harness): void {
  const { t, expectRejected } = h;

  // =====================================================================================
  describe('security catalogue: error pages (LG)', () => {
    it(t('LG-03: error pages and JSON errors name the code and the correlation id onError received; no token, claim, upstream body or internal detail'), async () => {
      const INTERNAL = 'db-host-10.9.8.7-password-hunter2';
      const UPSTREAM = 'UPSTREAM-BODY-MARKER-stack-trace';
      const reported: { route: string; correlationId: string }[] = [];
      const app = await h.start('', false, {
        onError: (_error, context) => {
          reported.push(context);
        },
        // An app-supplied resolver that fails with an internal message: the page must not show it.
        tenant: (req) => {
          const id = req.url.searchParams.get('tenant') ?? undefined;
          if (id === 'explode') throw new Error(`tenant lookup failed: ${INTERNAL}`);
          return id;
        },
      });
      const org = await startOktaOrg({
        name: 'lg',
        clients: [{ ...h.clients.acme, tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: [app.url('/auth/callback')], postLogoutRedirectUris: [app.url('/')] }],
        users: [h.users.acme],
      });
      const reference = (body: string) => /Reference: <code>([^<]*)<\/code>/.exec(body)?.[1];
      const seen = new Set<string>();
      /** The page's (or JSON's) correlation id is opaque, fresh, and the one onError got for this route. */
      const expectCorrelated = (id: string | undefined, route: string) => {
        expect(id).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
        expect(reported.at(-1)).toEqual({ route, correlationId: id });
        expect(seen.has(id ?? '')).toBe(false);
        seen.add(id ?? '');
      };
      try {
        await app.store.put(h.record(app, 'acme', org.issuer));
        const pending = async () => {
          const b = app.browser();
          const { authorize } = await h.login(app, b, { tenant: 'acme' });
          return { b, request: await driveAuthorization(authorize) };
        };

        // 1. A forged ID token (wrong nonce) at the callback: 400, HTML.
        {
          const { b, request } = await pending();
          org.control.hostile('token', 'id-token-nonce-wrong', { times: 1 });
          const response = await h.callback(b, request);
          const body = await expectRejected(app, response, { status: 400, code: 'ERR_OIDC_NONCE_MISMATCH', txDeleted: true });
          expectCorrelated(reference(body), 'callback');
          const q = request.method === 'GET' ? request.url.searchParams : new URLSearchParams(request.body);
          for (const secret of [q.get('code'), q.get('state'), h.users.acme.claims['email'], h.users.acme.claims['name'], h.clients.acme.clientSecret]) {
            expect(body).not.toContain(String(secret));
          }
          expect(body).not.toMatch(/eyJ[\w-]+\./); // no JWT of any kind
        }

        // 2. Okta's /token fails with a detailed body: the page says Okta failed, never what it said.
        {
          const { b, request } = await pending();
          org.control.fault('token', { type: 'status', status: 500, body: JSON.stringify({ error: 'server_error', error_description: UPSTREAM }) }, { times: 1 });
          const response = await h.callback(b, request);
          const body = await expectRejected(app, response, { status: response.status === 503 ? 503 : 502, code: /ERR_OIDC_(UNAVAILABLE|HTTP_ERROR|TOKEN_ENDPOINT_ERROR)/, txDeleted: true });
          expect(body).not.toContain(UPSTREAM);
          expect(body).not.toContain('server_error');
          expectCorrelated(reference(body), 'callback');
        }

        // 3. A non-OidcError from app code: a generic 500 with no detail at all, HTML and JSON.
        {
          const html = await app.browser().fetch(`${app.url('/auth/login')}?tenant=explode`, { headers: { accept: 'text/html' } });
          const body = await expectRejected(app, html, { status: 500, code: 'An unexpected error occurred.', notReflected: [INTERNAL, 'tenant lookup failed', 'Error:', ' at '] });
          expectCorrelated(reference(body), 'login');
          const json = await app.browser().fetch(`${app.url('/auth/login')}?tenant=explode`, { headers: JSON_ACCEPT });
          const payload = JSON.parse(await expectRejected(app, json, { status: 500, code: 'internal_error', notReflected: [INTERNAL, 'tenant lookup failed'] })) as Record<string, unknown>;
          expect(Object.keys(payload).sort()).toEqual(['correlationId', 'error', 'message']);
          expectCorrelated(payload['correlationId'] as string, 'login');
        }

        // 4. A JSON client of a browser route gets the same shape for a typed error.
        {
          const { b, request } = await pending();
          const url = new URL(request.url);
          url.searchParams.set('state', 'forged-state');
          const init = request.method === 'GET' ? { headers: JSON_ACCEPT } : urlencodedPost(request.body ?? '', JSON_ACCEPT);
          const response = await b.fetch(request.method === 'GET' ? url : request.url, init);
          const payload = JSON.parse(await expectRejected(app, response, { status: 400, code: /ERR_OIDC_STATE_(MISMATCH|MISSING)/, txKept: true })) as Record<string, unknown>;
          expect(Object.keys(payload).sort()).toEqual(['correlationId', 'error', 'message']);
          expect(String(payload['message'])).not.toContain('forged-state');
          expectCorrelated(payload['correlationId'] as string, 'callback');
        }
      } finally {
        await Promise.allSettled([app.mounted.close(), org.close()]);
      }
    });
  });
}
