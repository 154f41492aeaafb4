// Kernel test (root): shedding by tier in the shared ring buffer (bpf/README.md "Loss and shedding"). The process
// sensor and another sensor share one ring whose reader is not started, so nothing drains it. A storm of audited
// calls (setuid(0) under a privilege watch; opens of a file under an audit rule) fills it past
// SHED_AUDIT_ABOVE_BYTES: the sensor stops writing them there and counts them in its shed_records slot, never
// filling the ring. Written at the same time, a kill-in-kernel (a namespace rule; a file rule) still finds room in
// the quarter kept for it: its record and the exec and exit of its victim arrive when the ring is drained. With the
// shedding check removed the storm fills the ring and the kill's record is the one lost: these tests fail (checked,
// see the commits that added them). A watch that keeps its records (keepRecords: the agent's watch of a rule whose
// kill the pipeline carries out) is written above the threshold too, while a plain audit watch's open is shed (in lsm
// mode also an open only the file_open hook matches); so is a connect to an audit destination with keepRecords, while
// one to a plain audit destination is shed. With the keep bit ignored in the kernel those records are shed and the
// last two tests fail (checked, see their commits).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHED_AUDIT_ABOVE_BYTES, EVENTS_RING_BYTES } from './event-kinds.ts';
import { cgroupIdOf } from './kernel-environment.ts';
import { createRecordDispatcher } from './record-dispatch.ts';
import { loadProcessSensor, type Sensor } from './sensor.ts';
import { buildBpf, collect, runCleanup, type Collector, type RunResult } from './test-support.ts';
import { buildTestHelper, createTestCgroup, runIn, type TestCgroup, type TestHelper } from '../network/test-support.ts';
import { loadPrivilegeSensor, type PrivilegeSensor } from '../privilege/sensor.ts';
import { PRIVILEGE_RECORD_DECODERS, SETID_EVENT_LAYOUT, type PrivilegeSensorRecord } from '../privilege/records.ts';
import { PROCESS_RECORD_DECODERS, type ProcessRecord } from '../process/records.ts';
import { loadFileSensor, type FileSensor, type FileSensorMode } from '../file/sensor.ts';
import { FILE_CLOSE_EVENT_LAYOUT, FILE_EVENT_LAYOUT, FILE_RECORD_DECODERS, type FileSensorRecord } from '../file/records.ts';
import { buildOpenLoop, kernelFileSensorMode, runChild } from '../file/test-support.ts';
import { NETWORK_RECORD_DECODERS, type NetworkRecord } from '../network/records.ts';
import { loadNetworkSensor, type NetworkSensor } from '../network/sensor.ts';

/** setuid-storm <count>: setuid(0) count times (root: each succeeds, one audited record each); prints the count. */
const SETUID_STORM_C = `
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc != 2) return 2;
  long count = atol(argv[1]);
  for (long i = 0; i < count; i++) if (setuid(0) != 0) { perror("setuid"); return 1; }
  printf("%ld\\n", count);
  return 0;
}
`;

/** Bytes one setid record takes in the ring: the 8-byte ring header and the record (a multiple of 8: no padding). */
const SETID_RING_BYTES = 8 + SETID_EVENT_LAYOUT.size;
/** Enough audited calls to fill the whole ring twice over had none of them been shed. */
const STORM_CALLS = Math.ceil((2 * EVENTS_RING_BYTES) / SETID_RING_BYTES);
const RULE_ID = 4242;

type AnyRecord = ProcessRecord | PrivilegeSensorRecord;

/**
 * The end both cases share, once the kill has happened: one more audited call (`auditOnce`) is shed, which shows the
 * ring was still above the threshold when the kill's records were written; then the reader starts and drains it.
 */
async function shedOnceThenDrain<T>(sensor: Sensor, auditOnce: () => Promise<RunResult>, collector: Collector<T>): Promise<T[]> {
  const before = sensor.shedRecords();
  const one = await auditOnce();
  assert.equal(one.code, 0);
  assert.ok(sensor.shedRecords() > before, 'an audited call right after the kill is shed too');
  collector.reader.start();
  collector.drain();
  return collector.records;
}

