/**
 * libs/kafka createProducer: a send that failed is never retried through the same producer id (producer.ts header).
 * A record bigger than the topic's max.message.bytes is refused by the real broker at once (MESSAGE_TOO_LARGE); the
 * next send must go out through a new kafkajs producer, connected, and be written exactly once; a send that succeeds
 * keeps the producer.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProducer, createTopics, type KafkaClient, type StingerProducer } from '@stinger/kafka';
import { collectTopic, testClient, uniqueName, type Collector } from '../helpers/kafka.ts';

const topic = uniqueName('producer-identity');
let client: KafkaClient;
let producer: StingerProducer;
let collector: Collector;

before(async () => {
  client = testClient('producer-identity');
  await createTopics(client, [{ topic, partitions: 2, configs: { 'max.message.bytes': '65536' } }]);
  producer = createProducer({ client, compression: 'none' });
  await producer.connect();
  collector = await collectTopic(client, topic);
});

after(async () => {
  await producer?.disconnect();
  await collector?.stop();
});

test('after a failed send the next one goes out under a new producer, and is written once; a good send keeps it', { timeout: 60_000 }, async () => {
  await producer.send(topic, [{ key: 'a', value: Buffer.from('first') }]);
  const first = producer.producer;
  await producer.send(topic, [{ key: 'b', value: Buffer.from('second') }]);
  assert.equal(producer.producer, first, 'a send that succeeded keeps the producer');

  await assert.rejects(producer.enqueue(topic, { key: 'a', value: Buffer.alloc(200_000, 1) }), /too large|larger than|MESSAGE_TOO_LARGE/i);
  await producer.enqueue(topic, { key: 'a', value: Buffer.from('after the failure') });
  assert.notEqual(producer.producer, first, 'the send after a failure went through a new producer');
  assert.equal(producer.connected, true, 'the new producer is connected');
  const second = producer.producer;
  await producer.send(topic, [{ key: 'b', value: Buffer.from('last') }]);
  assert.equal(producer.producer, second);

  const deadline = Date.now() + 20_000;
  while (collector.records.length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.deepEqual(collector.records.map((r) => r.value?.toString()).sort(), ['after the failure', 'first', 'last', 'second']);
});
