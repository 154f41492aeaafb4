// Refusal without privileges: a child process running as nobody must get BpfPermissionError, not a libbpf failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runNodeUnprivileged } from '@stinger/testing';

test('assertBpfPrivileges refuses an unprivileged process with BpfPermissionError', (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to start a child as nobody');
    return;
  }
  // Nobody may not be able to enter the directory the checkout lives in: the helper lets it read the checkout alone.
  const script = (index: string): string => `
    const { assertBpfPrivileges, BpfPermissionError } = await import(${JSON.stringify(index)});
    try { assertBpfPrivileges(); console.log('allowed'); }
    catch (e) { console.log(e instanceof BpfPermissionError ? 'refused: ' + e.message : 'other: ' + e); }`;
  const child = runNodeUnprivileged((checkout) => ['--input-type=module', '-e', script(join(checkout, 'libs/bpf/src/index.ts'))]);
  assert.equal(child.status, 0, child.stderr);
  assert.match(child.stdout, /^refused: loading BPF programs needs root, or CAP_BPF and CAP_PERFMON/);
});

test('assertBpfPrivileges allows root', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('not root');
    return;
  }
  const { assertBpfPrivileges } = await import('./kernel-environment.ts');
  assert.doesNotThrow(() => assertBpfPrivileges());
});