/** The kill victim's process records arrived: process life cycle is never shed. */
function assertLifeCycleOf(records: readonly { readonly kind: string; readonly pid: number }[], pid: number): void {
  assert.ok(records.some((r) => r.kind === 'exec' && r.pid === pid), "the victim's exec record arrives");
  assert.ok(records.some((r) => r.kind === 'exit' && r.pid === pid), "the victim's exit record arrives");
}

/** Asserts that none of `sensors` lost a record to a full ring since `lostBefore` was read (same order). */
function assertRingNeverFull(sensors: readonly Sensor[], lostBefore: readonly bigint[]): void {
  assert.deepEqual(
    sensors.map((sensor, i) => sensor.lostRecords() - lostBefore[i]!),
    sensors.map(() => 0n),
    'the ring never filled: nothing lost to ring_full',
  );
}

describe('shedding audit records while the ring fills (kernel)', () => {
  let processSensor: Sensor | undefined;
  let privilege: PrivilegeSensor | undefined;
  let collector: Collector<AnyRecord> | undefined;
  let cgroup: TestCgroup | undefined;
  let dir = '';
  let storm = '';

  before(() => {
    buildBpf();
    dir = mkdtempSync(join(tmpdir(), 'stinger-shed-'));
    writeFileSync(join(dir, 'setuid-storm.c'), SETUID_STORM_C);
    storm = join(dir, 'setuid-storm');
    execFileSync('cc', ['-O2', '-Wall', '-Werror', '-o', storm, join(dir, 'setuid-storm.c')]);
    cgroup = createTestCgroup();
    processSensor = loadProcessSensor();
    privilege = loadPrivilegeSensor({ join: processSensor });
    const dispatcher = createRecordDispatcher<AnyRecord>([PROCESS_RECORD_DECODERS, PRIVILEGE_RECORD_DECODERS]);
    collector = collect(processSensor, dispatcher.decode, false); // not started: nothing drains the ring until asked
  });

  after(async () => {
    await runCleanup([
      () => privilege?.watch({}),
      () => privilege?.namespaceRules.clear(),
      () => collector?.stop(),
      () => privilege?.close(),
      () => processSensor?.close(),
      () => cgroup?.remove(),
      () => dir && rmSync(dir, { recursive: true, force: true }),
    ]);
  });

  test('an audit storm is shed above the threshold and counted; a kill written meanwhile arrives with its process records', { timeout: 120_000 }, async (t) => {
    const sensors = [processSensor!, privilege!];
    const lostBefore = sensors.map((s) => s.lostRecords());
    const shedBefore = privilege!.shedRecords();
    const processShedBefore = processSensor!.shedRecords();
    const cgroupId = cgroupIdOf(cgroup!.path);
    privilege!.watch({ setid: true });
    privilege!.namespaceRules.set({ cgroupId, namespaces: ['net'], ruleId: RULE_ID, action: 'kill' });

    const stormRun = await runIn(undefined, storm, [String(STORM_CALLS)]);
    assert.equal(stormRun.code, 0, 'the storm ran its course');
    const shedByStorm = privilege!.shedRecords() - shedBefore;
    assert.ok(shedByStorm > 0n, 'the privilege sensor shed audit records');

    // The ring is above the threshold now and still undrained: a kill in the kernel meanwhile.
    const killed = await runIn(cgroup!.path, '/usr/bin/unshare', ['-n', 'true']);
    assert.equal(killed.signal, 'SIGKILL', 'unshare -n in the test cgroup is killed at syscall entry');
    const records = await shedOnceThenDrain(privilege!, () => runIn(undefined, storm, ['1']), collector!);
    const kill = records.find((r) => r.kind === 'namespace' && r.pid === killed.pid);
    assert.ok(kill && kill.kind === 'namespace', "the kill's namespace record arrives");
    assert.equal(kill.action, 'killed');
    assert.equal(kill.ruleId, RULE_ID);
    assertLifeCycleOf(records, killed.pid);

    const stormWritten = records.filter((r) => r.kind === 'privilege' && r.pid === stormRun.pid).length;
    assert.ok(stormWritten > 0, 'the storm wrote records until the threshold');
    assert.ok(
      stormWritten * SETID_RING_BYTES <= SHED_AUDIT_ABOVE_BYTES + SETID_RING_BYTES,
      `the storm's records stop at the threshold: ${stormWritten} x ${SETID_RING_BYTES} bytes, threshold ${SHED_AUDIT_ABOVE_BYTES}`,
    );
    // Other processes' setuid calls are watched too (and may be shed), so the count is at least the storm's rest.
    assert.ok(BigInt(stormWritten) + shedByStorm >= BigInt(STORM_CALLS), `every storm call was written or shed: ${stormWritten} + ${shedByStorm} of ${STORM_CALLS}`);
    assertRingNeverFull(sensors, lostBefore);
    assert.equal(processSensor!.shedRecords(), processShedBefore, 'the process sensor sheds nothing');
    t.diagnostic(`storm: ${STORM_CALLS} setuid calls, ${stormWritten} written (${stormWritten * SETID_RING_BYTES} bytes), ${shedByStorm} shed; ring ${records.length} records`);
  });
});

