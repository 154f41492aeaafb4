// Kernel test (root): the privilege sensor reports set*id, capset and namespace changes, and a namespace KILL
// rule scoped to the test's own cgroup kills `unshare -n` there while `true` keeps working and nothing outside
// the cgroup is touched.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadPrivilegeSensor, type PrivilegeSensor } from './sensor.ts';
import { cgroupIdOf } from '../core/kernel-environment.ts';
import { createPodCgroupRoots } from '../core/pod-cgroup-roots.ts';
import { CLONE_NEW, decodePrivilegeRecord, type PrivilegeSensorRecord } from './records.ts';
import { buildBpf, collect, runCleanup, type Collector } from '../core/test-support.ts';
import { buildTestHelper, createTestCgroup, ruleErrorField, runIn, type TestCgroup, type TestHelper } from '../network/test-support.ts';

type Kind = PrivilegeSensorRecord['kind'];
const of =
  <K extends Kind>(kind: K, pid: number) =>
  (r: PrivilegeSensorRecord): r is Extract<PrivilegeSensorRecord, { kind: K }> =>
    r.kind === kind && r.pid === pid;

describe('privilege sensor (kernel)', () => {
  let sensor: PrivilegeSensor | undefined;
  let collector: Collector<PrivilegeSensorRecord> | undefined;
  let helper: TestHelper | undefined;
  let cgroup: TestCgroup | undefined;

  before(() => {
    buildBpf();
    helper = buildTestHelper();
    cgroup = createTestCgroup();
    sensor = loadPrivilegeSensor();
    collector = collect(sensor, decodePrivilegeRecord);
  });

  after(async () => {
    await runCleanup([
      () => sensor?.namespaceRules.clear(),
      () => sensor?.moduleRules.clear(),
      () => collector?.stop(),
      () => sensor?.close(),
      () => cgroup?.remove(),
      () => helper?.remove(),
    ]);
  });

  test('nothing is reported while nothing is watched', async () => {
    sensor!.watch({});
    const run = await runIn(undefined, helper!.path, ['setuid', '0']);
    const unshare = await runIn(undefined, '/usr/bin/unshare', ['-n', 'true']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    collector!.drain();
    assert.deepEqual(collector!.records.filter((r) => r.pid === run.pid || r.pid === unshare.pid), []);
  });

  test('setuid(65534) yields a privilege record with the argument and result', async () => {
    sensor!.watch({ setid: true });
    const run = await runIn(undefined, helper!.path, ['setuid', '65534']);
    assert.equal(run.stdout.trim(), '0');
    const record = await collector!.waitFor(of('privilege', run.pid));
    assert.equal(record.op, 'setuid');
    assert.deepEqual(record.args, [65534]);
    assert.equal(record.result, 0);
    assert.equal(record.uid, 65534, 'the header is filled at syscall exit, after the change');
  });

  test('setpriv --reuid/--regid/--clear-groups yields setresuid/setresgid-family records', async () => {
    sensor!.watch({ setid: true, capset: true });
    const run = await runIn(undefined, '/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']);
    assert.equal(run.code, 0);
    const uid = await collector!.waitFor(
      (r): r is Extract<PrivilegeSensorRecord, { kind: 'privilege' }> => r.kind === 'privilege' && r.pid === run.pid && r.op.includes('uid'),
    );
    assert.ok(uid.args.includes(65534), `args ${uid.args.join(',')}`);
  });

  test('capset (setpriv --inh-caps=-all) yields the header version and the three sets', async () => {
    sensor!.watch({ capset: true });
    const run = await runIn(undefined, '/usr/bin/setpriv', ['--inh-caps=-all', 'true']);
    assert.equal(run.code, 0);
    const record = await collector!.waitFor(of('capset', run.pid));
    assert.equal(record.result, 0);
    assert.equal(record.dataRead, true);
    assert.equal(record.inheritable, 0n);
    assert.equal(record.version, 0x20080522);
    assert.ok(record.effective !== 0n, 'root keeps effective capabilities');
  });

  test('`unshare -n true` yields a namespace record with CLONE_NEWNET', async () => {
    sensor!.watch({ namespace: true });
    const run = await runIn(undefined, '/usr/bin/unshare', ['-n', 'true']);
    assert.equal(run.code, 0);
    const record = await collector!.waitFor(of('namespace', run.pid));
    assert.equal(record.op, 'unshare');
    assert.deepEqual(record.namespaces, ['net']);
    assert.equal(record.flags & BigInt(CLONE_NEW.net), BigInt(CLONE_NEW.net));
    assert.equal(record.result, 0);
    assert.equal(record.action, 'none');
  });

  test('a plain fork is not a namespace record; `unshare --fork -p` clone is', async () => {
    sensor!.watch({ namespace: true });
    const run = await runIn(undefined, '/bin/sh', ['-c', '/bin/true; /usr/bin/unshare -p --fork /bin/true']);
    assert.equal(run.code, 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    collector!.drain();
    const shRecords = collector!.records.filter((r) => r.pid === run.pid);
    assert.deepEqual(shRecords, [], "the shell's forks are not namespace changes");
    const unshare = collector!.records.find((r) => r.kind === 'namespace' && r.comm === 'unshare' && r.namespaces.includes('pid'));
    assert.ok(unshare, 'unshare(CLONE_NEWPID) is reported');
  });

  test('a namespace KILL rule scoped to the test cgroup kills `unshare -n` there; `true` and processes outside keep working', async () => {
    sensor!.watch({});
    const cgroupId = cgroupIdOf(cgroup!.path);
    sensor!.namespaceRules.set({ cgroupId, namespaces: ['net', 'mnt'], ruleId: 31337, action: 'kill' });
    try {
      const killed = await runIn(cgroup!.path, '/usr/bin/unshare', ['-n', 'true']);
      assert.equal(killed.signal, 'SIGKILL');
      const record = await collector!.waitFor(of('namespace', killed.pid));
      assert.equal(record.action, 'killed');
      assert.equal(record.ruleId, 31337);
      assert.equal(record.cgroupId, cgroupId);
      assert.deepEqual(record.namespaces, ['net']);

      const harmless = await runIn(cgroup!.path, '/bin/true', []);
      assert.equal(harmless.code, 0, '`true` in the same cgroup keeps working');
      const otherNamespace = await runIn(cgroup!.path, '/usr/bin/unshare', ['-u', 'true']);
      assert.equal(otherNamespace.code, 0, 'a UTS namespace is not covered by the rule');
      const outside = await runIn(undefined, '/usr/bin/unshare', ['-n', 'true']);
      assert.equal(outside.code, 0, 'outside the cgroup the rule does not apply');
    } finally {
      assert.equal(sensor!.namespaceRules.remove(cgroupId), true);
    }
    const afterRemoval = await runIn(cgroup!.path, '/usr/bin/unshare', ['-n', 'true']);
    assert.equal(afterRemoval.code, 0);
  });

  test('a host-only namespace KILL rule kills `unshare -n` of host processes and passes over a pod under it', async () => {
    sensor!.watch({});
    const cgroupId = cgroupIdOf(cgroup!.path);
    // A pod cgroup root inside the test cgroup (level 2): the rule covers the test cgroup's subtree, pods excepted.
    const podRoot = join(cgroup!.path, 'kubepods.slice');
    mkdirSync(podRoot);
    const podRoots = createPodCgroupRoots(sensor!);
    podRoots.set([cgroupIdOf(podRoot)]);
    sensor!.namespaceRules.set({ cgroupId, namespaces: ['net'], ruleId: 31338, action: 'kill', scope: 'host' });
    try {
      const host = await runIn(cgroup!.path, '/usr/bin/unshare', ['-n', 'true']);
      assert.equal(host.signal, 'SIGKILL', 'a host process in the rule\'s subtree is killed');
      const pod = await runIn(podRoot, '/usr/bin/unshare', ['-n', 'true']);
      assert.deepEqual([pod.code, pod.signal], [0, null], 'a pod process is not selected by a host-only rule');
      const record = await collector!.waitFor(of('namespace', host.pid));
      assert.deepEqual([record.action, record.ruleId], ['killed', 31338]);
      assert.throws(() => sensor!.namespaceRules.set({ cgroupId, namespaces: ['net'], ruleId: 1, action: 'kill', scope: 'yes' as 'host' }), /scope/);
    } finally {
      sensor!.namespaceRules.remove(cgroupId);
      podRoots.set([]);
      rmdirSync(podRoot);
    }
  });

  test('a module-load KILL rule kills finit_module callers in the test cgroup', async (t) => {
    if (sensor!.unavailable.includes('sys_enter_finit_module')) {
      t.skip('this kernel has no module support (no finit_module tracepoint)');
      return;
    }
    const cgroupId = cgroupIdOf(cgroup!.path);
    sensor!.moduleRules.set({ cgroupId, ruleId: 99, action: 'kill' });
    try {
      // python3 is the simplest way to issue finit_module(-1, "", 0) without a module file.
      const killed = await runIn(cgroup!.path, '/usr/bin/python3', ['-c', 'import ctypes; ctypes.CDLL(None).syscall(313, -1, b"", 0)']);
      assert.equal(killed.signal, 'SIGKILL');
      const record = await collector!.waitFor(of('module', killed.pid));
      assert.equal(record.op, 'finit');
      assert.equal(record.fd, -1);
      assert.equal(record.action, 'killed');
      assert.equal(record.ruleId, 99);
    } finally {
      sensor!.moduleRules.clear();
    }
  });

  test('mount, ptrace and bpf are reported when watched', async () => {
    sensor!.watch({ mount: true, bpfCommands: [0] });
    const mount = await runIn(undefined, '/usr/bin/unshare', ['-m', '/bin/mount', '-t', 'tmpfs', 'stinger-test', '/mnt']);
    assert.equal(mount.code, 0);
    const record = await collector!.waitFor(
      (r): r is Extract<PrivilegeSensorRecord, { kind: 'mount' }> => r.kind === 'mount' && r.source === 'stinger-test',
    );
    assert.equal(record.fstype, 'tmpfs');
    assert.equal(record.target, '/mnt');
    assert.equal(record.result, 0);

    sensor!.watch({ ptrace: true, bpfCommands: [1] }); // 1 = BPF_MAP_LOOKUP_ELEM
    const ptrace = await runIn(undefined, '/usr/bin/python3', ['-c', 'import ctypes; ctypes.CDLL(None).ptrace(0, 0, 0, 0)']);
    assert.equal(ptrace.code, 0);
    const traceme = await collector!.waitFor(of('ptrace', ptrace.pid));
    assert.equal(traceme.request, 0n, 'PTRACE_TRACEME');
    assert.equal(traceme.result, 0);
    sensor!.lostRecords(); // a map lookup through bpf(2) from this very process
    const lookup = await collector!.waitFor(of('bpf', process.pid));
    assert.equal(lookup.cmd, 1);
    assert.equal(lookup.result, 0);
    sensor!.watch({});
  });

  test('invalid rules are refused with an error naming the field', () => {
    assert.equal(ruleErrorField(() => sensor!.namespaceRules.set({ cgroupId: 0n, namespaces: ['net'], ruleId: 1, action: 'kill' })), 'cgroupId');
    assert.equal(ruleErrorField(() => sensor!.namespaceRules.set({ cgroupId: 5n, namespaces: [], ruleId: 1, action: 'kill' })), 'namespaces');
    assert.equal(
      ruleErrorField(() => sensor!.namespaceRules.set({ cgroupId: 5n, namespaces: ['nett' as 'net'], ruleId: 1, action: 'kill' })),
      'namespaces',
    );
    assert.equal(ruleErrorField(() => sensor!.moduleRules.set({ cgroupId: 5n, ruleId: 1, action: 'deny' as 'kill' })), 'action');
    assert.equal(ruleErrorField(() => sensor!.watch({ bpfCommands: [64] })), 'bpfCommands');
    assert.equal(sensor!.namespaceRules.size, 0);
  });
});
