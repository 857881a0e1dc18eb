// The harness's own arithmetic: a wrong ratio direction or a mis-shaped latest.json would make
// every published number misleading, so these are checked without running any benchmark.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { CookieJar } from '../src/lib/browser.mjs';
import { interleave, median, timeBox } from '../src/lib/measure.mjs';
import { Results, markdownTable, ratioOf, writeResults } from '../src/lib/report.mjs';
import { bootstrapInterval, ratioInterval, t95, tInterval } from '../src/lib/stats.mjs';
import { checkTargets } from '../src/lib/targets.mjs';

describe('ratioOf', () => {
  it('divides subject by baseline for higher-is-better units', () => {
    expect(ratioOf('ops/s', 200, 100)).toBe(2);
    expect(ratioOf('req/s', 50, 100)).toBe(0.5);
  });

  it('divides baseline by subject for lower-is-better units', () => {
    expect(ratioOf('ms', 10, 30)).toBe(3);
    expect(ratioOf('MB', 40, 20)).toBe(0.5);
    expect(ratioOf('calls', 1, 1000)).toBe(1000);
    expect(ratioOf('B/tenant', 1200, 400)).toBeCloseTo(1 / 3);
  });

  it('stays finite when the subject is 0 in a lower-is-better unit', () => {
    expect(Number.isFinite(ratioOf('fetches', 0, 1))).toBe(true);
    expect(ratioOf('fetches', 0, 1)).toBeGreaterThan(1);
  });
});

describe('Results and latest.json', () => {
  it('writes exactly the issue format: { machine, results: [{ id, subject, baseline, ratio, subjectValue, baselineValue, unit }] }', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const results = new Results();
    results.add({ id: 'x.rps', subject: 's', baseline: 'b', subjectValue: 1234.5678, baselineValue: 617.2839, unit: 'req/s', note: 'n' });
    const dir = await mkdtemp(join(tmpdir(), 'bench-'));
    const file = pathToFileURL(join(dir, 'out.json'));
    await writeResults(file, { node: 'v20' }, results.results);
    const json = JSON.parse(await readFile(file, 'utf8'));
    expect(Object.keys(json)).toEqual(['machine', 'results']);
    expect(Object.keys(json.results[0])).toEqual(['id', 'subject', 'baseline', 'ratio', 'subjectValue', 'baselineValue', 'unit']);
    expect(json.results[0].ratio).toBe(2);
    expect(results.notes).toEqual(['x.rps: n']);
    expect(markdownTable(json.results)).toContain('| x.rps | s | b |');
  });
});

