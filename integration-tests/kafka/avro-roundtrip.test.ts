/** Avro single-object records go through the real broker and come back identical, key and all. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRawEvent, encodeRawEvent, readFingerprint, schemaVersions } from '@stinger/events';
import { createProducer, createTopics } from '@stinger/kafka';
import { sampleRawEvent } from '@stinger/testing';
import { collectTopic, testClient, uniqueName } from '../helpers/kafka.ts';

// Each codec a producer may use (KAFKA_COMPRESSION). The broker decompresses every batch to validate it (Java's codecs,
// zstd-jni for zstd), so a frame our zstd codec wrote wrongly would be refused here as a corrupt message.
for (const compression of ['zstd', 'gzip', 'none'] as const) {
  test(`RawEvents round-trip through Kafka with their writer fingerprint, ${compression} batches`, { timeout: 60_000 }, async () => {
    const client = testClient('avro-roundtrip');
    const topic = uniqueName(`avro.roundtrip.${compression}`);
    await createTopics(client, [{ topic, partitions: 2 }]);
    const sent = Array.from({ length: 50 }, (_, i) =>
      sampleRawEvent({ node: i % 2 === 0 ? 'node-a' : 'node-b', seq: BigInt(i), binary: '/usr/bin/cat', args: ['/etc/passwd', `n${i}`] }),
    );
    const producer = createProducer({ client, compression });
    await producer.connect();
    await Promise.all(sent.map((event) => producer.enqueue(topic, { key: event.node, value: encodeRawEvent(event) })));
    await producer.disconnect();

    const collector = await collectTopic(client, topic);
    try {
      await collector.waitFor(sent.length, 30_000);
      const current = schemaVersions('RawEvent').at(-1);
      const received = collector.records.map((record) => {
        assert.ok(record.value);
        assert.equal(readFingerprint(record.value), current?.fingerprint);
        return decodeRawEvent(record.value);
      });
      received.sort((a, b) => Number(a.seq - b.seq));
      // Decoded records are avsc record instances; compare their data, not their prototypes.
      assert.deepEqual(received.map((event) => structuredClone(event)), sent);
    } finally {
      await collector.stop();
    }
  });
}
