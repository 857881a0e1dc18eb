/**
 * docs/security.md stays true: every catalogue id marked covered is named by a test title, no test
 * names an unknown id, and the generated table has a row for every id
 * (scripts/security-catalogue.mjs --check; test results are not read here, the suite itself runs them).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = fileURLToPath(new URL('../../../scripts/security-catalogue.mjs', import.meta.url));
const catalogue = '/work/shared/security-catalogue.md';

describe('catalogue index (docs/security.md)', () => {
  it('every id marked covered has a test, and the table in docs/security.md is current', () => {
    const args = [script, '--check', '--results', 'no-report'];
    if (existsSync(catalogue)) args.push('--catalogue', catalogue);
    const run = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
    expect(run.stderr.replace(/^docs\/security\.md: \d+ row\(s\) out of date.*\n?/m, '')).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^security catalogue: ok\. Catalogue entries: 150 \(131 from security-catalogue\.md, 19 from the independent audit, SA-NN\);/);
  });

  it('reads the adapter conformance suite: its case names count as coverage and fill the adapters column', () => {
    const run = spawnSync(process.execPath, [script, '--results', 'no-report'], { cwd: root, encoding: 'utf8' });
    expect(run.status).toBe(0);
    // IT-13, IN-10, LO-01, TP-07 and LG-03 run through every adapter (packages/testing/src/conformance/security.ts).
    for (const id of ['IT-13', 'IN-10', 'LO-01', 'TP-07', 'LG-03']) {
      const row = run.stdout.split('\n').find((line) => line.startsWith(`| ${id} |`)) ?? '';
      expect(row, id).toMatch(new RegExp(`\\d+ conformance cases?: ${id}`));
      expect(row, id).not.toContain('needed:');
    }
    expect(run.stdout).toMatch(/through the adapter conformance suite, all four adapters: \d+\)/);
  });

  it('fails when an id is marked covered but no test names it', () => {
    const status = JSON.parse(readFileSync(join(root, 'scripts', 'security-catalogue.json'), 'utf8')) as { entries: Record<string, Record<string, unknown>> };
    status.entries['LO-08'] = { title: 'logout_token validation', status: 'core' };
    const file = join(mkdtempSync(join(tmpdir(), 'catalogue-')), 'status.json');
    writeFileSync(file, JSON.stringify(status));
    const run = spawnSync(process.execPath, [script, '--check', '--results', 'no-report', '--status', file], { cwd: root, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('LO-08 is marked covered but no test title names it');
  });
});
