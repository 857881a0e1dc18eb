// oidc-provider publishes no types; the emulator narrows what it uses in ./oidc-provider.ts.
declare module 'oidc-provider' {
  // biome-ignore lint/suspicious/noExplicitAny: untyped module
  const Provider: any;
  export default Provider;
  export { Provider };
}
declare module 'oidc-provider/lib/helpers/weak_cache.js' {
  // biome-ignore lint/suspicious/noExplicitAny: untyped module
  const instance: (provider: any) => any;
  export default instance;
}
declare module 'oidc-provider/lib/actions/introspection.js' {
  const chain: ((...args: unknown[]) => unknown)[];
  export default chain;
}
declare module 'oidc-provider/lib/actions/revocation.js' {
  const chain: ((...args: unknown[]) => unknown)[];
  export default chain;
}
declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  /** oidc-provider's in-memory adapter; the emulator gives it a store of its own size. */
  export default class MemoryAdapter {
    constructor(model: string, store: unknown, clockTolerance?: number);
  }
}
declare module 'oidc-provider/lib/helpers/lru.js' {
  export default class LRU {
    constructor(options: { maxSize: number });
  }
}
