/**
 * The load generator: autocannon, run from the bench process against a server in another process.
 * Any non-2xx response or socket error fails the run: a guard that answers 401 quickly must never
 * be mistaken for a fast authenticated request.
 */
import autocannon from 'autocannon';

/** `warmup`: a run only to warm the JIT; finishing no request within it (a cold server on a busy core) is not an error. */
export async function load(url, { headers = {}, connections = 50, durationSec = 2, pipelining = 1, warmup = false } = {}) {
  // autocannon only checks its stop flag on its sample tick (1 s by default), so a 0.5 s run took
  // 1 s; a 100 ms tick lets rounds be fractions of a second (requests/s are total / elapsed anyway).
  const sampleInt = Number.isInteger(durationSec) ? 1000 : 100;
  const result = await autocannon({ url, headers, connections, duration: durationSec, pipelining, sampleInt });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0 || (result.requests.total === 0 && !warmup)) {
    throw new Error(`load on ${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts of ${result.requests.total}`);
  }
  // total / elapsed rather than requests.average: the per-second buckets are empty for sub-second quick runs.
  return { durationSec: result.duration, rps: result.requests.total / result.duration, p99: result.latency.p99, p50: result.latency.p50, total: result.requests.total };
}
