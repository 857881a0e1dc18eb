import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { readBody } from './http-util';
import type { EmulatorClient } from './types';

type Secret = { value: string; active: boolean };

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** RFC 6749 §2.3.1: client_id and client_secret are form-urlencoded inside HTTP Basic. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replaceAll('+', ' '));
}

/**
 * Client secrets with rotation. oidc-provider knows one secret per client, so each secret client
 * is registered there with a random internal secret that never leaves the emulator; a request
 * carrying any ACTIVE secret of the client is rewritten to the internal one before oidc-provider
 * sees it. Inactive or wrong secrets pass through unchanged and oidc-provider answers
 * 401 invalid_client, as Okta does.
 */
export class ClientSecrets {
  #secrets = new Map<string, Secret[]>();
  readonly internal = new Map<string, string>();

  constructor(clients: EmulatorClient[]) {
    for (const client of clients) {
      if (client.tokenEndpointAuthMethod !== 'client_secret_basic' && client.tokenEndpointAuthMethod !== 'client_secret_post') continue;
      this.internal.set(client.clientId, randomBytes(32).toString('base64url'));
      this.set(client.clientId, client.clientSecrets ?? (client.clientSecret ? [{ value: client.clientSecret, active: true }] : []));
    }
  }

  set(clientId: string, secrets: Secret[]): void {
    if (!this.internal.has(clientId)) throw new Error(`client ${clientId} does not use a client secret`);
    if (!Array.isArray(secrets) || secrets.some((s) => typeof s?.value !== 'string' || !s.value || typeof s.active !== 'boolean')) {
      throw new Error('secrets must be [{ value: string, active: boolean }]');
    }
    const active = secrets.filter((s) => s.active).length;
    if (active < 1 || active > 2) throw new Error('a client needs one or two active secrets');
    this.#secrets.set(clientId, secrets.map((s) => ({ ...s })));
  }

  get(clientId: string): Secret[] {
    return (this.#secrets.get(clientId) ?? []).map((s) => ({ ...s }));
  }

  #map(clientId: string | null, secret: string): string | undefined {
    if (!clientId) return undefined;
    const internal = this.internal.get(clientId);
    const matches = this.#secrets.get(clientId)?.some((s) => s.active && equal(s.value, secret));
    return internal && matches ? internal : undefined;
  }

  /**
   * Reads the urlencoded body of a token/introspect/revoke request, maps an active secret (HTTP
   * Basic or client_secret in the body) to the internal one, and leaves the body on `req.body`
   * where oidc-provider picks it up.
   */
  async rewrite(req: IncomingMessage): Promise<void> {
    let body = await readBody(req);
    const auth = req.headers.authorization;
    if (auth?.toLowerCase().startsWith('basic ')) {
      const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        try {
          const id = formDecode(decoded.slice(0, colon));
          const mapped = this.#map(id, formDecode(decoded.slice(colon + 1)));
          if (mapped) {
            req.headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(id)}:${mapped}`).toString('base64')}`;
          }
        } catch {
          // malformed encoding: let oidc-provider refuse it
        }
      }
    }
    const params = new URLSearchParams(body);
    const secrets = params.getAll('client_secret');
    if (secrets.length === 1) {
      const mapped = this.#map(params.get('client_id'), secrets[0] ?? '');
      if (mapped) {
        params.set('client_secret', mapped);
        body = params.toString();
      }
    }
    (req as IncomingMessage & { body?: string }).body = body;
  }
}
