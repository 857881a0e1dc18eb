/**
 * Results in the format: { machine, results: [{ id, subject, baseline, ratio,
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

  add({ id, subject, baseline, subjectValue, baselineValue, unit, note }) {
    const entry = {
      id,
      subject,
      baseline,
      ratio: round(ratioOf(unit, subjectValue, baselineValue), 3),
      subjectValue: round(subjectValue, 3),
      baselineValue: round(baselineValue, 3),
      unit,
    };
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

const COLS = [34, 30, 42, 12, 12, 9, 8];
function pad(s, n) {
  s = String(s);
  return s.length >= n ? s.slice(0, n - 1) + '…' : s + ' '.repeat(n - s.length);
}
export function printHeader() {
  console.log(['id', 'subject', 'baseline', 'subject', 'baseline', 'unit', 'ratio'].map((c, i) => pad(c, COLS[i])).join(' '));
}
function printRow(e) {
  console.log(
    [e.id, e.subject, e.baseline, fmt(e.subjectValue), fmt(e.baselineValue), e.unit, `${fmt(e.ratio)}x`]
      .map((c, i) => pad(c, COLS[i]))
      .join(' '),
  );
}

/** A Markdown table of the results (used by docs/benchmarks.md). */
export function markdownTable(results) {
  const lines = ['| id | subject | baseline | subject value | baseline value | unit | ratio |', '| --- | --- | --- | ---: | ---: | --- | ---: |'];
  for (const e of results) {
    lines.push(`| ${e.id} | ${e.subject} | ${e.baseline} | ${fmt(e.subjectValue)} | ${fmt(e.baselineValue)} | ${e.unit} | ${fmt(e.ratio)}x |`);
  }
  return lines.join('\n');
}

export async function writeResults(path, machine, results) {
  await mkdir(new URL('.', path), { recursive: true });
  await writeFile(path, JSON.stringify({ machine, results }, null, 2) + '\n');
}
