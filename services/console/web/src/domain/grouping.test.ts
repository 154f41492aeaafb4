import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupByPod, sumOf } from './grouping.ts';

test('rows group under their pod, host rows under their node, in the order they first appear', () => {
  const rows = [
    { namespace: 'shop', pod: 'web', node: 'a', n: 1 },
    { namespace: null, pod: null, node: 'a', n: 2 },
    { namespace: 'shop', pod: 'web', node: 'a', n: 3 },
    { namespace: 'other', pod: 'web', node: 'a', n: 4 },
  ];
  const groups = groupByPod(rows);
  assert.deepEqual(groups.map((g) => g.key), ['shop/web', 'host:a', 'other/web']);
  assert.deepEqual(groups[0]?.rows.map((r) => r.n), [1, 3]);
});

test('sums skip unknown values and are unknown only when every value is', () => {
  assert.equal(sumOf([{ v: 1 }, { v: null }, { v: 2 }], (r) => r.v), 3);
  assert.equal(sumOf([{ v: null }], (r) => r.v), null);
});
