import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { patchAccessTokens } from './access-token';
import { handleAdmin } from './admin';
import { HostileTable, serveHostile } from './hostile';
import { resolveConfig } from './config';
import { createControl } from './control';
import { FaultTable, serveFault } from './faults';
import { sendJson } from './http-util';
import { KeyRing } from './keys';
import { handleInteraction } from './login-page';
import { oktaIntrospection } from './id-token-introspection';
import { answerLikeOkta } from './okta-client-checks';
import { createProvider, providerKeyStore, setIntrospectionHook } from './oidc-provider';
import { INTERACTION_PATH, OKTA_ROUTES, providerConfiguration } from './provider-config';
import { RateLimiter } from './rate-limit';
import { ClientSecrets } from './secrets';
import type { OrgRuntime } from './runtime';
import { EMULATOR_ENDPOINTS, type EmulatorEndpoint, type OrgConfig } from './types';
import type { OktaOrg, OrgControl } from './types-org';

const ENDPOINT_BY_PATH = new Map<string, EmulatorEndpoint>([
  ['/.well-known/openid-configuration', 'discovery'],
  [OKTA_ROUTES.authorization, 'authorize'],
  [OKTA_ROUTES.token, 'token'],
  [OKTA_ROUTES.jwks, 'keys'],
  [OKTA_ROUTES.userinfo, 'userinfo'],
  [OKTA_ROUTES.introspection, 'introspect'],
  [OKTA_ROUTES.revocation, 'revoke'],
  [OKTA_ROUTES.end_session, 'logout'],
]);

/** Endpoints that authenticate the client (secrets are mapped there, see secrets.ts). */
const CLIENT_AUTH = new Set<EmulatorEndpoint>(['token', 'introspect', 'revoke']);

function zeroCounters(): Record<EmulatorEndpoint, number> {
  return Object.fromEntries(EMULATOR_ENDPOINTS.map((e) => [e, 0])) as Record<EmulatorEndpoint, number>;
}


/**
 * Starts one emulated Okta org on http://127.0.0.1:PORT (port 0: random). The issuer is the
 * origin, as for Okta's org authorization server (https://{oktaDomain}).
 */
export async function startOktaOrg(input: OrgConfig): Promise<OktaOrg> {
  const config = resolveConfig(input);
  const host = input.host ?? '127.0.0.1';
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(input.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const keys = await KeyRing.create();
  const secrets = new ClientSecrets(config.clients);
  const userBySub = (sub: string) => config.users.find((u) => u.sub === sub);
  const userByLogin = (login: string) => config.users.find((u) => u.login.toLowerCase() === login.toLowerCase());
  const provider = await createProvider(
    issuer,
    providerConfiguration({ config, port, internalSecrets: secrets.internal, userBySub, jwks: keys.providerJwks() }),
  );
  keys.attach(await providerKeyStore(provider));
  patchAccessTokens(provider, keys, config.accessTokenSigning);
  setIntrospectionHook(provider, oktaIntrospection(issuer, keys));
  provider.on('server_error', (_ctx: unknown, error: unknown) => {
    console.error(`[okta-emulator ${issuer}] server_error`, error);
  });

  const runtime: OrgRuntime = {
    issuer,
    config,
    provider,
    keys,
    secrets,
    faults: new FaultTable(),
    hostile: new HostileTable(),
    limiter: new RateLimiter(config.rateLimit),
    counters: zeroCounters(),
    control: undefined as unknown as OrgControl,
    userByLogin,
  };
  runtime.control = createControl(runtime);

  const callback = provider.callback() as (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  const hanging = new Set<ServerResponse>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    dispatch(runtime, callback, hanging, req, res).catch((error: unknown) => {
      console.error(`[okta-emulator ${issuer}]`, error);
      if (!res.headersSent) sendJson(res, 500, { errorCode: 'E0000009', errorSummary: 'Internal Server Error' });
      else res.destroy();
    });
  });

  return {
    issuer,
    adminUrl: `${issuer}/__admin`,
    control: runtime.control,
    config,
    async close() {
      for (const res of hanging) res.destroy();
      hanging.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

async function dispatch(
  org: OrgRuntime,
  callback: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  hanging: Set<ServerResponse>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', org.issuer);
  const path = url.pathname;
  if (path === '/__admin' || path.startsWith('/__admin/')) {
    await handleAdmin(org, req, res, url);
    return;
  }
  if (path.startsWith(INTERACTION_PATH)) {
    await handleInteraction(req, res, { provider: org.provider, config: org.config, userByLogin: org.userByLogin });
    return;
  }

  const endpoint = ENDPOINT_BY_PATH.get(path);
  if (endpoint) {
    org.counters[endpoint] += 1;
    const fault = org.faults.take(endpoint);
    if (fault) {
      const outcome = await serveFault(res, fault, org.config.rateLimit, org.issuer);
      if (outcome === 'handled') return;
      if (outcome === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
    }
    const decision = org.limiter.hit(endpoint);
    if (decision) {
      for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
      if (decision.exceeded) {
        await serveFault(res, { type: 'rate-limit', resetInSec: Number(decision.headers['x-rate-limit-reset']) - Math.floor(Date.now() / 1000) }, org.config.rateLimit);
        return;
      }
    }
    if (CLIENT_AUTH.has(endpoint) && req.method === 'POST') {
      await org.secrets.rewrite(req);
      // Okta's answers before the grant is looked at (DPoP required, strict auth method): okta-client-checks.ts.
      if (answerLikeOkta(org, endpoint, req, res)) return;
    }
    // Hostile mode (hostile.ts): after faults and rate limits, so a fault still wins.
    if (await serveHostile(org.hostile, endpoint, { issuer: org.issuer, keys: org.keys }, req, res, callback)) return;
    if (endpoint === 'keys' && req.method === 'GET') {
      // Served here, not by oidc-provider: only ID token keys are published (never the access
      // token key), and the set follows runtime rotation.
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60, must-revalidate' });
      res.end(JSON.stringify(org.keys.publicJwks()));
      return;
    }
  }
  await callback(req, res);
}
