import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../src/internal/bounded-cache';

/** Keys long enough that the 4-character index is their tail; `k('a', 1)` and `k('b', 1)` share an index. */
const k = (head: string, n: number) => `${head}-key-${String(n).padStart(4, '0')}`;

function cache(options: { maxEntries?: number; maxChars?: number } = {}) {
  return new BoundedCache<string>({ maxEntries: options.maxEntries ?? 100, maxChars: options.maxChars ?? 1_000_000, indexChars: 4 });
}

describe('BoundedCache', () => {
  it('answers only for the exact key: a key sharing the index is a miss, and replaces the entry it collides with', () => {
    const c = cache();
    c.set(k('a', 1), 'A', 1000, 0);
    expect(c.get(k('a', 1), 0)?.value).toBe('A');
    expect(c.find(k('b', 1))).toBeUndefined();
    expect(c.get(k('b', 1), 0)).toBeUndefined();
    // delete of a colliding key leaves the stored one alone
    c.delete(k('b', 1));
    expect(c.get(k('a', 1), 0)?.value).toBe('A');
    // a colliding insertion replaces: the old key never answers for the new one, nor for itself
    c.set(k('b', 1), 'B', 1000, 0);
    expect(c.get(k('a', 1), 0)).toBeUndefined();
    expect(c.get(k('b', 1), 0)?.value).toBe('B');
    expect(c.size).toBe(1);
    expect(c.chars).toBe(k('b', 1).length);
  });

  it('never returns an entry at or past its until (injected clock), and drops it on the way', () => {
    const c = cache();
    let now = 10_000;
    c.set(k('a', 1), 'A', now + 500, now);
    now += 499;
    expect(c.get(k('a', 1), now)?.value).toBe('A');
    now += 1;
    expect(c.get(k('a', 1), now)).toBeUndefined();
    expect(c.size).toBe(0);
    expect(c.chars).toBe(0);
    // find answers whether the exact key was stored, regardless of expiry; get decides liveness
    c.set(k('a', 2), 'A2', now + 1, now);
    expect(c.find(k('a', 2))?.value).toBe('A2');
    expect(c.get(k('a', 2), now + 1)).toBeUndefined();
    expect(c.find(k('a', 2))).toBeUndefined();
  });

  it('stores nothing already expired', () => {
    const c = cache();
    expect(c.set(k('a', 1), 'A', 100, 100)).toBeUndefined();
    expect(c.set(k('a', 2), 'A', 99, 100)).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('holds at most maxEntries, evicting the oldest insertions first', () => {
    const c = cache({ maxEntries: 3 });
    for (let n = 1; n <= 5; n++) c.set(k('a', n), `v${n}`, 1000, 0);
    expect(c.size).toBe(3);
    expect([1, 2, 3, 4, 5].map((n) => c.get(k('a', n), 0)?.value)).toEqual([undefined, undefined, 'v3', 'v4', 'v5']);
  });

  it('holds at most maxChars of keys, evicting the oldest first', () => {
    const length = k('a', 1).length;
    const c = cache({ maxChars: length * 2 + 1 });
    for (let n = 1; n <= 4; n++) c.set(k('a', n), `v${n}`, 1000, 0);
    expect(c.size).toBe(2);
    expect(c.chars).toBe(length * 2);
    expect([1, 2, 3, 4].map((n) => c.find(k('a', n))?.value)).toEqual([undefined, undefined, 'v3', 'v4']);
  });

  it('keeps a touched entry from eviction once it has fallen into the older half; a fresh one is not moved', () => {
    const c = cache({ maxEntries: 4 });
    for (let n = 1; n <= 4; n++) c.set(k('a', n), `v${n}`, 1000, 0);
    const oldest = c.find(k('a', 1))!;
    const seq = oldest.seq;
    c.touch(oldest); // 3 insertions younger than it: in the older half, re-inserted
    expect(oldest.seq).toBeGreaterThan(seq);
    const newest = c.find(k('a', 4))!;
    const newestSeq = newest.seq;
    c.touch(newest); // the youngest: nothing to do
    expect(newest.seq).toBe(newestSeq);
    c.set(k('a', 5), 'v5', 1000, 0);
    c.set(k('a', 6), 'v6', 1000, 0);
    // evicted in insertion order 2, 3; the touched entry 1 survived
    expect([1, 2, 3, 4, 5, 6].map((n) => c.find(k('a', n))?.value)).toEqual(['v1', undefined, undefined, 'v4', 'v5', 'v6']);
  });

  it('does not bring back an entry that was deleted when it is touched afterwards', () => {
    const c = cache({ maxEntries: 2 });
    c.set(k('a', 1), 'v1', 1000, 0);
    const entry = c.find(k('a', 1))!;
    c.set(k('a', 2), 'v2', 1000, 0);
    c.delete(k('a', 1));
    c.touch(entry);
    expect(c.find(k('a', 1))).toBeUndefined();
    expect(c.size).toBe(1);
  });
});
