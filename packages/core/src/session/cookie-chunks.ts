/**
 * Cookie chunking for values larger than one cookie: `name`, `name.1`, `name.2`… written at a fixed
 * chunk size and read back in exactly that layout. SessionManager uses it for the session cookie;
 * it knows nothing about sealing or sessions.
 */
import { cookieValue, type CookieMap, INVALID_COOKIE } from '../cookies';

/**
 * Browsers keep at most 4,096 bytes of name + value per cookie (RFC 6265 §6.1 minimum); 3,800
 * leaves room for the attributes some user agents count too.
 */
export const MAX_CHUNK_BYTES = 3800;
/**
 * At most this many chunks. The sealer refuses values over 8 KiB (`MAX_SEALED_LENGTH`), and 8 KiB
 * in chunks of ~3.77 KB is three: a fourth chunk could never be written. Three (~11 KB) also stays
 * well inside Node's 16 KiB header limit. A session that big drops its ID token first (logout then
 * skips the Okta redirect, catalogue LO-02) and fails only if it is still too big.
 */
export const MAX_CHUNKS = 3;

/** The cookie name of chunk `index`: `name` for the first, `name.<index>` after it. */
export function chunkName(name: string, index: number): string {
  return index === 0 ? name : `${name}.${index}`;
}

/** Which chunk of `name` the cookie `candidate` is (0 for `name` itself), or `undefined` when it is none. */
export function chunkIndex(name: string, candidate: string): number | undefined {
  if (candidate === name) return 0;
  const suffix = candidate.slice(name.length + 1);
  return /^[1-9][0-9]?$/.test(suffix) ? Number(suffix) : undefined;
}

/** Chunk payload size so that `name.N=value` stays within {@link MAX_CHUNK_BYTES} (all ASCII). */
export function chunkSize(name: string): number {
  return MAX_CHUNK_BYTES - (name.length + 3) - 1;
}

/** How many chunks {@link splitChunks} cuts `value` into (at least one). */
export function chunkCount(name: string, value: string): number {
  return Math.max(1, Math.ceil(value.length / chunkSize(name)));
}

/** Cut `value` into chunks of {@link chunkSize}: every chunk but the last is full; an empty value is one empty chunk. */
export function splitChunks(name: string, value: string): string[] {
  const size = chunkSize(name);
  const chunks: string[] = [];
  for (let offset = 0; offset < value.length; offset += size) chunks.push(value.slice(offset, offset + size));
  return chunks.length > 0 ? chunks : [''];
}

/**
 * Reassemble `name`, `name.1`, `name.2`… in order. `undefined` when the first chunk is missing,
 * any chunk is duplicated or malformed, a gap precedes a later chunk, or there are too many.
 * A swapped or missing middle chunk simply fails to unseal.
 *
 * `cookies` must hold only `name` and its chunks (the parse's filter): any other key is read as a
 * chunk that is not ours.
 */
export function joinChunks(cookies: CookieMap, name: string): string | undefined {
  const first = cookies.get(name);
  if (first === undefined || first === INVALID_COOKIE) return undefined;
  // Chunks are cut at a fixed size (splitChunks): every chunk but the last is full and none is
  // empty. Any other layout of the same bytes (`a=; a.1=<value>`) is not one we wrote, so a value
  // has exactly one accepted spelling across chunks.
  const size = chunkSize(name);
  let joined = first;
  let last = first;
  let count = 1;
  for (; count < MAX_CHUNKS; count++) {
    const next = cookies.get(chunkName(name, count));
    if (next === undefined) break;
    if (next === INVALID_COOKIE || last.length !== size) return undefined;
    joined += next;
    last = next;
  }
  if (last.length === 0 || last.length > size) return undefined;
  // Anything beyond the chunks we read (a gap, or more than MAX_CHUNKS) is not a value we wrote.
  for (const key of cookies.keys()) {
    const index = chunkIndex(name, key);
    if (index === undefined || index >= count) return undefined;
  }
  return cookieValue(cookies, name) === undefined ? undefined : joined;
}
