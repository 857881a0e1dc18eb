import { randomBytes } from 'node:crypto';
import { type JWK, exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';

/** One RS256 key pair, kept as JWKs so it can be handed to oidc-provider's keystore. */
export interface KeyPair {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

/** Okta-style key id: 43 url-safe characters. */
function newKid(): string {
  return randomBytes(32).toString('base64url').slice(0, 43);
}

export async function generateRsaKey(): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const kid = newKid();
  const base = { kid, alg: 'RS256', use: 'sig' };
  return {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), ...base },
    publicJwk: { ...(await exportJWK(publicKey)), ...base },
  };
}

/** Minimal view of oidc-provider's internal KeyStore (lib/helpers/keystore.js). */
export interface ProviderKeyStore {
  clear(): void;
  add(key: JWK): void;
}

/**
 * The org's signing keys. oidc-provider reads `jwks` once at construction and has no public API
 * to change them, but its KeyStore selects keys at signing time, so we rewrite its contents in
 * place (`sync`). The active key goes first: oidc-provider signs ID tokens with the first
 * RS256 key it finds. The private access-token key (`accessTokenSigning: 'private'`: Okta before
 * March 2024 signed org AS access tokens with a key that is not in /keys) never enters the
 * provider's keystore nor /keys: the emulator signs access tokens itself.
 */
export class KeyRing {
  #keys: KeyPair[] = [];
  /** Keys removed from /keys: access tokens they signed stay Okta's own (their state is not in /keys). */
  #removed: KeyPair[] = [];
  #activeKid = '';
  #stores: ProviderKeyStore[] = [];
  /**
   * The access-token key. Generated in the background (RSA key generation is the slowest part of
   * starting an org) and awaited only when the first access token is issued or checked.
   */
  readonly accessTokenKey: Promise<KeyPair>;

  private constructor(first: KeyPair) {
    this.#keys = [first];
    this.#activeKid = first.kid;
    this.accessTokenKey = generateRsaKey();
    this.accessTokenKey.catch(() => undefined); // surfaced where awaited
  }

  static async create(): Promise<KeyRing> {
    return new KeyRing(await generateRsaKey());
  }

  /** Registers a provider keystore to keep in sync (one per Provider instance). */
  attach(store: ProviderKeyStore): void {
    this.#stores.push(store);
    this.#sync();
  }

  get activeKey(): KeyPair {
    const key = this.#keys.find((k) => k.kid === this.#activeKid);
    if (!key) throw new Error('no active signing key');
    return key;
  }

  /** The provider's initial `jwks` configuration (private JWKs). */
  providerJwks(): { keys: JWK[] } {
    return { keys: this.#ordered().map((k) => ({ ...k.privateJwk })) };
  }

  /** What /oauth2/v1/keys publishes: every ID token key, active or not; never the access-token key. */
  publicJwks(): { keys: JWK[] } {
    return { keys: this.#keys.map((k) => ({ ...k.publicJwk })) };
  }

  list(): { kid: string; active: boolean }[] {
    return this.#keys.map((k) => ({ kid: k.kid, active: k.kid === this.#activeKid }));
  }

  async add(activate = false): Promise<{ kid: string }> {
    const key = await generateRsaKey();
    this.#keys.push(key);
    if (activate) this.#activeKid = key.kid;
    this.#sync();
    return { kid: key.kid };
  }

  activate(kid: string): void {
    if (!this.#keys.some((k) => k.kid === kid)) throw new Error(`unknown signing key ${kid}`);
    this.#activeKid = kid;
    this.#sync();
  }

  remove(kid: string): void {
    if (kid === this.#activeKid) throw new Error('cannot remove the active signing key; activate another first');
    const removed = this.#keys.find((k) => k.kid === kid);
    if (!removed) throw new Error(`unknown signing key ${kid}`);
    this.#keys = this.#keys.filter((k) => k !== removed);
    this.#removed.push(removed);
    this.#sync();
  }

  /** The published key with this kid (active or not), or undefined. */
  published(kid: unknown): KeyPair | undefined {
    return typeof kid === 'string' ? this.#keys.find((k) => k.kid === kid) : undefined;
  }

  /** A signing key this org has ever had with this kid (published now or removed since), or undefined. */
  everPublished(kid: unknown): KeyPair | undefined {
    return this.published(kid) ?? (typeof kid === 'string' ? this.#removed.find((k) => k.kid === kid) : undefined);
  }

  /** Signs a JWT with the active ID token key (used for simplified sign-in and issueIdToken). */
  async signIdToken(payload: Record<string, unknown>): Promise<string> {
    const key = this.activeKey;
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .sign(await importJWK(key.privateJwk, 'RS256'));
  }

  #ordered(): KeyPair[] {
    const active = this.activeKey;
    return [active, ...this.#keys.filter((k) => k !== active)];
  }

  #sync(): void {
    for (const store of this.#stores) {
      store.clear();
      for (const key of this.#ordered()) store.add({ ...key.privateJwk });
    }
  }
}
