// Kernel test (root) of a policy's `deny` rule enforced at the LSM hooks, for a kernel that runs BPF LSM programs:
// the stock-kernel VM (`stinger vm-test libs/agent/src/lsm-deny.test.ts`, and `stinger test`). The agent's own
// NodePolicies, kernel rule slots and BPF kernel maps over the real file sensor in its lsm mode, with no file guard:
// the file_open hook alone must refuse the file rule's opens, and bprm_check_security the exec rule's execves, by any
// name the path resolves to, each reported once, and stop refusing once the policy is gone. Where BPF LSM is
// unavailable every test is skipped and says why.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createRingBufferReader,
  decodeFileRecord,
  forEachRecord,
  loadFileSensor,
  probeFeatures,
  unavailableConnectPolicy,
  unavailableNetworkSensor,
  unavailablePrivilegeSensor,
  type FileSensor,
  type FileSensorRecord,
  type RingBufferReader,
} from '@stinger/bpf';
import type { PolicyStatus } from '@stinger/events';
import { parsePolicies } from '@stinger/policy';
import { createBpfKernelMaps } from './bpf-kernel-maps.ts';
import { KernelRuleSlots } from './kernel-rules.ts';
import { NodePolicies } from './node-policies.ts';

const lsm = probeFeatures().lsm;
const skip = lsm.available ? false : `this kernel (${release()}) does not run BPF LSM programs (${lsm.reason ?? 'unavailable'}): deny rules cannot go to its hooks`;

/** Runs file with args; its exit code and what it wrote to stderr. */
function run(file: string, args: readonly string[]): { pid: number; status: number | null; stderr: string } {
  const result = spawnSync(file, args, { encoding: 'utf8' });
  return { pid: result.pid, status: result.status, stderr: result.stderr };
}

describe('a policy deny rule in the kernel: NodePolicies over the file sensor in lsm mode, no file guard', () => {
  let sensor: FileSensor | undefined;
  let reader: RingBufferReader | undefined;
  const records: FileSensorRecord[] = [];
  const statuses: PolicyStatus[] = [];
  let policies: NodePolicies | undefined;
  let dir = '';

  before(() => {
    if (skip) return;
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'stinger-lsm-deny-')));
    mkdirSync(join(dir, 'secret'));
    writeFileSync(join(dir, 'secret', 'data'), 'secret data\n');
    writeFileSync(join(dir, 'public'), 'public data\n');
    symlinkSync(join(dir, 'secret', 'data'), join(dir, 'link'));
    writeFileSync(join(dir, 'tool'), '#!/bin/sh\necho ran\n', { mode: 0o755 });
    symlinkSync(join(dir, 'tool'), join(dir, 'tool-link'));
    sensor = loadFileSensor({ ignoredProcesses: [], mode: 'lsm' });
    const loaded = sensor;
    reader = createRingBufferReader({
      map: loaded.events,
      onBatch: (batch) =>
        forEachRecord(batch, (offset, length) => {
          const record = decodeFileRecord({ buffer: batch.buffer, view: batch.view, offset, length });
          if (record !== undefined) records.push(record);
        }),
    });
    const unavailable = new Error('not loaded by this test');
    policies = new NodePolicies({
      nodeName: 'n1',
      agentId: 'a1',
      slots: new KernelRuleSlots(
        createBpfKernelMaps({
          fileSensor: loaded,
          networkSensor: unavailableNetworkSensor(unavailable),
          connectPolicy: unavailableConnectPolicy(unavailable),
          privilegeSensor: unavailablePrivilegeSensor(unavailable),
          rootCgroupId: 1n,
        }),
      ),
      lsmDenyUnavailable: () => (loaded.mode === 'lsm' ? null : `file sensor in ${String(loaded.mode)} mode`),
      onStatus: (_key, status) => void (status && statuses.push(status)),
    });
    const parsed = parsePolicies(
      [
        'apiVersion: stinger.io/v1alpha1',
        'kind: TracingPolicy',
        'metadata: { name: lsm-deny }',
        'spec:',
        '  rules:',
        `    - { name: no-secret, event: file, match: { path: { prefix: ["${dir}/secret/"] } }, action: deny }`,
        `    - { name: no-tool, event: exec, match: { binary: { equal: ["${dir}/tool"] } }, action: deny }`,
        '',
      ].join('\n'),
    );
    assert.deepEqual(parsed.errors, []);
    policies.applyLocal(parsed.policies[0]!);
  });

  after(() => {
    policies?.remove('lsm-deny');
    void reader?.stop();
    sensor?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the status says the kernel refuses the file rule at file_open and the exec rule at bprm_check_security', { skip }, () => {
    const status = statuses.at(-1);
    assert.equal(status?.state, 'applied', status?.messages.join('\n'));
    assert.equal(status?.kernel_rules, 2);
    assert.match(status?.messages.join('\n') ?? '', /no-secret: enforced in the kernel at file_open/);
    assert.match(status?.messages.join('\n') ?? '', /no-tool: enforced in the kernel at bprm_check_security/);
  });

  test('an execve of the tool fails with EPERM, by its path and through a symlink, reported once each; the record names the rule', { skip }, () => {
    for (const path of [join(dir, 'tool'), join(dir, 'tool-link')]) {
      // Through a shell's `exec`, so the refused execve is the shell's own (its pid names the record) and it says why.
      const tool = run('sh', ['-c', `exec '${path}'`]);
      assert.notEqual(tool.status, 0, `${path}: the exec fails`);
      assert.match(tool.stderr, /not permitted/i, path);
      reader!.drainNow();
      const reported = records.filter((r) => r.kind === 'exec-rule' && r.pid === tool.pid);
      assert.equal(reported.length, 1, `${path}: one record of the refused execve: the tracepoint left it to the hook`);
      const record = reported[0];
      assert.ok(record && record.kind === 'exec-rule');
      assert.deepEqual([record.action, record.resolved, record.path], ['denied', true, join(dir, 'tool')]);
      assert.equal(policies!.actionFor(record.ruleId)?.rule, 'no-tool');
    }
  });

  test('an open under the prefix fails with EPERM, also through a symlink and `..`; the record names the rule; a file outside opens', { skip }, () => {
    for (const path of [join(dir, 'secret', 'data'), join(dir, 'link'), `${dir}/secret/../secret//data`]) {
      const cat = run('cat', [path]);
      assert.equal(cat.status, 1, `cat ${path} fails`);
      assert.match(cat.stderr, /Operation not permitted/, path);
    }
    assert.equal(run('cat', [join(dir, 'public')]).status, 0);
    const denied = run('cat', [join(dir, 'link')]);
    reader!.drainNow();
    const reported = records.filter((r) => r.kind === 'file' && r.pid === denied.pid);
    assert.equal(reported.length, 1, 'one record of the refused open: the tracepoint left it to the hook');
    const record = reported[0];
    assert.ok(record && record.kind === 'file', 'the hook reported the refused open');
    assert.equal(record.action, 'denied');
    assert.equal(record.resolvedPath, join(dir, 'secret', 'data'));
    assert.equal(policies!.actionFor(record.ruleId)?.rule, 'no-secret');
  });

  test('once the policy is gone the file opens and the tool runs', { skip }, () => {
    policies!.remove('lsm-deny');
    assert.equal(run('cat', [join(dir, 'link')]).status, 0);
    assert.equal(run(join(dir, 'tool-link'), []).status, 0);
  });
});
