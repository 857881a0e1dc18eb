/**
 * What the shared-state conformance suites (TtlStore, SessionStore, RateLimitStore,
 * SharedRevocationList) receive from a factory, and the helpers they share.
 */

/**
 * One store under test, made fresh for each case by the factory.
 *
 * - `peers`: other instances of the same store over OTHER connections to the same backend, so
 *   races are real across connections (a fleet). Memory stores have none: their races run on the
 *   one instance.
 * - `fault`: makes the backend fail (kill the server, drop the pool…). Given, the suite adds the
 *   "never allowed on a store error" cases, which call it and then expect every call to reject.
 *   The suite calls `cleanup` afterwards as always; the factory must bring the backend back (e.g.
 *   `restart()`) before it makes the next store.
 * - `cleanup`: closes connections; runs after every case.
 *
 * Cases use keys and ids unique to the case, so a factory need not empty the backend.
 */
export interface StoreFixture<S> {
  store: S;
  peers?: S[];
  fault?: () => Promise<void>;
  cleanup?: () => Promise<void> | void;
}

/** A factory as the suites take it. */
export type StoreFactory<S> = () => Promise<StoreFixture<S>> | StoreFixture<S>;

/** How long a poll waits for something that must happen soon (expiry, a pub/sub delivery). */
export const POLL_DEADLINE_MS = 4_000;
/** The per-case timeout of cases that poll: generous, because CI machines are slow. */
export const POLLING_CASE_TIMEOUT_MS = 30_000;

/** A short random tag so one case's keys never meet another's on a shared backend. */
export function uniq(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` until it returns true or `deadlineMs` passes; resolves whether it became true.
 * Suites assert the outcome, never how long it took.
 */
export async function eventually(check: () => Promise<boolean> | boolean, deadlineMs = POLL_DEADLINE_MS): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= until) return false;
    await sleep(50);
  }
}

/** How a call settled: its value, or its rejection. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** Every instance of a fixture: the store first, then its peers. */
export function instancesOf<S>(fixture: StoreFixture<S>): S[] {
  return [fixture.store, ...(fixture.peers ?? [])];
}

/** Keys that break naive key building: glob and hash-tag characters, separators, controls, long keys. */
export const HOSTILE_KEYS: readonly string[] = [
  '{',
  '}',
  '{tag}',
  '*',
  '?',
  '[',
  ']',
  '[a-z]',
  '\\',
  'a\nb',
  'a\rb',
  '\t',
  '\u0001\u001f\u007f',
  ' ',
  ' leading and trailing ',
  ':',
  '::',
  'a',
  'a:',
  ':a',
  'a:b',
  'prefix:a',
  'prefix:a:b',
  '%',
  '%25',
  '"quoted"',
  "it's",
  '$1',
  '../..',
  'x'.repeat(1000),
];

/** Unicode keys and values: combining marks, RTL, astral plane, a BOM. */
export const UNICODE_STRINGS: readonly string[] = ['ключ', '日本語のキー', 'emoji-🔑🧪', 'e\u0301', 'مرحبا', '\ufeffbom', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢'];
