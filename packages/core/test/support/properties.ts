/**
 * Shared helpers for the property-based tests: every outcome of a parser of untrusted
 * input is either a success the test's model allows, or an OidcError with a documented code —
 * never another exception, never a hang.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { expect } from 'vitest';
import { isOidcError, OIDC_ERROR_STATUS, type OidcError, type OidcErrorCode } from '../../src/errors';

/** Longest a single property run may take before it counts as a hang. Generous: 2 busy shared cores. */
export const RUN_TIMEOUT_MS = 10_000;

/** Reject with a plain Error (never an OidcError) when `promise` does not settle in time. */
export async function withTimeout<T>(promise: Promise<T> | T, ms = RUN_TIMEOUT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: no outcome within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([Promise.resolve(promise), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: OidcError };

/**
 * Run `run` (bounded by {@link withTimeout}) and classify its outcome. Anything thrown that is not
 * an OidcError with a code listed in OIDC_ERROR_STATUS fails the property (it is re-thrown with the
 * original as `cause`, so fast-check reports it with its counterexample).
 */
export async function outcome<T>(run: () => Promise<T> | T): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await withTimeout(Promise.resolve().then(run)) };
  } catch (error) {
    assertTypedError(error);
    return { ok: false, error };
  }
}

/** Fail unless `error` is an OidcError with a documented code (and, when given, one of `allowed`). */
export function assertTypedError(error: unknown, allowed?: readonly OidcErrorCode[]): asserts error is OidcError {
  if (!isOidcError(error)) {
    throw new Error(`expected an OidcError, got ${describe(error)}`, { cause: error });
  }
  if (!Object.hasOwn(OIDC_ERROR_STATUS, error.code)) throw new Error(`undocumented error code ${String(error.code)}`, { cause: error });
  if (allowed !== undefined && !allowed.includes(error.code)) {
    throw new Error(`unexpected code ${error.code} (allowed: ${allowed.join(', ')}): ${error.message}`, { cause: error });
  }
}

/** Expect a typed failure with one of `allowed` (any documented code when omitted); returns it. */
export async function expectFailure(run: () => Promise<unknown> | unknown, allowed?: readonly OidcErrorCode[]): Promise<OidcError> {
  const result = await outcome(run);
  if (result.ok) throw new Error('expected a typed failure, got a success');
  assertTypedError(result.error, allowed);
  return result.error;
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

/**
 * The seed of a property's run: fixed per property name, so a run's outcome never depends on
 * chance (several tests also assert that the generators reached each outcome often enough, which a
 * random seed occasionally missed). `FC_SEED=<integer>` explores other inputs; a failure's report
 * prints the seed and path to replay it.
 */
function seedFor(name: string): number {
  const override = process.env['FC_SEED'];
  if (override !== undefined && /^-?\d+$/.test(override)) return Number(override);
  let hash = 0x811c9dc5; // FNV-1a over the name: stable across runs and machines
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193) | 0;
  return hash;
}

/** Run an async property and record how many runs were executed (for the report). */
export async function check<Ts extends [unknown, ...unknown[]]>(
  name: string,
  property: fc.IAsyncPropertyWithHooks<Ts> | fc.IAsyncProperty<Ts>,
  numRuns: number,
): Promise<void> {
  const details = await fc.check(property, { numRuns, seed: seedFor(name) });
  if (details.failed) {
    // fast-check's own report: counterexample, seed and path to replay it.
    throw new Error(fc.defaultReportMessage(details) ?? `property ${name} failed`, { cause: details.errorInstance });
  }
  expect(details.numRuns).toBe(numRuns);
  runCounts.set(name, (runCounts.get(name) ?? 0) + details.numRuns);
}

/** Runs executed per property in this worker (each test file prints its own at the end). */
export const runCounts = new Map<string, number>();

