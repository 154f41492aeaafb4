// Kernel test (root): the connect policy refuses connects to a denied destination from the test's own cgroup
// with EPERM and reports them; other destinations, and processes outside the cgroup, keep working.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { attachConnectPolicy, loadNetworkSensor, type ConnectPolicy, type NetworkSensor } from './sensor.ts';
import { createPodCgroupRoots } from '../core/pod-cgroup-roots.ts';
import { decodeNetworkRecord, type NetworkRecord } from './records.ts';
import { buildBpf, collect, runCleanup, type Collector } from '../core/test-support.ts';
import { buildTestHelper, createTestCgroup, ruleErrorField, runIn, type TestCgroup, type TestHelper } from './test-support.ts';
import { cgroupIdOf } from '../core/kernel-environment.ts';

async function listen(): Promise<Server> {
  const server = createServer((socket) => socket.resume().on('error', () => undefined));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

const portOf = (server: Server | undefined): number => (server!.address() as AddressInfo).port;

describe('connect policy (kernel)', () => {
  let sensor: NetworkSensor | undefined;
  let collector: Collector<NetworkRecord> | undefined;
  let policy: ConnectPolicy | undefined;
  let cgroup: TestCgroup | undefined;
  let helper: TestHelper | undefined;
  let denied: Server | undefined;
  let allowed: Server | undefined;

  before(async () => {
    buildBpf();
    helper = buildTestHelper();
    denied = await listen();
    allowed = await listen();
    cgroup = createTestCgroup();
    sensor = loadNetworkSensor();
    collector = collect(sensor, decodeNetworkRecord);
    policy = attachConnectPolicy({ sensor, cgroupPath: cgroup.path });
  });

  after(async () => {
    await runCleanup([
      () => policy?.close(),
      () => collector?.stop(),
      () => sensor?.close(),
      () => cgroup?.remove(),
      () => denied?.close(),
      () => allowed?.close(),
      () => helper?.remove(),
    ]);
  });

  test('a connect to the denied 127.0.0.1:<port> fails with EPERM and is reported; another port still connects', async () => {
    const entry = policy!.rules.addDeny({ cidr: '127.0.0.1/32', port: portOf(denied), ruleId: 777 });
    assert.deepEqual(entry, { cidr: '127.0.0.1/32', port: portOf(denied), ruleId: 777 });
    const refused = await runIn(cgroup!.path, helper!.path, ['tcp-connect', '127.0.0.1', String(portOf(denied))]);
    assert.equal(refused.stdout.trim(), 'errno 1', 'EPERM');
    const ok = await runIn(cgroup!.path, helper!.path, ['tcp-connect', '127.0.0.1', String(portOf(allowed))]);
    assert.match(ok.stdout, /^ok /, 'the allowed twin keeps working');
    const record = await collector!.waitFor((r): r is NetworkRecord => r.pid === refused.pid && r.kind === 'connect');
    assert.equal(record.action, 'denied');
    assert.equal(record.ruleId, 777);
    assert.equal(record.fromCgroup, true);
    assert.equal(record.address, '127.0.0.1');
    assert.equal(record.port, portOf(denied));
    assert.equal(record.family, 'inet');
    assert.equal(record.protocol, 6, 'IPPROTO_TCP');
    assert.equal(record.result, -1);
    assert.equal(record.cgroupId, cgroupIdOf(cgroup!.path));
    // The allowed connect ran to its exit before the refused record was found: drain the ring, then look.
    assert.deepEqual(
      collector!.settle().filter((r) => r.pid === ok.pid),
      [],
      'the allowed connect is not reported by the policy (nothing watched)',
    );
  });

  test('processes outside the attached cgroup are not affected by the rule', async () => {
    policy!.rules.addDeny({ cidr: '127.0.0.1/32', port: portOf(denied), ruleId: 777 });
    const outside = await runIn(undefined, helper!.path, ['tcp-connect', '127.0.0.1', String(portOf(denied))]);
    assert.match(outside.stdout, /^ok /);
  });

  test('an any-port rule for a network denies every port; removing it restores connects', async () => {
    policy!.rules.clear();
    policy!.rules.addDeny({ cidr: '127.0.0.0/8', ruleId: 9 });
    const refused = await runIn(cgroup!.path, helper!.path, ['tcp-connect', '127.0.0.1', String(portOf(allowed))]);
    assert.equal(refused.stdout.trim(), 'errno 1');
    const record = await collector!.waitFor((r): r is NetworkRecord => r.pid === refused.pid);
    assert.equal(record.ruleId, 9);
    assert.equal(policy!.rules.remove({ cidr: '127.0.0.0/8' }), true);
    const ok = await runIn(cgroup!.path, helper!.path, ['tcp-connect', '127.0.0.1', String(portOf(allowed))]);
    assert.match(ok.stdout, /^ok /);
  });

  test('a port-specific rule wins over an any-port rule of a longer prefix', async () => {
    policy!.rules.clear();
    // Both rules deny this connect; the kernel looks the real port up first, so the port rule's id is reported.
    policy!.rules.addDeny({ cidr: '127.0.0.1/32', ruleId: 1 });
    policy!.rules.addDeny({ cidr: '127.0.0.0/8', port: portOf(allowed), ruleId: 2 });
    const refused = await runIn(cgroup!.path, helper!.path, ['tcp-connect', '127.0.0.1', String(portOf(allowed))]);
    assert.equal(refused.stdout.trim(), 'errno 1');
    const record = await collector!.waitFor((r): r is NetworkRecord => r.pid === refused.pid);
    assert.equal(record.ruleId, 2);
    policy!.rules.clear();
  });

  test('a host-only deny refuses host processes; a pod falls back to the rules for all processes', async () => {
    policy!.rules.clear();
    const podRoot = join(cgroup!.path, 'kubepods.slice'); // a pod cgroup root inside the attached cgroup
    mkdirSync(podRoot);
    const podRoots = createPodCgroupRoots(sensor!);
    podRoots.set([cgroupIdOf(podRoot)]);
    try {
      policy!.rules.addDeny({ cidr: '127.0.0.1/32', port: portOf(denied), ruleId: 41, scope: 'host' });
      const host = await runIn(cgroup!.path, helper!.path, ['tcp-connect', '127.0.0.1', String(portOf(denied))]);
      assert.equal(host.stdout.trim(), 'errno 1', 'a host process is refused');
      const pod = await runIn(podRoot, helper!.path, ['tcp-connect', '127.0.0.1', String(portOf(denied))]);
      assert.match(pod.stdout, /^ok /, 'a pod process connects');
      // A shorter rule for all processes: the pod's connect falls back to it past the longer host-only one.
      policy!.rules.addDeny({ cidr: '127.0.0.0/8', port: portOf(denied), ruleId: 42 });
      const podRefused = await runIn(podRoot, helper!.path, ['tcp-connect', '127.0.0.1', String(portOf(denied))]);
      assert.equal(podRefused.stdout.trim(), 'errno 1');
      const record = await collector!.waitFor((r): r is NetworkRecord => r.pid === podRefused.pid);
      assert.equal(record.ruleId, 42);
    } finally {
      policy!.rules.clear();
      podRoots.set([]);
      rmdirSync(podRoot);
    }
  });

  test('invalid rules are refused with an error naming the field', () => {
    assert.equal(ruleErrorField(() => policy!.rules.addDeny({ cidr: '300.1.1.1/32', ruleId: 1 })), 'cidr');
    assert.equal(ruleErrorField(() => policy!.rules.addDeny({ cidr: '10.0.0.0/33', ruleId: 1 })), 'cidr');
    assert.equal(ruleErrorField(() => policy!.rules.addDeny({ cidr: '10.0.0.0/8', port: 65536, ruleId: 1 })), 'port');
    assert.equal(ruleErrorField(() => policy!.rules.addDeny({ cidr: '10.0.0.0/8', port: 80, ruleId: 0 })), 'ruleId');
    assert.deepEqual(policy!.rules.list(), []);
  });
});