/** Bytes an open record (one path, no path2) takes in the ring: 8-byte ring header, the record up to path2. */
const OPEN_RING_BYTES = 8 + FILE_EVENT_LAYOUT.offsets.path2;
/** Bytes a close record takes in the ring. */
const CLOSE_RING_BYTES = 8 + FILE_CLOSE_EVENT_LAYOUT.size;
/** Enough watched opens (an open and a close record each) to fill the whole ring twice over had none been shed. */
const STORM_OPENS = Math.ceil((2 * EVENTS_RING_BYTES) / (OPEN_RING_BYTES + CLOSE_RING_BYTES));

type FileTestRecord = ProcessRecord | FileSensorRecord | NetworkRecord;

/**
 * The process and file sensors of a describe, sharing one ring whose reader is not started (its collector decodes network
 * records too, for a network sensor a describe joins), and an open loop.
 */
interface UndrainedFileSensors {
  processSensor: Sensor;
  fileSensor: FileSensor;
  collector: Collector<FileTestRecord>;
  dir: string;
  openLoop: string;
}

/**
 * Loads the sensors before the describe's tests (the file sensor in `mode`, default its own) and cleans up after them:
 * rules, reader, sensors and the temporary directory. The fields are set once `before` has run.
 */
function undrainedFileSensors(dirPrefix: string, mode?: FileSensorMode): UndrainedFileSensors {
  const s = {} as UndrainedFileSensors;
  before(() => {
    buildBpf();
    s.dir = mkdtempSync(join(tmpdir(), dirPrefix));
    s.openLoop = buildOpenLoop(s.dir);
    s.processSensor = loadProcessSensor();
    s.fileSensor = loadFileSensor({ join: s.processSensor, ignoredProcesses: [], ...(mode === undefined ? {} : { mode }) });
    const dispatcher = createRecordDispatcher<FileTestRecord>([PROCESS_RECORD_DECODERS, FILE_RECORD_DECODERS, NETWORK_RECORD_DECODERS]);
    s.collector = collect(s.processSensor, dispatcher.decode, false); // not started: nothing drains the ring until asked
  });
  after(async () => {
    const loaded: Partial<UndrainedFileSensors> = s; // as far as `before` got
    await runCleanup([
      () => loaded.fileSensor?.filePolicy.clear(),
      () => loaded.collector?.stop(),
      () => loaded.fileSensor?.close(),
      () => loaded.processSensor?.close(),
      () => loaded.dir && rmSync(loaded.dir, { recursive: true, force: true }),
    ]);
  });
  return s;
}