describe('measurement', () => {
  it('takes the median of odd and even samples', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('counts operations of every concurrent worker', async () => {
    let calls = 0;
    const rate = await timeBox(
      async () => {
        calls++;
      },
      30,
      4,
    );
    expect(calls).toBeGreaterThan(0);
    expect(rate).toBeGreaterThan(0);
  });

  it('rotates the starting contender each round and reports one median per contender', async () => {
    const order: string[] = [];
    const mk = (name: string) => ({ name, fn: async () => void order.push(name) });
    const out = await interleave([mk('a'), mk('b')], { rounds: 2, roundMs: 5, warmupMs: 1 });
    expect([...out.keys()]).toEqual(['a', 'b']);
    expect(out.get('a')?.samples).toHaveLength(2);
    // Round 2 starts with b: the last calls recorded belong to a.
    expect(order.at(-1)).toBe('a');
  });
});

describe('targets', () => {
  it('marks ratio targets met or not, and counts for the single-fetch targets', () => {
    const rows = checkTargets([
      { id: 'idtoken.single.vs-jose-local', subject: '', baseline: '', ratio: 1.1, subjectValue: 0, baselineValue: 0, unit: 'ops/s' },
      { id: 'idtoken.single.vs-aws', subject: '', baseline: '', ratio: 0.5, subjectValue: 0, baselineValue: 0, unit: 'ops/s' },
      { id: 'rotation.burst.vs-okta', subject: '', baseline: '', ratio: 1, subjectValue: 2, baselineValue: 2, unit: 'fetches' },
      { id: 'tenants.memory.vs-map', subject: '', baseline: '', ratio: 0.3, subjectValue: 900, baselineValue: 300, unit: 'B/tenant' },
    ]);
    expect(rows.map((r) => [r.id, r.met])).toEqual([
      ['idtoken.single.vs-jose-local', true],
      ['idtoken.single.vs-aws', false],
      ['rotation.burst.vs-okta', false],
      ['tenants.memory.vs-map', true],
    ]);
  });
});

describe('CookieJar', () => {
  it('keeps set cookies and drops expired ones', () => {
    const jar = new CookieJar();
    const headers = new Headers();
    headers.append('set-cookie', 'a=1; Path=/; HttpOnly');
    headers.append('set-cookie', 'b=2; Path=/');
    jar.store({ headers } as Response);
    const later = new Headers();
    later.append('set-cookie', 'b=; Max-Age=0; Path=/');
    jar.store({ headers: later } as Response);
    expect(jar.header()).toBe('a=1');
  });
});

describe('intervals of per-round ratios', () => {
  it('computes the Student-t 95 % interval of the mean', () => {
    // mean 1, sd 0.1, n 4: half-width = 3.182 * 0.1 / 2
    const ci = tInterval([0.9, 1.1, 0.9, 1.1]);
    expect(ci.mean).toBeCloseTo(1);
    expect(ci.halfWidth).toBeCloseTo((t95(3) * Math.sqrt(0.04 / 3)) / 2, 6);
    expect(ci.lo).toBeCloseTo(1 - ci.halfWidth);
  });

  it('gives one round an unbounded interval, so the stopping rule can never stop on it', () => {
    expect(tInterval([0.95]).halfWidth).toBe(Number.POSITIVE_INFINITY);
    expect(bootstrapInterval([0.95]).halfWidth).toBe(Number.POSITIVE_INFINITY);
  });

  it('brackets the mean with a reproducible bootstrap interval inside the sample range', () => {
    const values = [0.91, 0.94, 0.88, 0.97, 0.93, 0.9, 0.95, 0.92];
    const a = bootstrapInterval(values);
    expect(a.lo).toBeLessThan(a.mean);
    expect(a.hi).toBeGreaterThan(a.mean);
    expect(a.lo).toBeGreaterThanOrEqual(0.88);
    expect(a.hi).toBeLessThanOrEqual(0.97);
    expect(bootstrapInterval(values)).toEqual(a);
  });
});

describe('ratio intervals', () => {
  it('use the geometric mean, so a/b is the reciprocal of b/a', () => {
    const ab = ratioInterval([0.5, 2, 1, 1]);
    expect(ab.mean).toBeCloseTo(1);
    const ratios = [0.9, 0.95, 0.92, 0.97];
    const fwd = ratioInterval(ratios);
    const back = ratioInterval(ratios.map((r) => 1 / r));
    expect(fwd.mean * back.mean).toBeCloseTo(1);
    expect(fwd.lo * back.hi).toBeCloseTo(1);
    expect(fwd.lo).toBeLessThan(fwd.mean);
    expect(fwd.hi).toBeGreaterThan(fwd.mean);
  });
});

describe('Results with an interval', () => {
  it('keeps the given ratio and writes interval and cost only when given', () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const results = new Results();
    const e = results.add({ id: 'p.rps', subject: 's', baseline: 'b', subjectValue: 90, baselineValue: 100, unit: 'req/s', ratio: 0.91234, interval: { lo: 0.9, hi: 0.92, halfWidth: 0.01, rounds: 12, method: 't', capHit: false }, costUs: { throughput: 1.234, cpu: 0.5 } });
    expect(e.ratio).toBe(0.912);
    expect(e.interval).toEqual({ lo: 0.9, hi: 0.92, halfWidth: 0.01, rounds: 12, method: 't', capHit: false });
    expect(e.costUs).toEqual({ throughput: 1.23, cpu: 0.5 });
    expect(markdownTable([e])).toContain('| 0.912x | 0.9-0.92 (12 rounds) | +1.23, +0.5 |');
  });
});
