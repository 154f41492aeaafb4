import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PendingCommits } from './consumer.ts';

test("PendingCommits keeps each partition's next offset; the first batch is due at once, later ones once the interval has passed", () => {
  const pending = new PendingCommits(5000);
  assert.equal(pending.due(10_000), false, 'nothing handled: nothing due');
  pending.handled('alerts', 0, 9n);
  assert.equal(pending.due(0), true, 'the first batch: at once');
  assert.deepEqual(pending.take(0), [{ topic: 'alerts', partition: 0, offset: '10' }]);
  pending.handled('alerts', 1, 4n);
  pending.handled('alerts', 0, 19n);
  assert.equal(pending.due(4999), false);
  assert.equal(pending.due(5000), true);
  assert.deepEqual(pending.take(5000), [
    { topic: 'alerts', partition: 1, offset: '5' },
    { topic: 'alerts', partition: 0, offset: '20' },
  ]);
  pending.handled('alerts', 2, 0n);
  assert.equal(pending.due(9999), false, 'the interval starts again at take');
  assert.equal(pending.due(10_000), true);
});

test('a failed commit is put back unless the partition moved on; a new assignment forgets everything', () => {
  const pending = new PendingCommits(1000);
  pending.handled('alerts', 0, 9n);
  pending.handled('alerts', 1, 9n);
  const failed = pending.take(1000);
  pending.handled('alerts', 0, 29n);
  pending.restore(failed);
  assert.deepEqual(pending.take(2000), [
    { topic: 'alerts', partition: 0, offset: '30' },
    { topic: 'alerts', partition: 1, offset: '10' },
  ]);
  pending.handled('alerts', 0, 39n);
  pending.clear();
  assert.deepEqual(pending.take(3000), []);
});
