import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@stinger/log';
import { EventPublisher, type RecordSink } from './publisher.ts';
import { EventSpool, encodeSpoolEntry, type SpooledRecord } from './spool.ts';

/** A sink standing in for Kafka: up or down, and what it received, in order. */
function fakeSink(): RecordSink & { up: boolean; received: string[]; pending: number } {
  const sink = {
    up: true,
    received: [] as string[],
    pending: 0,
    get queuedRecords() {
      return sink.pending;
    },
    async enqueue(record: SpooledRecord) {
      sink.pending += 1;
      await Promise.resolve();
      sink.pending -= 1;
      if (!sink.up) throw new Error('broker unavailable');
      sink.received.push(record.value.toString());
    },
    async sendBatch(records: readonly SpooledRecord[]) {
      if (!sink.up) throw new Error('broker unavailable');
      sink.received.push(...records.map((r) => r.value.toString()));
    },
  };
  return sink;
}

const rec = (i: number) => ({ key: Buffer.from('n'), value: Buffer.from(String(i)) });
const tick = () => new Promise((resolve) => setImmediate(resolve));

test('an outage is survived without loss: records spool to disk and are delivered in order afterwards', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'publisher-test-'));
  try {
    const sink = fakeSink();
    const publisher = new EventPublisher({ sink, spool: new EventSpool({ dir, maxBytes: 1_000_000 }), logger: silentLogger() });
    await publisher.start();
    publisher.publish(rec(0));
    await tick();
    sink.up = false;
    publisher.publish(rec(1));
    await tick();
    assert.equal(publisher.stats().mode, 'spooling');
    for (let i = 2; i < 6; i += 1) publisher.publish(rec(i));
    await publisher.drainSpool(); // still down: nothing delivered, nothing lost
    assert.deepEqual(sink.received, ['0']);
    sink.up = true;
    await publisher.drainSpool();
    assert.deepEqual(sink.received, ['0', '1', '2', '3', '4', '5']);
    assert.equal(publisher.stats().mode, 'direct');
    assert.equal(publisher.stats().lost, 0);
    publisher.publish(rec(6));
    await tick();
    assert.deepEqual(sink.received.at(-1), '6');
    await publisher.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a full producer queue sends records to the spool instead of growing memory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'publisher-test-'));
  try {
    const sink = fakeSink();
    sink.pending = 10; // the producer is behind
    const publisher = new EventPublisher({ sink, spool: new EventSpool({ dir, maxBytes: 1_000_000 }), logger: silentLogger(), maxQueued: 10 });
    await publisher.start();
    publisher.publish(rec(0));
    assert.equal(publisher.stats().spooled, 1);
    assert.deepEqual(sink.received, []);
    await publisher.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loss beyond the spool is counted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'publisher-test-'));
  try {
    const sink = fakeSink();
    sink.up = false;
    const publisher = new EventPublisher({ sink, spool: new EventSpool({ dir, maxBytes: 30 }), logger: silentLogger() });
    await publisher.start();
    for (let i = 0; i < 5; i += 1) publisher.publish(rec(i));
    await tick();
    await tick();
    const stats = publisher.stats();
    assert.equal(stats.published, 5);
    assert.equal(stats.spooled + stats.lost, 5);
    assert.ok(stats.lost > 0);
    await publisher.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('audit records are shed first when the spool fills: counted as shed, while records of actions are still spooled', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'publisher-test-'));
  try {
    const sink = fakeSink();
    sink.up = false;
    const entry = encodeSpoolEntry(rec(0)).length;
    const publisher = new EventPublisher({ sink, spool: new EventSpool({ dir, maxBytes: entry * 4 }), logger: silentLogger() });
    await publisher.start();
    for (let i = 0; i < 5; i += 1) publisher.publish(rec(i), { audit: true });
    publisher.publish(rec(5));
    await tick();
    await tick();
    const stats = publisher.stats();
    assert.deepEqual([stats.published, stats.spooled, stats.shed, stats.lost], [6, 4, 2, 0], 'three audit records and the kill fill the spool');
    await publisher.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('before start every record waits in the spool; start delivers it before anything new', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'publisher-test-'));
  try {
    const sink = fakeSink();
    const publisher = new EventPublisher({ sink, spool: new EventSpool({ dir, maxBytes: 1_000_000 }), logger: silentLogger() });
    publisher.publish(rec(0));
    publisher.publish(rec(1));
    await publisher.drainSpool();
    assert.deepEqual(sink.received, [], 'the sink is not touched before start');
    await publisher.start();
    publisher.publish(rec(2));
    await tick();
    assert.deepEqual(sink.received, ['0', '1', '2']);
    await publisher.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an urgent record asks the sink to send now; others wait for the linger', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'publisher-test-'));
  try {
    let flushes = 0;
    const sink = { ...fakeSink(), flushSoon: () => void (flushes += 1) };
    const publisher = new EventPublisher({ sink, spool: new EventSpool({ dir, maxBytes: 1_000_000 }), logger: silentLogger() });
    await publisher.start();
    publisher.publish(rec(0));
    publisher.publish(rec(1), { urgent: true });
    assert.equal(flushes, 1);
    await publisher.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
