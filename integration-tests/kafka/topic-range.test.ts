/**
 * readTopicRange on a topic written transactionally, as stinger.events is by the enricher: each transaction ends in a
 * commit marker that is never delivered, so a range whose last offsets are markers must still end, with exactly the
 * committed records in offset order per partition.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDeadLetterBuilder, createProducer, createTopics, createTransactionalTransform, fetchTopicOffsets, planTopicRange, readTopicRange, type ConsumedRecord } from '@stinger/kafka';
import { testClient, uniqueName } from '../helpers/kafka.ts';

const client = testClient('topic-range-test');
const RECORDS = 3000;

test('a range of a transactional topic ends at its end offsets and holds exactly the committed records', { timeout: 120_000 }, async () => {
  const source = uniqueName('range.src');
  const target = uniqueName('range.dst');
  await createTopics(client, [
    { topic: source, partitions: 3 },
    { topic: target, partitions: 3 },
    { topic: `${target}.dlq`, partitions: 1 },
  ]);
  const producer = createProducer({ client, lingerMs: 2 });
  await producer.connect();
  await Promise.all(Array.from({ length: RECORDS }, (_, index) => producer.enqueue(source, { key: `node-${index % 7}`, value: Buffer.from(String(index)) })));
  await producer.disconnect();

  // Copied transactionally (one transaction per fetched batch), so the target's partitions end in commit markers.
  const group = uniqueName('range.copy');
  const copy = createTransactionalTransform({
    client,
    groupId: group,
    transactionalId: `${group}.tx`,
    inputTopics: [source],
    fromBeginning: true,
    sessionTimeoutMs: 6000,
    deadLetter: createDeadLetterBuilder({ consumer: group, dlqTopic: `${target}.dlq` }),
    transform: (record) => [{ topic: target, key: record.key, value: record.value }],
  });
  await copy.start();
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const offsets = await fetchTopicOffsets(client, target);
      // Every record plus at least one marker per partition: all copied and committed.
      if (offsets.partitions.reduce((sum, p) => sum + p.high, 0n) >= BigInt(RECORDS + 3)) break;
      if (Date.now() > deadline) throw new Error('the copy did not finish within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await copy.stop();
  }

  const range = await planTopicRange({ client, topic: target, fromMs: null, toMs: null });
  assert.ok(range.offsets > BigInt(RECORDS), 'the range counts the markers among its offsets');
  const read: ConsumedRecord[] = [];
  const progress: bigint[] = [];
  await readTopicRange({
    client,
    range,
    onBatch: (records, at) => {
      read.push(...records);
      progress.push(at.offsetsRead);
    },
  });
  assert.equal(read.length, RECORDS);
  assert.deepEqual(new Set(read.map((r) => r.value?.toString())).size, RECORDS, 'each record once');
  for (const partition of [0, 1, 2]) {
    const offsets = read.filter((r) => r.partition === partition).map((r) => r.offset);
    assert.deepEqual(offsets, [...offsets].sort((a, b) => (a < b ? -1 : 1)), `partition ${partition} in offset order`);
  }
  assert.ok(progress.every((value) => value <= range.offsets), 'progress never counts past the range');
});

test('a failing batch handler ends the read with its error', { timeout: 60_000 }, async () => {
  const topic = uniqueName('range.fail');
  await createTopics(client, [{ topic, partitions: 1 }]);
  const producer = createProducer({ client });
  await producer.connect();
  await producer.send(topic, [{ key: 'k', value: Buffer.from('x') }]);
  await producer.disconnect();
  const range = await planTopicRange({ client, topic, fromMs: null, toMs: null });
  await assert.rejects(
    readTopicRange({
      client,
      range,
      onBatch: () => {
        throw new Error('handler broke');
      },
    }),
    /handler broke/,
  );
});
