import { test } from 'node:test';
import assert from 'node:assert/strict';
import { barFractions, niceTicks, stackedChart } from './charts.ts';

test('ticks are round numbers from 0 up to at least the maximum', () => {
  assert.deepEqual(niceTicks(37), [0, 10, 20, 30, 40]);
  assert.deepEqual(niceTicks(4), [0, 1, 2, 3, 4]);
  assert.deepEqual(niceTicks(900), [0, 500, 1000]);
  assert.deepEqual(niceTicks(0.5), [0, 0.2, 0.4, 0.6]);
  assert.deepEqual(niceTicks(0), [0, 1]);
});

test('bars stack kind groups bottom up, scaled to the top tick, one slot per bucket', () => {
  const chart = stackedChart(
    {
      bucketMs: 60_000,
      buckets: [
        { time: 0, counts: { exec: 10, exit: 10, file: 20 } },
        { time: 60_000, counts: {} },
      ],
    },
    { width: 200, height: 100 },
  );
  assert.equal(chart.max, 40);
  assert.deepEqual(chart.groups, ['process', 'file']);
  const [first, second] = chart.bars;
  assert.equal(first?.total, 40);
  assert.deepEqual(first?.kinds, { exec: 10, exit: 10, file: 20 }, 'each kind stays countable for the tooltip');
  assert.deepEqual(
    first?.segments.map((s) => [s.group, s.count, s.y, s.height]),
    [
      ['process', 20, 50, 50],
      ['file', 20, 0, 50],
    ],
  );
  assert.equal(first?.x, 10);
  assert.equal(first?.width, 80);
  assert.equal(second?.segments.length, 0);
  assert.equal(second?.x, 110);
});

test('horizontal bars are fractions of the largest value', () => {
  assert.deepEqual(barFractions([5, 10, 0]), [0.5, 1, 0]);
  assert.deepEqual(barFractions([0, 0]), [0, 0]);
});
