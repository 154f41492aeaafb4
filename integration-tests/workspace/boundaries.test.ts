/**
 * The package boundaries are lint rules that fail: each forbidden import is linted as if it were
 * written in a real file of the workspace, with the repository's own ESLint configuration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Lints `code` as a real file at `directory` (type-aware rules need it on disk, inside the tsconfig),
 * then removes it. Returns the ids of the rules that reported errors.
 */
async function ruleIdsFor(code: string, directory: string): Promise<string[]> {
  // The Nx rule reads the project graph; make sure it exists, as `npm run lint` does.
  execFileSync(process.execPath, ['node_modules/nx/dist/bin/nx.js', 'show', 'projects'], { cwd: ROOT, stdio: 'ignore' });
  const file = `${ROOT}${directory}/boundary-probe-${randomBytes(4).toString('hex')}.ts`;
  writeFileSync(file, code);
  try {
    const [result] = await new ESLint({ cwd: ROOT }).lintFiles([file]);
    const messages = result?.messages ?? [];
    const parseErrors = messages.filter((m) => m.ruleId === null);
    assert.deepEqual(parseErrors.map((m) => m.message), [], 'the probe must parse');
    return messages.filter((m) => m.severity === 2).map((m) => m.ruleId ?? '');
  } finally {
    rmSync(file, { force: true });
  }
}

test('kafkajs outside libs/kafka, koffi outside libs/bpf and the Kubernetes client outside libs/k8s are refused', { timeout: 120_000 }, async () => {
  assert.ok((await ruleIdsFor("import { Kafka } from 'kafkajs';\nexport const k = Kafka;\n", 'services/agent/src')).includes('no-restricted-imports'));
  assert.ok((await ruleIdsFor("import koffi from 'koffi';\nexport const k = koffi;\n", 'libs/agent/src')).includes('no-restricted-imports'));
  assert.ok((await ruleIdsFor("import * as k8s from '@kubernetes/client-node';\nexport const k = k8s;\n", 'libs/kafka/src')).includes('no-restricted-imports'));
  assert.deepEqual(await ruleIdsFor("import { Kafka } from 'kafkajs';\nexport const k = Kafka;\n", 'libs/kafka/src'), []);
});

test('a library importing a service, and deep imports into a package, are refused', { timeout: 120_000 }, async () => {
  assert.ok((await ruleIdsFor("import '@stinger/agent-service';\n", 'libs/agent/src')).includes('@nx/enforce-module-boundaries'));
  assert.ok((await ruleIdsFor("import { x } from '@stinger/events/src/crc64.ts';\nexport const y = x;\n", 'libs/kafka/src')).includes('no-restricted-imports'));
});

test('the environment is read only in libs/config', { timeout: 120_000 }, async () => {
  assert.ok((await ruleIdsFor("export const home = process.env['HOME'];\n", 'libs/agent/src')).includes('no-restricted-properties'));
  assert.deepEqual(await ruleIdsFor("export const home = process.env['HOME'];\n", 'libs/config/src'), []);
});
