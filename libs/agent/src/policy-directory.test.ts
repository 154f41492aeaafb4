import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { policyKey } from '@stinger/policy';
import { PolicyDirectory } from './policy-directory.ts';

const fixture = (name: string) => readFileSync(new URL(`../../policy/testdata/${name}`, import.meta.url), 'utf8');

test('files are applied, changed files re-read, invalid versions keep the old policy, deleted files remove theirs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'policy-dir-'));
  try {
    const log: string[] = [];
    const directory = new PolicyDirectory({
      dir,
      apply: (policy) => log.push(`apply ${policyKey(policy)}`),
      remove: (key) => log.push(`remove ${key}`),
      onInvalid: (file, issues) => log.push(`invalid ${file.endsWith('a.yaml')} ${issues[0]?.path}`),
    });
    writeFileSync(join(dir, 'a.yaml'), fixture('deny-shadow-read.yaml'));
    writeFileSync(join(dir, 'ignored.txt'), 'not a policy');
    assert.equal(directory.scan(), 1);
    assert.equal(directory.scan(), 0, 'unchanged files are not re-read');
    writeFileSync(join(dir, 'a.yaml'), 'apiVersion: stinger.io/v1alpha1\nkind: TracingPolicy\nmetadata: {name: x}\nspec: {rules: [{name: r, event: exec}]}\n');
    utimesSync(join(dir, 'a.yaml'), new Date(), new Date(Date.now() + 5000));
    directory.scan();
    writeFileSync(join(dir, 'a.yaml'), fixture('deny-binary.yaml'));
    utimesSync(join(dir, 'a.yaml'), new Date(), new Date(Date.now() + 10000));
    directory.scan();
    rmSync(join(dir, 'a.yaml'));
    directory.scan();
    assert.deepEqual(log, [
      'apply deny-shadow-read',
      'invalid true spec.rules[0].action',
      'apply deny-binary',
      'remove deny-shadow-read',
      'remove deny-binary',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('JSON files are policies too, and their problems carry line and column', () => {
  const dir = mkdtempSync(join(tmpdir(), 'policy-dir-'));
  try {
    const applied: string[] = [];
    const invalid: string[] = [];
    const directory = new PolicyDirectory({ dir, apply: (policy) => applied.push(policyKey(policy)), remove: () => assert.fail(), onInvalid: (_file, issues) => invalid.push(...issues.map((i) => `${i.line}:${i.column} ${i.path}`)) });
    writeFileSync(join(dir, 'a.json'), '[' + JSON.stringify({ apiVersion: 'stinger.io/v1alpha1', kind: 'TracingPolicy', metadata: { name: 'deny-binary' }, spec: { rules: [{ name: 'r', event: 'exec', action: 'audit' }] } }) + ']');
    writeFileSync(join(dir, 'b.json'), '{"apiVersion": "stinger.io/v1alpha1", "kind": "TracingPolicy", "metadata": {"name": "b"},\n "spec": {"rules": [{"name": "r", "event": "exec"}]}}');
    assert.equal(directory.scan(), 2);
    assert.deepEqual(applied, ['deny-binary']);
    assert.deepEqual(invalid, ['2:21 spec.rules[0].action']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing directory means no local policies', () => {
  const directory = new PolicyDirectory({ dir: '/nonexistent/stinger-policies', apply: () => assert.fail(), remove: () => assert.fail(), onInvalid: () => assert.fail() });
  assert.equal(directory.scan(), 0);
});
