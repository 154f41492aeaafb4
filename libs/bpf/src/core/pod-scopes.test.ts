// Pod scopes on the real kernel (root): an exec rule and a deny-connect rule with a pod scope slot act only on the
// tasks below a cgroup the pod scope map lists with that slot's bit. Two "pods" are made as cgroups, each with a
// "container" cgroup inside (the kernel finds the pod by the task's cgroup ancestors): the marker exec'd in the listed
// pod's container dies at execve (SIGKILL in the kernel, the exec_rule record says killed), the same exec in the other
// pod runs; clearing the pod's bits lets it run too. The connect policy refuses the listed pod's connect (EPERM) and
// lets the other's through. podScopeFlags is checked beside it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, rmdirSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupIdOf } from './kernel-environment.ts';
import { createPodScopeMap, type PodScopeMap } from './pod-scopes.ts';
import { podScopeFlags, POD_SCOPE_RULE } from './rule-scope.ts';
import { loadProcessSensor, type Sensor } from './sensor.ts';
import { buildBpf, collect, runCleanup, type Collector } from './test-support.ts';
import { loadFileSensor, type FileSensor } from '../file/sensor.ts';
import { kernelFileSensorMode } from '../file/test-support.ts';
import { decodeFileRecord, type ExecRuleRecord, type FileSensorRecord } from '../file/records.ts';
import { attachConnectPolicy, type ConnectPolicy } from '../network/sensor.ts';
import { decodeNetworkRecord, type NetworkRecord } from '../network/records.ts';
import { buildTestHelper, createTestCgroup, type TestCgroup, type TestHelper } from '../network/test-support.ts';

test('podScopeFlags: the flag and the slot above the pid scope bits; a slot out of range is refused by name', () => {
  assert.equal(podScopeFlags(undefined, (m) => new Error(m)), 0);
  assert.equal(podScopeFlags(0, (m) => new Error(m)), POD_SCOPE_RULE.flag);
  assert.equal(podScopeFlags(63, (m) => new Error(m)), (POD_SCOPE_RULE.flag | (63 << 23)) >>> 0);
  assert.throws(() => podScopeFlags(64, (m) => new Error(`podScope: ${m}`)), /podScope: must be an integer in 0\.\.63, got 64/);
});

