import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitByPartition } from './partition-router.ts';

test('splitByPartition: a key always to one partition (murmur2, as the Java client), order kept; a given partition kept; no key: in turn', () => {
  const messages = [
    { key: 'node-a', value: 'a0' },
    { key: 'node-b', value: 'b0' },
    { key: 'node-a', value: 'a1' },
    { key: Buffer.from('node-b'), value: 'b1' },
    { key: 'node-a', partition: 5, value: 'a-pinned' },
    { key: null, value: 'x0' },
    { key: null, value: 'x1' },
  ];
  let turn = 0;
  const split = splitByPartition(messages, { name: 'stinger.events.raw', partitionCount: 6 }, () => turn++);
  const partitionOf = (value: string) => [...split].find(([, list]) => list.some((m) => m.value === value))![0];
  assert.equal(partitionOf('a0'), partitionOf('a1'));
  assert.equal(partitionOf('b0'), partitionOf('b1'), 'a string key and the same bytes agree');
  assert.equal(partitionOf('a-pinned'), 5);
  assert.deepEqual([partitionOf('x0'), partitionOf('x1')], [0, 1]);
  assert.deepEqual(split.get(partitionOf('a0'))!.map((m) => m.value).filter((v) => v === 'a0' || v === 'a1'), ['a0', 'a1'], 'order within a partition kept');
  for (const [partition, list] of split) for (const m of list) assert.equal(m.partition, partition, 'each message carries its partition');
  assert.equal([...split.values()].flat().length, messages.length);
});
