/**
 * The page's layers are lint rules that fail (eslint.config.mjs): each forbidden import is linted as if written in
 * a real file of that layer, with the repository's own ESLint configuration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SRC = 'services/console/web/src';

/** Lints `code` as a file in `layer` (type-aware rules need it on disk), removes it, returns the failing rules. */
async function rulesBrokenBy(code: string, layer: string): Promise<string[]> {
  const file = `${ROOT}${SRC}/${layer}/layer-probe-${randomBytes(4).toString('hex')}.ts`;
  writeFileSync(file, code);
  try {
    const [result] = await new ESLint({ cwd: ROOT }).lintFiles([file]);
    const messages = result?.messages ?? [];
    assert.deepEqual(messages.filter((m) => m.ruleId === null).map((m) => m.message), [], 'the probe must parse');
    return messages.filter((m) => m.severity === 2).map((m) => m.ruleId ?? '');
  } finally {
    rmSync(file, { force: true });
  }
}

test('components, the store and the domain cannot reach the API; only api/ may fetch', { timeout: 120_000 }, async () => {
  // The Nx boundary rule reads the project graph; make sure it exists, as `npm run lint` does.
  execFileSync(process.execPath, ['node_modules/nx/dist/bin/nx.js', 'show', 'projects'], { cwd: ROOT, stdio: 'ignore' });
  const importClient = "import { createApiClient } from '../api/client.ts';\nexport const c = createApiClient;\n";
  assert.ok((await rulesBrokenBy(importClient, 'components')).includes('no-restricted-imports'));
  assert.ok((await rulesBrokenBy(importClient, 'store')).includes('no-restricted-imports'));
  assert.ok((await rulesBrokenBy(importClient, 'domain')).includes('no-restricted-imports'));
  assert.deepEqual(await rulesBrokenBy(importClient, 'data-layer'), []);
  const fetches = "export const get = () => fetch('/api/v1/events');\n";
  assert.ok((await rulesBrokenBy(fetches, 'components')).includes('no-restricted-globals'));
  assert.ok((await rulesBrokenBy(fetches, 'data-layer')).includes('no-restricted-globals'));
  assert.deepEqual(await rulesBrokenBy(fetches, 'api'), []);
});

test('the domain is pure: no store, no Preact, no Node.js; the store cannot import components', { timeout: 120_000 }, async () => {
  assert.ok((await rulesBrokenBy("import { actions } from '../store/state.ts';\nexport const a = actions;\n", 'domain')).includes('no-restricted-imports'));
  assert.ok((await rulesBrokenBy("import { h } from 'preact';\nexport const x = h;\n", 'domain')).includes('no-restricted-imports'));
  assert.ok((await rulesBrokenBy("import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n", 'domain')).includes('no-restricted-imports'));
  assert.deepEqual(await rulesBrokenBy("import { SEVERITIES } from '@stinger/console-api';\nimport { baseName } from './format.ts';\nexport const x = [SEVERITIES, baseName];\n", 'domain'), []);
  assert.ok((await rulesBrokenBy("import { App } from '../components/App.tsx';\nexport const a = App;\n", 'store')).includes('no-restricted-imports'));
});
