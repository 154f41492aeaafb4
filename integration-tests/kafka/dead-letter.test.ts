/**
 * Undecodable records go to the dead-letter topic with their reason and original bytes, and the
 * records around them still reach the output: nothing accepted is lost and the worker keeps running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDeadLetter, decodeRawEvent, DecodeError, encodeRawEvent } from '@stinger/events';
import { createDeadLetterBuilder, createProducer, createTopics, createTransactionalTransform, RecordRejectedError } from '@stinger/kafka';
import { sampleRawEvent } from '@stinger/testing';
import { collectTopic, testClient, uniqueName } from '../helpers/kafka.ts';

test('bad records are dead-lettered with a reason; good ones flow on', { timeout: 90_000 }, async () => {
  const client = testClient('dlq-test');
  const [source, target, dlq, group] = ['dlq.src', 'dlq.dst', 'dlq.dlq', 'dlq.group'].map(uniqueName) as [string, string, string, string];
  await createTopics(client, [{ topic: source }, { topic: target }, { topic: dlq }]);
  const good = (seq: number) => encodeRawEvent(sampleRawEvent({ node: 'n', seq: BigInt(seq) }));
  const unknownFingerprint = Buffer.concat([Buffer.from([0xc3, 0x01]), Buffer.alloc(8, 0xab), Buffer.from([0])]);
  const values: Buffer[] = [good(0), Buffer.from('{"not":"avro"}'), good(1), unknownFingerprint, good(2).subarray(0, 20), good(3)];
  const producer = createProducer({ client });
  await producer.connect();
  await producer.send(source, values.map((value) => ({ key: 'n', value })));
  await producer.disconnect();

  const worker = createTransactionalTransform({
    client,
    groupId: group,
    transactionalId: group,
    inputTopics: [source],
    deadLetter: createDeadLetterBuilder({ consumer: group, dlqTopic: dlq }),
    transform: (record) => {
      try {
        return [{ topic: target, key: record.key, value: encodeRawEvent(decodeRawEvent(record.value ?? Buffer.alloc(0))) }];
      } catch (error) {
        if (error instanceof DecodeError) throw new RecordRejectedError(error.reason, error);
        throw error;
      }
    },
  });
  const outputs = await collectTopic(client, target);
  const letters = await collectTopic(client, dlq);
  try {
    await worker.start();
    await outputs.waitFor(3, 30_000);
    await letters.waitFor(3, 30_000);
    assert.deepEqual(outputs.records.map((r) => decodeRawEvent(r.value ?? Buffer.alloc(0)).seq), [0n, 1n, 3n]);
    const decoded = letters.records.map((r) => decodeDeadLetter(r.value ?? Buffer.alloc(0)));
    assert.deepEqual(decoded.map((d) => d.reason), ['bad-magic', 'unknown-fingerprint', 'truncated']);
    assert.deepEqual(decoded.map((d) => d.offset), [1n, 3n, 4n]);
    assert.deepEqual(decoded[0]?.value, values[1]);
    assert.ok(decoded.every((d) => d.source_topic === source && d.consumer === group));
    assert.equal(worker.stats.rejected, 3);
  } finally {
    await worker.stop();
    await outputs.stop();
    await letters.stop();
  }
});
