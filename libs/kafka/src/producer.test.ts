import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupByTopic } from './producer.ts';

test('groupByTopic keeps enqueue order within each topic', () => {
  const v = (s: string) => ({ key: null, value: Buffer.from(s) });
  const grouped = groupByTopic([
    { topic: 'a', record: v('1') },
    { topic: 'b', record: v('2') },
    { topic: 'a', record: v('3') },
  ]);
  assert.deepEqual([...grouped.keys()], ['a', 'b']);
  assert.deepEqual(grouped.get('a')?.map((r) => r.value?.toString()), ['1', '3']);
});