describe('pod scopes (kernel)', () => {
  let processSensor: Sensor | undefined;
  let fileSensor: FileSensor | undefined;
  let podScopes: PodScopeMap | undefined;
  let collector: Collector<FileSensorRecord | NetworkRecord> | undefined;
  let cgroup: TestCgroup | undefined;
  let helper: TestHelper | undefined;
  let server: Server | undefined;
  let connectPolicy: ConnectPolicy | undefined;
  const tag = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'stinger-pod-scope-'));
  /** A copy of sleep under a name only this test uses: the exec rule names it. */
  const marker = join(dir, `marker-${tag}`);
  /** pod name → its cgroup and its container's, below the test cgroup. */
  const pods = new Map<string, { readonly pod: string; readonly container: string }>();

  before(async () => {
    buildBpf();
    copyFileSync('/bin/sleep', marker);
    processSensor = loadProcessSensor();
    fileSensor = loadFileSensor({ join: processSensor, mode: kernelFileSensorMode() }); // as the agent would on this kernel
    podScopes = createPodScopeMap(processSensor);
    collector = collect(processSensor, (slice) => decodeFileRecord(slice) ?? decodeNetworkRecord(slice));
    helper = buildTestHelper();
    cgroup = createTestCgroup();
    for (const name of ['listed', 'other']) {
      const pod = join(cgroup.path, `pod-${name}`);
      mkdirSync(join(pod, 'container'), { recursive: true });
      pods.set(name, { pod, container: join(pod, 'container') });
    }
    connectPolicy = attachConnectPolicy({ sensor: processSensor, cgroupPath: cgroup.path });
    server = createServer((socket) => socket.resume().on('error', () => undefined)).listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  after(async () => {
    await runCleanup([
      () => fileSensor?.execPolicy.clear(),
      () => connectPolicy?.close(),
      () => {
        for (const { pod } of pods.values()) if (podScopes) podScopes.set(cgroupIdOf(pod), 0n);
      },
      () => {
        for (const { pod, container } of pods.values()) {
          rmdirSync(container);
          rmdirSync(pod);
        }
      },
      () => cgroup?.remove(),
      () => helper?.remove(),
      () => server?.close(),
      () => collector?.reader.stop(),
      () => fileSensor?.close(),
      () => processSensor?.close(),
      () => rmSync(dir, { recursive: true, force: true }),
    ]);
  });

  /** Runs `command` in the container cgroup of `pod` (the shell moves itself there, then execs); its exit and stdout. */
  const inPod = async (pod: string, command: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> => {
    const child = spawn('/bin/sh', ['-c', `echo $$ > "${pods.get(pod)!.container}/cgroup.procs" && exec ${command}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    return { code, signal, stdout: stdout.trim() };
  };

  const killedExec = (r: FileSensorRecord | NetworkRecord): r is ExecRuleRecord => r.kind === 'exec-rule' && r.path === marker;

  test('an exec rule with a pod scope kills at execve in the listed pod\'s container only; clearing the pod lets it run', { timeout: 30_000 }, async () => {
    const listed = cgroupIdOf(pods.get('listed')!.pod);
    podScopes!.set(listed, 1n << 5n);
    assert.equal(podScopes!.get(listed), 1n << 5n);
    fileSensor!.execPolicy.addExact(marker, { ruleId: 1701, action: 'kill', podScope: 5 });

    const killed = await inPod('listed', `${marker} 0`);
    assert.equal(killed.signal, 'SIGKILL', 'the marker in the listed pod dies at its exec');
    const ran = await inPod('other', `${marker} 0`);
    assert.deepEqual([ran.code, ran.signal], [0, null], 'the marker in the other pod runs');
    // The other pod's exec is passed over by the exact entry; the name map still reports it (audit) for user space.
    const records = collector!.settle().filter(killedExec).filter((r) => r.action === 'killed');
    assert.equal(records.length, 1, 'one kill: the listed pod\'s');
    assert.equal(records[0]!.ruleId, 1701);

    podScopes!.set(listed, 1n << 4n); // another slot's bit only
    assert.deepEqual((await inPod('listed', `${marker} 0`)).code, 0, 'a pod without the rule\'s slot is passed over');
    podScopes!.set(listed, 0n);
    assert.equal(podScopes!.get(listed), 0n);
    assert.equal(podScopes!.entries().has(listed), false, 'a pod in no scope has no entry');
    assert.deepEqual((await inPod('listed', `${marker} 0`)).code, 0, 'a pod removed from the map runs the marker');
    fileSensor!.execPolicy.removeExact(marker);
  });

  test('the connect policy consults the pod scopes: the listed pod\'s connect is refused, the other pod\'s connects', { timeout: 30_000 }, async () => {
    const port = (server!.address() as AddressInfo).port;
    podScopes!.set(cgroupIdOf(pods.get('listed')!.pod), 1n << 6n);
    connectPolicy!.rules.addDeny({ cidr: '127.0.0.1/32', port, ruleId: 1702, podScope: 6 });
    const refused = await inPod('listed', `${helper!.path} tcp-connect 127.0.0.1 ${port}`);
    const connected = await inPod('other', `${helper!.path} tcp-connect 127.0.0.1 ${port}`);
    assert.equal(refused.stdout, 'errno 1', 'EPERM in the listed pod');
    assert.match(connected.stdout, /^ok /, 'the other pod connects');
    const denied = collector!.settle().filter((r): r is NetworkRecord => r.kind === 'connect' && r.ruleId === 1702);
    assert.equal(denied.length, 1, 'one denied connect');
    assert.equal(denied[0]!.action, 'denied');
    connectPolicy!.rules.remove({ cidr: '127.0.0.1/32', port });
    podScopes!.set(cgroupIdOf(pods.get('listed')!.pod), 0n);
  });
});
