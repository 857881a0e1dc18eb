// Keeps docs/errors.md in step with the code list: every code has its own heading with the
// status adapters answer, and the page names no code that does not exist (style §3.5).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OIDC_ERROR_STATUS } from '../src/errors';

const page = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

describe('docs/errors.md', () => {
  it.each(Object.entries(OIDC_ERROR_STATUS))('documents %s with status %i', (code, status) => {
    const section = page.split(/^## /m).find((part) => part.startsWith(`${code}\n`));
    expect(section, `docs/errors.md has no "## ${code}" heading`).toBeDefined();
    expect(section).toContain(`Status ${status}.`);
  });

  it('documents no code that does not exist', () => {
    const documented = [...page.matchAll(/^## (ERR_OIDC_[A-Z_]+)$/gm)].map((m) => m[1]);
    expect(documented.filter((code) => !(code! in OIDC_ERROR_STATUS))).toEqual([]);
  });
});
