// Kernel test (root): the network sensor reports connect, bind, listen and accept of real processes, filters in
// the kernel, and counts flows per cgroup.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { attachFlowCounters, loadNetworkSensor, type FlowCounters, type NetworkSensor } from './sensor.ts';
import { decodeNetworkRecord, type NetworkRecord } from './records.ts';
import { buildBpf, collect, type Collector } from '../core/test-support.ts';
import { buildTestHelper, createTestCgroup, runIn, type TestCgroup, type TestHelper } from './test-support.ts';
import { cgroupIdOf } from '../core/kernel-environment.ts';
import { freePort } from '@stinger/processes';

const of =
  (kind: NetworkRecord['kind'], pid: number) =>
  (r: NetworkRecord): r is NetworkRecord =>
    r.kind === kind && r.pid === pid;

describe('network sensor (kernel)', () => {
  let sensor: NetworkSensor | undefined;
  let collector: Collector<NetworkRecord> | undefined;
  let helper: TestHelper | undefined;
  let server: Server | undefined;
  let port = 0;

  before(async () => {
    buildBpf();
    helper = buildTestHelper();
    sensor = loadNetworkSensor();
    collector = collect(sensor, decodeNetworkRecord);
    server = createServer((socket) => socket.resume().on('error', () => undefined));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    server?.close();
    await collector?.stop();
    sensor?.close();
    helper?.remove();
  });

  test('nothing is reported while nothing is watched', async () => {
    sensor!.watch({});
    const { pid, stdout } = await runIn(undefined, helper!.path, ['tcp-connect', '127.0.0.1', String(port)]);
    assert.match(stdout, /^ok /);
    assert.deepEqual(collector!.settle().filter((r) => r.pid === pid), []);
  });

  test('a connect to a local TCP listener yields family, daddr, dport and result 0', async () => {
    sensor!.watch({ connect: true });
    const { pid, stdout } = await runIn(undefined, helper!.path, ['tcp-connect', '127.0.0.1', String(port)]);
    assert.match(stdout, /^ok (\d+)/);
    const record = await collector!.waitFor(of('connect', pid));
    assert.equal(record.family, 'inet');
    assert.equal(record.address, '127.0.0.1');
    assert.equal(record.port, port);
    assert.equal(record.result, 0);
    assert.equal(record.fd, Number(/^ok (\d+)/.exec(stdout)![1]));
    assert.equal(record.action, 'none');
    assert.equal(record.ruleId, 0);
    assert.equal(record.comm, 'stinger-helper');
  });

  test('a non-blocking connect (Node.js) reports -EINPROGRESS; a refused one -ECONNREFUSED', async () => {
    sensor!.watch({ connect: true });
    const child = spawn(process.execPath, [
      '-e',
      `const s=require('net').connect(${port},'127.0.0.1',()=>s.end());` +
        `const t=require('net').connect(1,'127.0.0.1');t.on('error',()=>{});`,
    ]);
    await once(child, 'exit'); // spawn() returns before the child can exit: no event is missed
    const records = () => collector!.records.filter((r) => r.pid === child.pid && r.kind === 'connect');
    await collector!.waitFor((r): r is NetworkRecord => r.pid === child.pid && r.port === 1);
    const toListener = records().find((r) => r.port === port);
    const toClosed = records().find((r) => r.port === 1);
    assert.equal(toListener?.result, -115);
    // Linux reports a loopback refusal synchronously for non-blocking sockets too, or EINPROGRESS then an error.
    assert.ok(toClosed?.result === -111 || toClosed?.result === -115, `result ${toClosed?.result}`);
  });

  test('bind and listen records carry the port; accept yields the peer', async () => {
    sensor!.watch({ bind: true, listen: true, accept: true });
    const listenPort = await freePort('127.0.0.1');
    const child = spawn(helper!.path, ['accept-once', '127.0.0.1', String(listenPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = once(child, 'close'); // after stdout ends, so the "accepted" line has been read
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    while (!out.includes('listening')) {
      if (child.exitCode !== null) assert.fail(`helper exited: ${out}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const client = await runIn(undefined, helper!.path, ['tcp-connect', '127.0.0.1', String(listenPort)]);
    assert.match(client.stdout, /^ok /);
    await exited;
    const pid = child.pid!;
    const peerPort = Number(/accepted \d+ (\d+)/.exec(out)?.[1]);
    const bind = await collector!.waitFor(of('bind', pid));
    const listen = await collector!.waitFor(of('listen', pid));
    const accept = await collector!.waitFor(of('accept', pid));
    assert.equal(bind.address, '127.0.0.1');
    assert.equal(bind.port, listenPort);
    assert.equal(bind.result, 0);
    assert.equal(listen.port, listenPort);
    assert.equal(listen.address, '127.0.0.1');
    assert.equal(listen.backlog, 7);
    assert.equal(listen.fd, bind.fd);
    assert.equal(listen.result, 0);
    assert.equal(accept.fd, bind.fd);
    assert.ok(accept.result > 2, 'accept returns the new fd');
    assert.equal(accept.address, '127.0.0.1');
    assert.equal(accept.port, peerPort);
    sensor!.watch({});
  });

  test('an audit destination reports only connects to it, with the rule id', async () => {
    sensor!.watch({});
    sensor!.auditDestinations.add({ cidr: '127.0.0.0/8', port, ruleId: 4242 });
    try {
      const hit = await runIn(undefined, helper!.path, ['tcp-connect', '127.0.0.1', String(port)]);
      const miss = await runIn(undefined, helper!.path, ['tcp-connect', '127.0.0.1', '1']);
      assert.match(miss.stdout, /^errno 111/);
      const record = await collector!.waitFor(of('connect', hit.pid));
      assert.equal(record.ruleId, 4242);
      assert.equal(record.action, 'audit');
      // The miss ran to its exit: had the kernel written a record for it, it is in the ring now. Drain, then look.
      assert.deepEqual(collector!.settle().filter((r) => r.pid === miss.pid), [], 'another port is not reported');
    } finally {
      sensor!.auditDestinations.clear();
    }
  });

  test('1,000,000 unwatched connects reach no ring-buffer record', async () => {
    sensor!.watch({ bind: true }); // something else watched: the connect path must still filter
    collector!.drain();
    const before = collector!.reader.stats().records;
    const run = await runIn(undefined, helper!.path, ['udp-connect-loop', '1000000', '127.0.0.1', '9']);
    assert.match(run.stdout.trim(), /^\d+$/);
    const fromHelper = collector!.settle().filter((r) => r.pid === run.pid);
    assert.deepEqual(fromHelper, []);
    assert.ok(collector!.reader.stats().records - before < 100, 'the ring stayed quiet');
    assert.equal(sensor!.lostRecords(), 0n);
    sensor!.watch({});
  });
});

describe('flow counters (kernel)', () => {
  let cgroup: TestCgroup | undefined;
  let flows: FlowCounters | undefined;
  let helper: TestHelper | undefined;
  let server: Server | undefined;

  before(async () => {
    buildBpf();
    helper = buildTestHelper();
    cgroup = createTestCgroup();
    flows = attachFlowCounters({ cgroupPath: cgroup.path });
    server = createServer((socket) => socket.resume().on('error', () => undefined));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  after(() => {
    server?.close();
    flows?.close();
    cgroup?.remove();
    helper?.remove();
  });

  test('bytes and packets of the test cgroup grow after traffic from it', async () => {
    const id = cgroupIdOf(cgroup!.path);
    const before = flows!.readCgroup(id);
    const port = (server!.address() as AddressInfo).port;
    for (let i = 0; i < 3; i++) {
      const run = await runIn(cgroup!.path, helper!.path, ['tcp-connect', '127.0.0.1', String(port)]);
      assert.match(run.stdout, /^ok /);
    }
    const after = flows!.readCgroup(id);
    assert.ok(after.egress.packets >= before.egress.packets + 3n * 3n, `egress packets ${before.egress.packets} -> ${after.egress.packets}`);
    assert.ok(after.egress.bytes >= before.egress.bytes + 3n * (3n * 40n + 5n), `egress bytes ${after.egress.bytes}`);
    assert.ok(after.ingress.packets > before.ingress.packets, 'the SYN-ACKs and ACKs came back in');
    const listed = flows!.read().filter((f) => f.cgroupId === id);
    assert.deepEqual(new Set(listed.map((f) => f.direction)), new Set(['ingress', 'egress']));
    assert.equal(flows!.read().filter((f) => f.cgroupId !== id && f.cgroupId !== 0n).length, 0, 'only the attached subtree is counted');
  });
});
