/**
 * The key layout. Every key is `<prefix>:{<tag>}:<kind>`:
 *
 * - `<tag>` is what Redis Cluster hashes (the part between the first `{` and the next `}`,
 *   Cluster spec "Hash tags"), so every key one Lua script touches shares one tag and one slot.
 * - Key material from callers (replay keys, session ids, tenants, subjects, issuers) never
 *   appears raw: it is hashed into the tag (SHA-256, base64url, 43 characters). A hostile key with
 *   `{`, `}`, newlines or 10,000 characters therefore cannot move a key to another slot, collide
 *   with another kind of key, or make keys unbounded; and raw session ids never sit in Redis.
 *   Each kind hashes with its own label, so equal material of two kinds gives unrelated tags.
 *
 * | state | key | type |
 * | --- | --- | --- |
 * | TtlStore entry | `p:{H(ttl,key)}:ttl` | string, PX |
 * | session | `p:{H(session,id)}:session` | string (Session JSON), PX |
 * | its tombstone | `p:{H(session,id)}:tombstone` | string, PX |
 * | sessions of a subject | `p:{H(subject,tenant,sub)}:sessions` | zset: session tag → expiresAt, PX |
 * | rate-limit block | `p:{H(org,issuer)}:block:<endpoint>` | string (epoch ms), PXAT |
 * | token bucket | `p:{H(bucket,key)}:bucket` | hash {tokens, at}, PX |
 * | revocations | `p:{revocations}:until`, `p:{revocations}:records` | zset key → until; hash key → record |
 * | revocation feed | channel `p:revocations` | pub/sub |
 */
import { codedTypeError } from '@oin-oidc/core';
import { createHash } from 'node:crypto';

/**
 * Checks a key prefix: 1–64 printable ASCII characters without `{`, `}` or whitespace (a brace
 * in the prefix would become the Cluster hash tag of every key).
 */
export function checkPrefix(prefix: string): string {
  if (typeof prefix !== 'string' || !/^[\x21-\x7a\x7c\x7e]{1,64}$/.test(prefix)) {
    throw codedTypeError('prefix must be 1-64 printable ASCII characters without braces or spaces', 'ERR_INVALID_ARG_VALUE');
  }
  return prefix;
}

/**
 * The hash tag of `parts` under `label`: SHA-256 over a length-prefixed encoding (so
 * `['a\nb', 'c']` and `['a', 'b\nc']` differ), base64url.
 */
export function tagOf(label: string, ...parts: string[]): string {
  const hash = createHash('sha256').update(label);
  for (const part of parts) hash.update(`\0${Buffer.byteLength(part, 'utf8')}:`).update(part, 'utf8');
  return hash.digest('base64url');
}

/** The keys of one store instance under one prefix. */
export class RedisKeys {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = checkPrefix(prefix);
  }

  ttl(key: string): string {
    return `${this.prefix}:{${tagOf('ttl', key)}}:ttl`;
  }

  /** The tag of a session id: its record and tombstone share it (one slot, one script). */
  sessionTag(id: string): string {
    return tagOf('session', id);
  }

  session(tag: string): string {
    return `${this.prefix}:{${tag}}:session`;
  }

  tombstone(tag: string): string {
    return `${this.prefix}:{${tag}}:tombstone`;
  }

  subjectSessions(tenant: string, sub: string): string {
    return `${this.prefix}:{${tagOf('subject', tenant, sub)}}:sessions`;
  }

  block(issuer: string, endpoint: string): string {
    return `${this.prefix}:{${tagOf('org', issuer)}}:block:${endpoint}`;
  }

  bucket(key: string): string {
    return `${this.prefix}:{${tagOf('bucket', key)}}:bucket`;
  }

  /** Both revocation keys share the fixed tag `revocations`: the add script touches both. */
  revocationsByUntil(): string {
    return `${this.prefix}:{revocations}:until`;
  }

  revocationRecords(): string {
    return `${this.prefix}:{revocations}:records`;
  }

  revocationChannel(): string {
    return `${this.prefix}:revocations`;
  }
}
