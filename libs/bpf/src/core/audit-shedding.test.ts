// Kernel test (root): shedding by tier in the shared ring buffer (bpf/README.md "Loss and shedding"). The process
// and privilege sensors share one ring whose reader is not started, so nothing drains it. A storm of audited
// setuid(0) calls fills it past SHED_AUDIT_ABOVE_BYTES: the privilege sensor stops writing them there and counts
// them in its shed_records slot, never filling the ring. Written at the same time, a namespace kill-in-kernel (its
// record, the exec and exit of its victim) still finds room in the quarter kept for them, and arrives when the ring
// is drained. With the shedding check removed the storm fills the ring and the kill's record is the one lost: this
// test fails (checked, see the commit that added it).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHED_AUDIT_ABOVE_BYTES, EVENTS_RING_BYTES } from './event-kinds.ts';
import { cgroupIdOf } from './kernel-environment.ts';
import { createRecordDispatcher } from './record-dispatch.ts';
import { loadProcessSensor, type Sensor } from './sensor.ts';
import { buildBpf, collect, runCleanup, type Collector } from './test-support.ts';
import { createTestCgroup, runIn, type TestCgroup } from '../network/test-support.ts';
import { loadPrivilegeSensor, type PrivilegeSensor } from '../privilege/sensor.ts';
import { PRIVILEGE_RECORD_DECODERS, SETID_EVENT_LAYOUT, type PrivilegeSensorRecord } from '../privilege/records.ts';
import { PROCESS_RECORD_DECODERS, type ProcessRecord } from '../process/records.ts';

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
    // The ring was still above the threshold after the kill: one more audited call is shed, not written.
    const shedBeforeOne = privilege!.shedRecords();
    const one = await runIn(undefined, storm, ['1']);
    assert.equal(one.code, 0);
    assert.ok(privilege!.shedRecords() > shedBeforeOne, 'an audited call after the kill is shed too');

    collector!.reader.start();
    collector!.drain();
    const records = collector!.records;
    const kill = records.find((r) => r.kind === 'namespace' && r.pid === killed.pid);
    assert.ok(kill && kill.kind === 'namespace', "the kill's namespace record arrives");
    assert.equal(kill.action, 'killed');
    assert.equal(kill.ruleId, RULE_ID);
    assert.ok(
      records.some((r) => r.kind === 'exec' && r.pid === killed.pid && r.binary === '/usr/bin/unshare'),
      "the victim's exec record arrives (process life cycle is never shed)",
    );
    assert.ok(
      records.some((r) => r.kind === 'exit' && r.pid === killed.pid),
      "the victim's exit record arrives",
    );

    const stormWritten = records.filter((r) => r.kind === 'privilege' && r.pid === stormRun.pid).length;
    assert.ok(stormWritten > 0, 'the storm wrote records until the threshold');
    assert.ok(
      stormWritten * SETID_RING_BYTES <= SHED_AUDIT_ABOVE_BYTES + SETID_RING_BYTES,
      `the storm's records stop at the threshold: ${stormWritten} x ${SETID_RING_BYTES} bytes, threshold ${SHED_AUDIT_ABOVE_BYTES}`,
    );
    // Other processes' setuid calls are watched too (and may be shed), so the count is at least the storm's rest.
    assert.ok(BigInt(stormWritten) + shedByStorm >= BigInt(STORM_CALLS), `every storm call was written or shed: ${stormWritten} + ${shedByStorm} of ${STORM_CALLS}`);
    assert.deepEqual(
      sensors.map((s, i) => s.lostRecords() - lostBefore[i]!),
      [0n, 0n],
      'the ring never filled: nothing lost to ring_full',
    );
    assert.equal(processSensor!.shedRecords(), processShedBefore, 'the process sensor sheds nothing');
    t.diagnostic(`storm: ${STORM_CALLS} setuid calls, ${stormWritten} written (${stormWritten * SETID_RING_BYTES} bytes), ${shedByStorm} shed; ring ${records.length} records`);
  });
});
