/** Small shared helpers (not exported from the package). */
import { base64url } from 'jose';

export { OidcError, isOidcError } from '@oin-oidc/core';

/** base64url → bytes, or undefined unless the text is the canonical unpadded encoding of those bytes. */
export function base64urlDecodeStrict(text: string): Uint8Array | undefined {
  try {
    const bytes = base64url.decode(text);
    return base64url.encode(bytes) === text ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/** JSON with object keys sorted at every level: two equal records serialise to one string. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v as Record<string, unknown>).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref?.());
