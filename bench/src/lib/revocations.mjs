/**
 * Revocation records of other sessions and other users (for the revocation benchmark): what a busy
 * app's fleet-wide list holds after a day of logouts and Universal Logout requests. Core's record
 * keys (`session:<id>`, `subject:<tenant>\n<sub>`, packages/core/src/flow/session-revocations.ts),
 * so every warm session read looks its own keys up in a map of this size.
 */
import { randomBytes } from 'node:crypto';

export async function preloadRevocations(list, { sessions = 0, subjects = 0, tenant, now = Date.now() }) {
  const until = now + 7 * 86_400_000;
  for (let i = 0; i < sessions; i++) await list.add({ key: `session:${randomBytes(16).toString('base64url')}`, revokedAt: now, until });
  for (let i = 0; i < subjects; i++) await list.add({ key: `subject:${tenant}\n00u${String(i).padStart(6, '0')}other`, revokedAt: now, until });
  return list;
}
