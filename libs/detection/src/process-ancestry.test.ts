import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeAlert, encodeEvent, type Event } from '@stinger/events';
import type { ConsumedRecord } from '@stinger/kafka';
import { createLogger } from '@stinger/log';
import { compilePolicy, parsePolicies } from '@stinger/policy';
import { sampleEvent } from '@stinger/testing';
import { AncestryIndex, createDetector, DETECTOR_DECIDED_LINEAGE, DetectionRules } from './index.ts';

const logger = createLogger({ name: 'test', level: 'silent' });
const record = (event: Event, offset: number): ConsumedRecord => ({ topic: 'stinger.events', partition: 0, offset: BigInt(offset), key: Buffer.from(event.node), value: encodeEvent(event), headers: {}, timestampMs: 0 });

/** An exec of `pid` (started at `pid` ns) whose parent is `parentPid`; cgroup given, so host or container is known. */
const exec = (pid: number, parentPid: number, options: { container?: string; parentContainer?: string; binary?: string } = {}) => {
  const where = (container: string | undefined) => (container === undefined ? { cgroup_path: '/system.slice/x.service', container_id: null } : { cgroup_path: `/kubepods.slice/cri-containerd-${container}.scope`, container_id: container });
  return sampleEvent({
    kind: 'exec',
    process: { pid, binary: options.binary ?? `/usr/bin/p${pid}`, start_time: BigInt(pid), ...where(options.container) },
    parent: { pid: parentPid, binary: `/usr/bin/p${parentPid}`, start_time: BigInt(parentPid), ...where(options.parentContainer) },
  });
};

const pidPolicy = (followChildren: boolean) => `
apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: tree }
spec:
  selector: { pids: { values: [20], followChildren: ${followChildren} } }
  rules:
    - { name: any-exec, event: exec, match: { binary: { prefix: [/usr/bin/] } }, action: kill }
`;

async function alertedPids(followChildren: boolean): Promise<number[]> {
  const [policy] = parsePolicies(pidPolicy(followChildren)).policies;
  assert.ok(policy);
  const rules = new DetectionRules();
  rules.set('tree', compilePolicy(policy).compiled);
  const detector = createDetector({ rules, alertsTopic: 'stinger.alerts', logger, readRange: async () => [], groupWindowMs: 0 });
  // 10 runs 20 (the named pid) and 50 (its sibling); 20 runs 30, which runs 40 (20's grandchild); 50 runs 60.
  const events = [exec(20, 10), exec(50, 10), exec(30, 20), exec(40, 30), exec(60, 50)];
  const records = events.map(record);
  await detector.prepareBatch(records);
  return records.flatMap((r) => detector.transform(r)).map((out) => decodeAlert(out.value as Buffer).event.process.pid);
}

test('a pid selector with followChildren matches the named pid, its child and grandchild, and spares its sibling and the sibling\'s child', async () => {
  assert.deepEqual(await alertedPids(true), [20, 30, 40]);
});

test('a pid selector without followChildren matches the named pid only', async () => {
  assert.deepEqual(await alertedPids(false), [20]);
});

const containerPidPolicy = (followChildren: boolean) => `
apiVersion: stinger.io/v1alpha1
kind: TracingPolicy
metadata: { name: entry }
spec:
  selector: { pids: { values: [1, 7], namespace: container, followChildren: ${followChildren} } }
  rules:
    - { name: any-exec, event: exec, match: { binary: { prefix: [/usr/bin/] } }, action: kill }
`;

async function alertedContainerPids(followChildren: boolean): Promise<number[]> {
  const [policy] = parsePolicies(containerPidPolicy(followChildren)).policies;
  assert.ok(policy);
  const rules = new DetectionRules();
  rules.set('entry', compilePolicy(policy).compiled);
  const detector = createDetector({ rules, alertsTopic: 'stinger.alerts', logger, readRange: async () => [], groupWindowMs: 0 });
  const c1 = 'a'.repeat(64);
  const c2 = 'b'.repeat(64);
  // The shim (90, host) starts c1's entry 100, which runs 110, which runs 120; 95 on the host enters c1 as 200 (an
  // exec); the host's 10 runs 300; the shim 91 starts c2's entry 400. Pid 7 as a container sees it cannot be told.
  const events = [
    exec(100, 90, { container: c1 }),
    exec(110, 100, { container: c1, parentContainer: c1 }),
    exec(120, 110, { container: c1, parentContainer: c1 }),
    exec(200, 95, { container: c1 }),
    exec(300, 10),
    exec(400, 91, { container: c2 }),
  ];
  const records = events.map(record);
  await detector.prepareBatch(records);
  return records.flatMap((r) => detector.transform(r)).map((out) => decodeAlert(out.value as Buffer).event.process.pid);
}

test('container pid 1 is each container\'s entry process; with followChildren its descendants, never a process that entered from outside or a host process', async () => {
  assert.deepEqual(await alertedContainerPids(true), [100, 110, 120, 400]);
  assert.deepEqual(await alertedContainerPids(false), [100, 400]);
});

