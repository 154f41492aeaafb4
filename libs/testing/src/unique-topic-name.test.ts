import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniqueTopicName } from './unique-topic-name.ts';

test('uniqueTopicName keeps the prefix, uses only legal characters and never repeats', () => {
  const names = Array.from({ length: 1000 }, () => uniqueTopicName('stinger.events'));
  assert.equal(new Set(names).size, names.length);
  for (const name of names) assert.match(name, /^stinger\.events-[0-9a-z]+-[0-9a-f]{8}$/);
});

test('uniqueTopicName refuses prefixes Kafka would refuse', () => {
  assert.throws(() => uniqueTopicName('bad topic'), RangeError);
  assert.throws(() => uniqueTopicName(''), RangeError);
  assert.throws(() => uniqueTopicName('x'.repeat(240)), /too long/);
});
