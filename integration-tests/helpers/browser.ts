/**
 * Headless Chromium (Debian's `chromium` package) driven by playwright-core, for the console page's browser tests.
 * `openBrowser` builds the page first when its sources are newer than dist/ (the console serves dist/), launches
 * one browser per test file, and opens pages at 1280×800. `screenshot` keeps a PNG per test under
 * artifacts/screenshots/ (gitignored) and prints its path, pass or fail.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SCREENSHOT_DIR = join(REPO_ROOT, 'artifacts', 'screenshots');
export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const VIEWPORT = { width: 1280, height: 800 };

/** Builds services/console/web/dist/ when stale (the same command `npm run build:if-stale -w @stinger/console-web` runs). */
export function buildConsolePageIfStale(): void {
  const script = join(REPO_ROOT, 'services/console/web/scripts/build.ts');
  const result = spawnSync(process.execPath, [script, '--if-stale'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`building the console page failed (exit ${result.status}):\n${result.stdout}${result.stderr}`);
}

export interface TestBrowser {
  /** A new page (its own context: no storage shared with other pages) at 1280×800. */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function openBrowser(): Promise<TestBrowser> {
  buildConsolePageIfStale();
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
  return {
    async newPage() {
      const context = await browser.newContext({ viewport: VIEWPORT });
      const page = await context.newPage();
      // Errors in the page fail loudly in the test log instead of passing unseen.
      page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
      return page;
    },
    close: () => browser.close(),
  };
}

/** Saves a full-page PNG as artifacts/screenshots/<name>.png and prints where. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name.replace(/[^a-z0-9-]+/gi, '-').toLowerCase()}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
  return path;
}
