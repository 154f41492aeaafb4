// Kernel test (root): the batched reader against the process sensor's real ring buffer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRingBufferReader, forEachRecord, type RecordBatch } from './ring-buffer-reader.ts';
import { decodeProcessRecord, type ProcessRecord } from '../process/records.ts';
import { loadProcessSensor, type Sensor } from './sensor.ts';
import { buildBpf } from './test-support.ts';

function decodeAll(batch: RecordBatch, into: ProcessRecord[]): void {
  forEachRecord(batch, (offset, length) => {
    const record = decodeProcessRecord({ buffer: batch.buffer, view: batch.view, offset, length });
    assert.ok(record, `record at ${offset} (${length} bytes) decodes`);
    into.push(record);
  });
}

function spawnTrues(n: number): number[] {
  const pids: number[] = [];
  for (let i = 0; i < n; i++) {
    const child = spawnSync('/bin/true', [`run-${i}`]);
    assert.equal(child.status, 0);
    pids.push(child.pid);
  }
  return pids;
}

describe('RingBufferReader (kernel)', () => {
  let sensor: Sensor | undefined;

  before(() => {
    buildBpf();
    sensor = loadProcessSensor();
  });

  after(() => sensor?.close());

  test('a buffer smaller than the backlog splits it into several batches without losing or reordering a record', async () => {
    const reader = createRingBufferReader({ map: sensor!.events, bufferBytes: 4096, onBatch: (b) => decodeAll(b, records) });
    const records: ProcessRecord[] = [];
    try {
      reader.drainNow();
      records.length = 0;
      const pids = spawnTrues(30);
      const delivered = reader.drainNow();
      const execPids = records.filter((r) => r.kind === 'exec' && pids.includes(r.pid)).map((r) => r.pid);
      assert.deepEqual(execPids, pids, 'one exec record per process, in order');
      assert.equal(delivered, records.length);
      assert.ok(reader.stats().batches > 1, `several batches (${reader.stats().batches})`);
      assert.equal(reader.stats().droppedInUserSpace, 0);
    } finally {
      await reader.stop();
    }
  });

  test('records larger than the whole batch buffer are dropped and counted, the rest delivered', async () => {
    const records: ProcessRecord[] = [];
    const reader = createRingBufferReader({ map: sensor!.events, bufferBytes: 256, onBatch: (b) => decodeAll(b, records) });
    try {
      reader.drainNow();
      const before = reader.stats().droppedInUserSpace;
      const [pid] = spawnTrues(1);
      reader.drainNow();
      assert.ok(reader.stats().droppedInUserSpace >= before + 1, 'the exec record (> 256 bytes) counted as dropped');
      assert.ok(records.some((r) => r.kind === 'exit' && r.pid === pid), 'the exit record of the same process delivered');
    } finally {
      await reader.stop();
    }
  });

  test('start() delivers batches from the worker-thread wait, and stop() returns without waiting for the timeout', async () => {
    const records: ProcessRecord[] = [];
    const reader = createRingBufferReader({ map: sensor!.events, waitTimeoutMs: 60_000, onBatch: (b) => decodeAll(b, records) });
    reader.start();
    const [pid] = spawnTrues(1);
    const deadline = Date.now() + 5000;
    while (!records.some((r) => r.kind === 'exit' && r.pid === pid) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(records.some((r) => r.kind === 'exit' && r.pid === pid), 'records arrive without drainNow');
    const started = Date.now();
    await reader.stop();
    assert.ok(Date.now() - started < 1000, `stop took ${Date.now() - started} ms`);
    await reader.stop();
  });

  test('an onBatch that throws drops that batch, counts it, and the reader goes on', async () => {
    let calls = 0;
    const reader = createRingBufferReader({
      map: sensor!.events,
      onBatch: () => {
        calls += 1;
        throw new Error('consumer failure');
      },
    });
    try {
      reader.drainNow();
      const dropped = reader.stats().droppedInUserSpace;
      spawnTrues(2);
      reader.drainNow();
      assert.ok(calls >= 1);
      assert.ok(reader.stats().droppedInUserSpace >= dropped + 6, 'fork, exec and exit of two processes counted');
    } finally {
      await reader.stop();
    }
  });
});
