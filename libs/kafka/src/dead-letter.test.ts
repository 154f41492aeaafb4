import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDeadLetter } from '@stinger/events';
import { createDeadLetterBuilder } from './dead-letter.ts';
import { RecordRejectedError } from './transform.ts';

test('a rejected record becomes a DeadLetter keyed by its source topic, carrying its bytes and reason', () => {
  const build = createDeadLetterBuilder({ consumer: 'enricher', dlqTopic: 'stinger.dlq', now: () => 42n });
  const original = Buffer.from([0xc3, 0x01, 0xff]);
  const out = build(
    { topic: 'stinger.events.raw', partition: 2, offset: 17n, key: Buffer.from('node-a'), value: original, headers: {}, timestampMs: 0 },
    new RecordRejectedError('truncated'),
  );
  assert.equal(out.topic, 'stinger.dlq');
  assert.equal(out.key, 'stinger.events.raw');
  assert.ok(out.value);
  const letter = decodeDeadLetter(out.value);
  assert.equal(letter.source_topic, 'stinger.events.raw');
  assert.equal(letter.partition, 2);
  assert.equal(letter.offset, 17n);
  assert.equal(letter.consumer, 'enricher');
  assert.equal(letter.reason, 'truncated');
  assert.deepEqual(letter.value, original);
  assert.deepEqual(letter.key, Buffer.from('node-a'));
  assert.equal(letter.failed_at_ns, 42n);
});
