/**
 * Rendering of `checkTenant` reports: one block per tenant for people (symbols and colour on a
 * terminal, plain words otherwise), or the TenantReport array as JSON for CI (schema in
 * docs/cli.md).
 */
import type { TenantReport } from '@oin-oidc/core';
import type { Output, Style } from './io';

type Status = TenantReport['checks'][number]['status'];

const MARK: Record<Status, { tty: string; plain: string; style: Style[] }> = {
  ok: { tty: '✔', plain: 'ok  ', style: ['green'] },
  warn: { tty: '▲', plain: 'WARN', style: ['yellow'] },
  fail: { tty: '✖', plain: 'FAIL', style: ['red', 'bold'] },
  skip: { tty: '○', plain: 'skip', style: ['dim'] },
};

/** Whether a report passes: `ok` from checkTenant, and with `strict` no warning either. */
export function passes(report: TenantReport, strict: boolean): boolean {
  return report.ok && !(strict && report.checks.some((check) => check.status === 'warn'));
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The human-readable block for one tenant. */
export function formatReport(report: TenantReport, output: Output, strict: boolean): string {
  const pass = passes(report, strict);
  const verdict = pass ? output.paint('PASS', 'green', 'bold') : output.paint('FAIL', 'red', 'bold');
  const lines = [`${output.paint(report.tenantId, 'bold')}  ${report.issuer}  ${verdict}  ${output.paint(seconds(report.durationMs), 'dim')}`];
  const width = Math.max(0, ...report.checks.map((check) => check.id.length));
  for (const check of report.checks) {
    const mark = MARK[check.status] ?? MARK.fail;
    const symbol = output.colour ? output.paint(mark.tty, ...mark.style) : mark.plain;
    const message = check.status === 'skip' ? output.paint(check.message, 'dim') : check.message;
    lines.push(`  ${symbol} ${check.id.padEnd(width)}  ${message}`);
  }
  return lines.join('\n');
}

/** The last line: how many tenants passed. */
export function formatSummary(reports: readonly TenantReport[], failedToRun: number, output: Output, strict: boolean): string {
  const passed = reports.filter((report) => passes(report, strict)).length;
  const failed = reports.length - passed;
  const warned = reports.filter((report) => report.checks.some((check) => check.status === 'warn')).length;
  const parts = [`${reports.length + failedToRun} tenant${reports.length + failedToRun === 1 ? '' : 's'} checked`, output.paint(`${passed} passed`, passed > 0 ? 'green' : 'dim')];
  if (failed > 0) parts.push(output.paint(`${failed} failed`, 'red'));
  if (warned > 0) parts.push(output.paint(`${warned} with warnings`, 'yellow'));
  if (failedToRun > 0) parts.push(output.paint(`${failedToRun} could not be checked`, 'red'));
  return parts.join(', ');
}
