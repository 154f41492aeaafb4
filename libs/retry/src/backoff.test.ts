import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from './backoff.ts';

test('backoff doubles from initialMs up to maxMs; jitter only shortens', () => {
  const exact = { initialMs: 100, maxMs: 1000, jitter: 0 };
  assert.deepEqual([1, 2, 3, 4, 5, 10].map((a) => backoffDelay(a, exact)), [100, 200, 400, 800, 1000, 1000]);
  assert.equal(backoffDelay(3, { initialMs: 100, maxMs: 1000, jitter: 0.5, random: () => 1 }), 200);
  assert.equal(backoffDelay(3, { initialMs: 100, maxMs: 1000, jitter: 0.5, random: () => 0 }), 400);
});
