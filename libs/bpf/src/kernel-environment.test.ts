// Refusal without privileges: a child process running as nobody must get BpfPermissionError, not a libbpf failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const INDEX = fileURLToPath(new URL('./index.ts', import.meta.url));

test('assertBpfPrivileges refuses an unprivileged process with BpfPermissionError', (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to start a child as nobody');
    return;
  }
  const script = `
    const { assertBpfPrivileges, BpfPermissionError } = await import(${JSON.stringify(INDEX)});
    try { assertBpfPrivileges(); console.log('allowed'); }
    catch (e) { console.log(e instanceof BpfPermissionError ? 'refused: ' + e.message : 'other: ' + e); }`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
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