/** Count an outcome (so a test can assert its generators reach every branch). */
export function tally(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

export function printRunCounts(file: string): void {
  const lines = [...runCounts].map(([name, count]) => `  ${String(count).padStart(5)}  ${name}`);
  console.info(`[property runs] ${file}\n${lines.join('\n')}`);
}

// ---- arbitraries ---------------------------------------------------------------------------------

/** The catalogue §2.5 open-redirect payloads (returnTo, target_link_uri, post-logout). */
export const OPEN_REDIRECT_PAYLOADS = [
  '//evil.com',
  '///evil.com',
  '/\\evil.com',
  '\\\\evil.com',
  '/\\/evil.com',
  'https://evil.com',
  'https:evil.com',
  '//evil.com/%2F..',
  '/%2F%2Fevil.com',
  '/%5Cevil.com',
  'https://app.example.com.evil.com',
  'https://app.example.com@evil.com',
  '//app.example.com@evil.com',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  'java%0ascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  '/%0d%0aSet-Cookie:x=y',
  '/%09/evil.com',
  'http://evil.com',
  'ftp://evil.com',
  '//evil.com:443',
] as const;

/** Characters that matter to URL, cookie and header parsers, plus unicode look-alikes. */
const SPECIAL = [
  '/', '\\', '%', '.', ':', '@', '?', '#', '&', '=', ';', ',', ' ', '\t', '\n', '\r', '\0', '"', "'", '<', '>', '+', '~',
  '%2F', '%2f', '%5C', '%5c', '%00', '%0a', '%0d', '%09', '%25', '%E2%80%AE', '%zz', '%', '%%', '%u002f',
  '\u2215', '\uFF0F', '\u29F5', '\u3002', '\u200B', '\uFEFF', '\u202E', '\uD800', '\u0085', '\u00A0', 'é', '🙂',
  'evil.com', 'app.example.com', 'javascript:', 'data:', 'http:', 'https:', '//', '..', '/./', '/../',
];

/** Strings assembled from parser-relevant fragments, arbitrary unicode and arbitrary ASCII. */
export function hostileString(options: { maxLength?: number } = {}): fc.Arbitrary<string> {
  const maxLength = options.maxLength ?? 40;
  const piece = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...SPECIAL) },
    { weight: 3, arbitrary: fc.string({ maxLength: 6 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
    { weight: 1, arbitrary: fc.constantFrom(...OPEN_REDIRECT_PAYLOADS) },
  );
  return fc.array(piece, { maxLength }).map((parts) => parts.join(''));
}

/** A string that is occasionally huge (a repeated chunk), to hit the size caps. */
export function sometimesHuge(base: fc.Arbitrary<string>, sizes: readonly number[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: base },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...sizes), fc.constantFrom('a', '%41', 'é', 'A.', '\u0000')).map(([n, c]) => c.repeat(Math.ceil(n / c.length))) },
  );
}

/** Header values a server can send (no CR/LF/NUL): numbers, near-numbers and printable garbage. */
export const rateLimitValue = fc.oneof(
  { weight: 3, arbitrary: fc.nat({ max: 2_000_000_000 }).map(String) },
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String) },
  {
    weight: 3,
    arbitrary: fc.constantFrom('-1', '0', '1e3', '0x10', '1.5', '10, 10', ' 42 ', '+5', '', '\t7', '9999999999', '10000000000', '99999999999', '1609459200', 'NaN', 'Infinity', '\u00b3', '\u00bd', '00000000001'),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  // Latin-1 bytes: what a header value decodes to.
  { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 6 }) },
);
// ---- a real local HTTP server ----------------------------------------------------------------------

export type Responder = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export interface LocalServer {
  readonly origin: string;
  /** Requests seen since the last reset, as `METHOD path`. */
  readonly seen: string[];
  respond(responder: Responder): void;
  close(): Promise<void>;
}

/** A node:http server on 127.0.0.1, port 0, whose answer each property run sets. */
export async function startLocalServer(): Promise<LocalServer> {
  let responder: Responder = (_req, res) => {
    res.writeHead(404);
    res.end();
  };
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      try {
        responder(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.destroy();
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    respond(next) {
      responder = next;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
