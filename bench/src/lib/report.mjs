/**
 * Results in the issue's format: { machine, results: [{ id, subject, baseline, ratio,
 * subjectValue, baselineValue, unit }] }. `ratio` > 1 always means oin-oidc is better:
 * for "higher is better" units (ops/s, req/s, tenants/s) ratio = subject / baseline; for
 * "lower is better" units (ms, s, bytes, MB, calls) ratio = baseline / subject.
 */
import { mkdir, writeFile } from 'node:fs/promises';

export const LOWER_IS_BETTER = new Set(['ms', 's', 'bytes', 'MB', 'B/tenant', 'calls', 'fetches', 'µs']);

export function ratioOf(unit, subjectValue, baselineValue) {
  if (LOWER_IS_BETTER.has(unit)) {
    // A subject at 0 (e.g. 0 extra fetches) cannot be divided by: treat it as one unit of
    // the measured quantity's resolution so the ratio stays finite and JSON-serialisable.
    return baselineValue / Math.max(subjectValue, 1e-3);
  }
  return subjectValue / Math.max(baselineValue, 1e-9);
}

export class Results {
  constructor() {
    this.results = [];
    this.notes = [];
  }

  /**
   * `ratio`: given when the point estimate is not subject/baseline of the two values (the HTTP
   * suites pass the mean of their per-round ratios, which `interval` brackets). `interval`
   * ({ lo, hi, halfWidth, rounds, method, capHit }) and `costUs` ({ throughput, cpu, ...HalfWidth }:
   * what the subject costs per request more than the baseline) are written only when given.
   */
  add({ id, subject, baseline, subjectValue, baselineValue, unit, note, ratio, interval, costUs }) {
    const entry = {
      id,
      subject,
      baseline,
      ratio: round(ratio ?? ratioOf(unit, subjectValue, baselineValue), 3),
      subjectValue: round(subjectValue, 3),
      baselineValue: round(baselineValue, 3),
      unit,
    };
    if (interval) entry.interval = Object.fromEntries(Object.entries(interval).map(([k, v]) => [k, typeof v === 'number' ? round(v, 3) : v]));
    if (costUs) entry.costUs = Object.fromEntries(Object.entries(costUs).map(([k, v]) => [k, Math.round(v * 100) / 100]));
    this.results.push(entry);
    if (note) this.notes.push(`${id}: ${note}`);
    printRow(entry);
    return entry;
  }

  note(text) {
    this.notes.push(text);
    console.log(`  note: ${text}`);
  }
}

function round(n, digits) {
  if (!Number.isFinite(n)) return n;
  const abs = Math.abs(n);
  const d = abs >= 1000 ? 0 : abs >= 10 ? 1 : digits;
  const f = 10 ** d;
  return Math.round(n * f) / f;
}

function fmt(n) {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1e6) return n.toExponential(2);
  const abs = Math.abs(n);
  return n.toLocaleString('en-US', { maximumFractionDigits: abs >= 100 ? 0 : abs >= 1 || abs === 0 ? 2 : 3 });
}

const COLS = [34, 30, 42, 12, 12, 9, 16];
function pad(s, n) {
  s = String(s);
  return s.length >= n ? s.slice(0, n - 1) + '…' : s + ' '.repeat(n - s.length);
}
export function printHeader() {
  console.log(['id', 'subject', 'baseline', 'subject', 'baseline', 'unit', 'ratio'].map((c, i) => pad(c, COLS[i])).join(' '));
}
function printRow(e) {
  console.log(
    [e.id, e.subject, e.baseline, fmt(e.subjectValue), fmt(e.baselineValue), e.unit, `${fmt(e.ratio)}x${e.interval ? ` ±${fmt(e.interval.halfWidth)}` : ''}`]
      .map((c, i) => pad(c, COLS[i]))
      .join(' '),
  );
}

/** A Markdown table of the results (used by docs/benchmarks.md). */
export function markdownTable(results) {
  const lines = ['| id | subject | baseline | subject value | baseline value | unit | ratio | 95 % interval | cost µs/req (1/throughput, CPU) |', '| --- | --- | --- | ---: | ---: | --- | ---: | ---: | ---: |'];
  for (const e of results) {
    const ci = e.interval ? `${fmt(e.interval.lo)}-${fmt(e.interval.hi)} (${e.interval.rounds} rounds${e.interval.capHit ? ', cap hit' : ''})` : '';
    const cost = e.costUs ? `${e.costUs.throughput >= 0 ? '+' : ''}${fmt(e.costUs.throughput)}, ${e.costUs.cpu >= 0 ? '+' : ''}${fmt(e.costUs.cpu)}` : '';
    lines.push(`| ${e.id} | ${e.subject} | ${e.baseline} | ${fmt(e.subjectValue)} | ${fmt(e.baselineValue)} | ${e.unit} | ${fmt(e.ratio)}x | ${ci} | ${cost} |`);
  }
  return lines.join('\n');
}

export async function writeResults(path, machine, results) {
  await mkdir(new URL('.', path), { recursive: true });
  await writeFile(path, JSON.stringify({ machine, results }, null, 2) + '\n');
}
