/**
 * The page type-checks under its own tsconfig (DOM, JSX; the repository's type check covers Node code only) and
 * builds into dist/: index.html and the assets it names, nothing fetched from another host.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildConsolePage, isStale, WEB_ROOT } from './build.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

test('the page type-checks', { timeout: 120_000 }, () => {
  const tsc = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(WEB_ROOT, 'tsconfig.json')], { encoding: 'utf8' });
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
});

test('the build writes index.html and the assets it names, and loads nothing from another host', { timeout: 120_000 }, async () => {
  const { built, dir } = await buildConsolePage({ ifStale: false });
  assert.equal(built, true);
  assert.equal(isStale(), false);
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const assets = [...html.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => m[1] ?? '');
  assert.deepEqual(assets.sort(), ['assets/app.css', 'assets/app.js']);
  for (const asset of assets) assert.ok(existsSync(join(dir, asset)), `${asset} is missing`);
  for (const file of ['index.html', ...assets]) {
    const text = readFileSync(join(dir, file), 'utf8');
    // XML namespace names (w3.org) are identifiers, not fetched.
    const external = [...text.matchAll(/https?:\/\/[^\s"'`)]+/g)].map((m) => m[0]).filter((url) => !url.startsWith('http://www.w3.org/'));
    assert.deepEqual(external, [], `${file} refers to another host`);
  }
  assert.equal((await buildConsolePage({ ifStale: true })).built, false, 'a current build is not redone');
});
