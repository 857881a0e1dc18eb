/**
 * Interleaved measurement in one process: every contender gets a warm-up, then several short
 * rounds; within a round the contenders run one after another, and the starting contender rotates
 * every round, so a slow phase of the shared machine hits all of them alike. Medians are reported.
 */
import { performance } from 'node:perf_hooks';

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Run `fn` for `ms` milliseconds with `concurrency` workers, each awaiting its previous call.
 * Returns operations per second. The clock is read every 16 calls so it is not what we measure.
 */
export async function timeBox(fn, ms, concurrency = 1) {
  let ops = 0;
  const start = performance.now();
  const end = start + ms;
  let done = false;
  async function worker() {
    let i = 0;
    while (!done) {
      await fn();
      ops++;
      if ((++i & 15) === 0 && performance.now() >= end) done = true;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (ops * 1000) / (performance.now() - start);
}

/**
 * Interleave contenders. `contenders`: [{ name, fn }]. Returns Map name -> { median, samples }.
 * Each contender's fn is called once first to surface errors before timing starts.
 */
export async function interleave(contenders, { rounds, roundMs, warmupMs, concurrency = 1 }) {
  for (const c of contenders) await c.fn();
  for (const c of contenders) await timeBox(c.fn, warmupMs, concurrency);
  const samples = new Map(contenders.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(r + k) % contenders.length];
      samples.get(c.name).push(await timeBox(c.fn, roundMs, concurrency));
    }
  }
  return new Map([...samples].map(([name, s]) => [name, { median: median(s), samples: s }]));
}
