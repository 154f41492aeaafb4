import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS, TOPIC_IDS, topicName } from './topics.ts';

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