test('the enforcer takes the detector\'s word for container pids, for processes in a container only', () => {
  const pids = new Set([1]);
  assert.equal(DETECTOR_DECIDED_LINEAGE.includesInContainer(exec(40, 30, { container: 'c'.repeat(64) }), pids, false), true);
  assert.equal(DETECTOR_DECIDED_LINEAGE.includesInContainer(exec(40, 30), pids, true), false);
});

test('the enforcer, which sees no events, takes the detector\'s word for descendants but checks a named pid itself', () => {
  const pids = new Set([20]);
  assert.equal(DETECTOR_DECIDED_LINEAGE.includes(exec(40, 30), pids, true), true);
  assert.equal(DETECTOR_DECIDED_LINEAGE.includes(exec(40, 30), pids, false), false);
  assert.equal(DETECTOR_DECIDED_LINEAGE.includes(exec(20, 10), pids, false), true);
});

test('in a container, a process whose ancestry leads to the oldest process seen there comes from the entry; one that joined from outside does not', () => {
  const index = new AncestryIndex();
  const container = 'c'.repeat(64);
  const entry = exec(100, 90, { container }); // started by the runtime's shim (90, on the host)
  const child = exec(110, 100, { container, parentContainer: container });
  const grandchild = exec(120, 110, { container, parentContainer: container });
  const joined = exec(200, 190, { container }); // nsenter / runc exec: its parent (190) is on the host
  const joinedChild = exec(210, 200, { container, parentContainer: container });
  const unknownParent = sampleEvent({ kind: 'exec', process: { pid: 300, start_time: 300n, cgroup_path: '/kubepods.slice/x', container_id: container }, parent: { pid: 290, start_time: 290n } });
  for (const event of [entry, child, grandchild, joined, joinedChild, unknownParent]) index.learn(event);
  const origin = (event: Event) => index.containerOrigin(event);
  assert.deepEqual(origin(entry)?.entry, { pid: 100, binary: '/usr/bin/p100', start_time: 100n });
  assert.deepEqual([entry, child, grandchild, joined, joinedChild].map((e) => origin(e)?.fromEntry), [true, true, true, false, false]);
  assert.equal(origin(unknownParent)?.fromEntry, null, 'a parent whose cgroup the events never told: cannot tell');
  assert.equal(origin(exec(400, 1)), null, 'a host process has no container entry');
});

test('the entry is the oldest process seen: one that shows up later but started earlier becomes the entry', () => {
  const index = new AncestryIndex();
  const container = 'd'.repeat(64);
  const late = exec(150, 140, { container, parentContainer: container });
  index.learn(late);
  assert.equal(index.containerOrigin(late)?.entry.pid, 150);
  index.learn(exec(140, 130, { container }));
  assert.deepEqual([index.containerOrigin(late)?.entry.pid, index.containerOrigin(late)?.fromEntry], [140, true]);
});

/** `count` short processes of a steady stream (each forked by 1, exec'd, exited 40 ms later), one every 40 ms. */
function shortProcesses(count: number, startPid = 1000): Event[] {
  const events: Event[] = [];
  for (let i = 0; i < count; i++) {
    const pid = startPid + i;
    const at = BigInt(i) * 40_000_000n;
    const process = { pid, binary: '/bin/cat', start_time: BigInt(pid), cgroup_path: '/system.slice/x.service', container_id: null };
    const parent = { pid: 1, binary: '/sbin/init', start_time: 1n };
    events.push(sampleEvent({ kind: 'exec', time: at, process, parent }));
    events.push(sampleEvent({ kind: 'exit', time: at + 40_000_000n, process, parent, payload: { group: 'exit', code: 0, signal: 0 } }));
  }
  return events;
}

test('a steady stream of short processes keeps rate × retention of them known, not every process (the soak)', () => {
  const second = 1_000_000_000n;
  const index = new AncestryIndex(65_536, 10n * second);
  for (const event of shortProcesses(25 * 600)) index.learn(event); // 25 a second for 10 minutes
  const { processes } = index.stats();
  assert.ok(processes <= 25 * 10 + 2, `${processes} processes known`);
});

test('an exited process stays known while a known descendant names it: followChildren still reaches through it', () => {
  const second = 1_000_000_000n;
  const index = new AncestryIndex(65_536, 10n * second);
  // 20 runs 30 and exits; 30 runs on (a daemon whose parent went), then a minute of other short processes.
  const exit = (pid: number, parentPid: number, at: bigint) => sampleEvent({ kind: 'exit', time: at, process: { pid, start_time: BigInt(pid) }, parent: { pid: parentPid, start_time: BigInt(parentPid) }, payload: { group: 'exit', code: 0, signal: 0 } });
  for (const event of [exec(20, 10), exec(30, 20), exit(20, 10, 0n), ...shortProcesses(1500)]) index.learn(event);
  const later = exec(40, 30);
  index.learn(later);
  assert.equal(index.includes(later, new Set([20]), true), true, "30's parent 20 exited a minute ago and is still its ancestor");
  assert.ok(index.stats().processes < 300, `${index.stats().processes} processes known`);
});