describe('shedding watched-open audit records while the ring fills (kernel)', () => {
  const s = undrainedFileSensors('stinger-shed-file-');

  test('an open storm under an audit rule is shed above the threshold; a cat killed at a denied open meanwhile is reported', { timeout: 120_000 }, async (t) => {
    const watched = join(s.dir, 'watched');
    const denied = join(s.dir, 'denied');
    writeFileSync(watched, 'storm\n');
    writeFileSync(denied, 'secret\n');
    const sensors = [s.processSensor, s.fileSensor];
    const lostBefore = sensors.map((sensor) => sensor.lostRecords());
    const shedBefore = s.fileSensor.shedRecords();
    s.fileSensor.filePolicy.addExact(watched, { ruleId: 4301, action: 'audit', ops: ['open'] });
    s.fileSensor.filePolicy.addExact(denied, { ruleId: 4302, action: 'kill', ops: ['open'] });

    const storm = await runChild(s.openLoop, [watched, String(STORM_OPENS)]);
    assert.equal(storm.code, 0, 'the storm ran its course');
    const shedByStorm = s.fileSensor.shedRecords() - shedBefore;
    assert.ok(shedByStorm > 0n, 'the file sensor shed audit records');

    const killed = await runChild('/bin/cat', [denied]);
    assert.deepEqual([killed.signal, killed.stdout], ['SIGKILL', ''], 'cat dies at the denied open, before it reads a byte');
    const records = await shedOnceThenDrain(s.fileSensor, () => runChild(s.openLoop, [watched, '1']), s.collector);
    const kill = records.find((r) => r.kind === 'file' && r.pid === killed.pid);
    assert.ok(kill && kill.kind === 'file', "the kill's file record arrives");
    assert.equal(kill.action, 'killed');
    assert.equal(kill.ruleId, 4302);
    assert.equal(kill.path, denied);
    assertLifeCycleOf(records, killed.pid);

    const opensWritten = records.filter((r) => r.kind === 'file' && r.pid === storm.pid).length;
    const closesWritten = records.filter((r) => r.kind === 'file-close' && r.pid === storm.pid).length;
    const bytesWritten = opensWritten * OPEN_RING_BYTES + closesWritten * CLOSE_RING_BYTES;
    assert.ok(opensWritten > 0, 'the storm wrote records until the threshold');
    assert.ok(
      bytesWritten <= SHED_AUDIT_ABOVE_BYTES + OPEN_RING_BYTES,
      `the storm's records stop at the threshold: ${opensWritten} opens and ${closesWritten} closes, ${bytesWritten} bytes, threshold ${SHED_AUDIT_ABOVE_BYTES}`,
    );
    assert.equal(BigInt(opensWritten + closesWritten) + shedByStorm, BigInt(2 * STORM_OPENS), 'every open and close record of the storm was written or shed');
    assertRingNeverFull(sensors, lostBefore);
    t.diagnostic(`storm: ${STORM_OPENS} opens; written ${opensWritten} opens + ${closesWritten} closes (${bytesWritten} bytes), ${shedByStorm} shed; ring ${records.length} records`);
  });
});

describe('a watch that keeps its records is written while the ring sheds audit records (kernel)', () => {
  // In the agent's mode: with the LSM hook the parked open is matched again on its resolved path and stays kept.
  const s = undrainedFileSensors('stinger-shed-keep-', kernelFileSensorMode());

  test('above the threshold, an open under a keepRecords watch is written while an open under a plain audit watch is shed', { timeout: 120_000 }, async (t) => {
    const watched = join(s.dir, 'watched');
    const kept = join(s.dir, 'kept');
    writeFileSync(watched, 'storm\n');
    writeFileSync(kept, 'pipeline kill\n');
    const sensors = [s.processSensor, s.fileSensor];
    const lostBefore = sensors.map((sensor) => sensor.lostRecords());
    const shedBefore = s.fileSensor.shedRecords();
    s.fileSensor.filePolicy.addExact(watched, { ruleId: 4311, action: 'audit', ops: ['open'] });
    s.fileSensor.filePolicy.addExact(kept, { ruleId: 4312, action: 'audit', ops: ['open'], keepRecords: true });

    const storm = await runChild(s.openLoop, [watched, String(STORM_OPENS)]);
    assert.equal(storm.code, 0, 'the storm ran its course');
    assert.ok(s.fileSensor.shedRecords() > shedBefore, 'the file sensor shed audit records');

    // Above the threshold: the kept watch's open is written; only its close record (audit) is shed.
    const shedBeforeKept = s.fileSensor.shedRecords();
    const keptRun = await runChild(s.openLoop, [kept, '1']);
    assert.equal(keptRun.code, 0);
    assert.equal(s.fileSensor.shedRecords() - shedBeforeKept, 1n, "only the kept open's close record is shed");
    // lsm mode: an open that only the file_open hook matches (through a symlink, a name the tracepoint does not know)
    // is sent by the hook itself, kept by the bit the hook read from the rule (RESOLVED_KEEPS); nothing of it is shed.
    let viaHook: RunResult | null = null;
    if (s.fileSensor.mode === 'lsm') {
      const alias = join(s.dir, 'alias');
      symlinkSync(kept, alias);
      const shedBeforeHook = s.fileSensor.shedRecords();
      viaHook = await runChild(s.openLoop, [alias, '1']);
      assert.equal(viaHook.code, 0);
      assert.equal(s.fileSensor.shedRecords(), shedBeforeHook, 'nothing of the open through the symlink is shed');
    }
    const records = await shedOnceThenDrain(s.fileSensor, () => runChild(s.openLoop, [watched, '1']), s.collector);

    const keptOpen = records.find((r) => r.kind === 'file' && r.pid === keptRun.pid);
    assert.ok(keptOpen && keptOpen.kind === 'file', "the kept watch's open record arrives");
    assert.deepEqual([keptOpen.op, keptOpen.path, keptOpen.ruleId, keptOpen.action], ['open', kept, 4312, 'audit']);
    assert.ok(!records.some((r) => r.kind === 'file-close' && r.pid === keptRun.pid), 'its close record was shed');
    if (viaHook !== null) {
      const hookOpen = records.find((r) => r.kind === 'file' && r.pid === viaHook.pid);
      assert.ok(hookOpen && hookOpen.kind === 'file', "the hook's record of the open through the symlink arrives");
      assert.deepEqual([hookOpen.path, hookOpen.resolvedPath, hookOpen.ruleId, hookOpen.action], ['', kept, 4312, 'audit']);
    }
    assertRingNeverFull(sensors, lostBefore);
    t.diagnostic(`file sensor mode ${s.fileSensor.mode}; storm: ${STORM_OPENS} opens, ${s.fileSensor.shedRecords() - shedBefore} shed; ring ${records.length} records`);
  });
});

