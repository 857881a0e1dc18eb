/**
 * The Lua scripts. Redis runs a script atomically (nothing else runs on that server meanwhile),
 * which is what makes check-then-write steps safe across a fleet, as rate-limiter-flexible's
 * scripts do. Every script touches only keys with one hash tag (see keys.ts), as Redis Cluster
 * requires of a script's keys. Numbers travel as decimal strings; epoch milliseconds (< 2^53)
 * are exact in Lua's doubles.
 *
 * Needs Redis ≥ 6.2 (SET PXAT, GETDEL); tested on 7.0.
 */
import { defineScript } from './port';

/**
 * Session write (KEYS: session, tombstone; ARGV: value, ttlMs). A tombstone means `delete` ran:
 * the write is refused, so a `set` racing a logout cannot bring the session back
 * (connect-redis #328). The refused write also stretches the tombstone to cover the TTL it
 * wanted, so the same write retried later is refused too.
 */
export const SESSION_SET = defineScript(
  'session-set',
  `if redis.call('EXISTS', KEYS[2]) == 1 then
  local want = tonumber(ARGV[2])
  local left = redis.call('PTTL', KEYS[2])
  if left >= 0 and left < want then redis.call('PEXPIRE', KEYS[2], want) end
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`,
);

/**
 * Session delete (KEYS: session, tombstone; ARGV: minimum tombstone ms). Deletes the session and
 * leaves a tombstone that lives as long as the session had left, and at least the minimum
 * (writes still in flight, or computed from a copy read before, are refused that long); an
 * existing tombstone is never shortened. Returns 1 when a session was there.
 */
export const SESSION_DELETE = defineScript(
  'session-delete',
  `local left = redis.call('PTTL', KEYS[1])
local existed = redis.call('DEL', KEYS[1])
local ttl = tonumber(ARGV[1])
if left > ttl then ttl = left end
local current = redis.call('PTTL', KEYS[2])
if current > ttl then ttl = current end
redis.call('SET', KEYS[2], '1', 'PX', ttl)
return existed`,
);

/**
 * Subject index add (KEYS: the subject's zset; ARGV: session tag, expiresAt, now). Members are
 * session tags scored by the session's `expiresAt`; expired members go on every add, and the key
 * itself expires with its latest member, so the index needs no sweeper.
 */
export const SUBJECT_INDEX_ADD = defineScript(
  'subject-index-add',
  `local at = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local score = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
if score == nil or score < at then redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1]) end
local want = at - now
if redis.call('PTTL', KEYS[1]) < want then redis.call('PEXPIRE', KEYS[1], want) end
return 1`,
);

/** Rate-limit block (KEYS: block; ARGV: untilMs): keep the later of the two; expires at `untilMs`. */
export const BLOCK = defineScript(
  'block',
  `local current = tonumber(redis.call('GET', KEYS[1]))
if current and current >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[1])
return 1`,
);

/**
 * Token bucket take (KEYS: bucket; ARGV: ratePerSec, burst). The clock is the server's (TIME),
 * so the processes' clocks do not matter. A new bucket starts full; a bucket whose key expired
 * is full again (the key expires when the bucket would have refilled). Returns 0 when a token
 * was taken, else the whole seconds (≥ 1) until one is available.
 */
export const TAKE = defineScript(
  'bucket-take',
  `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
else
  -- a clock that went backwards refills nothing
  if now > at then
    tokens = tokens + (now - at) / 1000 * rate
    at = now
  end
  if tokens > burst then tokens = burst end
end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) / rate)
  if wait < 1 then wait = 1 end
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return wait`,
);

/** Token bucket give (KEYS: bucket; ARGV: burst): one token back, never above `burst`; no-op without a bucket. */
export const GIVE = defineScript(
  'bucket-give',
  `local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens'))
if tokens == nil then return 0 end
tokens = tokens + 1
local burst = tonumber(ARGV[1])
if tokens > burst then tokens = burst end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens))
return 1`,
);

/** Shared by the two revocation scripts: forget records whose `until` is past (KEYS as below). */
const FORGET_EXPIRED = `local function forget(now)
  local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
  for i = 1, #expired, 500 do
    redis.call('HDEL', KEYS[2], unpack(expired, i, math.min(i + 499, #expired)))
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
end
`;

/**
 * Revocation add (KEYS: zset key → until, hash key → "revokedAt until"; ARGV: key, revokedAt,
 * until, now, channel). The later revocation wins and `until` only grows (as
 * `MemoryRevocationList` does); the record kept is published as "revokedAt\nuntil\nkey" in the
 * same atomic step, so a subscriber never sees a record the store does not hold.
 */
export const REVOCATION_ADD = defineScript(
  'revocation-add',
  `${FORGET_EXPIRED}local now = tonumber(ARGV[4])
forget(now)
local revokedAt = ARGV[2]
local untilMs = ARGV[3]
local previous = redis.call('HGET', KEYS[2], ARGV[1])
if previous then
  local space = string.find(previous, ' ', 1, true)
  local before = string.sub(previous, 1, space - 1)
  local beforeUntil = string.sub(previous, space + 1)
  if tonumber(before) > tonumber(revokedAt) then revokedAt = before end
  if tonumber(beforeUntil) > tonumber(untilMs) then untilMs = beforeUntil end
end
redis.call('HSET', KEYS[2], ARGV[1], revokedAt .. ' ' .. untilMs)
redis.call('ZADD', KEYS[1], untilMs, ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local ttl = math.ceil(tonumber(last[2]) - now)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PUBLISH', ARGV[5], revokedAt .. '\\n' .. untilMs .. '\\n' .. ARGV[1])
return 1`,
);

/** Revocation load (KEYS as above; ARGV: now): forget the expired, then every record as HGETALL pairs. */
export const REVOCATION_LOAD = defineScript(
  'revocation-load',
  `${FORGET_EXPIRED}forget(tonumber(ARGV[1]))
return redis.call('HGETALL', KEYS[2])`,
);
