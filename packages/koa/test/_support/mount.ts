/**
 * The Koa tests' shared helpers: `listen` starts any Koa app on a loopback port, and `mountWith`
 * builds the app the adapter conformance suite drives.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdapterMount } from '@oin-oidc/testing/conformance';
import type Koa from 'koa';
import { oidc } from '../../src';

/** A server on 127.0.0.1 (port 0) and how to stop it, open connections included. */
export interface Listening {
  origin: string;
  close(): Promise<void>;
}

/** Start a Koa app (Koa 2 or 3) on a loopback port. */
export async function listen(app: Pick<Koa, 'callback'>): Promise<Listening> {
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The conformance app, for Koa 3 (`koa`) or Koa 2 (`koa2`): the same code runs on both. */
export function mountWith(Framework: typeof Koa): AdapterMount {
  return async ({ authOptions, basePath = '', trustProxy }) => {
    const auth = oidc({ ...authOptions, basePath });
    const requiresAuth = auth.requiresAuth();
    const requireAccessToken = auth.requireAccessToken();
    const requireAcmeToken = auth.requireAccessToken({ tenantId: 'acme' });
    const app = new Framework();
    app.proxy = trustProxy === true;
    app.use(auth.middleware);
    // The conformance routes (MountedAdapter in @oin-oidc/testing/conformance) without a router dependency.
    app.use(async (ctx, next) => {
      if (ctx.method !== 'GET') return next();
      if (ctx.path === `${basePath}/` || (basePath && ctx.path === basePath)) ctx.body = 'public';
      else if (ctx.path === `${basePath}/me`) {
        await requiresAuth(ctx, async () => {
          const state = ctx.state.oidc;
          ctx.body = { tenant: state?.tenant, sub: state?.session?.sub, claims: state?.user };
        });
      } else if (ctx.path === `${basePath}/api/me`) {
        await requireAccessToken(ctx, async () => {
          const token = ctx.state.oidc?.accessToken;
          ctx.body = { tenant: ctx.state.oidc?.accessTokenTenant, sessionTenant: ctx.state.oidc?.tenant, sub: token?.sub, client_id: token?.client_id, scope: token?.scope };
        });
      } else if (ctx.path === `${basePath}/api/acme`) {
        await requireAcmeToken(ctx, async () => {
          const token = ctx.state.oidc?.accessToken;
          ctx.body = { tenant: ctx.state.oidc?.accessTokenTenant, sessionTenant: ctx.state.oidc?.tenant, sub: token?.sub, client_id: token?.client_id, scope: token?.scope };
        });
      } else if (ctx.path === `${basePath}/whoami`) {
        const state = ctx.state.oidc;
        ctx.body = { isAuthenticated: state?.isAuthenticated, tenant: state?.tenant, sub: state?.session?.sub, host: ctx.hostname };
      } else if (ctx.path === `${basePath}/cached`) {
        ctx.set('Cache-Control', 'public, max-age=3600');
        ctx.body = 'cacheable';
      } else if (ctx.path === `${basePath}/fresh`) {
        ctx.set('Cache-Control', 'no-store, max-age=0');
        ctx.body = 'fresh';
      } else await next();
    });
    const { origin, close } = await listen(app);
    return { baseUrl: origin, close };
  };
}
