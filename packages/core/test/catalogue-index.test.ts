/**
 * docs/security.md stays true: every catalogue id marked covered is named by a test title, no test
 * names an unknown id, the generated table has a row for every id, and the ids in the hostile-input
 * catalogue (docs/catalogue.md) are exactly those in scripts/security-catalogue.json, audit entries
 * (SA-NN) aside (scripts/security-catalogue.mjs --check; test results are not read here, the suite
 * itself runs them).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = fileURLToPath(new URL('../../../scripts/security-catalogue.mjs', import.meta.url));
// The catalogue ships with the repository, so the check always runs against it.
const catalogue = fileURLToPath(new URL('../../../docs/catalogue.md', import.meta.url));

describe('catalogue index (docs/security.md)', () => {
  it('every id marked covered has a test, and the table in docs/security.md is current', () => {
    expect(existsSync(catalogue)).toBe(true);
    const args = [script, '--check', '--results', 'no-report', '--catalogue', catalogue];
    const run = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
    expect(run.stderr.replace(/^docs\/security\.md: \d+ row\(s\) out of date.*\n?/m, '')).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^security catalogue: ok\. Catalogue entries: 150 \(131 from docs\/catalogue\.md, 19 from the independent audit, SA-NN\);/);
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

  it('fails when the catalogue and scripts/security-catalogue.json list different ids', () => {
    const text = readFileSync(catalogue, 'utf8');
    // One id the status file does not know, and one catalogue id (IT-03) dropped from the page.
    const edited = `${text.replace(/^\*\*IT-03\b/m, '**XX-03')}\n**ZZ-99 An entry nobody has classified.**\n`;
    const file = join(mkdtempSync(join(tmpdir(), 'catalogue-')), 'catalogue.md');
    writeFileSync(file, edited);
    const run = spawnSync(process.execPath, [script, '--check', '--results', 'no-report', '--catalogue', file], { cwd: root, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('ZZ-99 is in the catalogue but not in scripts/security-catalogue.json');
    expect(run.stderr).toContain('IT-03 is in scripts/security-catalogue.json but not in the catalogue');
  });
});
