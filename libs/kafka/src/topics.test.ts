import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS, TOPIC_IDS, topicName, topicPartitionCounts } from './topics.ts';

test('every topic of docs/topics.md is in the table, once', () => {
  const names = TOPIC_IDS.map((id) => TOPICS[id].name);
  assert.deepEqual(names.sort(), [
    'stinger.agents',
    'stinger.alerts',
    'stinger.control',
    'stinger.control.acks',
    'stinger.dlq',
    'stinger.enforcements',
    'stinger.events',
    'stinger.events.raw',
    'stinger.policies',
    'stinger.policies.status',
  ]);
});

test('only the policy and agent health topics are compacted', () => {
  const compacted = TOPIC_IDS.filter((id) => TOPICS[id].configs['cleanup.policy'] === 'compact');
  assert.deepEqual(compacted, ['policies', 'policyStatus', 'agents']);
});

test('the prefix is prepended', () => {
  assert.equal(topicName('eventsRaw'), 'stinger.events.raw');
  assert.equal(topicName('dlq', 'staging.'), 'staging.stinger.dlq');
});

test('topicPartitionCounts: the table, with STINGER_TOPIC_PARTITIONS overrides by name; unknown names refused', () => {
  assert.equal(topicPartitionCounts().eventsRaw, TOPICS.eventsRaw.partitions);
  const counts = topicPartitionCounts({ 'stinger.events.raw': 24, 'stinger.policies': 3 });
  assert.equal(counts.eventsRaw, 24);
  assert.equal(counts.policies, 3);
  assert.equal(counts.alerts, TOPICS.alerts.partitions);
  assert.throws(() => topicPartitionCounts({ 'stinger.event': 2 }), /STINGER_TOPIC_PARTITIONS: stinger\.event is not a topic of Stinger/);
});
