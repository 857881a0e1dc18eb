/**
 * Confidence intervals for the HTTP suites' ratios. Each round measures every side once, back to
 * back, so a round yields one paired ratio (ours / bare in the same few seconds of the machine's
 * life); the interval is over those per-round values, which cancels the slow drifts of a shared
 * host that make two medians taken minutes apart disagree.
 */

/** Two-sided 95 % Student-t quantiles by degrees of freedom (1..30); beyond 30 the normal's 1.96 is within 2 %. */
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

export function t95(df) {
  if (df < 1) return Number.POSITIVE_INFINITY;
  return df <= 30 ? T95[df - 1] : 1.96 + 2.4 / df;
}

export function mean(values) {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

function sd(values) {
  const m = mean(values);
  let s = 0;
  for (const v of values) s += (v - m) ** 2;
  return Math.sqrt(s / (values.length - 1));
}

/** Student-t 95 % interval of the mean: { mean, lo, hi, halfWidth, n }. One value: an infinite interval. */
export function tInterval(values) {
  const n = values.length;
  const m = mean(values);
  const h = n < 2 ? Number.POSITIVE_INFINITY : (t95(n - 1) * sd(values)) / Math.sqrt(n);
  return { mean: m, lo: m - h, hi: m + h, halfWidth: h, n, method: 't' };
}

/** A small seeded PRNG (mulberry32), so a bootstrap interval is reproducible from the same samples. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Percentile bootstrap 95 % interval of the mean (2,000 resamples). No normality assumption: a
 * round hit by another process's burst is one heavy tail, which the t-interval widens for the whole run.
 */
export function bootstrapInterval(values, resamples = 2000) {
  const n = values.length;
  const m = mean(values);
  if (n < 2) return { mean: m, lo: -Infinity, hi: Infinity, halfWidth: Number.POSITIVE_INFINITY, n, method: 'bootstrap' };
  const next = rng(0x5eed + n);
  const means = new Float64Array(resamples);
  for (let i = 0; i < resamples; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += values[Math.floor(next() * n)];
    means[i] = s / n;
  }
  means.sort();
  const lo = means[Math.floor(0.025 * resamples)];
  const hi = means[Math.ceil(0.975 * resamples) - 1];
  return { mean: m, lo, hi, halfWidth: (hi - lo) / 2, n, method: 'bootstrap' };
}

export function interval(values, method = 't') {
  return method === 'bootstrap' ? bootstrapInterval(values) : tInterval(values);
}

/**
 * The interval of a ratio, from per-round ratios: taken on their logarithms and mapped back, so
 * the point estimate is the geometric mean. A plain mean of ratios is biased upwards when rounds
 * vary (0.5x and 2x average to 1.25x), and a/b would then not be the reciprocal of b/a.
 * `halfWidth` is half the width of the mapped-back interval.
 */
export function ratioInterval(ratios, method = 't') {
  const i = interval(
    ratios.map((r) => Math.log(r)),
    method,
  );
  const lo = Math.exp(i.lo);
  const hi = Math.exp(i.hi);
  return { mean: Math.exp(i.mean), lo, hi, halfWidth: (hi - lo) / 2, n: i.n, method: i.method };
}
