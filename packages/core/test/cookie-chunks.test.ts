import { describe, expect, it } from 'vitest';
import { INVALID_COOKIE, parseCookies } from '../src/cookies';
import { chunkCount, chunkIndex, chunkName, chunkSize, joinChunks, MAX_CHUNK_BYTES, MAX_CHUNKS, splitChunks } from '../src/session/cookie-chunks';

const NAME = 'oin_session';
const accept = (name: string) => name === NAME || name.startsWith(`${NAME}.`);
const value = (length: number) => Array.from({ length }, (_, i) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[i % 64]).join('');
/** The Cookie header a browser sends back for `chunks`, in the given order. */
const header = (chunks: string[], order = chunks.map((_, i) => i)) => order.map((i) => `${chunkName(NAME, i)}=${chunks[i]}`).join('; ');

describe('cookie chunks', () => {
  it('names chunks name, name.1, name.2 and reads those names back, nothing else', () => {
    expect([0, 1, 2].map((i) => chunkName(NAME, i))).toEqual([NAME, `${NAME}.1`, `${NAME}.2`]);
    expect(chunkIndex(NAME, NAME)).toBe(0);
    expect(chunkIndex(NAME, `${NAME}.2`)).toBe(2);
    for (const other of [`${NAME}.0`, `${NAME}.01`, `${NAME}.x`, `${NAME}.100`, `${NAME}.`]) expect(chunkIndex(NAME, other)).toBeUndefined();
  });

  it('cuts at a fixed size so that every name=value fits in MAX_CHUNK_BYTES, and joins back to the same value', () => {
    const size = chunkSize(NAME);
    for (const length of [1, size - 1, size, size + 1, 2 * size, 3 * size]) {
      const sealed = value(length);
      const chunks = splitChunks(NAME, sealed);
      expect(chunks.length).toBe(chunkCount(NAME, sealed));
      expect(chunks.slice(0, -1).every((chunk) => chunk.length === size)).toBe(true);
      for (const [i, chunk] of chunks.entries()) expect(`${chunkName(NAME, i)}=${chunk}`.length).toBeLessThanOrEqual(MAX_CHUNK_BYTES);
      expect(joinChunks(parseCookies(header(chunks), accept), NAME)).toBe(sealed);
      // the order the browser sends them in does not matter
      expect(joinChunks(parseCookies(header(chunks, [...chunks.keys()].reverse()), accept), NAME)).toBe(sealed);
    }
    expect(splitChunks(NAME, '')).toEqual(['']);
    expect(chunkCount(NAME, '')).toBe(1);
  });

  it('refuses every layout it did not write: a missing first chunk, a gap, a short or empty chunk, too many, a duplicate (CK-04)', () => {
    const size = chunkSize(NAME);
    const two = splitChunks(NAME, value(size + 10));
    const refused = [
      `${NAME}.1=${two[1]}`, // no first chunk
      `${NAME}=${two[0]}; ${NAME}.2=${two[1]}`, // a gap
      `${NAME}=${two[0]!.slice(1)}; ${NAME}.1=${two[0]!.slice(0, 1)}${two[1]}`, // same bytes, short leading chunk
      `${NAME}=; ${NAME}.1=${value(10)}`, // empty leading chunk
      `${NAME}=`, // an empty value
      `${NAME}=${value(size + 1)}`, // one chunk larger than we cut
      [value(size), value(size), value(size), value(1)].map((chunk, i) => `${chunkName(NAME, i)}=${chunk}`).join('; '), // MAX_CHUNKS + 1
      `${NAME}=${two[0]}; ${NAME}=${two[0]}; ${NAME}.1=${two[1]}`, // duplicated first chunk
      `${NAME}=${two[0]}; ${NAME}.1=${two[1]}; ${NAME}.1=${two[1]}`, // duplicated later chunk
    ];
    for (const cookie of refused) expect(joinChunks(parseCookies(cookie, accept), NAME), cookie.slice(0, 40)).toBeUndefined();
    expect(MAX_CHUNKS).toBe(3);
    expect(parseCookies(`${NAME}=a; ${NAME}=a`, accept).get(NAME)).toBe(INVALID_COOKIE);
  });
});
