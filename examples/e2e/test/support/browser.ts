/**
 * Launches Debian's Chromium through playwright-core. Never `npx playwright install`: browser
 * downloads are blocked on the machines these tests run on, so they use Debian's `chromium`
 * package at /usr/bin/chromium (see examples/e2e/README.md).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * A headless Chromium with no sandbox, GPU, QUIC or background network traffic (updates, sync),
 * so a run depends only on the local servers; `--headless` is also implied by `headless: true`.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export const ARTIFACTS_DIR = fileURLToPath(new URL('../../artifacts/', import.meta.url));

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Saves `artifacts/<name>-<step>.png` (full page) and returns its path. */
  screenshot(step: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * One browser for a whole test file, with a fresh profile directory (playwright passes it as
 * `--user-data-dir`; it refuses that flag in `args`). A missing Chromium is a failure with the
 * install command, never a skip: these tests are the proof that the examples work in a browser.
 */
export async function launchBrowser(name: string): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. Install Debian's Chromium with ` +
        '`apt-get update && apt-get install -y chromium` (or set CHROMIUM_PATH). Do not run `npx playwright install`.',
    );
  }
  const profile = await mkdtemp(join(tmpdir(), `oin-e2e-${name}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1000, height: 720 },
  });
  // Deadlines for an action that never completes, not for speed: a loaded 2-core machine runs
  // Chromium, the example and the emulator at once (Playwright's own default is 30 s).
  context.setDefaultTimeout(30_000);
  context.setDefaultNavigationTimeout(30_000);
  const page = context.pages()[0] ?? (await context.newPage());
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  return {
    context,
    page,
    async screenshot(step) {
      const path = join(ARTIFACTS_DIR, `${name}-${step}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}
