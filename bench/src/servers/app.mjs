/**
 * One HTTP server per benchmark side, in its own process (so the load generator and the server
 * do not share an event loop). Protocol over IPC:
 *   child → { type: 'listening', port }   (the http.Server is bound to 127.0.0.1:0 before any app exists,
 *                                          so redirect URIs can name the real port)
 *   parent → { type: 'configure', config } → child builds the app, attaches it → { type: 'ready' }
 * argv[2] = framework (express | fastify | hono | koa), argv[3] = variant:
 *   bare        GET /api/me → small JSON, no auth (the framework's own cost)
 *   oin         oin-oidc adapter mounted as documented; GET /api/me behind the session guard
 *   oin-bearer  oin-oidc adapter; GET /api/me behind the bearer (introspection) guard
 *   eoc         express-openid-connect auth({ authRequired: false }) + requiresAuth()
 *   hono-oidc   @hono/oidc-auth oidcAuthMiddleware()
 *   openid-client  (express) the same sign-in written by hand with openid-client 6: PKCE, state
 *               and nonce in a server-side transaction map, a random session id cookie
 *   oin-revocations  as oin, with `session.revocations` a MemoryRevocationList pre-loaded with
 *               config.revocations = { sessions, subjects } records of other sessions and users
 *               (every warm request checks the in-process map)
 *   oin-redis   (express) as oin, with the session in Redis: `session.store` and `session.revocations`
 *               from @oin-oidc/redis over a node-redis client on config.redisUrl (as the examples wire them)
 *   express-session  (express) express-session + connect-redis on the same Redis; POST /bench/sign-in
 *               puts the user in req.session, GET /api/me reads req.session.user
 * With config.redisUrl, oin-bearer shares its introspection cache (fleetSingleFlight), rate-limit
 * state and replay store through Redis, as a process of a fleet does.
 */
import { createServer } from 'node:http';

const [framework, variant] = process.argv.slice(2);
const server = createServer();
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }));

