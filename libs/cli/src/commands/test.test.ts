import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processEnvironment } from '@stinger/config';
import { REPO_ROOT } from '../workspace.ts';
import { BOUNDARY_RULE_SKIPPED, lint, summaryLine, summaryText, tapCounts } from './test.ts';

test("the summary counts skipped and todo tests from the TAP stream's closing comments", () => {
  const tap = ['TAP version 13', '# tests 12', '# suites 2', '# pass 7', '# fail 1', '# cancelled 1', '# skipped 2', '# todo 1', '# duration_ms 40'].join('\n');
  const counts = tapCounts(tap);
  assert.deepEqual(counts, { passed: 7, failed: 2, skipped: 2, todo: 1 });
  assert.equal(summaryLine(counts), 'tests: 7 passed, 2 failed, 2 skipped, 1 todo');
  assert.equal(summaryLine({ passed: 3, failed: 0, skipped: 0, todo: 0 }), 'tests: 3 passed, 0 failed, 0 skipped');
});

test('the summary gives the VM run its own line and adds its counts to the total; a VM that gave no count is one failure', () => {
  const lint = { name: 'lint', ok: true, seconds: 10 };
  const tests = { name: 'tests', ok: false, seconds: 100 };
  const vmStep = { name: 'kernel tests in a stock-kernel VM', ok: true, seconds: 1400 };
  const native = { passed: 90, failed: 1, skipped: 2, todo: 0 };
  assert.equal(
    summaryText({ steps: [lint, tests, vmStep], testStep: tests, counts: native, vm: { step: vmStep, counts: { passed: 30, failed: 0, skipped: 1, todo: 0 } } }),
    [
      '',
      '== summary',
      'ok   lint (10.0 s)',
      'FAIL tests (100.0 s)',
      'ok   kernel tests in a stock-kernel VM (1400.0 s)',
      'kernel tests in the VM: 30 passed, 0 failed, 1 skipped',
      'tests: 120 passed, 1 failed, 3 skipped',
      '',
    ].join('\n'),
  );
  const vmDown = { ...vmStep, ok: false };
  const text = summaryText({ steps: [tests, vmDown], testStep: tests, counts: native, vm: { step: vmDown, counts: { passed: 0, failed: 0, skipped: 0, todo: 0 } } });
  assert.match(text, /\nkernel tests in the VM: 0 passed, 1 failed, 0 skipped\ntests: 90 passed, 2 failed, 2 skipped\n$/);
  assert.doesNotMatch(summaryText({ steps: [tests], testStep: tests, counts: native, vm: null }), /VM/);
});

test('on a clean clone the lint step fails a service importing another service (the Nx module-boundary rule runs)', { timeout: 300_000 }, () => {
  // A clean clone: no project graph anywhere Nx looks for one (its workspace data directory is empty).
  const workspaceData = mkdtempSync(join(tmpdir(), 'stinger-nx-data-'));
  const cleanClone = { ...processEnvironment(), NX_WORKSPACE_DATA_DIRECTORY: workspaceData, NX_DAEMON: 'false' };
  // Only the Nx rule forbids this import (no client library, no deep import): it is the rule's own violation.
  const probe = `services/detector/src/boundary-probe-${randomBytes(4).toString('hex')}.ts`;
  writeFileSync(join(REPO_ROOT, probe), "import '@stinger/agent-service';\n");
  try {
    // The condition the lint step exists for: eslint alone, on a clean clone, skips the rule and passes the probe.
    const eslintAlone = spawnSync(process.execPath, ['node_modules/eslint/bin/eslint.js', probe], { cwd: REPO_ROOT, env: cleanClone, encoding: 'utf8' });
    assert.match(`${eslintAlone.stdout}${eslintAlone.stderr}`, new RegExp(BOUNDARY_RULE_SKIPPED));
    assert.equal(eslintAlone.status, 0, 'eslint alone lets the violation through');

    const result = lint([probe], cleanClone);
    assert.equal(result.ok, false, 'the lint step fails');
    assert.doesNotMatch(result.output, new RegExp(BOUNDARY_RULE_SKIPPED));
    assert.match(result.output, new RegExp(`${probe.split('/').pop()}[\\s\\S]*@nx/enforce-module-boundaries`), result.output);

    const clean = lint(['services/detector/src/main.ts'], cleanClone);
    assert.equal(clean.ok, true, `a file that keeps the boundaries passes:\n${clean.output}`);
  } finally {
    rmSync(join(REPO_ROOT, probe), { force: true });
    rmSync(workspaceData, { recursive: true, force: true });
  }
});
