/**
 * Shape checks every JWT path in core shares (ID tokens, simplified-flow posts, logout JWTs), so
 * one definition decides what "a compact JWS" and "an audience holding the client" mean.
 * Internal: never exported from the package.
 */

/** A compact JWS: three non-empty base64url segments (RFC 7515 §7.1). */
export const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Whether a JWT `aud` (a string or an array of strings, RFC 7519 §4.1.3) names `clientId`. */
export function audienceHolds(aud: unknown, clientId: string): boolean {
  return aud === clientId || (Array.isArray(aud) && aud.includes(clientId));
}

/** Whether `value` is an object with a function under each of `names` (the store interface guards). */
export function hasMethods(value: unknown, names: readonly string[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return names.every((name) => typeof record[name] === 'function');
}