describe('a destination watch that keeps its records is written while the ring sheds audit records (kernel)', () => {
  const s = undrainedFileSensors('stinger-shed-keep-net-');
  let network: NetworkSensor | undefined;
  let helper: TestHelper | undefined;

  before(() => {
    helper = buildTestHelper();
    network = loadNetworkSensor({ join: s.processSensor });
  });

  after(async () => {
    await runCleanup([() => network?.auditDestinations.clear(), () => network?.close(), () => helper?.remove()]);
  });

  test('above the threshold, a connect to a keepRecords destination is written while one to a plain audit destination is shed', { timeout: 120_000 }, async (t) => {
    const watched = join(s.dir, 'watched');
    writeFileSync(watched, 'storm\n');
    const sensors = [s.processSensor, s.fileSensor, network!];
    const lostBefore = sensors.map((sensor) => sensor.lostRecords());
    s.fileSensor.filePolicy.addExact(watched, { ruleId: 4321, action: 'audit', ops: ['open'] });
    // Port 1 on loopback: nothing listens, each connect is refused at once, and reported all the same.
    network!.auditDestinations.add({ cidr: '127.0.0.1/32', port: 1, ruleId: 4322, keepRecords: true });
    network!.auditDestinations.add({ cidr: '127.0.0.2/32', port: 1, ruleId: 4323 });

    const storm = await runChild(s.openLoop, [watched, String(STORM_OPENS)]);
    assert.equal(storm.code, 0, 'the storm ran its course');
    assert.ok(s.fileSensor.shedRecords() > 0n, 'the file sensor shed audit records');

    const networkShed = network!.shedRecords();
    const kept = await runIn(undefined, helper!.path, ['tcp-connect', '127.0.0.1', '1']);
    assert.match(kept.stdout, /^errno 111/);
    assert.equal(network!.shedRecords(), networkShed, 'the connect to the keepRecords destination is not shed');
    const records = await shedOnceThenDrain(network!, () => runIn(undefined, helper!.path, ['tcp-connect', '127.0.0.2', '1']), s.collector);

    const keptConnect = records.find((r) => r.kind === 'connect' && r.pid === kept.pid);
    assert.ok(keptConnect && keptConnect.kind === 'connect', "the kept destination's connect record arrives");
    assert.deepEqual([keptConnect.ruleId, keptConnect.action], [4322, 'audit']);
    assertRingNeverFull(sensors, lostBefore);
    t.diagnostic(`storm: ${STORM_OPENS} opens, file ${s.fileSensor.shedRecords()} shed, network ${network!.shedRecords() - networkShed} shed; ring ${records.length} records`);
  });
});
