/**
 * oidc-provider ships no TypeScript types; this module is the one place that loads it and gives
 * the rest of the emulator a deliberately small, loosely typed surface.
 */
import type { ProviderKeyStore } from './keys';

// biome-ignore lint/suspicious/noExplicitAny: untyped third-party surface, narrowed where used
export type OidcProvider = any;

interface Loaded {
  // biome-ignore lint/suspicious/noExplicitAny: see above
  Provider: new (issuer: string, configuration: Record<string, unknown>) => any;
  // biome-ignore lint/suspicious/noExplicitAny: see above
  instance: (provider: OidcProvider) => any;
}

let loaded: Promise<Loaded> | undefined;

/** Warnings that are expected here and only add noise to test output. */
const EXPECTED_WARNINGS = [
  // Node 20 is "unsupported" by oidc-provider 9, yet the emulator's whole test suite passes on Node 20.
  'Unsupported runtime',
  // The emulator keeps its own in-memory state per org on purpose (memory only, like a test bed).
  'in-memory adapter is used',
  // The emulator reads token/introspect/revoke bodies itself to map rotated client secrets
  // (see secrets.ts) and hands oidc-provider the text through req.body, which it supports.
  'already parsed request body detected',
];

let filterInstalled = false;

/** Drops only the expected oidc-provider warnings; everything else still reaches stderr. */
function filterExpectedWarnings(): void {
  if (filterInstalled) return;
  filterInstalled = true;
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    const text = String(args[0]);
    if (text.includes('oidc-provider WARNING') && EXPECTED_WARNINGS.some((w) => text.includes(w))) return;
    warn(...args);
  };
}

/** Loads oidc-provider once. */
function load(): Promise<Loaded> {
  loaded ??= (async () => {
    filterExpectedWarnings();
    const mod = await import('oidc-provider');
    // Deep import of the provider's private per-instance state: the only way to reach the
    // KeyStore for runtime key rotation (oidc-provider has no public API for it).
    const weak = await import('oidc-provider/lib/helpers/weak_cache.js');
    await allowJwtAccessTokensAtIntrospectionAndRevocation();
    await installIntrospectionHook();
    return { Provider: mod.default ?? mod.Provider, instance: weak.default };
  })();
  return loaded;
}

/**
 * oidc-provider refuses JWT-looking tokens at /introspect and /revoke ("Structured JWT Tokens
 * cannot be introspected"), because its own JWT access tokens are not stored. The emulator's are
 * (see access-token.ts), and Okta introspects and revokes its JWT access tokens, so that one
 * middleware is removed from both chains before any Provider builds its router (which spreads
 * these arrays at construction).
 */
async function allowJwtAccessTokensAtIntrospectionAndRevocation(): Promise<void> {
  const chains = [
    (await import('oidc-provider/lib/actions/introspection.js')).default,
    (await import('oidc-provider/lib/actions/revocation.js')).default,
  ];
  for (const chain of chains) {
    const index = chain.findIndex((fn) => fn.name === 'rejectStructuredTokens');
    if (index === -1) throw new Error('oidc-provider internals changed: rejectStructuredTokens not found');
    chain.splice(index, 1);
  }
}

/** A Koa middleware on oidc-provider's (untyped) context. */
// biome-ignore lint/suspicious/noExplicitAny: untyped third-party context, narrowed by the hook
export type IntrospectionHook = (ctx: any, next: () => Promise<void>) => Promise<void>;
/** Per provider (the action chains are shared by every Provider of the process). */
const introspectionHooks = new WeakMap<object, IntrospectionHook>();

/** Runs `hook` around oidc-provider's own introspection answer for this provider (after client authentication). */
export function setIntrospectionHook(provider: OidcProvider, hook: IntrospectionHook): void {
  introspectionHooks.set(provider, hook);
}

/**
 * One middleware before oidc-provider's `renderTokenResponse` at /introspect, after client
 * authentication, so a hook knows which client asks (id-token-introspection.ts).
 */
async function installIntrospectionHook(): Promise<void> {
  const chain = (await import('oidc-provider/lib/actions/introspection.js')).default;
  const index = chain.findIndex((fn) => fn.name === 'renderTokenResponse');
  if (index === -1) throw new Error('oidc-provider internals changed: renderTokenResponse not found');
  async function oktaIntrospection(ctx: { oidc: { provider: OidcProvider } }, next: () => Promise<void>): Promise<void> {
    const hook = introspectionHooks.get(ctx.oidc.provider);
    if (hook) await hook(ctx, next);
    else await next();
  }
  chain.splice(index, 0, oktaIntrospection as (...args: unknown[]) => unknown);
}

export async function createProvider(issuer: string, configuration: Record<string, unknown>): Promise<OidcProvider> {
  const { Provider } = await load();
  return new Provider(issuer, configuration);
}

/** The provider's live KeyStore (lib/helpers/initialize_keystore.js stores it per instance). */
export async function providerKeyStore(provider: OidcProvider): Promise<ProviderKeyStore> {
  const { instance } = await load();
  const store = instance(provider).keystore as ProviderKeyStore | undefined;
  if (!store || typeof store.clear !== 'function' || typeof store.add !== 'function') {
    throw new Error('oidc-provider internals changed: keystore not found');
  }
  return store;
}
