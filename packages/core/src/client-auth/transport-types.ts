/**
 * Structural copies of the `Transport` contract (docs/architecture.md, "HTTP"), so client
 * authentication compiles before `src/http` lands. Replace with `import type` from `../http/*`
 * once that module exists; the shapes are identical, so either satisfies the other.
 */
export type EndpointKind = 'discovery' | 'jwks' | 'token' | 'introspection' | 'userinfo' | 'revocation';

export interface TransportResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON; undefined for an empty body. */
  json: unknown;
}

export interface Transport {
  request(
    kind: EndpointKind,
    target: { issuer: string; tenantId?: string },
    url: string,
    init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string },
  ): Promise<TransportResponse>;
}