process.on('message', async (message) => {
  // CPU time of this server process, so the sign-in suite can report the app's own CPU share.
  if (message?.type === 'cpu') return process.send({ type: 'cpu', usage: process.cpuUsage() });
  if (message?.type !== 'configure') return;
  try {
    await build(message.config);
    process.send({ type: 'ready' });
  } catch (error) {
    process.send({ type: 'error', message: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => process.exit(0));
// A normal exit on SIGTERM, so --cpu-prof (BENCH_PROFILE_DIR) gets to write its profile.
process.on('SIGTERM', () => process.exit(0));

const BODY = (sub) => ({ ok: true, sub });

/** Variants with a browser session behind the oin-oidc session guard. */
const SESSION_VARIANTS = new Set(['oin', 'oin-revocations', 'oin-redis']);
const isOin = SESSION_VARIANTS.has(variant) || variant === 'oin-bearer';
const isSession = SESSION_VARIANTS.has(variant);

/** What a variant adds to oin-oidc's options, built once in build() (stores cannot travel over IPC). */
let fleet = { session: {}, client: {}, cache: {}, redis: undefined };

/** The bearer guard names its tenant: an API route serving one customer's org (no `?tenant=`). */
const BEARER = { tenantId: 'bench' };

function oinOptions(config) {
  return {
    store: config.tenants,
    session: { secret: config.sessionSecret, ...fleet.session },
    tenant: 'query',
    // The emulator listens on 127.0.0.1: loopback issuers are opt-in (SA-12).
    // config.client: per-suite client options (the flood suite compares today's defaults with the old ones).
    client: { allowLoopbackIssuers: true, introspectionCache: { maxTtlSec: 300, ...fleet.cache }, ...fleet.client, ...config.client },
  };
}

/** A connected node-redis client (the client connect-redis 9 requires; @oin-oidc/redis takes it too). */
async function redisClient(url) {
  const { createClient } = await import('redis');
  const client = createClient({ url });
  client.on('error', (error) => console.error(`[${framework}:${variant}] redis: ${error.message}`));
  await client.connect();
  return client;
}

async function fleetState(config) {
  const state = { session: {}, client: {}, cache: {}, redis: undefined };
  if (variant === 'oin-revocations') {
    const [{ MemoryRevocationList }, { preloadRevocations }] = await Promise.all([import('@oin-oidc/core'), import('../lib/revocations.mjs')]);
    state.session.revocations = await preloadRevocations(new MemoryRevocationList(), { ...config.revocations, tenant: config.tenants[0].id });
  }
  if (config.redisUrl && (variant === 'oin-redis' || variant === 'oin-bearer' || variant === 'express-session')) {
    state.redis = await redisClient(config.redisUrl);
    if (variant !== 'express-session') {
      const { createRedisStores } = await import('@oin-oidc/redis');
      const stores = createRedisStores({ client: state.redis, prefix: `bench-${config.redisPrefix ?? 'fleet'}`, evictionCheck: false });
      if (variant === 'oin-redis') {
        state.session.store = stores.sessionStore;
        state.session.revocations = stores.revocationList;
      } else {
        // One process of a fleet (examples/*/src/stores.ts): the introspection cache, its single
        // flight, the Okta back-off and the replay cache all in Redis, keys HMAC'd alike everywhere.
        state.client.rateLimitStore = stores.rateLimitStore;
        state.client.replayStore = stores.ttlStore;
        state.cache = { store: stores.ttlStore, keySecret: config.cacheKeySecret, fleetSingleFlight: true };
      }
    }
  }
  return state;
}

async function build(config) {
  fleet = await fleetState(config);
  const key = `${framework}:${variant}`;
  switch (framework) {
    case 'express':
      return buildExpress(config, key);
    case 'fastify':
      return buildFastify(config, key);
    case 'hono':
      return buildHono(config, key);
    case 'koa':
      return buildKoa(config, key);
    default:
      throw new Error(`unknown framework ${framework}`);
  }
}

async function buildExpress(config) {
  const { default: express } = await import('express');
  const app = express();
  app.disable('x-powered-by');
  // The flood suite sends X-Forwarded-For so that one process can play many client addresses.
  if (config.trustProxy) app.set('trust proxy', true);
  if (variant === 'bare') {
    app.get('/api/me', (_req, res) => res.json(BODY('bare')));
  } else if (isOin) {
    const { oidc } = await import('@oin-oidc/express');
    const auth = oidc(oinOptions(config));
    app.use(auth);
    if (isSession) app.get('/api/me', auth.requiresAuth(), (req, res) => res.json(BODY(req.oidc.user.sub)));
    else app.get('/api/me', auth.requireAccessToken(BEARER), (req, res) => res.json(BODY(req.oidc.accessToken.sub)));
  } else if (variant === 'eoc') {
    const eoc = await import('express-openid-connect');
    const { auth, requiresAuth } = eoc.default ?? eoc;
    app.use(
      auth({
        authRequired: false,
        idpLogout: false,
        issuerBaseURL: config.issuer,
        baseURL: config.baseUrl,
        clientID: config.clientId,
        clientSecret: config.clientSecret,
        secret: config.sessionSecret,
        authorizationParams: { response_type: 'code', scope: 'openid profile email' },
      }),
    );
    app.get('/api/me', requiresAuth(), (req, res) => res.json(BODY(req.oidc.user.sub)));
  } else if (variant === 'openid-client') {
    await handRolledOpenidClient(app, config);
  } else if (variant === 'express-session') {
    // What an Express app without oin-oidc keeps in Redis: express-session with connect-redis,
    // set up as both READMEs recommend (resave false, saveUninitialized false).
    const { default: session } = await import('express-session');
    const { RedisStore } = await import('connect-redis');
    if (!fleet.redis) throw new Error('express-session needs config.redisUrl');
    app.use(
      session({
        store: new RedisStore({ client: fleet.redis, prefix: 'bench-sess:' }),
        secret: config.sessionSecret,
        resave: false,
        saveUninitialized: false,
        cookie: { httpOnly: true, sameSite: 'lax' },
      }),
    );
    // The bench's sign-in: the same user the oin-oidc side gets from the emulator.
    app.post('/bench/sign-in', (req, res) => {
      req.session.user = config.user;
      res.json({ ok: true });
    });
    app.get('/api/me', (req, res) => {
      const user = req.session.user;
      if (!user) return res.status(401).json({ error: 'unauthenticated' });
      res.json(BODY(user.sub));
    });
  } else throw new Error(`express has no variant ${variant}`);
  server.on('request', app);
}

async function buildFastify(config) {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ serverFactory: (handler) => server.on('request', handler) && server, logger: false, trustProxy: config.trustProxy === true });
  if (variant === 'bare') {
    app.get('/api/me', async () => BODY('bare'));
  } else if (isOin) {
    const mod = await import('@oin-oidc/fastify');
    const plugin = mod.oidcPlugin ?? mod.default;
    await app.register(plugin, oinOptions(config));
    if (isSession) app.get('/api/me', { preHandler: app.oidc.requiresAuth() }, async (req) => BODY(req.oidc.user.sub));
    else app.get('/api/me', { preHandler: app.oidc.requireAccessToken(BEARER) }, async (req) => BODY(req.oidc.accessToken.sub));
  } else throw new Error(`fastify has no variant ${variant}`);
  await app.ready();
}

async function buildHono(config) {
  const { Hono } = await import('hono');
  const { getRequestListener } = await import('@hono/node-server');
  const app = new Hono();
  if (variant === 'bare') {
    app.get('/api/me', (c) => c.json(BODY('bare')));
  } else if (isOin) {
    const mod = await import('@oin-oidc/hono');
    const auth = mod.oidc({ ...oinOptions(config), ...(config.trustProxy ? { trustProxy: true } : {}) });
    app.use(auth.middleware);
    if (isSession) app.get('/api/me', auth.requiresAuth(), (c) => c.json(BODY(c.get('oidc').user.sub)));
    else app.get('/api/me', auth.requireAccessToken(BEARER), (c) => c.json(BODY(c.get('oidc').accessToken.sub)));
  } else if (variant === 'hono-oidc') {
    const { oidcAuthMiddleware, getAuth, initOidcAuthMiddleware } = await import('@hono/oidc-auth');
    app.use(
      '*',
      initOidcAuthMiddleware({
        OIDC_AUTH_SECRET: config.sessionSecret,
        OIDC_ISSUER: config.issuer,
        OIDC_CLIENT_ID: config.clientId,
        OIDC_CLIENT_SECRET: config.clientSecret,
        OIDC_REDIRECT_URI: '/callback',
      }),
    );
    app.use('/api/*', oidcAuthMiddleware());
    app.get('/api/me', async (c) => c.json(BODY((await getAuth(c)).sub)));
  } else throw new Error(`hono has no variant ${variant}`);
  server.on('request', getRequestListener(app.fetch));
}

async function buildKoa(config) {
  const { default: Koa } = await import('koa');
  const app = new Koa();
  if (config.trustProxy) app.proxy = true;
  if (variant === 'bare') {
    app.use(async (ctx, next) => {
      if (ctx.method === 'GET' && ctx.path === '/api/me') ctx.body = BODY('bare');
      else await next();
    });
  } else if (isOin) {
    const { oidc } = await import('@oin-oidc/koa');
    const auth = oidc(oinOptions(config));
    app.use(auth.middleware);
    const guard = isSession ? auth.requiresAuth() : auth.requireAccessToken(BEARER);
    app.use(async (ctx, next) => {
      if (ctx.method === 'GET' && ctx.path === '/api/me') {
        await guard(ctx, async () => {
          const state = ctx.state.oidc;
          ctx.body = BODY(isSession ? state.user.sub : state.accessToken.sub);
        });
      } else await next();
    });
  } else throw new Error(`koa has no variant ${variant}`);
  server.on('request', app.callback());
}

/** What an app does with openid-client alone (§2.6 baseline): no library session, so a Map. */
async function handRolledOpenidClient(app, config) {
  const oauth = await import('openid-client');
  const { randomBytes } = await import('node:crypto');
  const oc = await oauth.discovery(new URL(config.issuer), config.clientId, undefined, oauth.ClientSecretBasic(config.clientSecret), {
    execute: [oauth.allowInsecureRequests],
  });
  // Without this openid-client does not verify the ID token signature from the token endpoint.
  oauth.enableNonRepudiationChecks(oc);
  const transactions = new Map();
  const sessions = new Map();
  const cookie = (req, name) => new RegExp(`(?:^|; )${name}=([^;]+)`).exec(req.headers.cookie ?? '')?.[1];
  const redirectUri = `${config.baseUrl}/auth/callback`;
  app.get('/auth/login', async (_req, res, next) => {
    try {
      const id = randomBytes(16).toString('base64url');
      const t = { verifier: oauth.randomPKCECodeVerifier(), nonce: oauth.randomNonce(), state: oauth.randomState() };
      transactions.set(id, t);
      const url = oauth.buildAuthorizationUrl(oc, {
        redirect_uri: redirectUri,
        scope: 'openid profile email',
        code_challenge: await oauth.calculatePKCECodeChallenge(t.verifier),
        code_challenge_method: 'S256',
        nonce: t.nonce,
        state: t.state,
      });
      res.cookie('tx', id, { httpOnly: true, sameSite: 'lax' }).redirect(url.href);
    } catch (error) {
      next(error);
    }
  });
  app.get('/auth/callback', async (req, res, next) => {
    try {
      const id = cookie(req, 'tx');
      const t = transactions.get(id);
      transactions.delete(id);
      if (!t) return res.status(400).end();
      const tokens = await oauth.authorizationCodeGrant(oc, new URL(req.originalUrl, config.baseUrl), {
        pkceCodeVerifier: t.verifier,
        expectedNonce: t.nonce,
        expectedState: t.state,
      });
      const sid = randomBytes(32).toString('base64url');
      sessions.set(sid, tokens.claims());
      res.clearCookie('tx').cookie('sid', sid, { httpOnly: true, sameSite: 'lax' }).redirect('/');
    } catch (error) {
      next(error);
    }
  });
  app.get('/api/me', (req, res) => {
    const claims = sessions.get(cookie(req, 'sid'));
    if (!claims) return res.status(401).json({ error: 'unauthenticated' });
    res.json(BODY(claims.sub));
  });
}
