/**
 * Builds the console's page into services/console/web/dist/ (index.html, assets/app.js, assets/app.css), which the
 * console service serves at `/`. esbuild bundles src/main.tsx with Preact and the CSS; nothing is loaded from
 * outside at run time.
 *
 *   node services/console/web/scripts/build.ts              build
 *   node services/console/web/scripts/build.ts --if-stale   build only when a source is newer than the last build
 *
 * Run by `npm run build -w @stinger/console-web` (and `build:if-stale`), by the browser tests before they start,
 * and by `stinger up` before it starts the console.
 */
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST_DIR = join(WEB_ROOT, 'dist');
/** Written last by a successful build: its time is the build's. */
const STAMP = join(DIST_DIR, '.built');

function newestSourceMs(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestSourceMs(join(path, name))));
}

/** True when dist/ is missing or older than any source (src/, index.html, this script, package.json). */
export function isStale(): boolean {
  if (!existsSync(STAMP)) return true;
  const sources = ['src', 'index.html', 'scripts', 'package.json'].map((p) => newestSourceMs(join(WEB_ROOT, p)));
  return Math.max(...sources) > statSync(STAMP).mtimeMs;
}

export async function buildConsolePage(options: { ifStale: boolean } = { ifStale: false }): Promise<{ built: boolean; dir: string }> {
  if (options.ifStale && !isStale()) return { built: false, dir: DIST_DIR };
  rmSync(DIST_DIR, { recursive: true, force: true });
  mkdirSync(join(DIST_DIR, 'assets'), { recursive: true });
  await build({
    absWorkingDir: WEB_ROOT,
    entryPoints: { app: 'src/main.tsx' },
    outdir: join(DIST_DIR, 'assets'),
    bundle: true,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
    // Every test file sits beside the code; none is reachable from main.tsx, so none is bundled.
  });
  copyFileSync(join(WEB_ROOT, 'index.html'), join(DIST_DIR, 'index.html'));
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  return { built: true, dir: DIST_DIR };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await buildConsolePage({ ifStale: process.argv.includes('--if-stale') });
  process.stdout.write(result.built ? `console page built into ${result.dir}\n` : `console page is current (${result.dir})\n`);
}
