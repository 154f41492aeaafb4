/** Topic bootstrap creates every topic of the table with its settings, and is idempotent. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapTopics, createTopics, fetchTopicOffsets, TOPIC_IDS, TOPICS, topicName } from '@stinger/kafka';
import { testClient, uniqueName } from '../helpers/kafka.ts';

test('every topic is created with its partitions; a second run creates nothing', { timeout: 60_000 }, async () => {
  const client = testClient('bootstrap-test');
  const prefix = `${uniqueName('bootstrap')}.`;
  const first = await bootstrapTopics({ client, prefix });
  assert.deepEqual([...first.created].sort(), TOPIC_IDS.map((id) => topicName(id, prefix)).sort());
  for (const id of TOPIC_IDS) {
    const offsets = await fetchTopicOffsets(client, topicName(id, prefix));
    assert.equal(offsets.partitions.length, TOPICS[id].partitions, id);
  }
  const second = await bootstrapTopics({ client, prefix });
  assert.deepEqual(second.created, []);
  assert.equal(second.existing.length, TOPIC_IDS.length);
});

test('a policies topic that is not compacted is refused', { timeout: 60_000 }, async () => {
  const client = testClient('bootstrap-test');
  const prefix = `${uniqueName('bootstrap.bad')}.`;
  await createTopics(client, [{ topic: topicName('policies', prefix), configs: { 'cleanup.policy': 'delete' } }]);
  await assert.rejects(bootstrapTopics({ client, prefix, topics: ['policies'] }), /cleanup\.policy=delete, expected compact/);
});

test('STINGER_TOPIC_PARTITIONS and the replication factor reach the created topics; an unknown name creates nothing', { timeout: 60_000 }, async () => {
  const client = testClient('bootstrap-test');
  const prefix = `${uniqueName('bootstrap.sized')}.`;
  await bootstrapTopics({ client, prefix, topics: ['events', 'alerts'], replicationFactor: 1, partitions: { 'stinger.events': 9 } });
  assert.equal((await fetchTopicOffsets(client, topicName('events', prefix))).partitions.length, 9);
  assert.equal((await fetchTopicOffsets(client, topicName('alerts', prefix))).partitions.length, TOPICS.alerts.partitions);
  // One broker cannot hold two replicas: the factor is passed through, not silently lowered.
  await assert.rejects(bootstrapTopics({ client, prefix, topics: ['dlq'], replicationFactor: 2 }), /could not create topics/);
  await assert.rejects(bootstrapTopics({ client, prefix, topics: ['dlq'], partitions: { 'stinger.dql': 2 } }), /STINGER_TOPIC_PARTITIONS: stinger\.dql is not a topic/);
});
